package evaluate

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
)

// financialPairs builds the evaluation set of the shared financial QA file with every row as a query.
func financialPairs(t testing.TB) *ir.Dataset {
	df, err := datasets.Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	q, err := datasets.Strings(df, "question")
	if err != nil {
		t.Fatal(err)
	}
	c, err := datasets.Strings(df, "context")
	if err != nil {
		t.Fatal(err)
	}
	ds, skipped, err := ir.FromPairs(q, c, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 { // one all-empty row in the file
		t.Errorf("skipped rows %v", skipped)
	}
	return ds
}

// TestBM25FinancialMatchesPython checks BM25 + pairs handling + metrics end to end against
// testdata/bm25/financial-all.golden.json, computed by tools/bm25_golden.py (plain Python, no ragnb code).
func TestBM25FinancialMatchesPython(t *testing.T) {
	ds := financialPairs(t)
	e, err := NewIR(ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.EvaluateBM25(context.Background(), bm25.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../testdata/bm25/financial-all.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Queries, Corpus int
		Metrics         map[string]float64
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(e.Queries()) != g.Queries || len(e.Corpus()) != g.Corpus {
		t.Errorf("%d queries, %d documents; golden %d, %d", len(e.Queries()), len(e.Corpus()), g.Queries, g.Corpus)
	}
	if len(r.Keys()) != len(g.Metrics) {
		t.Errorf("%d keys, golden %d", len(r.Keys()), len(g.Metrics))
	}
	for k, w := range g.Metrics {
		if got, ok := r.Get(k); !ok || math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %.17g, golden %.17g", k, got, w)
		}
	}
}
