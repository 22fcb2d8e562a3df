package ir

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// golden is testdata/ir/random.golden.json, written by tools/ir_golden.py: an independent Python
// implementation of sentence-transformers' formulas over a seeded random run and qrels
// (regenerate: /usr/bin/python3 tools/ir_golden.py from the repository root).
type golden struct {
	Default struct {
		Queries int                `json:"queries"`
		Metrics map[string]float64 `json:"metrics"`
	} `json:"default"`
	Custom struct {
		Config struct {
			Acc  []int `json:"acc_k"`
			PR   []int `json:"pr_k"`
			MRR  []int `json:"mrr_k"`
			NDCG []int `json:"ndcg_k"`
			MAP  []int `json:"map_k"`
		} `json:"config"`
		Queries int                `json:"queries"`
		Metrics map[string]float64 `json:"metrics"`
	} `json:"custom"`
}

// LoadGolden reads the committed random run, qrels and their reference metrics.
func loadGolden(t *testing.T) (Run, Qrels, golden) {
	t.Helper()
	run, err := LoadRun("../testdata/ir/random.trec")
	if err != nil {
		t.Fatal(err)
	}
	qrels, err := LoadQrels("../testdata/ir/random.qrels.tsv")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../testdata/ir/random.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return run, qrels, g
}

func TestEvaluateMatchesIndependentPython(t *testing.T) {
	run, qrels, g := loadGolden(t)
	compare := func(name string, cfg Config, queries int, want map[string]float64) {
		m, err := Evaluate(run, qrels, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if m.Queries != queries {
			t.Errorf("%s: %d queries evaluated, golden %d", name, m.Queries, queries)
		}
		if len(m.Values) != len(want) {
			t.Errorf("%s: %d metrics, golden %d", name, len(m.Values), len(want))
		}
		for k, w := range want {
			if got, ok := m.Values[k]; !ok || math.Abs(got-w) > 1e-9 {
				t.Errorf("%s %s = %.17g, golden %.17g", name, k, got, w)
			}
		}
	}
	compare("default", DefaultConfig(), g.Default.Queries, g.Default.Metrics)
	c := g.Custom.Config
	compare("custom", Config{AccuracyAtK: c.Acc, PrecisionRecallAtK: c.PR, MRRAtK: c.MRR, NDCGAtK: c.NDCG, MAPAtK: c.MAP},
		g.Custom.Queries, g.Custom.Metrics)
	// The golden must exercise what it claims to: skipped queries and judged queries missing from the run.
	if len(qrels.QueryIDs()) == len(qrels) {
		t.Error("golden qrels have no query without a relevant document")
	}
	missing := 0
	for _, q := range qrels.QueryIDs() {
		if _, ok := run[q]; !ok {
			missing++
		}
	}
	if missing == 0 {
		t.Error("golden run covers every judged query")
	}
}
