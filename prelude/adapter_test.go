package prelude

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/vector"
	"github.com/ragnb/ragnb/workflow"
)

// TestAdapterOptionsDefaultToTheWorkflowDefaults: zero AdapterOptions are workflow.DefaultAdapterOptions (what
// `ragnb train-adapter` asks with only its required flags); Kind "two-layer" alone takes the CLI's default
// hidden width and activation.
func TestAdapterOptionsDefaultToTheWorkflowDefaults(t *testing.T) {
	if got, want := (AdapterOptions{}).workflow(), workflow.DefaultAdapterOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("AdapterOptions{} is %+v, want %+v", got, want)
	}
	want := workflow.DefaultAdapterOptions()
	want.Adapter.Kind, want.Adapter.Hidden, want.Adapter.Activation = adapter.TwoLayer, workflow.DefaultAdapterHidden, workflow.DefaultAdapterActivation
	if got := (AdapterOptions{Kind: adapter.TwoLayer}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("a two-layer adapter is %+v, want %+v", got, want)
	}
}

// TestTrainAdapterAppliesToQueriesOnly: TrainAdapter over a static model of the financial sample returns a
// model whose query embeddings are the adapter applied to the base model's and whose passage embeddings are
// the base model's; Evaluate, MineNegatives and BuildPipeline use the adapted queries (their results differ
// from the base model's, so no cache entry is shared), the adapter helps on held-out questions, its loss per
// step is its TrainingHistory, and a second call comes from the cache with the same metrics.
func TestTrainAdapterAppliesToQueriesOnly(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, trainSet, test := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	opts := AdapterOptions{Epochs: 4, LearningRate: 0.01, BatchSize: 32}
	tuned := TrainAdapter(base, trainSet, opts)
	if err := tuned.Err(); err != nil {
		t.Fatal(err)
	}
	if tuned.Dir() != base.Dir() || tuned.AdapterDir() == "" || tuned.Name() != "adapter" {
		t.Fatalf("dir %s (base %s), adapter dir %q, name %q", tuned.Dir(), base.Dir(), tuned.AdapterDir(), tuned.Name())
	}

	// Queries: the adapter applied to the base model's vectors; passages: the base model's.
	probe := []string{"What was the gross margin?", "How much debt was repaid?"}
	bq, err := base.Embed(probe, true)
	if err != nil {
		t.Fatal(err)
	}
	tq, err := tuned.Embed(probe, true)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := workflow.LoadAdapter(tuned.AdapterDir())
	if err != nil {
		t.Fatal(err)
	}
	want, err := a.Apply(bq)
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(tq, want) > 1e-6 || maxDiff(tq, bq) < 1e-4 {
		t.Errorf("adapted queries differ from adapter(base) by %g and from the base by %g", maxDiff(tq, want), maxDiff(tq, bq))
	}
	bd, _ := base.Embed(probe, false)
	td, err := tuned.Embed(probe, false)
	if err != nil || maxDiff(bd, td) != 0 {
		t.Errorf("passages changed under the adapter (%v)", err)
	}

	// The history is the adapter's loss per step: ceil(466/32) = 15 steps per epoch, falling.
	h := historyOf(t, tuned)
	steps := 4 * ((trainSet.Len() + 31) / 32)
	if h.Len() != steps {
		t.Fatalf("history has %d rows, want %d steps", h.Len(), steps)
	}
	loss := h.Frame().Col("loss").Float()
	if !(loss[len(loss)-1] < loss[0]) {
		t.Errorf("adapter loss %.4f → %.4f", loss[0], loss[len(loss)-1])
	}

	evalOpts := EvalOptions{Dims: []int{64}, Corpus: pairs}
	const key = "dim_64_cosine_ndcg@10"
	bm := Evaluate(base, test, evalOpts)
	tm := Evaluate(tuned, test, evalOpts)
	if err := tm.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("NDCG@10 at 64: base %.4f, adapter %.4f", bm.Get(key), tm.Get(key))
	if !(tm.Get(key) > bm.Get(key)) {
		t.Errorf("the adapter did not help: %.4f vs base %.4f", tm.Get(key), bm.Get(key))
	}

	// Mining searches with the adapted queries.
	bmined := trainSet.MineNegatives(base, MineOptions{NoWindow: true})
	tmined := trainSet.MineNegatives(tuned, MineOptions{NoWindow: true})
	if err := tmined.Err(); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(bmined.Dataset().Column("negative"), tmined.Dataset().Column("negative")) {
		t.Error("the adapted model mined exactly the base model's negatives")
	}

	// The pipeline ranks passages by the adapted query against the base passages.
	docs := pairs.Column("positive")
	p := BuildPipeline(tuned, PipelineOptions{Corpus: pairs, Column: "positive", TopK: 3, TopN: 3})
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	dv, err := base.Embed(docs, false)
	if err != nil {
		t.Fatal(err)
	}
	q := test.Column("anchor")[0]
	qv, _ := tuned.Embed([]string{q}, true)
	best, bestCos := "", math.Inf(-1)
	for i := range dv.Rows {
		if c := vector.Cosine(qv.Row(0), dv.Row(i)); c > bestCos {
			best, bestCos = docs[i], c
		}
	}
	ans := p.Ask(q)
	if len(ans.Sources) == 0 || ans.Sources[0].Text != best {
		t.Errorf("the pipeline's first source is not the adapted query's nearest passage")
	}

	again := TrainAdapter(base, trainSet, opts)
	if !slices.Contains(again.notes, "from cache") {
		t.Errorf("second TrainAdapter not from the cache: %v", again.notes)
	}
	if g := Evaluate(again, test, evalOpts).Get(key); g != tm.Get(key) {
		t.Errorf("cached adapter evaluates to %v, first %v", g, tm.Get(key))
	}
	if s := tuned.String(); !strings.Contains(s, "linear 64 → 64, on queries") {
		t.Errorf("model card does not show the adapter:\n%s", s)
	}
	if err := TrainAdapter(tuned, trainSet, opts).Err(); err == nil {
		t.Error("an adapter on an adapted model was accepted")
	}
}

func maxDiff(a, b *vector.Matrix) float64 {
	d := 0.0
	for i := range a.Data {
		d = math.Max(d, math.Abs(float64(a.Data[i]-b.Data[i])))
	}
	return d
}
