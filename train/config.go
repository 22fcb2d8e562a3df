package train

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/model/modelcard"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// Losses.
const (
	// LossMNRL is MultipleNegativesRankingLoss (bi-encoders; the default).
	LossMNRL = "mnrl"
	// LossCachedMNRL is CachedMultipleNegativesRankingLoss: MNRL with GradCache, for batches far larger than
	// memory allows (MiniBatchSize rows at a time).
	LossCachedMNRL = "cached-mnrl"
	// LossTriplet is TripletLoss (bi-encoders; anchor, positive, negative).
	LossTriplet = "triplet"
	// LossBCE is the cross-encoder BinaryCrossEntropyLoss on 0/1 labels (the cross-encoder default).
	LossBCE = "bce"
	// LossMSE is the cross-encoder MSELoss against teacher scores (reranker distillation).
	LossMSE = "mse"
)

// Samplers.
const (
	// SamplerNoDuplicates never puts a text twice in one batch (ST's NoDuplicatesBatchSampler); the default for
	// the in-batch-negatives losses (mnrl, cached-mnrl), where a duplicate would be a false negative.
	SamplerNoDuplicates = "no-duplicates"
	// SamplerRandom is a plain seeded shuffle (ST's default batch sampler); the default for the others.
	SamplerRandom = "random"
)

// Default learning rates per architecture: static embeddings learn with large rates (0.2, the rate of
// sentence-transformers' static-embedding training recipe; on the embedded financial sample, 10 epochs at 0.05 reached
// NDCG@10 0.59 at 768 dims where 0.2 reached 0.72), transformers with 2e-5–5e-5 (transformers' TrainingArguments
// default, 5e-5).
const (
	DefaultStaticLR      = 0.2
	DefaultTransformerLR = 5e-5
)

// Evaluator measures the model being trained, e.g. with the IR evaluator on held-out queries. Keys follow
// sentence-transformers (dim_128_cosine_ndcg@10, ndcg@10, ...).
type Evaluator interface {
	Evaluate(ctx context.Context, report progress.Func) (map[string]float64, error)
}

// EvalFunc adapts a function to an Evaluator.
type EvalFunc func(ctx context.Context, report progress.Func) (map[string]float64, error)

// Evaluate calls f.
func (f EvalFunc) Evaluate(ctx context.Context, report progress.Func) (map[string]float64, error) {
	return f(ctx, report)
}

// Config configures a training run. The zero value trains one epoch with the defaults noted, which are
// sentence-transformers' / transformers' Trainer defaults unless said otherwise.
type Config struct {
	// Loss is one of the Loss* constants: bi-encoders mnrl (default), cached-mnrl, triplet; cross-encoders
	// bce (default), mse.
	Loss string
	// Scale is MNRL's similarity scale, 1/temperature (default 20).
	Scale float64
	// TripletMetric is euclidean (default), cosine or manhattan; TripletMargin defaults to 5 (ST's defaults).
	TripletMetric string
	TripletMargin float64
	// MatryoshkaDims wraps a bi-encoder loss in MatryoshkaLoss over these dimensions (any order; used largest
	// first); MatryoshkaWeights are their weights (nil: all 1). Nil dims: the plain loss.
	MatryoshkaDims    []int
	MatryoshkaWeights []float64
	// MiniBatchSize is cached-mnrl's chunk size (default 32): memory is that of a batch of this size.
	MiniBatchSize int
	// PosWeight weighs positive labels in bce (0: 1).
	PosWeight float64
	// MSEActivation is applied to the logits before mse: sigmoid (default, for teacher scores in [0, 1]) or
	// identity (ST's default, for teacher logits).
	MSEActivation string

	// Epochs over the data (default 1); MaxSteps > 0 stops after that many optimizer steps instead (and
	// runs as many epochs as needed).
	Epochs   int
	MaxSteps int
	// BatchSize is the rows per batch (default 32). Batches keep this shape: a smaller last batch is padded
	// with masked rows, which leaves the loss that of the smaller batch (sentence-transformers keeps it too).
	BatchSize int
	// DropLast drops a last batch smaller than BatchSize instead.
	DropLast bool
	// Sampler is no-duplicates or random (default: no-duplicates for mnrl and cached-mnrl, random otherwise).
	Sampler string
	// Seed fixes the data order (a pure function of seed and epoch) and dropout.
	Seed uint64

	// LearningRate is the peak rate (default: DefaultStaticLR for static models, DefaultTransformerLR
	// otherwise).
	LearningRate float64
	// WarmupRatio is the fraction of steps with a linear warmup from 0 (warmup steps = ceil(ratio × total),
	// as transformers; default 0).
	WarmupRatio float64
	// Schedule is linear (default), cosine or constant after the warmup.
	Schedule string
	// WeightDecay is AdamW's decoupled weight decay (default 0), never applied to biases and LayerNorm.
	WeightDecay float64
	// Beta1, Beta2, Epsilon are AdamW's (defaults 0.9, 0.999, 1e-8).
	Beta1, Beta2, Epsilon float64
	// GradAccum accumulates this many batches per optimizer step (default 1).
	GradAccum int
	// MaxGradNorm clips the global gradient norm (default 1; negative: no clipping).
	MaxGradNorm float64
	// BF16 trains with bfloat16 autocast (transformers' --bf16): the forward's matrix products take bfloat16
	// operands and accumulate in float32, while the weights (the optimizer's master copy), the optimizer state,
	// the loss and every elementwise op stay float32 (package model/autocast). On a GPU that is what the tensor
	// cores run; on the pure-Go backend it runs too, with the same rounding and no speed-up. Static models'
	// forward has no matrix product, so it changes nothing there.
	BF16 bool
	// TF32 lets XLA on CUDA compute float32 matrix products in TF32 while this run trains (transformers' --tf32,
	// torch.backends.cuda.matmul.allow_tf32); ragnb's default is full float32, torch's default too. Like torch's
	// flag it is process-wide: programs compiled while the run trains (its evaluator's) use it as well, and the
	// backend's setting is restored when the run ends. On a backend without TF32 (the pure-Go backend, XLA on
	// CPU) it is an error, as transformers makes it one.
	TF32 bool

	// Evaluator is run before training, every EvalEvery steps (0: at the end of every epoch) and at the end.
	Evaluator Evaluator
	EvalEvery int
	// SkipInitialEval skips the evaluation before the first step.
	SkipInitialEval bool
	// BestMetric names the evaluator key that picks the best model (e.g. dim_128_cosine_ndcg@10); higher is
	// better unless LowerIsBetter. With it the trainer ends with the best weights, not the last ones (ST's
	// load_best_model_at_end), unless KeepLast.
	BestMetric    string
	LowerIsBetter bool
	KeepLast      bool

	// CheckpointDir receives checkpoint-<step> directories (each a loadable model directory plus
	// optimizer.safetensors and trainer_state.json) and best/ (the best model); "" keeps none.
	CheckpointDir string
	// CheckpointEvery saves a checkpoint every this many steps (0: at the end of every epoch).
	CheckpointEvery int
	// KeepCheckpoints is how many of the newest checkpoints are kept (default 1).
	KeepCheckpoints int
	// Resume continues from the newest checkpoint in CheckpointDir (starting afresh when there is none) and
	// ends with the same weights as an uninterrupted run.
	Resume bool

	// EvalName names the evaluation set in the model card ("held-out 10% of qa.csv (seed 42): …"); "" says
	// "held-out evaluation set".
	EvalName string
	// CardMeta are the model card's fields a user knows better: license, language, dataset ids, the base
	// model's Hub id (by default read from a base loaded from the Hugging Face cache).
	CardMeta modelcard.Meta
}

// withDefaults fills zero fields for a model kind ("static", "bert", "cross").
func (c Config) withDefaults(arch string, cross bool) Config {
	if c.Loss == "" {
		c.Loss = LossMNRL
		if cross {
			c.Loss = LossBCE
		}
	}
	if c.Scale == 0 {
		c.Scale = 20
	}
	if c.TripletMargin == 0 {
		c.TripletMargin = 5
	}
	if c.TripletMetric == "" {
		c.TripletMetric = losses.Euclidean
	}
	if c.MiniBatchSize == 0 {
		c.MiniBatchSize = 32
	}
	if c.MSEActivation == "" {
		c.MSEActivation = losses.ActivationSigmoid
	}
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.Sampler == "" {
		c.Sampler = SamplerRandom
		if c.Loss == LossMNRL || c.Loss == LossCachedMNRL {
			c.Sampler = SamplerNoDuplicates
		}
	}
	if c.LearningRate == 0 {
		c.LearningRate = DefaultTransformerLR
		if arch == "static" {
			c.LearningRate = DefaultStaticLR
		}
	}
	if c.Schedule == "" {
		c.Schedule = optim.Linear
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Epsilon == 0 {
		c.Epsilon = 1e-8
	}
	if c.GradAccum == 0 {
		c.GradAccum = 1
	}
	if c.MaxGradNorm == 0 {
		c.MaxGradNorm = 1
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = 1
	}
	return c
}

func (c Config) validate(cross bool) error {
	bi := []string{LossMNRL, LossCachedMNRL, LossTriplet}
	ce := []string{LossBCE, LossMSE}
	if cross && !slices.Contains(ce, c.Loss) {
		return fmt.Errorf("loss %q: a cross-encoder trains with %v", c.Loss, ce)
	}
	if !cross && !slices.Contains(bi, c.Loss) {
		return fmt.Errorf("loss %q: a bi-encoder trains with %v", c.Loss, bi)
	}
	if cross && len(c.MatryoshkaDims) > 0 {
		return fmt.Errorf("matryoshka dimensions apply to bi-encoders only")
	}
	if c.Sampler != SamplerNoDuplicates && c.Sampler != SamplerRandom {
		return fmt.Errorf("sampler %q: want %q or %q", c.Sampler, SamplerNoDuplicates, SamplerRandom)
	}
	for _, x := range []struct {
		name string
		v    int
	}{{"epochs", c.Epochs}, {"batch size", c.BatchSize}, {"gradient accumulation", c.GradAccum},
		{"mini-batch size", c.MiniBatchSize}, {"checkpoints kept", c.KeepCheckpoints}} {
		if x.v < 1 {
			return fmt.Errorf("%s must be at least 1, got %d", x.name, x.v)
		}
	}
	if c.MaxSteps < 0 || c.EvalEvery < 0 || c.CheckpointEvery < 0 {
		return fmt.Errorf("max steps, eval every and checkpoint every must not be negative")
	}
	if c.LearningRate < 0 || c.WeightDecay < 0 || c.WarmupRatio < 0 || c.WarmupRatio > 1 {
		return fmt.Errorf("learning rate %g, weight decay %g, warmup ratio %g: out of range", c.LearningRate, c.WeightDecay, c.WarmupRatio)
	}
	if err := (optim.Schedule{Kind: c.Schedule}).Validate(); err != nil {
		return err
	}
	if c.Resume && c.CheckpointDir == "" {
		return fmt.Errorf("resume needs a checkpoint directory")
	}
	if c.BestMetric != "" && c.Evaluator == nil {
		return fmt.Errorf("best metric %q needs an evaluator", c.BestMetric)
	}
	return nil
}

// adamW is the optimizer the config describes.
func (c Config) adamW() optim.AdamW {
	return optim.AdamW{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Epsilon, WeightDecay: c.WeightDecay}
}
