package synth

import (
	"encoding/csv"
	"os"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// TestOverlapSeparatesTruePairsOnFinancialQA checks the default answerability threshold on the 7,000
// human-curated (question, context) pairs of the shared financial set: true pairs must pass, and the same
// questions paired with another company's context (shifted by 3,500 rows) must mostly fail.
func TestOverlapSeparatesTruePairsOnFinancialQA(t *testing.T) {
	f, err := os.Open(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:] // question,answer,context,ticker,filing
	th := Config{}.withDefaults().MinOverlap
	pass, passShifted := 0, 0
	for i, r := range recs {
		if Overlap(r[0], r[2]) >= th {
			pass++
		}
		if Overlap(r[0], recs[(i+len(recs)/2)%len(recs)][2]) >= th {
			passShifted++
		}
	}
	n := float64(len(recs))
	t.Logf("threshold %.2f: true pairs pass %.1f%%, shifted pairs pass %.1f%% (%d rows)", th, 100*float64(pass)/n, 100*float64(passShifted)/n, len(recs))
	if float64(pass)/n < 0.96 || float64(passShifted)/n > 0.08 {
		t.Errorf("threshold %.2f: true pairs pass %.3f (want ≥ 0.96), shifted %.3f (want ≤ 0.08)", th, float64(pass)/n, float64(passShifted)/n)
	}
}
