package ir

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func checkMetrics(t *testing.T, got Metrics, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		g, ok := got.Get(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if !near(g, w) {
			t.Errorf("%s = %.15g, want %.15g", name, g, w)
		}
	}
}

// One query with three relevant documents, a tie, and a corpus smaller than the deepest cut-off.
func TestEvaluateSeveralRelevantTiesAndSmallCorpus(t *testing.T) {
	qrels := Qrels{}
	qrels.Add("q1", "a", 1)
	qrels.Add("q1", "c", 2) // grades > 0 are all "relevant"
	qrels.Add("q1", "e", 1)
	qrels.Add("q1", "b", 0) // judged non-relevant
	// Emitted in scrambled order: ranking is b, a, c (a and c tie: a first by id), d, e.
	run := Run{"q1": {{"e", 0.1}, {"c", 0.8}, {"d", 0.5}, {"a", 0.8}, {"b", 0.9}}}
	m, err := Evaluate(run, qrels, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if m.Queries != 1 {
		t.Errorf("Queries = %d", m.Queries)
	}
	l3, l6 := math.Log2(3), math.Log2(6)
	checkMetrics(t, m, map[string]float64{
		"accuracy@1": 0, "accuracy@3": 1, "accuracy@5": 1, "accuracy@10": 1,
		"precision@1": 0, "precision@3": 2.0 / 3, "precision@5": 3.0 / 5, "precision@10": 3.0 / 10, // /k, not /5 hits
		"recall@1": 0, "recall@3": 2.0 / 3, "recall@5": 1, "recall@10": 1,
		"mrr@10":  0.5,
		"ndcg@10": (1/l3 + 1/2.0 + 1/l6) / (1 + 1/l3 + 1/2.0),
		"map@100": (1.0/2 + 2.0/3 + 3.0/5) / 3,
	})
	wantNames := "accuracy@1 accuracy@3 accuracy@5 accuracy@10 precision@1 precision@3 precision@5 precision@10 " +
		"recall@1 recall@3 recall@5 recall@10 ndcg@10 mrr@10 map@100"
	if got := strings.Join(m.Names, " "); got != wantNames {
		t.Errorf("Names = %s", got)
	}
}

func TestEvaluateAveragesAndSkipsUnjudgedQueries(t *testing.T) {
	qrels := Qrels{}
	qrels.Add("hit", "a", 1)  // ranked first: every metric 1
	qrels.Add("miss", "x", 1) // relevant document never retrieved: every metric 0
	qrels.Add("none", "z", 0) // no relevant document: skipped, not averaged
	qrels.Add("absent", "a", 1)
	run := Run{
		"hit":   {{"a", 3}, {"b", 2}},
		"miss":  {{"a", 1}, {"b", 0.5}},
		"none":  {{"z", 1}},
		"extra": {{"a", 1}}, // a query without judgements in the run is ignored
		// "absent" has judgements but no hits: it scores 0 and is averaged.
	}
	m, err := Evaluate(run, qrels, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if m.Queries != 3 {
		t.Fatalf("Queries = %d, want 3 (hit, miss, absent)", m.Queries)
	}
	checkMetrics(t, m, map[string]float64{
		"accuracy@1": 1.0 / 3, "precision@1": 1.0 / 3, "precision@3": 1.0 / 9, "recall@10": 1.0 / 3,
		"mrr@10": 1.0 / 3, "ndcg@10": 1.0 / 3, "map@100": 1.0 / 3,
	})
}

func TestEvaluateTieBreakIsByDocumentID(t *testing.T) {
	qrels := Qrels{}
	qrels.Add("q", "b", 1)
	for _, hits := range [][]Hit{{{"b", 0.5}, {"a", 0.5}}, {{"a", 0.5}, {"b", 0.5}}} {
		m, err := Evaluate(Run{"q": hits}, qrels, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		// a < b, so a ranks first whatever the emitted order: b is at rank 2.
		checkMetrics(t, m, map[string]float64{"mrr@10": 0.5, "accuracy@1": 0, "ndcg@10": 1 / math.Log2(3)})
	}
}

func TestEvaluateLooksOnlyAtMaxK(t *testing.T) {
	qrels := Qrels{}
	qrels.Add("q", "b", 1)
	qrels.Add("q", "c", 1)
	cfg := Config{MAPAtK: []int{1}, NDCGAtK: []int{2}, PrecisionRecallAtK: []int{2}}
	m, err := Evaluate(Run{"q": {{"a", 3}, {"b", 2}, {"c", 1}}}, qrels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Values) != 4 {
		t.Errorf("values %v: want exactly map@1 ndcg@2 precision@2 recall@2", m.Values)
	}
	checkMetrics(t, m, map[string]float64{
		"map@1":       0, // relevant b is at rank 2, beyond k=1; divided by min(1, 2)
		"ndcg@2":      (1 / math.Log2(3)) / (1 + 1/math.Log2(3)),
		"precision@2": 0.5,
		"recall@2":    0.5,
	})
}

func TestEvaluateErrors(t *testing.T) {
	qrels := Qrels{}
	qrels.Add("q", "a", 1)
	if _, err := Evaluate(Run{"q": {{"a", 1}, {"a", 2}}}, qrels, DefaultConfig()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate hit: %v", err)
	}
	if _, err := Evaluate(Run{"q": {{"a", math.NaN()}}}, qrels, DefaultConfig()); err == nil {
		t.Error("NaN score: want an error")
	}
	if _, err := Evaluate(Run{}, Qrels{"q": {"a": 0}}, DefaultConfig()); err == nil {
		t.Error("no relevant documents at all: want an error")
	}
	if _, err := Evaluate(Run{}, qrels, Config{MRRAtK: []int{0}}); err == nil {
		t.Error("k=0: want an error")
	}
	if _, err := Evaluate(Run{}, qrels, Config{}); err == nil {
		t.Error("no cut-offs: want an error")
	}
}

func TestEvaluatedKeepsEmptyQueryTextAndSkipsUnjudged(t *testing.T) {
	ds := &Dataset{
		Queries: []Query{{"q1", ""}, {"q2", "no judgements"}, {"q3", "only non-relevant"}, {"q4", "ok"}},
		Qrels:   Qrels{"q1": {"d": 1}, "q3": {"d": 0}, "q4": {"d": 2}},
	}
	got := ds.Evaluated()
	if len(got) != 2 || got[0].ID != "q1" || got[1].ID != "q4" {
		t.Errorf("Evaluated = %v, want q1 (empty text) and q4", got)
	}
}
