package prelude

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/workflow"
)

// Headless, ExploreWindow's view is the selection at a window: moving the window changes the counts and the
// histogram drawn from the cached top-k, and the counts are mining.Select's.
func TestWidgetWindowViewFollowsTheWindow(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs, train, _ := samplePairs(t)
	model := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	mined := train.MineNegatives(model, MineOptions{TopK: 30, NoWindow: true})
	if err := mined.Err(); err != nil {
		t.Fatal(err)
	}
	cd := mined.Stats().CandidateDistances
	env, err := stepEnv()
	if err != nil {
		t.Fatal(err)
	}
	env.Progress = nil
	p, err := workflow.PrepareMine(t.Context(), env, mined.in, mined.o)
	if err != nil {
		t.Fatal(err)
	}
	w := mined.r.Options.Window
	w.Distance, w.Min, w.Max = "l2", cd.Q25, cd.Q75
	narrow, narrowText := mined.windowView(t.Context(), p, w)
	w.Min, w.Max = cd.Min-0.01, cd.Max+0.01
	wide, wideText := mined.windowView(t.Context(), p, w)
	for _, h := range []string{narrow, wide} {
		if !strings.Contains(h, `class="ragnb-window-counts"`) || !strings.Contains(h, `src="data:image/png;base64,`) {
			t.Fatalf("window view lacks its counts or histogram: %.200s", h)
		}
	}
	if narrowText == wideText || narrow == wide {
		t.Errorf("the view did not change with the window: %q vs %q", narrowText, wideText)
	}
	if !strings.Contains(wideText, "0 with an empty window") {
		t.Errorf("a window holding every candidate left anchors empty: %q", wideText)
	}
}

// ChooseBatchSize's view of a size comes from the step cache when TrainMatryoshka ran with it, and otherwise
// says what a run would cost, timed by the trained size.
func TestWidgetBatchViewReadsTheStepCache(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs, trainSet, _ := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 32})
	opts := TrainOptions{Epochs: 1, Seed: 1}
	untrained, _ := batchView(base, trainSet, opts, []int{16, 64}, 16)
	if !strings.Contains(untrained, "not trained yet") || strings.Contains(untrained, "at the speed of") {
		t.Errorf("before any training: %s", untrained)
	}
	o := opts
	o.BatchSize = 16
	if err := TrainMatryoshka(base, trainSet, o).Err(); err != nil {
		t.Fatal(err)
	}
	_, trained := batchView(base, trainSet, opts, []int{16, 64}, 16)
	if !strings.Contains(trained, "batch 16: trained (from the step cache") {
		t.Errorf("after training batch 16: %s", trained)
	}
	_, other := batchView(base, trainSet, opts, []int{16, 64}, 64)
	steps := trainSteps(base, trainSet.Len(), TrainOptions{Epochs: 1, BatchSize: 64})
	want := "batch 64: not trained yet; a run would take " + strconv.Itoa(steps) + " optimizer steps"
	if !strings.Contains(other, want) || !strings.Contains(other, "at the speed of the batch-16 run") {
		t.Errorf("batch 64 view %q, want %q and a time from the batch-16 run", other, want)
	}
}
