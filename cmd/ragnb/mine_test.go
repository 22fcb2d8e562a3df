package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

// ragnb mine on 120 rows of the shared financial set with an IDF static model made by init-model: n-tuples
// whose negatives lie in the window (recomputed from `ragnb embed` outputs) and are never the row's
// positive; the histogram, the stats file, and a second run served from the cache.
func TestMineCLI(t *testing.T) {
	df, dir, pairs, model := minePairsAndModel(t)
	out := filepath.Join(dir, "mined.jsonl")
	stats := filepath.Join(dir, "stats.json")
	hist := filepath.Join(dir, "hist.svg")
	cacheDir := filepath.Join(dir, "cache")
	args := []string{"mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--top-k", "20", "--distance", "cosine", "--min-distance", "0.5", "--max-distance", "0.9", "--num-negatives", "2",
		"--format", "n-tuple", "--out", out, "--stats", stats, "--histogram", hist, "--cache", cacheDir}
	code, stdout, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("mine: %d %q %q", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "0.5 < cosine distance ≤ 0.9") || !strings.Contains(stdout, "rows (n-tuple)") {
		t.Errorf("output: %s", stdout)
	}
	var st mining.Stats
	b, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	mined, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	questions, _ := datasets.Strings(df, "question")
	distinct := map[string]bool{}
	for _, q := range questions {
		distinct[q] = true
	}
	// One row per (question, positive) of the questions with two negatives (a repeated question with two
	// contexts has two rows).
	if st.Queries != len(distinct) || st.Rows != 120 || st.Negatives == 0 || mined.Nrow() < st.Queries-st.StillShort {
		t.Fatalf("stats %+v, %d rows", st, mined.Nrow())
	}
	if strings.Join(mined.Names(), ",") != "anchor,positive,negative_1,negative_2" {
		t.Errorf("columns %v", mined.Names())
	}
	// Recompute each negative's cosine distance from embeddings made by `ragnb embed`.
	col := func(name string) []string { s, _ := datasets.Strings(mined, name); return s }
	anchors, positives := col("anchor"), col("positive")
	embed := func(texts []string, query bool) *vector.Matrix {
		in := writeFile(t, filepath.Join(t.TempDir(), "t.jsonl"), jsonl(texts))
		npy := filepath.Join(t.TempDir(), "e.npy")
		a := []string{"embed", "--model", model, "--in", in, "--out", npy}
		if query {
			a = append(a, "--query")
		}
		if code, o, e := runCLI(t, a...); code != 0 {
			t.Fatalf("embed: %d %q %q", code, o, e)
		}
		m, err := vector.LoadNPY(npy)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	qv := embed(anchors, true)
	for _, c := range []string{"negative_1", "negative_2"} {
		negs := col(c)
		nv := embed(negs, false)
		for i, n := range negs {
			if n == positives[i] || n == "" {
				t.Errorf("row %d %s: %.40q is the positive or empty", i, c, n)
			}
			d := 1 - vector.Cosine(qv.Row(i), nv.Row(i))
			if !(d > 0.5-1e-9 && d <= 0.9+1e-9) {
				t.Errorf("row %d %s: cosine distance %v outside (0.5, 0.9]", i, c, d)
			}
		}
	}
	if svg, err := os.ReadFile(hist); err != nil || !strings.Contains(string(svg), "<svg") {
		t.Errorf("histogram: %v", err)
	}
	// A new window reuses the embeddings and the top-k.
	args2 := append(append([]string(nil), args...), "--max-distance", "0.95", "--format", "labeled-pair", "--output-scores")
	code, stdout, errOut = runCLI(t, args2...)
	if code != 0 || !strings.Contains(stdout, "from the cache") {
		t.Fatalf("second mine: %d %q %q", code, stdout, errOut)
	}
	lp, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lp.Names(), ",") != "anchor,passage,score" {
		t.Errorf("labeled pairs columns %v", lp.Names())
	}
	for i, s := range lp.Col("score").Float() {
		if math.IsNaN(s) || s < -1 || s > 1 {
			t.Errorf("row %d score %v", i, s)
		}
	}

	// A cross-encoder check scores candidates; options are validated before any work.
	ce := filepath.Join(dir, "ce")
	if code, o, e := runCLI(t, "init-model", "--arch", "cross-encoder", "--tokenizer", sharedtest.BertTokenizer(t), "--layers", "1",
		"--hidden", "16", "--heads", "2", "--intermediate", "32", "--max-len", "64", "--out", ce); code != 0 {
		t.Fatalf("init-model cross-encoder: %d %q %q", code, o, e)
	}
	code, stdout, errOut = runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--top-k", "10", "--max-distance", "0", "--cross-encoder", ce, "--ce-threshold", "100", "--out", out, "--stats", stats)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("cross-encoder scored %d pairs", len(distinct))) {
		t.Fatalf("mine with a cross-encoder: %d %q %q", code, stdout, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ce-threshold", "0.5"}, "need --cross-encoder"},
		{[]string{"--range-min", "30", "--range-max", "20"}, "range_min 30"},
		{[]string{"--fallback", "later"}, "unknown fallback"},
		{[]string{"--distance", "hamming"}, "unknown distance"},
		{[]string{"--histogram", "h.pdf"}, ".svg or .png"},
	} {
		a := append([]string{"mine", "--model", model, "--data", pairs, "--out", out}, c.args...)
		if code, _, e := runCLI(t, a...); code != 2 || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", c.args, code, e, c.want)
		}
	}
	if code, _, e := runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "query", "--out", out); code != 1 || !strings.Contains(e, `no column "query"`) {
		t.Errorf("missing column: %d %q", code, e)
	}
}

func seqInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func jsonl(texts []string) string {
	var b strings.Builder
	for _, t := range texts {
		j, _ := json.Marshal(map[string]string{"text": t})
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestMineSuggestWindow: --suggest-window prints the window read off the positives' distances with its
// coverage, mines with it (every negative's cosine distance lies inside it), and draws it on the histogram.
func TestMineSuggestWindow(t *testing.T) {
	_, dir, pairs, model := minePairsAndModel(t)
	out, hist := filepath.Join(dir, "mined.jsonl"), filepath.Join(dir, "hist.svg")
	code, stdout, errOut := runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--top-k", "20", "--distance", "cosine", "--suggest-window", "--suggest-quantiles", "0.2,0.8", "--output-scores",
		"--out", out, "--histogram", hist)
	if code != 0 {
		t.Fatalf("mine: %d %q %q", code, stdout, errOut)
	}
	m := regexp.MustCompile(`suggested window ([0-9.e-]+) < cosine distance ≤ ([0-9.e-]+) \(positives' q20–q80\): (\d+) of (\d+) queries`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no suggestion printed:\n%s", stdout)
	}
	lo, _ := strconv.ParseFloat(m[1], 64)
	hi, _ := strconv.ParseFloat(m[2], 64)
	if !(lo < hi) || !strings.Contains(stdout, m[1]+" < cosine distance ≤ "+m[2]) {
		t.Errorf("window %v–%v", lo, hi)
	}
	mined, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := datasets.Strings(mined, "negative_score")
	if err != nil || len(scores) == 0 {
		t.Fatalf("no negatives: %v", err)
	}
	for i, s := range scores {
		c, _ := strconv.ParseFloat(s, 64)
		if d := 1 - c; !(d > lo-1e-6 && d <= hi+1e-6) {
			t.Errorf("row %d: negative at cosine distance %v, outside the suggested %v–%v", i+1, d, lo, hi)
		}
	}
	svg, err := os.ReadFile(hist)
	if err != nil || !strings.Contains(string(svg), "stroke-dasharray") {
		t.Errorf("the histogram does not draw the suggested window: %v", err)
	}
	if code, _, errOut := runCLI(t, "mine", "--model", model, "--data", pairs, "--out", out, "--suggest-window", "--suggest-quantiles", "0.9,0.1"); code != 2 {
		t.Errorf("--suggest-quantiles 0.9,0.1: exit %d %s", code, errOut)
	}
}

// minePairsAndModel writes the shared financial set's first 120 (question, context) rows into a temporary
// directory and an IDF-initialised static model over their contexts beside them.
func minePairsAndModel(t *testing.T) (df dataframe.DataFrame, dir, pairs, model string) {
	t.Helper()
	df, err := datasets.Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	df = df.Subset(seqInts(120)).Select([]string{"question", "context"})
	dir = t.TempDir()
	pairs = filepath.Join(dir, "pairs.jsonl")
	if err := datasets.Save(df, pairs); err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "static")
	if code, out, errOut := runCLI(t, "init-model", "--arch", "static", "--tokenizer", sharedtest.BertTokenizer(t), "--init", "idf",
		"--corpus", pairs, "--field", "context", "--seed", "1", "--out", model); code != 0 {
		t.Fatalf("init-model: %d %q %q", code, out, errOut)
	}
	return df, dir, pairs, model
}

// TestMineRangeForSamplingDrawsFromTheRetrievedRanks: `ragnb mine --range-for-sampling 2-6` (FlagEmbedding
// hn_mine's) draws each query's negatives at random from ranks 2..6 of its retrieved list, the positive counted
// in the ranks and then left out: every mined negative is among the query's 6 nearest passages (computed here
// independently), never its positive; the flag refuses what it would override.
func TestMineRangeForSamplingDrawsFromTheRetrievedRanks(t *testing.T) {
	df, dir, pairs, model := minePairsAndModel(t)
	out := filepath.Join(dir, "mined.jsonl")
	code, stdout, errOut := runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--range-for-sampling", "2-6", "--max-distance", "0", "--num-negatives", "2", "--out", out)
	if code != 0 {
		t.Fatalf("mine: %d %q %q", code, stdout, errOut)
	}
	qs, _ := datasets.Strings(df, "question")
	ps, _ := datasets.Strings(df, "context")
	m, err := encoder.LoadBiEncoder(model, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	corpus := slices.Compact(slices.Sorted(slices.Values(ps)))
	qv, _ := m.EmbedQueries(t.Context(), qs, nil)
	cv, _ := m.EmbedDocuments(t.Context(), corpus, nil)
	top := map[string]map[string]bool{}
	for i, q := range qs {
		idx := make([]int, len(corpus))
		for j := range idx {
			idx[j] = j
		}
		sort.SliceStable(idx, func(a, b int) bool {
			return vector.Cosine(qv.Row(i), cv.Row(idx[a])) > vector.Cosine(qv.Row(i), cv.Row(idx[b]))
		})
		top[q] = map[string]bool{}
		for _, j := range idx[:6] {
			top[q][corpus[j]] = true
		}
	}
	rows := readJSONL(t, out)
	if len(rows) < len(qs) {
		t.Fatalf("%d rows for %d queries", len(rows), len(qs))
	}
	for _, r := range rows {
		q, p, n := r["anchor"].(string), r["positive"].(string), r["negative"].(string)
		if n == p || !top[q][n] {
			t.Errorf("query %.40q: negative %.40q is the positive or outside its 6 nearest", q, n)
		}
	}
	if code, _, e := runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--range-for-sampling", "2-6", "--range-min", "3", "--out", out); code == 0 || !strings.Contains(e, "--range-min") {
		t.Errorf("--range-for-sampling with --range-min: exit %d %s", code, e)
	}
}

// TestMineQueryInstruction: `ragnb mine --query-instruction` embeds the anchors with that instruction (other
// negatives are mined than with the model's own prompt, through the same step cache without mixing them), and
// --no-query-instruction with an instruction is refused.
func TestMineQueryInstruction(t *testing.T) {
	_, dir, pairs, model := minePairsAndModel(t)
	cacheDir := filepath.Join(dir, "cache")
	mine := func(extra ...string) []string {
		t.Helper()
		out := filepath.Join(dir, fmt.Sprintf("mined%d.jsonl", len(extra)))
		args := append([]string{"mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
			"--max-distance", "0", "--num-negatives", "1", "--cache", cacheDir, "--out", out}, extra...)
		if code, o, e := runCLI(t, args...); code != 0 {
			t.Fatalf("mine %v: %d %s %s", extra, code, o, e)
		}
		var negs []string
		for _, r := range readJSONL(t, out) {
			negs = append(negs, r["negative"].(string))
		}
		return negs
	}
	plain, instructed := mine(), mine("--query-instruction", "Represent this question about a 10-K filing for retrieval: ")
	if slices.Equal(plain, instructed) {
		t.Error("the query instruction changed no mined negative")
	}
	if again := mine(); !slices.Equal(again, plain) {
		t.Error("a cached re-run without the instruction mined other negatives")
	}
	if code, _, e := runCLI(t, "mine", "--model", model, "--data", pairs, "--anchor", "question", "--positive", "context",
		"--query-instruction", "x", "--no-query-instruction", "--out", filepath.Join(dir, "x.jsonl")); code == 0 || !strings.Contains(e, "not both") {
		t.Errorf("both flags: exit %d %s", code, e)
	}
}
