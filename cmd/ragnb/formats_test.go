package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/evaluate"
)

// llamaIndexFixture is an EmbeddingQAFinetuneDataset as generate_qa_embedding_pairs writes it (UUID keys,
// indent 4, mode "text"), with 11 queries, 8 nodes and one query relevant to two nodes: 12 (query, node) pairs.
const llamaIndexFixture = "../../testdata/formats/llamaindex_qa.json"

// `ragnb train --data FILE.json` trains on a LlamaIndex file's (query, relevant node) pairs, and `ragnb eval
// --llamaindex` evaluates on it with its corpus as the search corpus, hit_rate@k beside accuracy@k, the numbers
// the library computes on the same IR task.
func TestTrainAndEvalOnLlamaIndex(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "static")
	if code, out, errOut := runCLI(t, "init-model", "--arch", "static", "--tokenizer", sharedtest.BertTokenizer(t),
		"--dim", "32", "--seed", "1", "--out", model); code != 0 {
		t.Fatalf("init-model: %d %s %s", code, out, errOut)
	}
	tuned := filepath.Join(dir, "tuned")
	code, out, errOut := runCLI(t, "train", "--model", model, "--data", llamaIndexFixture, "--out", tuned, "--max-steps", "2",
		"--batch-size", "4", "--matryoshka-dims", "none")
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "12 training rows, columns [anchor positive]") {
		t.Errorf("train did not read the 12 (query, node) pairs:\n%s", out)
	}

	jsonOut := filepath.Join(dir, "m.json")
	code, out, errOut = runCLI(t, "eval", "--model", tuned, "--llamaindex", llamaIndexFixture, "--json", jsonOut)
	if code != 0 {
		t.Fatalf("eval: %d\n%s%s", code, out, errOut)
	}
	got, err := evaluate.LoadFlatJSON(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{1, 3, 5, 10} {
		hit, ok := got.Get(fmt.Sprintf("dim_32_cosine_hit_rate@%d", k))
		acc, _ := got.Get(fmt.Sprintf("dim_32_cosine_accuracy@%d", k))
		if !ok || hit != acc {
			t.Errorf("hit_rate@%d %v (present %v), accuracy@%d %v", k, hit, ok, k, acc)
		}
	}
	ds, err := ir.LoadLlamaIndex(llamaIndexFixture)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ir.DefaultConfig()
	cfg.HitRate = true
	ev, err := evaluate.NewIR(ds, evaluate.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if len(ev.Corpus()) != 8 || len(ev.Queries()) != 11 {
		t.Fatalf("the fixture's task: %d nodes, %d queries", len(ev.Corpus()), len(ev.Queries()))
	}
	m, err := encoder.LoadBiEncoder(tuned, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.EvaluateEmbedder(context.Background(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want.Flat() {
		if g, ok := got.Get(k); !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: CLI %v (present %v), library %v", k, g, ok, w)
		}
	}
}
