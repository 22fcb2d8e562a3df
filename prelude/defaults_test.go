package prelude

import (
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/workflow"
)

// TestMineOptionsDefaultToTheWorkflowDefaults: a zero MineOptions is workflow.DefaultMineOptions, the
// defaults `ragnb mine` has; NoWindow and explicit bounds move only the window.
func TestMineOptionsDefaultToTheWorkflowDefaults(t *testing.T) {
	if got, want := (MineOptions{}).workflow(), workflow.DefaultMineOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero options give %+v\nworkflow default %+v", got, want)
	}
	want := workflow.DefaultMineOptions()
	want.Mining.Window = mining.Window{}
	if got := (MineOptions{NoWindow: true}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("NoWindow gives %+v", got)
	}
	want.Mining.Window = mining.Window{Distance: mining.CosineDistance, Min: 0.1, Max: 0.3}
	if got := (MineOptions{Distance: "cosine", MinDistance: 0.1, MaxDistance: 0.3}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("a cosine window gives %+v", got.Mining.Window)
	}
}
