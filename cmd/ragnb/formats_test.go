package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/mining"
)

// llamaIndexFixture is an EmbeddingQAFinetuneDataset as generate_qa_embedding_pairs writes it (UUID keys,
// indent 4, mode "text"), with 11 queries, 8 nodes and one query relevant to two nodes: 12 (query, node) pairs.
const llamaIndexFixture = "../../testdata/formats/llamaindex_qa.json"

// `ragnb train --data FILE.json` trains on a LlamaIndex file's (query, relevant node) pairs, and `ragnb eval
// --llamaindex` evaluates on it with its corpus as the search corpus, hit_rate@k beside accuracy@k, the numbers
// the library computes on the same IR task.
func TestTrainAndEvalOnLlamaIndex(t *testing.T) {
	dir := t.TempDir()
	model := staticModel(t, dir, "static")
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

// `ragnb train` on FlagEmbedding JSONL trains in groups of --train-group-size at --temperature, and with the
// file's pos_scores/neg_scores adds the distillation loss: the same run with --no-distillation, or on the
// same rows without scores (nor prompt: hn_mine's output), ends with other weights than the distilled one.
func TestTrainOnFlagEmbeddingGroupsAndDistillation(t *testing.T) {
	dir := t.TempDir()
	model := staticModel(t, dir, "static")
	train := func(name, data string, extra ...string) map[string][]float32 {
		out := filepath.Join(dir, name)
		args := append([]string{"train", "--model", model, "--data", data, "--out", out, "--max-steps", "3", "--batch-size", "4",
			"--train-group-size", "3", "--temperature", "0.02", "--matryoshka-dims", "none"}, extra...)
		code, stdout, errOut := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%s: %d\n%s%s", name, code, stdout, errOut)
		}
		if !strings.Contains(stdout, "8 training rows, columns [query positive negative_1 negative_2]") {
			t.Errorf("%s: not trained in groups of 3:\n%s", name, stdout)
		}
		return readStaticWeights(t, out)
	}
	distilled := train("distilled", "../../testdata/formats/flag_train.jsonl", "--no-distillation=false")
	plain := train("plain", "../../testdata/formats/flag_train.jsonl", "--no-distillation")
	if sameWeights(distilled, plain) {
		t.Error("the distillation loss changed nothing")
	}
	mined := train("mined", "../../testdata/formats/flag_mined.jsonl")
	if sameWeights(mined, distilled) {
		t.Error("a file without scores trained as the distilled one")
	}
	if code, _, errOut := runCLI(t, "train", "--model", model, "--data", "../../testdata/formats/flag_train.jsonl", "--out", filepath.Join(dir, "x"),
		"--temperature", "0.02", "--scale", "30"); code == 0 || !strings.Contains(errOut, "disagree") {
		t.Errorf("--temperature 0.02 --scale 30 accepted: %d %s", code, errOut)
	}
}

func readStaticWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	w := readWeights(t, filepath.Join(dir, "0_StaticEmbedding"))
	if len(w) == 0 {
		t.Fatalf("no weights in %s", dir)
	}
	return w
}

func sameWeights(a, b map[string][]float32) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]float32])
}

// `ragnb mine --format flag` writes FlagEmbedding JSONL (mining's SaveFlag: one line per query, all its
// negatives, the cosines with --output-scores), which `ragnb train` reads back as groups distilled from them.
func TestMineFlagFormatTrainsBack(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "pairs.jsonl")
	var b strings.Builder
	for i, q := range []string{"revenue growth", "audit firm", "office location", "employee count", "dividend per share",
		"long-term debt", "competitive risk", "reporting segments", "share buyback", "tax rate"} {
		fmt.Fprintf(&b, "{\"anchor\": %q, \"positive\": \"the filing reports %s in section %d\"}\n", "what about "+q, q, i)
	}
	if err := os.WriteFile(pairs, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	model := staticModel(t, dir, "static", "--init", "idf", "--corpus", pairs, "--field", "positive")
	out := filepath.Join(dir, "mined.jsonl")
	code, stdout, errOut := runCLI(t, "mine", "--model", model, "--data", pairs, "--distance", "cosine", "--min-distance", "0",
		"--max-distance", "2", "--num-negatives", "3", "--format", "flag", "--output-scores", "--out", out)
	if code != 0 {
		t.Fatalf("mine: %d %s %s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "wrote 10 rows (flag)") {
		t.Errorf("mine output: %s", stdout)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, out)), "\n")
	var rec mining.FlagRecord
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || len(lines) != 10 || len(rec.Neg) != 3 || len(rec.NegScores) != 3 || len(rec.PosScores) != 1 {
		t.Fatalf("%d lines, first %+v (%v)", len(lines), rec, err)
	}
	code, stdout, errOut = runCLI(t, "train", "--model", model, "--data", out, "--out", filepath.Join(dir, "tuned"), "--max-steps", "2",
		"--batch-size", "4", "--train-group-size", "4", "--matryoshka-dims", "none")
	if code != 0 || !strings.Contains(stdout, "10 training rows, columns [query positive negative_1 negative_2 negative_3]") {
		t.Errorf("train on the mined file: %d\n%s%s", code, stdout, errOut)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --no-query-instruction evaluates a model saved with a query prompt as the same model saved without one, and
// --query-instruction as one saved with that instruction; both flags at once are refused.
func TestEvalQueryInstructionOverridesTheModelsPrompt(t *testing.T) {
	dir := t.TempDir()
	plain := staticModel(t, dir, "plain")
	prompted := staticModel(t, dir, "prompted", "--query-prompt", "represent the revenue question for searching: ")
	eval := func(model string, extra ...string) map[string]float64 {
		jsonOut := filepath.Join(dir, fmt.Sprintf("m%d.json", len(extra)))
		args := append([]string{"eval", "--model", model, "--llamaindex", llamaIndexFixture, "--json", jsonOut}, extra...)
		if code, o, e := runCLI(t, args...); code != 0 {
			t.Fatalf("eval %v: %d %s %s", extra, code, o, e)
		}
		m, err := evaluate.LoadFlatJSON(jsonOut)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, k := range m.Keys() {
			out[k], _ = m.Get(k)
		}
		return out
	}
	base, withPrompt := eval(plain), eval(prompted)
	if maps.Equal(base, withPrompt) {
		t.Fatal("the query prompt changes nothing here: the test cannot tell")
	}
	if got := eval(prompted, "--no-query-instruction"); !maps.Equal(got, base) {
		t.Errorf("--no-query-instruction: %v, want the model without a prompt %v", got["dim_32_cosine_ndcg@10"], base["dim_32_cosine_ndcg@10"])
	}
	if got := eval(plain, "--query-instruction", "represent the revenue question for searching: "); !maps.Equal(got, withPrompt) {
		t.Errorf("--query-instruction: %v, want the model saved with it %v", got["dim_32_cosine_ndcg@10"], withPrompt["dim_32_cosine_ndcg@10"])
	}
	if code, _, e := runCLI(t, "eval", "--model", plain, "--llamaindex", llamaIndexFixture, "--query-instruction", "x", "--no-query-instruction"); code == 0 || !strings.Contains(e, "not both") {
		t.Errorf("both flags accepted: %d %s", code, e)
	}
}

// `ragnb sample-topn` retrieves each query's top --retrieve passages, has the teacher rerank them and picks
// among its top --top-n: with --top-n 1 the pick is the retrieved passage the teacher scores highest (here the
// longest), labelled with that score; with more, picks stay among the retrieved and repeat under one seed.
func TestSampleTopNRetrievesReranksAndPicks(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Documents []string `json:"documents"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		var results []map[string]any
		for i, d := range body.Documents {
			results = append(results, map[string]any{"index": i, "relevance_score": float64(len(d)) / 100})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": results})
	}))
	defer srv.Close()
	corpus := writeFile(t, filepath.Join(dir, "corpus.jsonl"), `{"text": "revenue grew"}
{"text": "revenue grew twelve percent in fiscal 2023"}
{"text": "the auditor is KPMG"}
{"text": "the auditor of the company is KPMG, appointed in 2019"}
{"text": "offices in Oslo"}
`)
	queries := writeFile(t, filepath.Join(dir, "q.jsonl"), `{"anchor": "revenue grew"}
{"anchor": "the auditor KPMG"}
`)
	model := staticModel(t, dir, "static", "--init", "idf", "--corpus", corpus, "--field", "text")
	sample := func(topN, seed string) []map[string]any {
		out := filepath.Join(dir, "picks"+topN+seed+".jsonl")
		code, o, e := runCLI(t, "sample-topn", "--in", queries, "--query-column", "anchor", "--corpus", corpus, "--retriever", model,
			"--teacher", "rerank-api", "--url", srv.URL+"/v1/rerank", "--model", "m", "--cache", filepath.Join(dir, "cache"),
			"--retrieve", "2", "--top-n", topN, "--pick-seed", seed, "--out", out)
		if code != 0 {
			t.Fatalf("sample-topn: %d %s %s", code, o, e)
		}
		var rows []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(readFile(t, out)), "\n") {
			var r map[string]any
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		return rows
	}
	best := sample("1", "0")
	want := []string{"revenue grew twelve percent in fiscal 2023", "the auditor of the company is KPMG, appointed in 2019"}
	for i, r := range best {
		p, _ := r["positive"].(string)
		if p != want[i] || r["score"] != float64(len(p))/100 || fmt.Sprint(r["rank"]) != "1" {
			t.Errorf("query %d: picked %v, want %q with its teacher score", i, r, want[i])
		}
	}
	a, b := sample("2", "7"), sample("2", "7")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("one seed, two picks: %v vs %v", a, b)
	}
	for i, r := range a {
		if p := r["positive"].(string); !strings.Contains(p, []string{"revenue", "auditor"}[i]) {
			t.Errorf("query %d: %q is not among its retrieved passages", i, p)
		}
	}
}

// staticModel writes a 32-dimensional static model (seed 1) to dir/name with init-model's extra flags.
func staticModel(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append([]string{"init-model", "--arch", "static", "--tokenizer", sharedtest.BertTokenizer(t), "--dim", "32", "--seed", "1", "--out", out}, extra...)
	if code, o, e := runCLI(t, args...); code != 0 {
		t.Fatalf("init-model: %d %s %s", code, o, e)
	}
	return out
}
