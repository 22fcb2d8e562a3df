package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/vector"
)

// TestXLMRAndModernBERTRerankersOnTheFinancialSet: a ModernBERT cross-encoder on ModernBERT's real byte-level
// BPE tokenizer and an XLM-R one on a real SentencePiece Unigram tokenizer (the Precompiled charsmap XLM-R
// files carry), each drawn by init-model, trained 3 steps by train-reranker on labelled pairs of the shared
// financial set, saved, and scored twice by `score --teacher cross-encoder --normalize none` from the saved
// directory: finite raw logits, identical both times, the real tokenizer.json inside.
func TestXLMRAndModernBERTRerankersOnTheFinancialSet(t *testing.T) {
	df, err := datasets.Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := datasets.Strings(df, "question")
	cs, _ := datasets.Strings(df, "context")
	dir := t.TempDir()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"query", "passage", "label"})
	for i := 0; i < 48; i++ {
		w.Write([]string{qs[i], cs[i], "1"})
		w.Write([]string{qs[i], cs[(i+17)%48], "0"})
	}
	w.Flush()
	labeled := filepath.Join(dir, "labeled.csv")
	os.WriteFile(labeled, buf.Bytes(), 0o644)
	var pairs bytes.Buffer
	for i := 0; i < 4; i++ {
		b, _ := json.Marshal(map[string]string{"query": qs[i], "passage": cs[i]})
		pairs.Write(append(b, '\n'))
	}
	in := filepath.Join(dir, "pairs.jsonl")
	os.WriteFile(in, pairs.Bytes(), 0o644)
	for _, c := range []struct{ arch, tok, maxLen string }{
		{"modernbert", "modernbert", "128"},
		{"xlm-roberta", "marian-unigram", "130"},
	} {
		t.Run(c.arch, func(t *testing.T) {
			tok := sharedtest.Path(t, "tokenizers/"+c.tok+"/tokenizer.json")
			base, tuned := filepath.Join(dir, c.arch), filepath.Join(dir, c.arch+"-tuned")
			if code, out, errOut := runCLI(t, "init-model", "--arch", c.arch, "--cross-encoder", "--tokenizer", tok, "--layers", "2",
				"--hidden", "32", "--heads", "4", "--intermediate", "48", "--max-len", c.maxLen, "--seed", "1", "--out", base); code != 0 {
				t.Fatalf("init-model: %d\n%s\n%s", code, out, errOut)
			}
			if code, out, errOut := runCLI(t, "train-reranker", "--model", base, "--data", labeled, "--query", "query", "--passage", "passage",
				"--label", "label", "--max-steps", "3", "--batch-size", "16", "--out", tuned); code != 0 {
				t.Fatalf("train-reranker: %d\n%s\n%s", code, out, errOut)
			}
			want, _ := os.ReadFile(tok)
			if got, err := os.ReadFile(filepath.Join(tuned, "tokenizer.json")); err != nil || !bytes.Equal(got, want) {
				t.Errorf("the trained directory's tokenizer.json is not the real one (%v)", err)
			}
			var runs [2][]float64
			for r := range runs {
				out := filepath.Join(dir, c.arch+"-scores-"+strconv.Itoa(r)+".jsonl")
				if code, stdout, errOut := runCLI(t, "score", "--in", in, "--query-column", "query", "--passage-columns", "passage",
					"--teacher", "cross-encoder", "--model-dir", tuned, "--normalize", "none", "--out", out); code != 0 {
					t.Fatalf("score: %d\n%s\n%s", code, stdout, errOut)
				}
				for _, row := range readJSONL(t, out) {
					s, ok := row["score"].(float64)
					if !ok || math.IsNaN(s) || math.IsInf(s, 0) {
						t.Fatalf("score %v", row["score"])
					}
					runs[r] = append(runs[r], s)
				}
			}
			if len(runs[0]) != 4 {
				t.Fatalf("%d scores", len(runs[0]))
			}
			for i := range runs[0] {
				if runs[0][i] != runs[1][i] {
					t.Errorf("pair %d scores %v then %v from the same saved model", i, runs[0][i], runs[1][i])
				}
			}
		})
	}
}

// TestEmbedXLMRAndModernBERTBiEncoders: `embed` writes one unit-length row per text for bi-encoders of both
// architectures drawn on their real tokenizers.
func TestEmbedXLMRAndModernBERTBiEncoders(t *testing.T) {
	dir := t.TempDir()
	texts := filepath.Join(dir, "texts.txt")
	os.WriteFile(texts, []byte("Revenue grew 12% to $2.7 billion.\nDie Umsätze stiegen um 12 %.\n売上高は12%増加した。\n"), 0o644)
	for _, c := range []struct{ arch, tok string }{{"modernbert", "modernbert"}, {"xlm-roberta", "marian-unigram"}} {
		m := filepath.Join(dir, c.arch)
		if code, out, errOut := runCLI(t, "init-model", "--arch", c.arch, "--tokenizer", sharedtest.Path(t, "tokenizers/"+c.tok+"/tokenizer.json"),
			"--layers", "1", "--hidden", "32", "--heads", "4", "--intermediate", "48", "--max-len", "130", "--normalize", "--seed", "2", "--out", m); code != 0 {
			t.Fatalf("init-model %s: %d\n%s\n%s", c.arch, code, out, errOut)
		}
		npy := filepath.Join(dir, c.arch+".npy")
		if code, out, errOut := runCLI(t, "embed", "--model", m, "--in", texts, "--out", npy); code != 0 {
			t.Fatalf("embed %s: %d\n%s\n%s", c.arch, code, out, errOut)
		}
		e, err := vector.LoadNPY(npy)
		if err != nil || e.Rows != 3 || e.Dim != 32 {
			t.Fatalf("%s: %v %v", c.arch, e, err)
		}
		for i := 0; i < e.Rows; i++ {
			if n := vector.Dot(e.Row(i), e.Row(i)); math.Abs(n-1) > 1e-5 {
				t.Errorf("%s row %d has squared norm %v", c.arch, i, n)
			}
		}
	}
}
