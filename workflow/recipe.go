package workflow

import (
	"fmt"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/train/optim"
)

// NoWarmup is a WarmupRatio that asks for no warmup where the architecture's recipe has one: a zero field
// takes the recipe, so zero cannot say "none" (the command line passes it for an explicit --warmup-ratio 0).
const NoWarmup = -1.0

// Recipe is an architecture's bi-encoder training schedule: the fields of TrainOptions whose good values
// depend on whether the model is a transformer or static embeddings. Zero fields of a Train run's options take
// the recipe of its base model (RecipeFor), and so do `ragnb train` flags left alone.
type Recipe struct {
	Loss          string  `json:"loss"`
	MiniBatchSize int     `json:"mini_batch_size"`
	Epochs        int     `json:"epochs"`
	BatchSize     int     `json:"batch_size"`
	GradAccum     int     `json:"grad_accum"`
	LearningRate  float64 `json:"learning_rate"`
	WarmupRatio   float64 `json:"warmup_ratio"`
	Schedule      string  `json:"schedule"`
}

// RecipeFor is the training recipe of an architecture.
//
// Transformers follow the bge recipe (FlagEmbedding's fine-tuning of BAAI/bge-*-en-v1.5): 4 epochs, batches of
// 32 accumulated 16 times (an effective batch of 512), peak rate 2e-5 after a warmup over a tenth of the
// steps, cosine decay.
//
// Static embeddings learn with large rates and gain from many in-batch negatives: batches of 256, peak rate
// 0.2 held constant without warmup, 4 epochs. That measured best on the dev split of the shared financial set,
// ahead of batch 64, lr 0.05, a linear decay and a warmup of 0.1 (docs/training.md, "Recipes per
// architecture"). Plain MNRL, not cached: a static model's activations are small (batch 256 peaked at 763 MB
// against cached MNRL's 647 MB) and GradCache's second forward made each step 1.6× slower; the gradients are
// the same. --loss cached-mnrl remains for batches far larger.
func RecipeFor(static bool) Recipe {
	if static {
		return Recipe{Loss: train.LossMNRL, MiniBatchSize: 32, Epochs: 4, BatchSize: 256, GradAccum: 1,
			LearningRate: train.DefaultStaticLR, WarmupRatio: 0, Schedule: optim.Constant}
	}
	return Recipe{Loss: train.LossMNRL, MiniBatchSize: 32, Epochs: 4, BatchSize: 32, GradAccum: 16,
		LearningRate: 2e-5, WarmupRatio: 0.1, Schedule: optim.Cosine}
}

// apply sets the recipe's fields of o.
func (r Recipe) apply(o TrainOptions) TrainOptions {
	o.Loss, o.MiniBatchSize, o.Epochs, o.BatchSize, o.GradAccum = r.Loss, r.MiniBatchSize, r.Epochs, r.BatchSize, r.GradAccum
	o.LearningRate, o.WarmupRatio, o.Schedule = r.LearningRate, r.WarmupRatio, r.Schedule
	return o
}

// DefaultTrainOptionsFor are Train's defaults for a base model of the architecture: DefaultTrainOptions with
// the architecture's Recipe. `ragnb train` starts from them once it has read --model, the prelude's
// TrainMatryoshka fills its zero fields from them.
func DefaultTrainOptionsFor(static bool) TrainOptions {
	return RecipeFor(static).apply(DefaultTrainOptions())
}

// WithDefaultsFor fills every zero field from DefaultTrainOptionsFor(static); a negative WarmupRatio
// (NoWarmup) becomes 0.
func (o TrainOptions) WithDefaultsFor(static bool) TrainOptions {
	return o.fill(DefaultTrainOptionsFor(static))
}

// IsStatic reports whether the model directory holds static embeddings (read from its modules.json, without
// loading the weights).
func IsStatic(dir string) (bool, error) {
	l, err := modeldir.Read(dir)
	if err != nil {
		return false, fmt.Errorf("model %s: %w", dir, err)
	}
	return l.Kind == modeldir.Static, nil
}

// TrainSettings are the options a Train run of model takes: o's zero fields filled from the recipe of
// model's architecture. Train keys its cache entry on them, so two spellings of the same run share it and a
// change of recipe never serves an entry trained under the old one.
func TrainSettings(model *Model, o TrainOptions) (TrainOptions, error) {
	if model == nil {
		return o, fmt.Errorf("train: no base model")
	}
	static, err := IsStatic(model.Dir)
	if err != nil {
		return o, err
	}
	return o.WithDefaultsFor(static), nil
}
