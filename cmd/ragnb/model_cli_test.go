package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/vector"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// init-model → embed → save → load round-trips bit-identically, for every input format.
func TestInitModelEmbedRoundTrip(t *testing.T) {
	tok := sharedtest.BertTokenizer(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny")
	code, out, errOut := runCLI(t, "init-model", "--arch", "bert", "--tokenizer", tok, "--layers", "1", "--hidden", "16",
		"--heads", "2", "--intermediate", "32", "--max-len", "64", "--pooling", "cls", "--seed", "3",
		"--query-prompt", "query: ", "--normalize", "--out", model)
	if code != 0 || !strings.Contains(out, "30522-token vocabulary") {
		t.Fatalf("init-model: %d %q %q", code, out, errOut)
	}
	texts := []string{"What was the company's net income in 2023?", "", "Revenue grew 12% year over year.", "ünïcödé text"}
	txt := writeFile(t, filepath.Join(dir, "in.txt"), strings.Join(texts, "\n")+"\n")
	jsonl := writeFile(t, filepath.Join(dir, "in.jsonl"), `{"id":1,"body":"What was the company's net income in 2023?"}
{"id":2,"body":""}
{"id":3,"body":"Revenue grew 12% year over year."}
{"id":4,"body":"ünïcödé text"}
`)
	csv := writeFile(t, filepath.Join(dir, "in.csv"), "body,x\n\"What was the company's net income in 2023?\",1\n,2\nRevenue grew 12% year over year.,3\nünïcödé text,4\n")
	embed := func(model, in string, extra ...string) *vector.Matrix {
		t.Helper()
		npy := filepath.Join(t.TempDir(), "e.npy")
		args := append([]string{"embed", "--model", model, "--in", in, "--out", npy}, extra...)
		if code, out, errOut := runCLI(t, args...); code != 0 || !strings.Contains(out, "embedded 4 texts") {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
		m, err := vector.LoadNPY(npy)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	base := embed(model, txt)
	if base.Rows != 4 || base.Dim != 16 {
		t.Fatalf("shape %d×%d", base.Rows, base.Dim)
	}
	for i := range 4 {
		if n := math.Sqrt(vector.Dot(base.Row(i), base.Row(i))); math.Abs(n-1) > 1e-5 {
			t.Errorf("row %d has norm %v; the model normalises", i, n)
		}
	}
	same := func(a, b *vector.Matrix) bool {
		if a.Rows != b.Rows || a.Dim != b.Dim {
			return false
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				return false
			}
		}
		return true
	}
	if !same(base, embed(model, jsonl, "--field", "body")) || !same(base, embed(model, csv, "--field", "body")) {
		t.Error(".txt, .jsonl and .csv inputs of the same texts embed differently")
	}
	// The query prompt changes the embedding; --prompt with the same text gives the same result.
	q := embed(model, txt, "--query")
	if same(q, base) || !same(q, embed(model, txt, "--prompt", "query: ")) {
		t.Error("--query should put the model's query prompt before each text")
	}
	// Matryoshka: the first 8 values renormalised.
	d8 := embed(model, txt, "--dim", "8")
	want := append([]float32(nil), base.Row(0)[:8]...)
	vector.NormalizeInPlace(want)
	for j := range want {
		if math.Abs(float64(want[j]-d8.Row(0)[j])) > 1e-6 {
			t.Fatalf("--dim 8: %v, want %v", d8.Row(0), want)
		}
	}
	// Load → save → load: the same file bytes and bit-identical embeddings.
	m, err := encoder.LoadBiEncoder(model, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	copyDir := filepath.Join(dir, "copy")
	if err := m.Save(copyDir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.safetensors", "config.json", "modules.json", "tokenizer.json", "tokenizer_config.json",
		"1_Pooling/config.json", "config_sentence_transformers.json", "sentence_bert_config.json"} {
		a, _ := os.ReadFile(filepath.Join(model, f))
		b, _ := os.ReadFile(filepath.Join(copyDir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs after load/save", f)
		}
	}
	if !same(base, embed(copyDir, txt)) {
		t.Error("embeddings differ after load/save")
	}
	// The same seed draws the same model.
	again := filepath.Join(dir, "again")
	runCLI(t, "init-model", "--arch", "bert", "--tokenizer", tok, "--layers", "1", "--hidden", "16", "--heads", "2",
		"--intermediate", "32", "--max-len", "64", "--pooling", "cls", "--seed", "3", "--query-prompt", "query: ", "--out", again)
	a, _ := os.ReadFile(filepath.Join(model, "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(again, "model.safetensors"))
	if !bytes.Equal(a, b) {
		t.Error("the same --seed wrote different weights")
	}
}

func TestInitModelCrossEncoderAndErrors(t *testing.T) {
	tok := sharedtest.BertTokenizer(t)
	dir := t.TempDir()
	ce := filepath.Join(dir, "ce")
	if code, out, errOut := runCLI(t, "init-model", "--arch", "cross-encoder", "--tokenizer", tok, "--layers", "1", "--hidden", "16",
		"--heads", "2", "--intermediate", "32", "--max-len", "64", "--out", ce); code != 0 {
		t.Fatalf("init-model cross-encoder: %d %q %q", code, out, errOut)
	}
	m, err := encoder.LoadCrossEncoder(ce, encoder.Options{Sigmoid: true})
	if err != nil {
		t.Fatal(err)
	}
	txt := writeFile(t, filepath.Join(dir, "in.txt"), "a text\n")
	long := strings.Repeat("revenue grew again ", 100)
	scores, err := m.ScorePairs(context.Background(), []ir.Pair{{Query: "net income", Passage: "Net income was $5 million."},
		{Query: long, Passage: long}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scores {
		if !(s > 0 && s < 1) {
			t.Errorf("sigmoid score %v outside (0, 1)", s)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"init-model", "--arch", "bert", "--out", ce}, 2, "required"},
		{[]string{"init-model", "--arch", "gpt", "--tokenizer", tok, "--out", filepath.Join(dir, "x")}, 2, "unknown --arch"},
		{[]string{"init-model", "--arch", "bert", "--tokenizer", tok, "--hidden", "10", "--heads", "3", "--out", filepath.Join(dir, "x")}, 1, "multiple"},
		{[]string{"init-model", "--arch", "static", "--tokenizer", tok, "--init", "idf", "--out", filepath.Join(dir, "x")}, 2, "--corpus"},
		{[]string{"init-model", "--arch", "static", "--tokenizer", filepath.Join(dir, "none.json"), "--out", filepath.Join(dir, "x")}, 1, "none.json"},
		{[]string{"embed", "--model", ce, "--in", txt, "--out", filepath.Join(dir, "e.npy")}, 1, "not a bi-encoder"},
		{[]string{"embed", "--model", ce, "--in", txt, "--out", filepath.Join(dir, "e.txt")}, 2, ".npy"},
		{[]string{"embed", "--model", ce, "--in", txt, "--query", "--prompt", "x", "--out", filepath.Join(dir, "e.npy")}, 2, "exclusive"},
		{[]string{"embed", "--model", filepath.Join(dir, "nope"), "--in", txt, "--out", filepath.Join(dir, "e.npy")}, 1, "does not exist"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a failed init-model left a directory behind")
	}
}

// The IDF-initialised static model ranks like TF-IDF before any training: on 200 questions of the shared
// financial set it finds the question's own context clearly more often than a randomly initialised one
// (whose averaged near-orthogonal token vectors already rank by plain token overlap).
func TestStaticIDFRanksBeforeTraining(t *testing.T) {
	qa := sharedtest.FinancialQA(t)
	tok := sharedtest.BertTokenizer(t)
	dir := t.TempDir()
	texts, err := readTexts(qa, "context")
	if err != nil {
		t.Fatal(err)
	}
	questions, err := readTexts(qa, "question")
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	ctxFile := writeFile(t, filepath.Join(dir, "ctx.txt"), strings.Join(texts[:n], "\n")+"\n")
	qFile := writeFile(t, filepath.Join(dir, "q.txt"), strings.Join(questions[:n], "\n")+"\n")
	accuracy := func(init string) float64 {
		model := filepath.Join(dir, init)
		args := []string{"init-model", "--arch", "static", "--tokenizer", tok, "--dim", "256", "--init", init, "--seed", "1", "--out", model}
		if init == "idf" {
			args = append(args, "--corpus", qa, "--field", "context")
		}
		if code, out, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
		for _, f := range []string{"c.npy", "q.npy"} {
			in := ctxFile
			if f == "q.npy" {
				in = qFile
			}
			if code, out, errOut := runCLI(t, "embed", "--model", model, "--in", in, "--out", filepath.Join(model, f)); code != 0 {
				t.Fatalf("embed: %d %q %q", code, out, errOut)
			}
		}
		c, _ := vector.LoadNPY(filepath.Join(model, "c.npy"))
		q, _ := vector.LoadNPY(filepath.Join(model, "q.npy"))
		hits := 0
		for i := range n {
			best, bestJ := -2.0, -1
			for j := range n {
				if s := vector.Cosine(q.Row(i), c.Row(j)); s > best {
					best, bestJ = s, j
				}
			}
			if texts[bestJ] == texts[i] { // duplicated contexts count as the right one
				hits++
			}
		}
		return float64(hits) / n
	}
	idf, random := accuracy("idf"), accuracy("random")
	t.Logf("accuracy@1 over %d contexts: idf %.3f, random %.3f", n, idf, random)
	if idf < 0.5 || idf < random+0.1 {
		t.Errorf("IDF init accuracy@1 %.3f (random %.3f): should rank like TF-IDF", idf, random)
	}
}

// init-model draws XLM-RoBERTa and ModernBERT bi- and cross-encoders that load and run.
func TestInitModelOtherArchitectures(t *testing.T) {
	tok := sharedtest.BertTokenizer(t)
	dir := t.TempDir()
	for _, arch := range []string{"xlm-roberta", "modernbert"} {
		for _, cross := range []bool{false, true} {
			out := filepath.Join(dir, fmt.Sprintf("%s-%v", arch, cross))
			args := []string{"init-model", "--arch", arch, "--tokenizer", tok, "--layers", "1", "--hidden", "16", "--heads", "2",
				"--intermediate", "32", "--max-len", "64", "--out", out}
			if cross {
				args = append(args, "--cross-encoder")
			}
			if code, stdout, errOut := runCLI(t, args...); code != 0 || !strings.Contains(stdout, arch) {
				t.Fatalf("%v: %d %q %q", args, code, stdout, errOut)
			}
			if cross {
				m, err := encoder.LoadCrossEncoder(out, encoder.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := m.ScorePairs(context.Background(), []ir.Pair{{Query: "net income", Passage: strings.Repeat("revenue grew ", 50)}}, nil); err != nil {
					t.Fatal(err)
				}
				continue
			}
			m, err := encoder.LoadBiEncoder(out, encoder.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Layout().Architecture(); got != arch {
				t.Errorf("saved %s, reloaded %s", arch, got)
			}
		}
	}
}
