package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/evaluate"
)

// TestGenerateLlamaIndexRoundTrip: `ragnb generate --out pairs.json` writes the EmbeddingQAFinetuneDataset
// generate_qa_embedding_pairs writes — queries {id: text}, corpus {node_id: chunk text} with every chunk (a
// chunk whose request failed too), relevant_docs {qid: [its chunk]}, mode "text" — with ids that a cached
// re-run reproduces byte for byte; `ragnb train --data FILE.json` trains on it, `ragnb eval --llamaindex` and
// `ragnb train-adapter --data FILE.json` read it.
func TestGenerateLlamaIndexRoundTrip(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "k")
	t.Setenv("OPENAI_BASE_URL", "")
	srv := genServer()
	defer srv.Close()
	dir := t.TempDir()
	docsDir := filepath.Join(dir, "docs")
	os.MkdirAll(docsDir, 0o755)
	texts := []string{
		"Zinc smelters in Norway cut emissions by half.",
		"Copper mines in Chile expanded output last year.",
		"Container freight rates fell sharply during spring.",
		"Revenue from cloud services grew thirty percent.",
		"Dividends paid to shareholders rose modestly overall.",
		"Service is down tonight for maintenance work.", // 500s: no questions, still a node
	}
	for i, s := range texts {
		os.WriteFile(filepath.Join(docsDir, fmt.Sprintf("d%d.txt", i)), []byte(s), 0o644)
	}
	out, cacheDir := filepath.Join(dir, "pairs.json"), filepath.Join(dir, "cache")
	args := []string{"generate", "--docs", docsDir, "--model", "gen", "--base-url", srv.BaseURL(), "--out", out,
		"--cache", cacheDir, "--questions", "2", "--retries", "0", "--allow-failures"}
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 || !strings.Contains(stdout, "wrote 10 queries over 6 chunk nodes (LlamaIndex EmbeddingQAFinetuneDataset)") {
		t.Fatalf("generate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Queries      map[string]string   `json:"queries"`
		Corpus       map[string]string   `json:"corpus"`
		RelevantDocs map[string][]string `json:"relevant_docs"`
		Mode         string              `json:"mode"`
	}
	if err := json.Unmarshal(first, &doc); err != nil {
		t.Fatalf("%s: %v\n%s", out, err, first)
	}
	if len(doc.Queries) != 10 || len(doc.Corpus) != 6 || len(doc.RelevantDocs) != 10 || doc.Mode != "text" {
		t.Fatalf("%d queries, %d nodes, %d relevant_docs, mode %q", len(doc.Queries), len(doc.Corpus), len(doc.RelevantDocs), doc.Mode)
	}
	down := false
	for _, text := range doc.Corpus {
		down = down || text == texts[5]
	}
	if !down {
		t.Error("the chunk that yielded no question is not in the corpus")
	}
	for qid, q := range doc.Queries {
		nodes := doc.RelevantDocs[qid]
		if len(nodes) != 1 || !strings.HasPrefix(qid, nodes[0]+"/q") {
			t.Fatalf("query %s relevant to %v", qid, nodes)
		}
		// genServer's questions are made of their chunk's first words.
		w := strings.Fields(doc.Corpus[nodes[0]])
		if !strings.Contains(q, w[0]) && !strings.Contains(q, w[2]) {
			t.Errorf("query %q is not about its node %q", q, doc.Corpus[nodes[0]])
		}
	}
	requests := srv.Count()
	if code, _, _ := runCLI(t, args...); code != 0 {
		t.Fatal("re-run failed")
	}
	again, _ := os.ReadFile(out)
	if !bytes.Equal(first, again) || srv.Count() != requests+1 { // only the failed chunk is asked again
		t.Errorf("a cached re-run wrote a different file (%v) after %d requests", !bytes.Equal(first, again), srv.Count()-requests)
	}
	if code, _, e := runCLI(t, "generate", "--docs", docsDir, "--model", "gen", "--out", out, "--format", "xml"); code == 0 || !strings.Contains(e, "--format") {
		t.Errorf("--format xml: exit %d %s", code, e)
	}

	model := staticModel(t, dir, "static")
	tuned := filepath.Join(dir, "tuned")
	code, stdout, stderr = runCLI(t, "train", "--model", model, "--data", out, "--out", tuned, "--max-steps", "2",
		"--batch-size", "4", "--matryoshka-dims", "none")
	if code != 0 || !strings.Contains(stdout, "10 training rows") {
		t.Fatalf("train on the generated file: %d\n%s%s", code, stdout, stderr)
	}
	metrics := filepath.Join(dir, "m.json")
	if code, o, e := runCLI(t, "eval", "--model", tuned, "--llamaindex", out, "--json", metrics); code != 0 || !strings.Contains(o, "corpus   6 documents") {
		t.Fatalf("eval on the generated file: %d\n%s%s", code, o, e)
	}
	m, err := evaluate.LoadFlatJSON(metrics)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Get("dim_32_cosine_hit_rate@10"); !ok {
		t.Error("no hit_rate@10")
	}
	if code, o, e := runCLI(t, "train-adapter", "--model", model, "--data", out, "--out", filepath.Join(dir, "adapter"), "--epochs", "2", "--batch-size", "5"); code != 0 || !strings.Contains(o, "on 10 pairs") {
		t.Errorf("train-adapter on the generated file: %d\n%s%s", code, o, e)
	}
}

// TestEvalAndAskWithAdapter: `ragnb train-adapter --test-fraction` trains on the training side of `ragnb eval
// --pairs`' split; `ragnb eval --adapter DIR` and `ragnb ask --adapter DIR` apply the adapter to the queries:
// eval's held-out numbers rise above the base model's, and ask ranks the corpus by the adapted query.
func TestEvalAndAskWithAdapter(t *testing.T) {
	dir := t.TempDir()
	model := staticModel(t, dir, "static")
	ad := filepath.Join(dir, "adapter")
	code, o, e := runCLI(t, "train-adapter", "--model", model, "--data", sampleQA, "--anchor", "question", "--positive", "context",
		"--epochs", "3", "--lr", "0.01", "--batch-size", "32", "--test-fraction", "0.2", "--out", ad)
	// Trained on the training side of eval's seeded split: 518 − 104 held-out questions.
	if code != 0 || !strings.Contains(o, "on 414 pairs") {
		t.Fatalf("train-adapter: %d\n%s%s", code, o, e)
	}
	eval := func(extra ...string) map[string]float64 {
		t.Helper()
		j := filepath.Join(dir, fmt.Sprintf("m%d.json", len(extra)))
		args := append([]string{"eval", "--model", model, "--pairs", sampleQA, "--anchor", "question", "--positive", "context",
			"--test-fraction", "0.2", "--json", j}, extra...)
		if code, o, e := runCLI(t, args...); code != 0 {
			t.Fatalf("eval %v: %d\n%s%s", extra, code, o, e)
		}
		m, err := evaluate.LoadFlatJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		return m.Flat()
	}
	base, adapted := eval(), eval("--adapter", ad)
	const k = "dim_32_cosine_ndcg@10"
	t.Logf("NDCG@10: base %.4f, adapter %.4f", base[k], adapted[k])
	if !(adapted[k] > base[k]) {
		t.Errorf("eval --adapter: ndcg@10 %.4f, base %.4f", adapted[k], base[k])
	}
	ask := func(extra ...string) pipeline.Answer {
		t.Helper()
		args := append([]string{"ask", "--model", model, "--corpus", sampleQA, "--text-column", "context", "--top-k", "3", "--top-n", "3", "--json"}, extra...)
		code, o, e := runCLI(t, append(args, "What was the gross margin?")...)
		var a pipeline.Answer
		if code != 0 || json.Unmarshal([]byte(o), &a) != nil || len(a.Sources) != 3 {
			t.Fatalf("ask %v: %d\n%s%s", extra, code, o, e)
		}
		return a
	}
	plain := ask()
	if b := ask("--adapter", ad); plain.Sources[0].RetrieveScore == b.Sources[0].RetrieveScore {
		t.Errorf("ask --adapter scored like the base model: %v", b.Sources[0].RetrieveScore)
	}
	// An index built with the base model serves the adapted queries (its passages are the base vectors), and
	// a query instruction reaches the query embedding in both ways of asking.
	ix := filepath.Join(dir, "ix")
	if code, o, e := runCLI(t, "index", "build", "--model", model, "--corpus", sampleQA, "--text-column", "context", "--out", ix); code != 0 {
		t.Fatalf("index build: %d\n%s%s", code, o, e)
	}
	askIndex := func(extra ...string) pipeline.Answer {
		t.Helper()
		args := append([]string{"ask", "--index", ix, "--top-k", "3", "--top-n", "3", "--json"}, extra...)
		code, o, e := runCLI(t, append(args, "What was the gross margin?")...)
		var a pipeline.Answer
		if code != 0 || json.Unmarshal([]byte(o), &a) != nil || len(a.Sources) != 3 {
			t.Fatalf("ask %v: %d\n%s%s", extra, code, o, e)
		}
		return a
	}
	adaptedModel, adaptedIndex := ask("--adapter", ad), askIndex("--adapter", ad)
	if math.Abs(adaptedModel.Sources[0].RetrieveScore-adaptedIndex.Sources[0].RetrieveScore) > 1e-5 || adaptedModel.Sources[0].DocID != adaptedIndex.Sources[0].DocID {
		t.Errorf("--index --adapter %v %s, --model --adapter %v %s", adaptedIndex.Sources[0].RetrieveScore, adaptedIndex.Sources[0].DocID,
			adaptedModel.Sources[0].RetrieveScore, adaptedModel.Sources[0].DocID)
	}
	for _, a := range []pipeline.Answer{ask("--query-instruction", "Represent this question about a filing: "),
		askIndex("--query-instruction", "Represent this question about a filing: ")} {
		if a.Sources[0].RetrieveScore == plain.Sources[0].RetrieveScore {
			t.Errorf("--query-instruction did not change the query embedding (score %v)", a.Sources[0].RetrieveScore)
		}
	}
	if code, _, e := runCLI(t, "eval", "--model", model, "--pairs", sampleQA, "--anchor", "question", "--positive", "context", "--adapter", dir); code == 0 || !strings.Contains(e, "adapter") {
		t.Errorf("a directory without an adapter: exit %d %s", code, e)
	}
}
