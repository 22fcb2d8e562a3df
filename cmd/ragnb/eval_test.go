package main

import (
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ragnb/ragnb"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/workflow"
)

// The committed random run and qrels, with metrics from tools/ir_golden.py (an independent Python
// implementation; regenerate with /usr/bin/python3 tools/ir_golden.py).
func TestEvalRunMatchesIndependentGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.json")
	code, stdout, stderr := runCLI(t, "eval", "--run", "../../testdata/ir/random.trec",
		"--qrels", "../../testdata/ir/random.qrels.tsv", "--json", out)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	var got map[string]float64
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Default struct {
			Queries int
			Metrics map[string]float64
		}
	}
	b, _ = os.ReadFile("../../testdata/ir/random.golden.json")
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 || len(got) != len(golden.Default.Metrics) {
		t.Errorf("%d keys, golden %d: %v", len(got), len(golden.Default.Metrics), got)
	}
	for k, w := range golden.Default.Metrics {
		if g, ok := got[k]; !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %.17g, golden %.17g", k, g, w)
		}
	}
	if !strings.Contains(stdout, "ndcg@10") || !strings.Contains(stdout, "queries with a relevant document evaluated") {
		t.Errorf("table:\n%s", stdout)
	}
}

func TestEvalBM25OnPairsAndCompare(t *testing.T) {
	dir := t.TempDir()
	pairs := filepath.Join(dir, "pairs.csv")
	// Row 3 repeats row 0's passage: one document, relevant to both questions.
	os.WriteFile(pairs, []byte("question,context\n"+
		"where do cats sleep,cats sleep on the warm mat\n"+
		"what do dogs eat,dogs eat bones and biscuits\n"+
		"how do fish breathe,fish breathe through gills\n"+
		"what is warm for cats,cats sleep on the warm mat\n"), 0o644)
	base := filepath.Join(dir, "base.json")
	code, out, errOut := runCLI(t, "eval", "--model", "bm25", "--pairs", pairs, "--anchor", "question",
		"--positive", "context", "--test-fraction", "0", "--json", base, "--save-run", filepath.Join(dir, "bm25.trec"))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"queries  4 evaluated", "corpus   3 documents", "ndcg@10       1.0000"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var m map[string]float64
	b, _ := os.ReadFile(base)
	if err := json.Unmarshal(b, &m); err != nil || m["bm25_mrr@10"] != 1 || m["bm25_precision@3"] != 1.0/3 {
		t.Errorf("json %s (%v)", b, err)
	}
	run, err := os.ReadFile(filepath.Join(dir, "bm25.trec"))
	if err != nil || !strings.HasPrefix(string(run), "q0 Q0 d0 1 ") {
		t.Errorf("saved run: %q %v", run, err)
	}

	// The saved run evaluates to the same metrics through --run (it needs qrels: write them by hand).
	qrels := filepath.Join(dir, "qrels.tsv")
	os.WriteFile(qrels, []byte("query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td1\t1\nq2\td2\t1\nq3\td0\t1\n"), 0o644)
	code, out, _ = runCLI(t, "eval", "--run", filepath.Join(dir, "bm25.trec"), "--qrels", qrels)
	if code != 0 || !strings.Contains(out, "mrr@10        1.0000") {
		t.Errorf("--run on the saved run: %d\n%s", code, out)
	}

	tuned := filepath.Join(dir, "tuned.json")
	os.WriteFile(tuned, []byte(`{"bm25_mrr@10": 0.5, "bm25_ndcg@10": 1.1, "other": 3}`), 0o644)
	code, out, errOut = runCLI(t, "eval", "--compare", base, tuned)
	if code != 0 || !strings.Contains(out, "bm25_mrr@10") || !strings.Contains(out, "-50.0%") || !strings.Contains(out, "+10.0%") {
		t.Errorf("compare: %d\n%s%s", code, out, errOut)
	}
}

func TestEvalErrors(t *testing.T) {
	pairs := filepath.Join(t.TempDir(), "p.csv")
	os.WriteFile(pairs, []byte("anchor,positive\nq,p\n"), 0o644)
	code, _, errOut := runCLI(t, "eval", "--model", "/no/such/model/dir", "--pairs", pairs, "--test-fraction", "0")
	if code != 1 || !strings.Contains(errOut, "--model /no/such/model/dir") {
		t.Errorf("--model of a missing directory: %d %q", code, errOut)
	}
	for _, args := range [][]string{
		{"eval"},
		{"eval", "--run", "x.trec"},
		{"eval", "--run", "x", "--model", "bm25"},
		{"eval", "--model", "bm25"},
		{"eval", "--model", "bm25", "--pairs", "p.csv", "--beir", "dir"},
		{"eval", "--run", "x", "--qrels", "y", "--mrr-at", "0"},
		{"eval", "--compare", "one.json"},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
	code, _, errOut = runCLI(t, "eval", "--run", "/nonexistent.trec", "--qrels", "/nonexistent.tsv")
	if code != 1 || !strings.Contains(errOut, "/nonexistent.trec") {
		t.Errorf("missing run file: %d %q", code, errOut)
	}
}

// TestEvalModelDir evaluates a static idf model made by init-model at two Matryoshka dimensions, beside BM25,
// and checks the JSON against the library evaluator run directly.
func TestEvalModelDir(t *testing.T) {
	dir, pairs, model := sampleStaticModel(t, 128)
	jsonOut := filepath.Join(dir, "m.json")
	code, out, errOut := runCLI(t, "eval", "--model", model, "--model", "bm25", "--pairs", pairs, "--anchor", "question",
		"--positive", "context", "--test-fraction", "0.1", "--seed", "42", "--dims", "128,32", "--json", jsonOut)
	if code != 0 {
		t.Fatalf("eval: %d\n%s%s", code, out, errOut)
	}
	got, err := evaluate.LoadFlatJSON(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dim_128_cosine_ndcg@10", "dim_32_cosine_ndcg@10", "bm25_ndcg@10"} {
		if _, ok := got.Get(k); !ok {
			t.Errorf("no %s in %v", k, got.Keys())
		}
	}
	// The same evaluation through the library.
	df, _ := datasets.Load(pairs)
	_, test, _ := datasets.Split(df, 0.1, 42)
	anchors, _ := datasets.Strings(test, "question")
	positives, _ := datasets.Strings(test, "context")
	corpus, _ := datasets.Strings(df, "context")
	ds, _, _ := ir.FromPairs(anchors, positives, corpus)
	ev, err := evaluate.NewIR(ds, evaluate.Options{Dims: []int{128, 32}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := encoder.LoadBiEncoder(model, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.EvaluateEmbedder(context.Background(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want.Flat() {
		if g, _ := got.Get(k); math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: CLI %v, library %v", k, g, w)
		}
	}
}

// `ragnb eval` with only the required flags evaluates with workflow.DefaultEvalOptions: the flags' defaults are
// the workflow's (BM25's k1, b and stop words among them, spelt once).
func TestEvalDefaultsAreTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	f := &evalFlags{}
	f.register(fs)
	if err := fs.Parse([]string{"--model", "bm25", "--pairs", "qa.csv"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultEvalOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("eval's flags give\n%+v\nwant workflow.DefaultEvalOptions\n%+v", got, want)
	}
	// A flag that is set changes its option only.
	if err := fs.Parse([]string{"--k1", "0.9", "--dims", "64"}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.options()
	if got.BM25.K1 != 0.9 || got.BM25.B != workflow.DefaultEvalOptions().BM25.B || !reflect.DeepEqual(got.Dims, []int{64}) {
		t.Errorf("--k1 0.9 --dims 64 gave %+v", got)
	}
}

// TestEvalHybridBesideTheOtherSystems: `--model hybrid:DIR` adds hybrid_dim_<d>_<metric>@k keys beside the
// model's and BM25's, says which weight it chose on the dev split (carved from the training side), and
// a fixed --hybrid-alpha 0 ranks exactly as BM25 (BM25 is normalised from 0, so no dense score reorders it).
func TestEvalHybridBesideTheOtherSystems(t *testing.T) {
	dir, pairs, model := sampleStaticModel(t, 64)
	common := []string{"--pairs", pairs, "--anchor", "question", "--positive", "context", "--test-fraction", "0.1", "--dims", "64,32"}
	jsonOut := filepath.Join(dir, "m.json")
	code, out, errOut := runCLI(t, append([]string{"eval", "--model", "bm25", "--model", model, "--model", "hybrid:" + model,
		"--dev-fraction", "0.1", "--json", jsonOut}, common...)...)
	if code != 0 {
		t.Fatalf("eval: %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "chosen on 52 dev queries, metrics on the test queries") || !strings.Contains(out, "dev: 52 rows") {
		t.Errorf("the report does not say where the weight was chosen:\n%s", out)
	}
	got, err := evaluate.LoadFlatJSON(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"hybrid_dim_64_ndcg@10", "hybrid_dim_32_ndcg@10", "dim_64_cosine_ndcg@10", "bm25_ndcg@10"} {
		if _, ok := got.Get(k); !ok {
			t.Errorf("no %s in %v", k, got.Keys())
		}
	}
	bm25Only := filepath.Join(dir, "a0.json")
	if code, out, errOut := runCLI(t, append([]string{"eval", "--model", "bm25", "--model", "hybrid:" + model,
		"--hybrid-alpha", "0", "--json", bm25Only}, common...)...); code != 0 || !strings.Contains(out, "fixed weight") {
		t.Fatalf("eval --hybrid-alpha 0: %d\n%s%s", code, out, errOut)
	}
	a0, err := evaluate.LoadFlatJSON(bm25Only)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"ndcg@10", "mrr@10", "recall@10"} {
		h, _ := a0.Get("hybrid_dim_64_" + m)
		b, _ := a0.Get("bm25_" + m)
		if math.Abs(h-b) > 1e-12 {
			t.Errorf("α = 0: hybrid %s %v, BM25 %v", m, h, b)
		}
	}
	if code, _, errOut := runCLI(t, append([]string{"eval", "--model", "hybrid:" + model, "--dev-fraction", "0.1",
		"--test-fraction", "0"}, common[:6]...)...); code != 2 || !strings.Contains(errOut, "--dev-fraction") {
		t.Errorf("--dev-fraction without a test split: exit %d %s", code, errOut)
	}
}

// TestEvalHybridOnABEIRFolderWithDevQrels: on a BEIR folder the weight is chosen on --dev-qrels (a split
// name of the folder) and the test queries are reported; a dev split that judges a test query is refused.
func TestEvalHybridOnABEIRFolderWithDevQrels(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "corpus.jsonl"), `{"_id":"d1","title":"","text":"revenue grew in the cloud segment"}
{"_id":"d2","title":"","text":"the company is headquartered in Tacoma"}
{"_id":"d3","title":"","text":"dividends were paid quarterly"}
{"_id":"d4","title":"","text":"risk factors include interest rates"}
`)
	writeFile(t, filepath.Join(dir, "queries.jsonl"), `{"_id":"q1","text":"where is the headquarters"}
{"_id":"q2","text":"how did cloud revenue change"}
{"_id":"q3","text":"when are dividends paid"}
{"_id":"q4","text":"what are the risk factors"}
`)
	os.MkdirAll(filepath.Join(dir, "qrels"), 0o755)
	writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td1\t1\n")
	writeFile(t, filepath.Join(dir, "qrels", "dev.tsv"), "query-id\tcorpus-id\tscore\nq3\td3\t1\nq4\td4\t1\n")
	writeFile(t, filepath.Join(dir, "qrels", "overlap.tsv"), "query-id\tcorpus-id\tscore\nq1\td2\t1\nq4\td4\t1\n")
	model := tinyModel(t, "bert", 1)
	jsonOut := filepath.Join(dir, "m.json")
	code, out, errOut := runCLI(t, "eval", "--beir", dir, "--model", "hybrid:"+model, "--dev-qrels", "dev", "--json", jsonOut)
	if code != 0 || !strings.Contains(out, "chosen on 2 dev queries") {
		t.Fatalf("eval: %d\n%s%s", code, out, errOut)
	}
	got, err := evaluate.LoadFlatJSON(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.Get("hybrid_dim_32_ndcg@10"); !ok || !(v > 0) {
		t.Errorf("hybrid_dim_32_ndcg@10 %v (%v) in %v", v, ok, got.Keys())
	}
	if code, _, errOut := runCLI(t, "eval", "--beir", dir, "--model", "hybrid:"+model, "--dev-qrels", "overlap"); code != 2 || !strings.Contains(errOut, `"q1"`) {
		t.Errorf("overlapping dev qrels: %d %s", code, errOut)
	}
}

// sampleStaticModel writes the embedded financial sample's pairs into a temporary directory and an
// IDF-initialised static model of dimension dim over its contexts beside them.
func sampleStaticModel(t *testing.T, dim int) (dir, pairs, model string) {
	t.Helper()
	dir = t.TempDir()
	qa, err := fs.ReadFile(ragnb.FinancialSample(), "pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	pairs = writeFile(t, filepath.Join(dir, "pairs.csv"), string(qa))
	model = filepath.Join(dir, "static")
	if code, out, errOut := runCLI(t, "init-model", "--arch", "static", "--tokenizer", sharedtest.BertTokenizer(t),
		"--dim", strconv.Itoa(dim), "--init", "idf", "--corpus", pairs, "--field", "context", "--seed", "1", "--out", model); code != 0 {
		t.Fatalf("init-model: %d %s %s", code, out, errOut)
	}
	return dir, pairs, model
}
