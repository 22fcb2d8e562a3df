package workflow

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// TrainOptions configure Train (bi-encoders: MNRL, cached MNRL or triplet loss inside MatryoshkaLoss) and
// TrainReranker (cross-encoders: binary cross-entropy on labels, or MSE against teacher scores). Every knob
// is package train's (train.Config); zero fields take the base model's recipe in Train (WithDefaultsFor:
// DefaultTrainOptionsFor the architecture) and DefaultTrainOptions in TrainReranker (WithDefaults). The json
// names of the fields the prelude had are its cache key's, the later ones are keyed only when set.
type TrainOptions struct {
	// Anchor and Positive name the columns (a reranker's query and passage); Negatives the hard negatives
	// (nil: the columns named negative or negative_1..n; empty: none). Label is a reranker's label or
	// teacher-score column ("": "label", else "score"; with neither, (anchor, positive, negatives) rows become
	// pairs labelled 1 and 0).
	Anchor    string   `json:"Anchor"`
	Positive  string   `json:"Positive"`
	Negatives []string `json:"Negatives"`
	Label     string   `json:"Label"`

	// Loss is train.LossMNRL, LossCachedMNRL or LossTriplet for bi-encoders, LossBCE or LossMSE for
	// rerankers ("": mnrl, bce).
	Loss string `json:"Loss"`
	// Dims are the Matryoshka dimensions (nil: the model's and those of 768/512/256/128/64 below it; NoMatryoshka
	// trains the plain loss); Weights their weights (nil: 1).
	Dims         []int     `json:"Dims"`
	Weights      []float64 `json:"Weights"`
	NoMatryoshka bool      `json:"no_matryoshka,omitempty"`
	// Scale is MNRL's similarity scale; MiniBatchSize cached MNRL's chunk. Temperature, when set, is the
	// same knob under FlagEmbedding's name: the scale is 1/Temperature (MNRL's scale 20 is temperature 0.05;
	// FlagEmbedding's recipe uses 0.02).
	Scale         float64 `json:"Scale"`
	Temperature   float64 `json:"temperature,omitempty"`
	MiniBatchSize int     `json:"MiniBatchSize"`
	// GroupSize is FlagEmbedding's train_group_size for FlagEmbedding data ({query, pos, neg, …}): each step
	// takes one positive and GroupSize−1 negatives drawn from the query's pools (train.Groups). NoDistillation
	// ignores the file's pos_scores/neg_scores, which otherwise add FlagEmbedding's KL distillation loss.
	GroupSize      int  `json:"group_size,omitempty"`
	NoDistillation bool `json:"no_distillation,omitempty"`
	// TripletMetric and TripletMargin are the triplet loss's; PosWeight weighs bce's positives (0: 1);
	// MSEActivation is sigmoid (teacher scores in [0, 1]) or identity (teacher logits).
	TripletMetric string  `json:"triplet_metric,omitempty"`
	TripletMargin float64 `json:"triplet_margin,omitempty"`
	PosWeight     float64 `json:"pos_weight,omitempty"`
	MSEActivation string  `json:"mse_activation,omitempty"`

	Epochs    int `json:"Epochs"`
	MaxSteps  int `json:"MaxSteps"`
	BatchSize int `json:"BatchSize"`
	GradAccum int `json:"GradAccum"`
	// LearningRate 0 is the architecture's (RecipeFor; a reranker's: train.DefaultTransformerLR). WarmupRatio
	// NoWarmup (negative) is none where the recipe warms up.
	LearningRate float64 `json:"LearningRate"`
	WarmupRatio  float64 `json:"WarmupRatio"`
	WeightDecay  float64 `json:"WeightDecay"`
	MaxGradNorm  float64 `json:"MaxGradNorm"`
	Schedule     string  `json:"Schedule"`
	Seed         uint64  `json:"Seed"`
	// BF16 trains under bfloat16 autocast (train.Config.BF16: products in bfloat16, float32 master weights); TF32
	// lets XLA on CUDA compute float32 products in TF32 while it trains (train.Config.TF32; an error elsewhere).
	// Both change the numbers, so both are keyed (and absent from the keys of runs without them).
	BF16 bool `json:"bf16,omitempty"`
	TF32 bool `json:"tf32,omitempty"`
	// DropLast drops each epoch's short last batch; Sampler is no-duplicates or random ("": no-duplicates for
	// the in-batch-negative losses).
	DropLast bool   `json:"drop_last,omitempty"`
	Sampler  string `json:"sampler,omitempty"`

	// EvalEvery evaluates every this many steps (0: each epoch), before training unless SkipInitialEval;
	// EvalDims are a bi-encoder's evaluated dimensions (nil: the Matryoshka ones); RerankDepth is how many BM25
	// hits a reranker's evaluation rescores. BestMetric picks the weights returned (LowerIsBetter), unless
	// KeepLast.
	EvalEvery       int    `json:"EvalEvery"`
	BestMetric      string `json:"BestMetric"`
	EvalDims        []int  `json:"eval_dims,omitempty"`
	RerankDepth     int    `json:"rerank_depth,omitempty"`
	SkipInitialEval bool   `json:"skip_initial_eval,omitempty"`
	LowerIsBetter   bool   `json:"lower_is_better,omitempty"`
	KeepLast        bool   `json:"keep_last,omitempty"`

	// CheckpointDir receives the run's checkpoints ("": <cache>/.train/<key> with a cache, none without),
	// every CheckpointEvery steps (0: each epoch), KeepCheckpoints kept; Resume continues from the newest.
	// Where checkpoints go does not change the result, so none of these is keyed.
	CheckpointDir   string `json:"-"`
	CheckpointEvery int    `json:"-"`
	KeepCheckpoints int    `json:"-"`
	Resume          bool   `json:"-"`
}

// DefaultTrainOptions are the training defaults on the command line (`ragnb train-reranker`, and `ragnb train`
// beneath its architecture's Recipe: DefaultTrainOptionsFor) and in the prelude (TrainCrossEncoder, and
// TrainMatryoshka beneath the Recipe): sentence-transformers' and transformers' Trainer
// defaults as package train documents them — one epoch, batch 32, linear schedule without warmup, gradient
// norm clipped at 1, MNRL with scale 20 inside MatryoshkaLoss over the model's dimensions, cached-MNRL chunks
// of 32, triplet euclidean margin 5, MSE through a sigmoid, BM25's top 100 reranked when a reranker is
// evaluated — and the learning rate of the architecture (0.2 for static embeddings, 5e-5 for transformers:
// static models want rates near 0.05–0.2, DESIGN.md). Where the faces had drifted the prelude's choice is kept
// so the notebooks' cached trainings stay valid: Matryoshka on by default (the recipe this project exists
// for; --matryoshka-dims none turns it off), seed 0, the "label" column before "score". FlagEmbedding data
// trains in groups of 8 (its train_group_size default).
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Anchor: "anchor", Positive: "positive", Scale: 20, MiniBatchSize: 32, GroupSize: train.DefaultGroupSize,
		TripletMetric: losses.Euclidean, TripletMargin: 5, MSEActivation: losses.ActivationSigmoid,
		Epochs: 1, BatchSize: 32, GradAccum: 1, MaxGradNorm: 1, Schedule: optim.Linear, RerankDepth: 100,
		KeepCheckpoints: 1}
}

// WithDefaults fills every zero field from DefaultTrainOptions (the reranker's defaults; a bi-encoder's
// zero fields take its architecture's recipe, WithDefaultsFor); a negative WarmupRatio (NoWarmup) becomes 0.
// TrainReranker keys on the options as given and runs with them filled, so the keys the prelude made before
// the workflow existed (its zero fields left zero) stay valid.
func (o TrainOptions) WithDefaults() TrainOptions { return o.fill(DefaultTrainOptions()) }

// fill sets o's zero fields from def's.
func (o TrainOptions) fill(def TrainOptions) TrainOptions {
	dv := reflect.ValueOf(def)
	v := reflect.ValueOf(&o).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(dv.Field(i))
		}
	}
	if o.WarmupRatio < 0 {
		o.WarmupRatio = 0
	}
	return o
}

// config is the run's train.Config (checkpoints and evaluator set by the step).
func (o TrainOptions) config() train.Config {
	scale := o.Scale
	if o.Temperature > 0 {
		scale = 1 / o.Temperature
	}
	return train.Config{Loss: o.Loss, Scale: scale, TripletMetric: o.TripletMetric, TripletMargin: o.TripletMargin,
		MatryoshkaDims: o.Dims, MatryoshkaWeights: o.Weights, MiniBatchSize: o.MiniBatchSize, PosWeight: o.PosWeight,
		MSEActivation: o.MSEActivation, Epochs: o.Epochs, MaxSteps: o.MaxSteps, BatchSize: o.BatchSize,
		DropLast: o.DropLast, Sampler: o.Sampler, Seed: o.Seed, LearningRate: o.LearningRate, WarmupRatio: o.WarmupRatio,
		Schedule: o.Schedule, WeightDecay: o.WeightDecay, GradAccum: o.GradAccum, MaxGradNorm: o.MaxGradNorm,
		BF16: o.BF16, TF32: o.TF32, EvalEvery: o.EvalEvery, SkipInitialEval: o.SkipInitialEval, BestMetric: o.BestMetric,
		LowerIsBetter: o.LowerIsBetter, KeepLast: o.KeepLast, CheckpointDir: o.CheckpointDir,
		CheckpointEvery: o.CheckpointEvery, KeepCheckpoints: o.KeepCheckpoints, Resume: o.Resume}
}

// MatryoshkaDims are the dimensions a model of dim is trained and evaluated at by default: its own and those
// of 768/512/256/128/64 below it.
func MatryoshkaDims(dim int) []int {
	out := []int{dim}
	for _, d := range []int{768, 512, 256, 128, 64} {
		if d < dim {
			out = append(out, d)
		}
	}
	return out
}

// biEncoderExamples are a bi-encoder's training rows: FlagEmbedding groups when df is FlagEmbedding data
// (train.IsFlagEmbedding; distilled from its scores unless NoDistillation), else (anchor, positive,
// negatives…) columns.
func (o TrainOptions) biEncoderExamples(df dataframe.DataFrame) (*train.Examples, error) {
	if !train.IsFlagEmbedding(df) {
		return train.BiEncoderExamples(df, o.Anchor, o.Positive, o.Negatives)
	}
	distill := !o.NoDistillation && slices.Contains(df.Names(), "pos_scores_1")
	return train.GroupExamples(df, o.GroupSize, distill)
}

// LabelColumn is the reranker's label column of df when o names none: "label", else "score", else "" (pairs
// from negatives).
func (o TrainOptions) LabelColumn(df dataframe.DataFrame) string {
	if o.Label != "" {
		return o.Label
	}
	names := df.Names()
	for _, c := range []string{"label", "score"} {
		if slices.Contains(names, c) {
			return c
		}
	}
	return ""
}

// TrainInput is what a training step reads.
type TrainInput struct {
	// Model is the base model (loaded afresh: training updates the weights in place).
	Model *Model
	// Data are the training rows and DataID their content identity (datasets.Hash).
	Data   dataframe.DataFrame
	DataID string
	// Eval is the held-out set evaluated before, during and after training (nil: none), with
	// DefaultEvalOptions' metrics (and BM25 as a reranker's first stage).
	Eval *EvalSet
	// EvalTriplets (bi-encoders) adds sentence-transformers' TripletEvaluator on (anchor, positive, negative)
	// rows: key triplet_cosine_accuracy, the share with cos(a, p) > cos(a, n). EvalScored (cross-encoders) adds
	// the reranker recipe's regression evaluator on teacher-scored (query, passage, score) rows: keys
	// regression_mse, regression_pearson, regression_spearman. Either can pick the best checkpoint (BestMetric;
	// LowerIsBetter for the MSE); with Eval too, every key is computed at each evaluation.
	EvalTriplets *EvalTable
	EvalScored   *EvalTable
	// Out is the directory written when the Env has no cache.
	Out string
}

// EvalTable is a small held-out table for the triplet and regression evaluators: (anchor, positive, negative)
// texts, or (anchor, positive) texts with Scores; ID is its content identity (for the training's cache key).
type EvalTable struct {
	Anchors, Positives, Negatives []string
	Scores                        []float64
	ID                            string
}

// withEvaluators runs base (nil: none) and each extra evaluator, merging their keys.
func withEvaluators(base train.Evaluator, extra ...train.Evaluator) train.Evaluator {
	all := slices.DeleteFunc(append([]train.Evaluator{base}, extra...), func(e train.Evaluator) bool { return e == nil })
	if len(all) == 1 {
		return all[0]
	}
	return train.EvalFunc(func(ctx context.Context, report progress.Func) (map[string]float64, error) {
		out := map[string]float64{}
		for _, e := range all {
			m, err := e.Evaluate(ctx, report)
			if err != nil {
				return nil, err
			}
			maps.Copy(out, m)
		}
		return out, nil
	})
}

// Trained is a training step's outcome.
type Trained struct {
	// Dir is the trained model (the cache entry, or TrainInput.Out) holding training_history.jsonl; ID its
	// identity (the key's hash, "" without a cache).
	Dir, ID string
	Cached  bool
	// Result is the run's (nil on a cache hit; on a failed run what it reached, its history included); Config
	// the train.Config it ran with; Rows and Columns the training examples'.
	Result  *train.Result
	Config  train.Config
	Rows    int
	Columns []string
	// Static and Dim describe a bi-encoder base.
	Static bool
	Dim    int
}

// Train fine-tunes a bi-encoder (BERT family or static) on (anchor, positive[, negatives…]) rows, memoised as
// step "train-matryoshka": the trained model directory is a cache entry, and the run's checkpoints live in
// <cache>/.train/<key> until it completes, so an interrupted run resumes where it stopped.
func Train(ctx context.Context, env Env, in TrainInput, o TrainOptions) (*Trained, error) {
	key, r, err := matryoshkaKey(in, o)
	if err != nil {
		return nil, err
	}
	return trainStep(ctx, env, key, in, r, func(ctx context.Context, out *Trained, c train.Config) (func(string) error, error) {
		m, err := encoder.LoadBiEncoder(in.Model.Dir, encoder.Options{MaxLength: in.Model.Options.MaxLength, Prompts: in.Model.Options.Prompts})
		if err != nil {
			return nil, err
		}
		out.Static, out.Dim = m.IsStatic(), m.Dim()
		ex, err := r.biEncoderExamples(in.Data)
		if err != nil {
			return nil, fmt.Errorf("training data: %w", err)
		}
		out.Rows, out.Columns = ex.Rows(), ex.Names
		switch {
		case r.NoMatryoshka:
			c.MatryoshkaDims, c.MatryoshkaWeights = nil, nil
		case c.MatryoshkaDims == nil:
			c.MatryoshkaDims = MatryoshkaDims(m.Dim())
		}
		if in.Eval != nil {
			dims := r.EvalDims
			if dims == nil {
				dims = c.MatryoshkaDims
			}
			ev, err := DefaultEvalOptions().evaluator(in.Eval, dims)
			if err != nil {
				return nil, err
			}
			defer ev.Close()
			c.Evaluator, c.EvalName = train.IREvaluator(ev, m), in.Eval.Name
		}
		if t := in.EvalTriplets; t != nil {
			te, err := train.TripletEvaluator(m, t.Anchors, t.Positives, t.Negatives, "triplet")
			if err != nil {
				return nil, err
			}
			c.Evaluator = withEvaluators(c.Evaluator, te)
			if c.EvalName == "" {
				c.EvalName = fmt.Sprintf("%d triplets", len(t.Anchors))
			}
		}
		out.Config = c
		out.Result, err = train.TrainBiEncoder(ctx, m, ex, c, env.Progress)
		return m.Save, err
	})
}

// TrainReranker fine-tunes a cross-encoder on (query, passage, label) rows (bce on 0/1 labels, or mse against
// teacher scores: distillation from a stronger reranker), or on (query, positive, negatives…) rows made into
// pairs labelled 1 and 0; evaluated by reranking BM25's top RerankDepth. Memoised and resumable like Train, as
// step "train-cross-encoder".
func TrainReranker(ctx context.Context, env Env, in TrainInput, o TrainOptions) (*Trained, error) {
	o.Label = o.LabelColumn(in.Data) // keyed as found, as the prelude has keyed it
	if in.Model == nil {
		return nil, fmt.Errorf("train-cross-encoder: no base model")
	}
	r := o.WithDefaults()
	return trainStep(ctx, env, trainKey("train-cross-encoder", 1, in, o), in, r, func(ctx context.Context, out *Trained, c train.Config) (func(string) error, error) {
		m, err := encoder.LoadCrossEncoder(in.Model.Dir, encoder.Options{MaxLength: in.Model.Options.MaxLength})
		if err != nil {
			return nil, err
		}
		var ex *train.Examples
		if o.Label != "" {
			ex, err = train.CrossEncoderExamples(in.Data, r.Anchor, r.Positive, r.Label)
		} else {
			ex, err = train.LabeledPairs(in.Data, r.Anchor, r.Positive, r.Negatives)
		}
		if err != nil {
			return nil, fmt.Errorf("training data: %w", err)
		}
		out.Rows, out.Columns = ex.Rows(), ex.Names
		if in.Eval != nil {
			ev, err := DefaultEvalOptions().evaluator(in.Eval, nil)
			if err != nil {
				return nil, err
			}
			defer ev.Close()
			if c.Evaluator, err = BM25RerankEvaluator(ctx, ev, m, r.RerankDepth, DefaultEvalOptions()); err != nil {
				return nil, err
			}
			c.EvalName = in.Eval.Name
		}
		if t := in.EvalScored; t != nil {
			if len(t.Anchors) == 0 || len(t.Anchors) != len(t.Positives) || len(t.Anchors) != len(t.Scores) {
				return nil, fmt.Errorf("regression evaluator: %d queries, %d passages, %d scores", len(t.Anchors), len(t.Positives), len(t.Scores))
			}
			pairs := make([]ir.Pair, len(t.Anchors))
			for i := range pairs {
				pairs[i] = ir.Pair{Query: t.Anchors[i], Passage: t.Positives[i]}
			}
			c.Evaluator = withEvaluators(c.Evaluator, train.RegressionEvaluator(m, pairs, t.Scores, "regression"))
			if c.EvalName == "" {
				c.EvalName = fmt.Sprintf("%d scored pairs", len(pairs))
			}
		}
		out.Config = c
		out.Result, err = train.TrainCrossEncoder(ctx, m, ex, c, env.Progress)
		return m.Save, err
	})
}

// TrainKey is the step-cache key Train stores a run under, for looking a run up without training (the
// prelude's batch-size chooser); in.Model must be set.
func TrainKey(in TrainInput, o TrainOptions) (cache.Key, error) {
	key, _, err := matryoshkaKey(in, o)
	return key, err
}

// matryoshkaKey is Train's key and the options it runs with: version 2 keys the options filled from the base
// model's recipe (TrainSettings). Version 1 keyed them as given, zero fields zero, when zero meant
// DefaultTrainOptions; since zero means the architecture's recipe, a version-1 entry must not be served for
// the same spelling (its run took other settings).
func matryoshkaKey(in TrainInput, o TrainOptions) (cache.Key, TrainOptions, error) {
	if in.Model == nil {
		return cache.Key{}, o, fmt.Errorf("train-matryoshka: no base model")
	}
	r, err := TrainSettings(in.Model, o)
	if err != nil {
		return cache.Key{}, o, fmt.Errorf("train-matryoshka: %w", err)
	}
	return trainKey("train-matryoshka", 2, in, r), r, nil
}

// trainKey is a training step's key: (step, version, the base model, the data, the held-out set's two tables
// or "", the keyed options).
func trainKey(step string, version int, in TrainInput, o TrainOptions) cache.Key {
	inputs := []string{in.Model.PromptID(), in.DataID, "", ""}
	if in.Eval != nil {
		copy(inputs[2:], in.Eval.Inputs)
	}
	// Appended only when given, so the keys of trainings without them stay those of earlier releases.
	for name, t := range map[string]*EvalTable{"triplets": in.EvalTriplets, "scored": in.EvalScored} {
		if t != nil {
			inputs = append(inputs, name+"="+t.ID)
		}
	}
	slices.Sort(inputs[4:])
	return cache.Key{Step: step, Version: version, Inputs: inputs, Params: o}
}

// trainStep memoises a training run under key and writes the model and its history; r are the run's options,
// zero fields filled.
func trainStep(ctx context.Context, env Env, key cache.Key, in TrainInput, r TrainOptions,
	run func(ctx context.Context, out *Trained, c train.Config) (func(string) error, error)) (*Trained, error) {
	step := key.Step // the callers built key from in.Model, so it is set
	if in.Model.Adapter != nil {
		// Fine-tuning changes the weights an adapter was trained over: train the base model, then an adapter.
		return nil, fmt.Errorf("%s: the base model has an adapter; fine-tune the base model itself", step)
	}
	out := &Trained{}
	compute := func(ctx context.Context, dir string) error {
		c := r.config()
		if dir == "" {
			dir = in.Out
		}
		save, err := run(ctx, out, c)
		if err != nil {
			return err
		}
		if err := save(dir); err != nil {
			return err
		}
		return out.Result.History.SaveJSONL(filepath.Join(dir, "training_history.jsonl"))
	}
	if env.Cache == nil {
		if in.Out == "" {
			return nil, fmt.Errorf("%s: no output directory", step)
		}
		out.Dir = in.Out
		return out, compute(ctx, "")
	}
	hash, err := key.Hash()
	if err != nil {
		return nil, err
	}
	if r.CheckpointDir == "" {
		r.CheckpointDir, r.Resume = filepath.Join(env.Cache.Dir(), ".train", hash), true
	}
	dir, hit, err := env.Cache.Do(ctx, key, func(ctx context.Context, dir string) error {
		if err := compute(ctx, dir); err != nil {
			return err
		}
		return os.RemoveAll(r.CheckpointDir)
	})
	if err != nil {
		return out, fmt.Errorf("%w (checkpoints kept in %s: running the step again resumes)", err, r.CheckpointDir)
	}
	out.Dir, out.ID, out.Cached = dir, hash, hit
	return out, nil
}
