package workflow

import (
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/retrieval/mining"
)

// TestDefaultMineOptionsAreMiningsDefaults: the workflow's defaults are mining.DefaultOptions (BGE's window)
// with the sentence-transformers column names, and they pass their own check.
func TestDefaultMineOptionsAreMiningsDefaults(t *testing.T) {
	d := DefaultMineOptions()
	if !reflect.DeepEqual(d.Mining, mining.DefaultOptions()) || d.Anchor != "anchor" || d.Positive != "positive" || d.CorpusColumn != "text" {
		t.Errorf("defaults %+v", d)
	}
	if w := d.Mining.Window; w.Min != 0.4 || w.Max != 0.7 || w.Distance != mining.L2 {
		t.Errorf("window %+v, want BGE's 0.4 < l2 ≤ 0.7", w)
	}
	if _, err := d.Check(); err != nil {
		t.Error(err)
	}
	bad := d
	bad.Mining.NumNegatives = 500
	if _, err := bad.Check(); err == nil {
		t.Error("500 negatives from the top 100 passed the check")
	}
}

// range_for_sampling "a-b" is hn_mine's: ranks a..b of the retrieved list (positives counted), random sampling,
// the random fallback, top-k at least b; malformed ranges are refused.
func TestWithRangeForSamplingIsHnMines(t *testing.T) {
	o, err := DefaultMineOptions().WithRangeForSampling("10-200")
	if err != nil {
		t.Fatal(err)
	}
	m := o.Mining
	if !m.RetrievedRanks || m.RangeMin != 10 || m.RangeMax != 200 || m.TopK != 200 || m.Sampling != mining.SampleRandom || m.Fallback != mining.FallbackRandom {
		t.Errorf("options %+v", m)
	}
	if _, err := o.Check(); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"100", "10-", "50-10", "-1-5", "a-b"} {
		if _, err := DefaultMineOptions().WithRangeForSampling(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
