package prelude

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/workflow"
)

func TestTrainMatryoshkaMemoisedWithHistory(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, trainSet, test := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 128})
	opts := TrainOptions{Epochs: 2, BatchSize: 32, Eval: test, EvalCorpus: pairs, BestMetric: "dim_128_cosine_ndcg@10", Seed: 3}
	// Training works on a copy: the base model, loaded in this process before training, embeds as before.
	probe := []string{"What was the gross margin?"}
	bi, err := base.BiEncoder()
	if err != nil {
		t.Fatal(err)
	}
	before, err := bi.EmbedQueries(t.Context(), probe, nil)
	if err != nil {
		t.Fatal(err)
	}
	tuned := TrainMatryoshka(base, trainSet, opts)
	if err := tuned.Err(); err != nil {
		t.Fatal(err)
	}
	after, err := bi.EmbedQueries(t.Context(), probe, nil)
	if err != nil {
		t.Fatal(err)
	}
	for j := range before.Row(0) {
		if math.Abs(float64(before.Row(0)[j]-after.Row(0)[j])) > 1e-6 {
			t.Fatalf("training changed the base model's weights in this process (dim %d: %v → %v)", j, before.Row(0)[j], after.Row(0)[j])
		}
	}
	h := historyOf(t, tuned)
	evals := 0
	first, last := math.NaN(), math.NaN()
	for i := range h.Len() {
		v := h.Frame().Col("eval_dim_128_cosine_ndcg@10").Elem(i).Float()
		if !math.IsNaN(v) {
			if evals == 0 {
				first = v
			}
			last = v
			evals++
		}
	}
	// Evaluated before training, after each of the 2 epochs (the last one also the end).
	if evals != 3 || !(last > first) {
		t.Errorf("%d evaluations, ndcg@10 at 128 from %v to %v", evals, first, last)
	}
	// The returned model is the trained one: its own evaluation equals the history's best.
	m := Evaluate(tuned, test, EvalOptions{Dims: []int{128}, Corpus: pairs})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	best := math.Inf(-1)
	for i := range h.Len() {
		if v := h.Frame().Col("eval_dim_128_cosine_ndcg@10").Elem(i).Float(); !math.IsNaN(v) {
			best = math.Max(best, v)
		}
	}
	if got := m.values["dim_128_cosine_ndcg@10"]; math.Abs(got-best) > 1e-6 {
		t.Errorf("the trained model evaluates to %v, the history's best is %v", got, best)
	}
	// The card reports the metrics of the weights saved: the best evaluation's.
	card, err := os.ReadFile(filepath.Join(tuned.Dir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("- type: cosine_ndcg@10\n      value: %s\n", strconv.FormatFloat(best, 'g', -1, 64)); !strings.Contains(string(card), want) ||
		!strings.Contains(string(card), "Measured on ") || !strings.Contains(string(card), "dataset_size:") {
		t.Errorf("the trained model's card lacks %q:\n%s", want, card)
	}
	again := TrainMatryoshka(base, trainSet, opts)
	if again.ID() != tuned.ID() || !strings.Contains(again.String(), "from cache") {
		t.Errorf("a second identical call should come from the cache:\n%s", again)
	}
	if other := TrainMatryoshka(base, trainSet, TrainOptions{Epochs: 1, BatchSize: 32}); other.Err() != nil || other.ID() == tuned.ID() {
		t.Errorf("other options must train another model: %v", other.Err())
	}
	if c := PlotTrainingHistory(tuned, "dim_128_cosine_ndcg@10"); c.Err() != nil {
		t.Error(c.Err())
	}
	bi, err = encoder.LoadBiEncoder(tuned.Dir(), encoder.Options{})
	if err != nil || bi.Dim() != 128 {
		t.Fatalf("trained model directory: %v", err)
	}
	if got := fmt.Sprint(tuned.MatryoshkaDims()); got != "[128 64]" {
		t.Errorf("MatryoshkaDims of a 128-d model = %s, want [128 64]", got)
	}
	if got := StaticModel(pairs, "positive", StaticOptions{}).MatryoshkaDims(); fmt.Sprint(got) != "[256 128 64]" {
		t.Errorf("MatryoshkaDims of the default static model = %v", got)
	}
	if got := LoadModel(t.TempDir()).MatryoshkaDims(); got != nil {
		t.Errorf("a model that does not load has no dims, got %v", got)
	}
}

// historyOf returns the model's history table, failing the test on error.
func historyOf(t *testing.T, m *Model) *Dataset {
	t.Helper()
	h := m.TrainingHistory()
	if err := h.Err(); err != nil {
		t.Fatal(err)
	}
	return h
}

// Zero training options run as workflow.DefaultTrainOptions, the defaults of `ragnb train` too.
func TestTrainDefaultsAreTheWorkflowDefaults(t *testing.T) {
	if got, want := (TrainOptions{}).workflow().WithDefaults(), workflow.DefaultTrainOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("TrainOptions{} runs as %+v, want %+v", got, want)
	}
}

// TestTrainMatryoshkaWithTripletEvaluator: TrainOptions.EvalTriplets evaluates triplet_cosine_accuracy during
// training, and BestMetric can pick the weights by it.
func TestTrainMatryoshkaWithTripletEvaluator(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, trainSet, test := samplePairs(t)
	a, p := test.Column("anchor"), test.Column("positive")
	neg := append(p[1:], p[0])
	trip := FromFrame("triplets", dataframe.New(series.New(a, series.String, "anchor"), series.New(p, series.String, "positive"),
		series.New(neg, series.String, "negative")))
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 32})
	tuned := TrainMatryoshka(base, trainSet, TrainOptions{Epochs: 2, BatchSize: 32, Dims: []int{32}, EvalTriplets: trip,
		BestMetric: "triplet_cosine_accuracy"})
	if err := tuned.Err(); err != nil {
		t.Fatal(err)
	}
	h := historyOf(t, tuned)
	col := h.Frame().Col("eval_triplet_cosine_accuracy").Float()
	n := 0
	for _, v := range col {
		if !math.IsNaN(v) {
			n++
		}
	}
	if n != 3 || len(a) != len(neg) {
		t.Errorf("triplet accuracy evaluated %d times: %v", n, col)
	}
}

// TestLoadFlagEmbeddingJSONLTrainsInGroups: Load reads FlagEmbedding's JSONL ({query, pos, neg, pos_scores,
// neg_scores, prompt}) and TrainMatryoshka trains it in groups of GroupSize, with the KL distillation from its
// scores unless NoDistillation — the same run as `ragnb train --data flag.jsonl` (cmd/ragnb's
// TestTrainOnFlagEmbeddingGroupsAndDistillation).
func TestLoadFlagEmbeddingJSONLTrainsInGroups(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	data := Load("../testdata/formats/flag_train.jsonl")
	if err := data.Err(); err != nil || !slices.Contains(data.Columns(), "pos_1") || !slices.Contains(data.Columns(), "neg_scores_1") {
		t.Fatalf("Load: %v %v", err, data.Columns())
	}
	pairs, _, _ := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 32})
	losses := map[bool]float64{}
	for _, nd := range []bool{false, true} {
		m := TrainMatryoshka(base, data, TrainOptions{GroupSize: 2, Temperature: 0.02, NoDistillation: nd, Dims: []int{32}, BatchSize: 2, MaxSteps: 2})
		if err := m.Err(); err != nil {
			t.Fatal(err)
		}
		losses[nd] = historyOf(t, m).Frame().Col("loss").Float()[0]
	}
	if losses[false] == losses[true] {
		t.Errorf("the distillation loss changed nothing: %v", losses)
	}
}
