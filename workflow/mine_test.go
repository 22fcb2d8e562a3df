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
