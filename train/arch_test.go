package train

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
)

// financialPairs reads n (question, answer) rows of the financial sample.
func financialPairs(t *testing.T, n int) (questions, answers []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "financial-sample", "pairs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1 : n+1] {
		questions, answers = append(questions, r[0]), append(answers, r[1])
	}
	return questions, answers
}

// tinyTokenizer is the tiny WordPiece tokenizer of the golden models (real text tokenizes into it).
func tinyTokenizer(t *testing.T) (encoder.Tokenizer, map[string][]byte) {
	t.Helper()
	tok, files, err := encoder.LoadTokenizer(filepath.Join("..", "testdata", "models", "tiny-bert-mean", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok, files
}

func savedNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	names := f.Names()
	slices.Sort(names)
	return names
}

// XLM-R and ModernBERT cross-encoders train a few BCE steps on real pairs, save in the HF layout with their
// checkpoint names, and reload to score bit-identically.
func TestOtherArchitectureCrossEncodersTrainSaveReload(t *testing.T) {
	tok, files := tinyTokenizer(t)
	qs, as := financialPairs(t, 12)
	ex := &Examples{Names: []string{"query", "passage"}, Columns: [][]string{nil, nil}}
	for i := range qs {
		ex.Columns[0] = append(ex.Columns[0], qs[i], qs[i])
		ex.Columns[1] = append(ex.Columns[1], as[i], as[(i+5)%len(as)])
		ex.Labels = append(ex.Labels, 1, 0)
	}
	pairs := []ir.Pair{{Query: qs[0], Passage: as[0]}, {Query: qs[1], Passage: as[7]}, {Query: "net income?", Passage: as[3]}}
	for _, c := range []struct {
		arch, wantTensor, wantHead string
	}{{encoder.ArchXLMRoberta, "roberta.embeddings.position_embeddings.weight", "classifier.out_proj.bias"},
		{encoder.ArchModernBERT, "model.layers.1.attn.Wqkv.weight", "head.norm.weight"}} {
		t.Run(c.arch, func(t *testing.T) {
			m, err := encoder.NewBERTCrossEncoder(tok, files, encoder.BERTSpec{Arch: c.arch, Layers: 2, Hidden: 32, Heads: 4,
				Intermediate: 48, MaxLength: 96, Seed: 3}, encoder.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if mb := m.Layout().ModernBERT; mb != nil {
				mb.LocalAttention = 16 // layer 1 is local: a window shorter than the pairs
			}
			before, err := m.ScorePairs(context.Background(), pairs, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := TrainCrossEncoder(context.Background(), m, ex, Config{MaxSteps: 3, BatchSize: 8, LearningRate: 1e-3, Seed: 2}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.History.Records[1:] {
				if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
					t.Fatalf("loss %v at step %d", r.Loss, r.Step)
				}
			}
			after, err := m.ScorePairs(context.Background(), pairs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(before, after) {
				t.Error("training did not change the scores")
			}
			dir := filepath.Join(t.TempDir(), "ce")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			l, err := modeldir.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if l.Kind != modeldir.CrossEncoder || l.Architecture() != c.arch {
				t.Fatalf("saved %s %s", l.Kind, l.Architecture())
			}
			if names := savedNames(t, l.WeightsFile(dir)); !slices.Contains(names, c.wantTensor) || !slices.Contains(names, c.wantHead) {
				t.Errorf("saved tensors %v lack %s or %s", names, c.wantTensor, c.wantHead)
			}
			back, err := encoder.LoadCrossEncoder(dir, encoder.Options{})
			if err != nil {
				t.Fatal(err)
			}
			reloaded, err := back.ScorePairs(context.Background(), pairs, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range after {
				if math.Float64bits(after[i]) != math.Float64bits(reloaded[i]) {
					t.Errorf("pair %d: score %v after training, %v reloaded", i, after[i], reloaded[i])
				}
			}
			t.Logf("BCE %.4f → %.4f in %d steps; scores %v → %v", res.History.Records[1].Loss, res.History.Records[len(res.History.Records)-1].Loss, res.Steps, before, after)
		})
	}
}

// A ModernBERT bi-encoder with modernbert-embed's prompts trains with MNRL inside Matryoshka (queries get
// "search_query: ", documents "search_document: "), saves the prompts and reloads to embed bit-identically.
func TestModernBERTBiEncoderTrainsWithPrompts(t *testing.T) {
	tok, files := tinyTokenizer(t)
	qs, as := financialPairs(t, 16)
	prompts := map[string]string{"query": "search_query: ", "document": "search_document: "}
	m, err := encoder.NewBERTBiEncoder(tok, files, encoder.BERTSpec{Arch: encoder.ArchModernBERT, Layers: 2, Hidden: 32, Heads: 4,
		Intermediate: 48, MaxLength: 96, Prompts: prompts, Normalize: true, Seed: 5}, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex := &Examples{Names: []string{"anchor", "positive"}, Columns: [][]string{qs, as}}
	res, err := TrainBiEncoder(context.Background(), m, ex, Config{MaxSteps: 2, BatchSize: 8, LearningRate: 1e-3, Seed: 1,
		MatryoshkaDims: []int{32, 16}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last := res.History.Records[len(res.History.Records)-1].Loss; math.IsNaN(last) || res.Steps != 2 {
		t.Fatalf("steps %d, last loss %v", res.Steps, last)
	}
	dir := filepath.Join(t.TempDir(), "bi")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := encoder.LoadBiEncoder(dir, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.QueryPrompt() != "search_query: " || back.DocumentPrompt() != "search_document: " || back.Layout().Architecture() != encoder.ArchModernBERT {
		t.Fatalf("reloaded prompts %q / %q, arch %s", back.QueryPrompt(), back.DocumentPrompt(), back.Layout().Architecture())
	}
	ctx := context.Background()
	a, err := m.EmbedQueries(ctx, qs[:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := back.EmbedQueries(ctx, qs[:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := back.Embed(ctx, qs[:3], "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Data, b.Data) {
		t.Error("reloaded model embeds differently")
	}
	if slices.Equal(b.Data, plain.Data) {
		t.Error("the query prompt made no difference")
	}
}
