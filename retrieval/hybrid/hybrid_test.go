package hybrid

import (
	"math"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/ir"
)

func ids(hits []ir.Hit) string {
	var s []string
	for _, h := range hits {
		s = append(s, h.DocID)
	}
	return strings.Join(s, " ")
}

var (
	dense   = ir.Run{"q": {{DocID: "a", Score: 0.9}, {DocID: "b", Score: 0.5}, {DocID: "c", Score: 0.1}}}
	lexical = ir.Run{"q": {{DocID: "c", Score: 10}, {DocID: "d", Score: 5}, {DocID: "a", Score: 0}}}
)

// TestConvexCombinationByHand: dense a=1, b=.5, c=0 and BM25 c=1, d=.5, a=0 after min-max; α=0.5 gives
// a=c=.5 (tie broken by id) and b=d=.25; α=1 and α=0 keep each run's order.
func TestConvexCombinationByHand(t *testing.T) {
	for _, c := range []struct {
		alpha  float64
		order  string
		scores []float64
	}{
		{0.5, "a c b d", []float64{0.5, 0.5, 0.25, 0.25}},
		{1, "a b c d", []float64{1, 0.5, 0, 0}},
		{0, "c d a b", []float64{1, 0.5, 0, 0}},
		{0.8, "a b c d", []float64{0.8, 0.4, 0.2, 0.1}},
	} {
		run, err := Fuse(dense, lexical, Options{Alpha: c.alpha})
		if err != nil {
			t.Fatal(err)
		}
		hits := run.Sorted("q")
		if got := ids(hits); got != c.order {
			t.Errorf("α=%v: order %q, want %q", c.alpha, got, c.order)
		}
		for i, h := range hits {
			if math.Abs(h.Score-c.scores[i]) > 1e-12 {
				t.Errorf("α=%v: %s scores %v, want %v", c.alpha, h.DocID, h.Score, c.scores[i])
			}
		}
	}
}

// TestRRFByHand: a is 1st dense and 3rd lexical: 1/61 + 1/63; c is 3rd dense and 1st lexical: the same; b and
// d are 2nd in one run each: 1/62.
func TestRRFByHand(t *testing.T) {
	run, err := Fuse(dense, lexical, Options{Method: RRF})
	if err != nil {
		t.Fatal(err)
	}
	hits := run.Sorted("q")
	want := map[string]float64{"a": 1.0/61 + 1.0/63, "c": 1.0/61 + 1.0/63, "b": 1.0 / 62, "d": 1.0 / 62}
	if ids(hits) != "a c b d" {
		t.Errorf("order %q", ids(hits))
	}
	for _, h := range hits {
		if math.Abs(h.Score-want[h.DocID]) > 1e-15 {
			t.Errorf("%s: %v, want %v", h.DocID, h.Score, want[h.DocID])
		}
	}
}

// TestDepthAndMissingQueries: only the top Depth of each run are fused, and a query one run lacks still gets
// the other's ranking.
func TestDepthAndMissingQueries(t *testing.T) {
	l := ir.Run{"q": lexical["q"], "only-bm25": {{DocID: "x", Score: 3}, {DocID: "y", Score: 1}}}
	run, err := Fuse(dense, l, Options{Alpha: 0.5, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(run.Sorted("q")); got != "a c" {
		t.Errorf("depth 1 fused %q, want the two runs' first hits", got)
	}
	if got := ids(run.Sorted("only-bm25")); got != "x" {
		t.Errorf("a query only BM25 answered: %q", got)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for _, o := range []Options{{Alpha: 1.5}, {Alpha: -0.1}, {Method: "max"}, {Method: RRF, K: -1}, {Depth: -3}} {
		if _, err := Fuse(dense, lexical, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestTuneFindsTheWeightThatHelps: on two dev queries each run puts a wrong document first, which the other
// run ranks last, and the relevant one first or second: fused, rel1 wins for α > 1/6 and rel2 for α < 0.8, so
// every weight in between finds both, each pure run finds one, and Tune chooses a middle weight (the tie among
// them goes to the one nearest 0.5).
func TestTuneFindsTheWeightThatHelps(t *testing.T) {
	d := ir.Run{
		"q1": {{DocID: "rel1", Score: 0.9}, {DocID: "x", Score: 0.5}, {DocID: "y", Score: 0.1}},
		"q2": {{DocID: "z", Score: 0.9}, {DocID: "rel2", Score: 0.7}, {DocID: "w", Score: 0.1}},
	}
	l := ir.Run{
		"q1": {{DocID: "y", Score: 10}, {DocID: "rel1", Score: 8}, {DocID: "x", Score: 0}},
		"q2": {{DocID: "rel2", Score: 10}, {DocID: "w", Score: 5}, {DocID: "z", Score: 0}},
	}
	dev := ir.Qrels{"q1": {"rel1": 1}, "q2": {"rel2": 1}}
	cfg := ir.Config{AccuracyAtK: []int{1}, NDCGAtK: []int{10}}
	o, trials, err := Tune(d, l, dev, cfg, "accuracy@1", nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 21 || trials[0].Score != 0.5 || trials[20].Score != 0.5 {
		t.Fatalf("trials %v: the pure runs should each find one of the two", trials)
	}
	if o.Alpha != 0.5 || o.Method != Convex {
		t.Errorf("chose %v", o)
	}
	fused, _ := Fuse(d, l, o)
	m, _ := ir.Evaluate(fused, dev, cfg)
	if v, _ := m.Get("accuracy@1"); v != 1 {
		t.Errorf("the tuned fusion has accuracy@1 %v, want 1", v)
	}
	if _, _, err := Tune(d, l, dev, cfg, "recall@7", nil, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "recall@7") {
		t.Errorf("an uncomputed metric: %v", err)
	}
}
