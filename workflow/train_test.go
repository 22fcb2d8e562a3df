package workflow

import (
	"reflect"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
)

// The training steps key on the options as given, spelt as the prelude spelt its TrainOptions: the notebook's
// cached trainings (here its reranker distillation's options) are found again.
func TestTrainKeysAreThePreludesOldKeys(t *testing.T) {
	type oldTrainOptions struct { // the prelude's TrainOptions before the workflow, as encoding/json saw it
		Anchor, Positive                       string
		Negatives                              []string
		Label                                  string
		Loss                                   string
		Dims                                   []int
		Weights                                []float64
		Scale                                  float64
		MiniBatchSize                          int
		Epochs, MaxSteps, BatchSize, GradAccum int
		LearningRate, WarmupRatio, WeightDecay float64
		MaxGradNorm                            float64
		Schedule                               string
		Seed                                   int
		EvalEvery                              int
		BestMetric                             string
	}
	inputs := []string{"base", "data", "", ""}
	old := oldTrainOptions{Anchor: "anchor", Positive: "positive", Label: "score", Loss: "mse", Epochs: 1, BatchSize: 16}
	now := TrainOptions{Anchor: "anchor", Positive: "positive", Label: "score", Loss: "mse", Epochs: 1, BatchSize: 16}
	sameKey(t, cache.Key{Step: "train-cross-encoder", Version: 1, Inputs: inputs, Params: now},
		cache.Key{Step: "train-cross-encoder", Version: 1, Inputs: inputs, Params: old})

	// Options the prelude did not have are keyed once set: they change the model.
	now.DropLast = true
	if mustHash(t, cache.Key{Step: "s", Params: now}) == mustHash(t, cache.Key{Step: "s", Params: old}) {
		t.Error("DropLast is not keyed")
	}
	// Where checkpoints go does not change the model.
	now.DropLast, now.CheckpointDir, now.Resume = false, "/tmp/x", true
	sameKey(t, cache.Key{Step: "s", Params: now}, cache.Key{Step: "s", Params: old})
}

// Zero options run as DefaultTrainOptions; a set field stays.
func TestTrainWithDefaultsFillsOnlyZeroFields(t *testing.T) {
	if got := (TrainOptions{}).WithDefaults(); !reflect.DeepEqual(got, DefaultTrainOptions()) {
		t.Errorf("TrainOptions{}.WithDefaults() = %+v, want DefaultTrainOptions %+v", got, DefaultTrainOptions())
	}
	got := (TrainOptions{Epochs: 3, Negatives: []string{}}).WithDefaults()
	if got.Epochs != 3 || got.Negatives == nil || got.BatchSize != DefaultTrainOptions().BatchSize {
		t.Errorf("set fields lost: %+v", got)
	}
	if c := got.config(); c.Epochs != 3 || c.Scale != 20 || c.Seed != DefaultTrainOptions().Seed {
		t.Errorf("config %+v", c)
	}
}

// A reranker's label column is "label" before "score", whatever the column order.
func TestTrainLabelColumnPrefersLabel(t *testing.T) {
	df := dataframe.New(series.New([]float64{0.5}, series.Float, "score"), series.New([]int{1}, series.Int, "label"))
	if got := (TrainOptions{}).LabelColumn(df); got != "label" {
		t.Errorf("label column %q, want label", got)
	}
	if got := (TrainOptions{}).LabelColumn(df.Select([]string{"score"})); got != "score" {
		t.Errorf("label column %q, want score", got)
	}
	if got := (TrainOptions{Label: "y"}).LabelColumn(df); got != "y" {
		t.Errorf("label column %q, want the named y", got)
	}
}

// A query instruction set or removed is part of a model's identity in keys; without one the keys are the old.
func TestPromptIDKeysQueryInstructions(t *testing.T) {
	m := &Model{ID: "base"}
	if m.PromptID() != "base" || m.EmbedID() != "base" {
		t.Errorf("no prompts: PromptID %q, EmbedID %q, want the ID", m.PromptID(), m.EmbedID())
	}
	ids := map[string]bool{}
	for _, c := range []struct {
		instruction string
		none        bool
	}{{"query: ", false}, {"", true}, {"Represent this sentence: ", false}} {
		p, err := QueryInstruction(c.instruction, c.none)
		if err != nil {
			t.Fatal(err)
		}
		id := (&Model{ID: "base", Options: encoder.Options{Prompts: p}}).PromptID()
		if id == "base" || ids[id] {
			t.Errorf("%+v: id %q not distinct", c, id)
		}
		ids[id] = true
	}
	if p, err := QueryInstruction("", false); p != nil || err != nil {
		t.Errorf("neither: %v %v, want nil (the model's prompts)", p, err)
	}
	if _, err := QueryInstruction("x", true); err == nil {
		t.Error("an instruction and none accepted together")
	}
}
