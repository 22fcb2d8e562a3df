package prelude

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

func TestLoadFinancialSampleSplit(t *testing.T) {
	t.Setenv(DataEnv, "")
	pairs := Load("financial")
	if err := pairs.Err(); err != nil {
		t.Fatal(err)
	}
	if pairs.Len() != 518 || !reflect.DeepEqual(pairs.Columns(), []string{"question", "answer", "context", "ticker", "filing"}) {
		t.Fatalf("%d rows, columns %v", pairs.Len(), pairs.Columns())
	}
	ds := pairs.Rename("question", "anchor").Rename("context", "positive").Select("anchor", "positive")
	train, test := ds.Split(0.1, 42)
	if train.Err() != nil || test.Err() != nil {
		t.Fatal(train.Err(), test.Err())
	}
	// ceil(0.1 × 518) = 52 test rows.
	if test.Len() != 52 || train.Len() != 466 || !reflect.DeepEqual(test.Columns(), []string{"anchor", "positive"}) {
		t.Fatalf("split %d/%d, columns %v", train.Len(), test.Len(), test.Columns())
	}
	if !strings.HasPrefix(train.Column("anchor")[0], "Where is Halvorsen Marine") && !strings.HasPrefix(test.Column("anchor")[0], "Where is Halvorsen Marine") {
		t.Error("the first question is in neither part")
	}
	_, again := ds.Split(0.1, 42)
	if !reflect.DeepEqual(again.Column("anchor"), test.Column("anchor")) {
		t.Error("same seed, different split")
	}
	if got := train.Chain(); got != `Load("financial").Rename("question", "anchor").Rename("context", "positive").Select("anchor", "positive").Split(0.1, 42)` {
		t.Errorf("chain %s", got)
	}
	if !strings.Contains(test.String(), "52 rows × 2 columns") || !strings.Contains(test.Name(), "(test)") {
		t.Errorf("text display:\n%s", test.String())
	}
	// The receiver is unchanged by the chain.
	if pairs.Len() != 518 || len(pairs.Columns()) != 5 {
		t.Error("a method changed its receiver")
	}
}

func TestLoadRealDataFromEnv(t *testing.T) {
	t.Setenv(DataEnv, sharedtest.FinancialQA(t))
	d := Load("financial")
	if d.Err() != nil || d.Len() != 7000 || !strings.Contains(d.Name(), "RAGNB_DATA") {
		t.Fatalf("%v: %d rows, name %q", d.Err(), d.Len(), d.Name())
	}
	if s := Sample("financial"); s.Len() != 518 {
		t.Errorf("Sample ignores RAGNB_DATA: %d rows", s.Len())
	}
	t.Setenv(DataEnv, filepath.Join(t.TempDir(), "missing.csv"))
	if err := Load("financial").Err(); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("a bad RAGNB_DATA must name the file: %v", err)
	}
}

func TestErrorTravelsThroughTheChain(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1") // Load("hf:…") below must fail without the network
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	t.Setenv(DataEnv, "")
	d := Load("financial").Rename("query", "anchor").Select("anchor", "positive").DropEmpty()
	err := d.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`Rename("query", "anchor")`, `no column "query"`, "question, answer, context, ticker, filing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	s := d.String()
	if !strings.Contains(s, `✗ Load("financial").Rename("query", "anchor") failed (2 later steps skipped)`) {
		t.Errorf("text display:\n%s", s)
	}
	h := d.HTML()
	if !strings.Contains(h, "ragnb-error") || !strings.Contains(h, "no column &#34;query&#34;") {
		t.Errorf("HTML display: %s", h)
	}
	if d.Len() != 0 || d.Columns() != nil || d.Column("anchor") != nil || d.Hash() != "" || d.Frame().Err == nil {
		t.Error("an errored dataset should look empty and carry its error")
	}
	tr, te := d.Split(0.5, 1)
	if tr.Err() == nil || te.Err() == nil {
		t.Error("split of an errored dataset")
	}
	if err := d.Save(filepath.Join(t.TempDir(), "x.csv")); err == nil {
		t.Error("saving an errored dataset")
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("Must did not panic")
			}
		}()
		d.Must()
	}()
	for _, bad := range []*Dataset{
		Load("financial").Select(),
		Load("financial").Select("question", "question"),
		Load("financial").Rename("question", "answer"),
		Load("financial").Drop("question", "answer", "context", "ticker", "filing"),
		Load("financial").Head(-1),
		Load("financial").Dedupe("nope"),
		Load("hf:org/name"),
		Load("nosuchsample"),
		Load(t.TempDir()),
		Sample("other"),
	} {
		if bad.Err() == nil {
			t.Errorf("%s: want an error", bad.Chain())
		}
	}
	if err := Load("hf:org/name").Err(); !strings.Contains(err.Error(), "offline (HF_HUB_OFFLINE) and not in the cache") {
		t.Errorf("Hub id, offline with an empty cache: %v", err)
	}
	if err := Load("hf:not a repo").Err(); !strings.Contains(err.Error(), "hf:org/name[@revision][:split]") {
		t.Errorf("bad Hub id: %v", err)
	}
	if err := Load("nosuchsample").Err(); !strings.Contains(err.Error(), "samples: financial") {
		t.Errorf("unknown name: %v", err)
	}
}

func frame() *Dataset {
	return FromFrame("t", dataframe.New(
		series.New([]string{"q1", "q2", "", "q1", "q4", "q5", "  "}, series.String, "anchor"),
		series.New([]string{"p1", "p2", "p3", "p1", "p1", "NaN", "p7"}, series.String, "positive"),
		series.New([]float64{1, 2, 3, 1, math.NaN(), 6, 7}, series.Float, "score"),
	))
}

func TestDropEmptyDedupeFilter(t *testing.T) {
	d := frame()
	// Rows 2 and 6 have an empty or blank anchor; row 5's positive is missing ("NaN" reads as missing in
	// gota); row 4's score is NaN.
	if got := d.DropEmpty("anchor").Column("anchor"); !reflect.DeepEqual(got, []string{"q1", "q2", "q1", "q4", "q5"}) {
		t.Errorf("DropEmpty(anchor) = %q", got)
	}
	all := d.DropEmpty()
	if got := all.Column("anchor"); !reflect.DeepEqual(got, []string{"q1", "q2", "q1"}) {
		t.Errorf("DropEmpty() = %q", got)
	}
	if notes := all.Notes(); len(notes) != 1 || notes[0] != "DropEmpty(): 7 → 3 rows" {
		t.Errorf("notes %q", notes)
	}
	if got := d.Dedupe("anchor", "positive").Column("anchor"); !reflect.DeepEqual(got, []string{"q1", "q2", "", "q4", "q5", "  "}) {
		t.Errorf("Dedupe(anchor, positive) = %q", got)
	}
	if got := d.Dedupe("positive").Column("anchor"); !reflect.DeepEqual(got, []string{"q1", "q2", "", "q5", "  "}) {
		t.Errorf("Dedupe(positive) = %q", got)
	}
	if got := d.Dedupe().Len(); got != 6 {
		t.Errorf("Dedupe() kept %d rows, want 6 (row 3 repeats row 0)", got)
	}
	// Filter sees numbers as datasets.Texts writes them ("6", and "" for NaN).
	f := d.Filter("score", func(v string) bool { return v > "4" || v == "" })
	if got := f.Column("anchor"); !reflect.DeepEqual(got, []string{"q4", "q5", "  "}) {
		t.Errorf("Filter = %q", got)
	}
	if none := d.Filter("anchor", func(string) bool { return false }); none.Err() != nil || none.Len() != 0 || len(none.Columns()) != 3 {
		t.Errorf("filtering out every row: %v %d %v", none.Err(), none.Len(), none.Columns())
	}
	if got := d.Head(2).Column("anchor"); !reflect.DeepEqual(got, []string{"q1", "q2"}) {
		t.Errorf("Head = %q", got)
	}
	if got := d.Tail(2).Column("positive"); !reflect.DeepEqual(got, []string{"NaN", "p7"}) {
		t.Errorf("Tail = %q", got)
	}
	if got := d.Drop("score").Columns(); !reflect.DeepEqual(got, []string{"anchor", "positive"}) {
		t.Errorf("Drop = %v", got)
	}
	if s, err := d.Floats("score"); err != nil || s[1] != 2 {
		t.Errorf("Floats: %v %v", s, err)
	}
}

func TestHashIsContent(t *testing.T) {
	t.Setenv(DataEnv, "")
	a := Load("financial").Select("question", "context")
	b := Load("financial").Rename("answer", "x").Select("question", "context")
	if a.Hash() == "" || a.Hash() != b.Hash() {
		t.Error("same content, different hashes")
	}
	if a.Hash() == a.Head(517).Hash() || a.Hash() == a.Rename("question", "anchor").Hash() {
		t.Error("different content, same hash")
	}
	// Types count: the text "1" and the number 1 differ.
	s := FromFrame("s", dataframe.New(series.New([]string{"1"}, series.String, "x")))
	f := FromFrame("f", dataframe.New(series.New([]float64{1}, series.Float, "x")))
	if s.Hash() == f.Hash() {
		t.Error("string and float columns hash alike")
	}
}

func TestStepIsMemoisedOnDisk(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	d := FromFrame("t", dataframe.New(
		series.New([]string{"007", "012"}, series.String, "id"),
		series.New([]int{3, 4}, series.Int, "n"),
		series.New([]float64{0.5, math.NaN()}, series.Float, "score"),
		series.New([]bool{true, false}, series.Bool, "ok"),
	))
	calls := 0
	double := func(df dataframe.DataFrame) (dataframe.DataFrame, error) {
		calls++
		return df.Mutate(series.New([]int{6, 8}, series.Int, "n")), nil
	}
	first := d.Step("double-v1", map[string]int{"factor": 2}, double)
	second := d.Step("double-v1", map[string]int{"factor": 2}, double)
	if first.Err() != nil || second.Err() != nil || calls != 1 {
		t.Fatalf("calls %d: %v %v", calls, first.Err(), second.Err())
	}
	if !reflect.DeepEqual(first.Frame().Types(), second.Frame().Types()) || first.Hash() != second.Hash() {
		t.Errorf("a cache hit changed the table: %v vs %v", first.Frame().Types(), second.Frame().Types())
	}
	if got := second.Column("id"); !reflect.DeepEqual(got, []string{"007", "012"}) {
		t.Errorf("ids after a hit: %q", got)
	}
	if n, _ := second.Frame().Col("n").Int(); !reflect.DeepEqual(n, []int{6, 8}) {
		t.Errorf("n after a hit: %v", n)
	}
	if notes := second.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "from cache") {
		t.Errorf("notes %q", notes)
	}
	// New params or new input content: computed again.
	d.Step("double-v1", map[string]int{"factor": 3}, double)
	d.Head(1).Step("double-v1", map[string]int{"factor": 2}, func(df dataframe.DataFrame) (dataframe.DataFrame, error) {
		calls++
		return df, nil
	})
	if calls != 3 {
		t.Errorf("calls %d, want 3", calls)
	}
	boom := errors.New("boom")
	bad := d.Step("fails", nil, func(dataframe.DataFrame) (dataframe.DataFrame, error) { return dataframe.DataFrame{}, boom })
	if !errors.Is(bad.Err(), boom) {
		t.Errorf("step error: %v", bad.Err())
	}
	entries, _ := os.ReadDir(os.Getenv("RAGNB_CACHE"))
	for _, e := range entries {
		if e.Name() == "fails" {
			t.Error("a failed step left a cache entry")
		}
	}
	dir, err := Memo("write-file", map[string]string{"v": "1"}, []string{d.Hash()}, func(dir string) error {
		calls++
		return os.WriteFile(filepath.Join(dir, "out.txt"), []byte("x"), 0o644)
	})
	dir2, err2 := Memo("write-file", map[string]string{"v": "1"}, []string{d.Hash()}, func(dir string) error {
		calls++
		return nil
	})
	if err != nil || err2 != nil || dir != dir2 || calls != 4 {
		t.Errorf("Memo: %v %v %s %s calls %d", err, err2, dir, dir2, calls)
	}
}

func writeBEIR(t *testing.T) string {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "qrels"), 0o755)
	os.WriteFile(filepath.Join(dir, "corpus.jsonl"), []byte(`{"_id":"d1","title":"Revenue","text":"Sales rose 8%."}
{"_id":"d2","title":"","text":"We employ 900 people."}
{"_id":"3","title":"Debt","text":"Notes due 2030."}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte(`{"_id":"q1","text":"How did sales change?"}
{"_id":"q2","text":"What is the headcount?"}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\t3\t0\n"), 0o644)
	return dir
}

func TestBEIR(t *testing.T) {
	dir := writeBEIR(t)
	p := Load(dir)
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	if !reflect.DeepEqual(p.Columns(), []string{"anchor", "positive", "query_id", "corpus_id", "score"}) ||
		!reflect.DeepEqual(p.Column("positive"), []string{"Revenue Sales rose 8%.", "We employ 900 people."}) ||
		!reflect.DeepEqual(p.Column("corpus_id"), []string{"d1", "d2"}) {
		t.Errorf("pairs:\n%s", p)
	}
	b := LoadBEIR(dir, "")
	if b.Split() != "test" || b.Corpus().Len() != 3 || b.Queries().Len() != 2 || b.Qrels().Len() != 3 {
		t.Errorf("BEIR accessors: split %q corpus %d", b.Split(), b.Corpus().Len())
	}
	if got := b.Corpus().Column("_id"); !reflect.DeepEqual(got, []string{"d1", "d2", "3"}) {
		t.Errorf("corpus ids %q (a numeric-looking id must stay text)", got)
	}
	os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("query-id\tcorpus-id\tscore\nq1\td9\t1\n"), 0o644)
	if err := Load(dir).Err(); err == nil || !strings.Contains(err.Error(), `document "d9" is not in corpus.jsonl`) {
		t.Errorf("dangling qrel: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "qrels", "dev.tsv"), []byte("query-id\tcorpus-id\tscore\n"), 0o644)
	os.Remove(filepath.Join(dir, "qrels", "test.tsv"))
	os.WriteFile(filepath.Join(dir, "qrels", "train.tsv"), []byte("query-id\tcorpus-id\tscore\n"), 0o644)
	if err := LoadBEIR(dir, "").Pairs().Err(); err == nil || !strings.Contains(err.Error(), "name a split") {
		t.Errorf("ambiguous split: %v", err)
	}
}

func TestSamples(t *testing.T) {
	f := Sample(FinancialFilings)
	if f.Err() != nil || f.Len() != 14 || !reflect.DeepEqual(f.Columns(), []string{"ticker", "filing", "path", "text"}) {
		t.Fatalf("%v %d %v", f.Err(), f.Len(), f.Columns())
	}
	if txt := f.Column("text")[0]; !strings.Contains(txt, "## Item 1A. Risk Factors") || f.Column("filing")[0] != "2023_10K" {
		t.Errorf("filing text: %.200s", txt)
	}
	c := Load(FinancialCompanies)
	if c.Len() != 14 || c.Column("ticker")[0] != "HVMS" {
		t.Errorf("companies: %d %v", c.Len(), c.Column("ticker"))
	}
	// Every context of the QA sample is a paragraph of its company's filing.
	qa := Sample(Financial)
	texts := map[string]string{}
	for i, tk := range f.Column("ticker") {
		texts[tk] = f.Column("text")[i]
	}
	for i, ctx := range qa.Column("context") {
		if !strings.Contains(texts[qa.Column("ticker")[i]], ctx) {
			t.Fatalf("row %d: context not in its filing", i)
		}
	}
}

func TestMetricsCompareAndPlot(t *testing.T) {
	p := filepath.Join(t.TempDir(), "base.json")
	os.WriteFile(p, []byte(`{"dim_768_cosine_ndcg@10":0.5,"dim_64_cosine_ndcg@10":0.4,"bm25_ndcg@10":0.55}`), 0o644)
	base := LoadMetrics(p)
	tuned := NewMetrics("fine-tuned", map[string]float64{"dim_768_cosine_ndcg@10": 0.6, "dim_64_cosine_ndcg@10": 0.5})
	if base.Err() != nil || base.Get("bm25_ndcg@10") != 0.55 || !math.IsNaN(base.Get("nope")) {
		t.Fatal(base.Err())
	}
	c := Compare(base, tuned)
	if c.Err() != nil || len(c.Rows()) != 2 || math.Abs(c.Rows()[0].Percent-20) > 1e-9 {
		t.Fatalf("%v %+v", c.Err(), c.Rows())
	}
	if !strings.Contains(c.String(), "+20.0%") || !strings.Contains(c.HTML(), "gain") {
		t.Errorf("comparison:\n%s", c.String())
	}
	if !strings.Contains(base.String(), "ndcg@10") || !strings.Contains(base.String(), "bm25") {
		t.Errorf("metric grid:\n%s", base.String())
	}
	ch := PlotByDimension("ndcg@10", base, tuned)
	svg, err := ch.SVG()
	if err != nil || !strings.Contains(string(svg), "fine-tuned") || !strings.Contains(string(svg), "BM25") {
		t.Errorf("chart: %v", err)
	}
	if err := PlotByDimension("mrr@10", base).Err(); err == nil {
		t.Error("a metric with no values")
	}
	bad := LoadMetrics(filepath.Join(t.TempDir(), "none.json"))
	if bad.Err() == nil || Compare(bad, tuned).Err() == nil || PlotByDimension("ndcg@10", bad).Err() == nil {
		t.Error("errors must travel into Compare and plots")
	}
	if !strings.Contains(Compare(base, tuned).String(), "base.json") {
		t.Error("the base's name is its file")
	}
	if err := Compare(base, NewMetrics("x", map[string]float64{"map@100": 1})).Err(); err == nil {
		t.Error("nothing in common must be an error")
	}
	out := filepath.Join(t.TempDir(), "c.png")
	if err := PlotDistances([]float64{0.8, 0.9}, []float64{0.1, 0.5, 0.6}, 0.4, 0.7).Save(out); err != nil {
		t.Error(err)
	}
}

// TestChangingOneParameterRerunsOnlyLaterSteps runs a two-step pipeline (mine → train) the way notebook cells
// do, each "cell" starting from a fresh Load: a changed training parameter re-runs training only; a changed
// mining parameter re-runs mining and, because its output changed, training.
func TestChangingOneParameterRerunsOnlyLaterSteps(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(DataEnv, "")
	runs := map[string]int{}
	cell := func(window float64, batch int) string {
		pairs := Load("financial").Rename("question", "anchor").Rename("context", "positive").Select("anchor", "positive")
		mined := pairs.Step("mine-v1", map[string]float64{"lo": window}, func(df dataframe.DataFrame) (dataframe.DataFrame, error) {
			runs["mine"]++
			n := int(window * 100) // the window decides how many rows survive
			return df.Subset(seq(n)), nil
		})
		dir, err := Memo("train-v1", map[string]int{"batch_size": batch}, []string{mined.Hash()}, func(dir string) error {
			runs["train"]++
			return os.WriteFile(filepath.Join(dir, "model.txt"), []byte(mined.Hash()), 0o644)
		})
		if err != nil || mined.Err() != nil {
			t.Fatal(err, mined.Err())
		}
		return dir
	}
	first := cell(0.3, 32)
	if again := cell(0.3, 32); again != first || runs["mine"] != 1 || runs["train"] != 1 {
		t.Fatalf("unchanged re-run computed again: %v", runs)
	}
	cell(0.3, 64)
	if runs["mine"] != 1 || runs["train"] != 2 {
		t.Errorf("batch size change: %v, want mining from cache and training again", runs)
	}
	cell(0.4, 64)
	if runs["mine"] != 2 || runs["train"] != 3 {
		t.Errorf("window change: %v, want both steps again", runs)
	}
	cell(0.3, 32)
	if runs["mine"] != 2 || runs["train"] != 3 {
		t.Errorf("going back to the first settings: %v, want every step from cache", runs)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestNotesOnTheSharedSet(t *testing.T) {
	t.Setenv(DataEnv, sharedtest.FinancialQA(t))
	d := Load("financial").Dedupe("context")
	if notes := d.Notes(); len(notes) != 1 || notes[0] != `Dedupe("context"): 7,000 → 6,757 rows` {
		t.Errorf("notes %q", notes)
	}
}
