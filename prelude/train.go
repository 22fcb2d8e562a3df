package prelude

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/plots"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/workflow"
)

// TrainOptions configure TrainMatryoshka and TrainCrossEncoder. Zero values take the defaults `ragnb train`
// and `ragnb train-reranker` have too: for TrainMatryoshka the base model's recipe
// (workflow.DefaultTrainOptionsFor its architecture: the bge recipe for transformers — 4 epochs, batch 32 ×
// accumulation 16, lr 2e-5, warmup 0.1, cosine — and the measured static recipe for static embeddings; see
// TrainRecipe), for TrainCrossEncoder workflow.DefaultTrainOptions (one epoch, batch 32, lr 5e-5, linear).
// Matryoshka runs over the model's dimensions. WarmupRatio workflow.NoWarmup (-1) asks for none where the
// recipe warms up.
type TrainOptions struct {
	// Anchor and Positive name the training columns (defaults "anchor", "positive"); Negatives the hard
	// negatives (nil: the columns named negative or negative_1..n).
	Anchor, Positive string
	Negatives        []string
	// Label names the cross-encoder's label or teacher-score column (default: "label", else "score"; with
	// neither, (anchor, positive, negatives) rows become pairs labelled 1 and 0).
	Label string

	// Loss: "mnrl" (default), "cached-mnrl" or "triplet" for bi-encoders; "bce" (default) or "mse" for
	// cross-encoders.
	Loss string
	// Dims are TrainMatryoshka's Matryoshka dimensions (default: the model's dimension and those of
	// 768/512/256/128/64 below it); Weights their loss weights (default 1).
	Dims    []int
	Weights []float64
	// Scale is MNRL's similarity scale (default 20); MiniBatchSize cached-mnrl's chunk (default 32).
	Scale         float64
	MiniBatchSize int
	// Temperature is the scale under FlagEmbedding's name (1/Scale; its recipe 0.02). GroupSize is its
	// train_group_size for FlagEmbedding data (Load of its JSONL: default 8); NoDistillation ignores the
	// file's pos_scores/neg_scores (otherwise a KL distillation loss is added).
	Temperature    float64
	GroupSize      int
	NoDistillation bool

	Epochs, MaxSteps, BatchSize, GradAccum int
	LearningRate, WarmupRatio, WeightDecay float64
	MaxGradNorm                            float64
	Schedule                               string
	Seed                                   int
	// BF16 trains under bfloat16 autocast (matrix products in bfloat16, float32 master weights: what a GPU's
	// tensor cores want; transformers' bf16=True); TF32 lets XLA on CUDA use TF32 for float32 products while it
	// trains (tf32=True; an error without a CUDA GPU). The bge recipe on a GPU uses both.
	BF16, TF32 bool

	// Eval is a held-out pairs table evaluated before, during (every EvalEvery steps, default each epoch)
	// and after training, against the passages of EvalCorpus (default: Eval's own positives) — for a
	// cross-encoder by reranking BM25's top 100. BestMetric (e.g. "dim_128_cosine_ndcg@10",
	// "bm25_rerank_ndcg@10") picks the weights returned.
	Eval       *Dataset `json:"-"`
	EvalCorpus *Dataset `json:"-"`
	EvalEvery  int
	BestMetric string
	// EvalTriplets (TrainMatryoshka: anchor, positive, negative columns) adds sentence-transformers'
	// TripletEvaluator (key triplet_cosine_accuracy); EvalScored (TrainCrossEncoder: anchor, positive and a
	// label or score column) the regression evaluator (regression_mse, _pearson, _spearman; with
	// LowerIsBetter the MSE can be BestMetric). As `ragnb train --eval-triplets` / `train-reranker --eval-scored`.
	EvalTriplets  *Dataset `json:"-"`
	EvalScored    *Dataset `json:"-"`
	LowerIsBetter bool
}

// workflow is the prelude's options as the workflow's. Zero fields stay zero — the training steps fill them
// from workflow.DefaultTrainOptions, the defaults the command line's flags have too, and key on them as given,
// so the cached trainings of earlier releases stay valid — but for the columns, which the prelude has always
// keyed filled in.
func (o TrainOptions) workflow() workflow.TrainOptions {
	def := workflow.DefaultTrainOptions()
	w := workflow.TrainOptions{Anchor: o.Anchor, Positive: o.Positive, Negatives: o.Negatives, Label: o.Label,
		Loss: o.Loss, Dims: o.Dims, Weights: o.Weights, Scale: o.Scale, MiniBatchSize: o.MiniBatchSize,
		Epochs: o.Epochs, MaxSteps: o.MaxSteps, BatchSize: o.BatchSize, GradAccum: o.GradAccum,
		LearningRate: o.LearningRate, WarmupRatio: o.WarmupRatio, WeightDecay: o.WeightDecay,
		MaxGradNorm: o.MaxGradNorm, Schedule: o.Schedule, Seed: uint64(o.Seed), EvalEvery: o.EvalEvery,
		BestMetric: o.BestMetric, Temperature: o.Temperature, GroupSize: o.GroupSize, NoDistillation: o.NoDistillation,
		LowerIsBetter: o.LowerIsBetter, BF16: o.BF16, TF32: o.TF32}
	if w.Anchor == "" {
		w.Anchor = def.Anchor
	}
	if w.Positive == "" {
		w.Positive = def.Positive
	}
	return w
}

// TrainRecipe is what TrainMatryoshka trains base with when the options leave the schedule zero: its
// architecture's recipe (workflow.RecipeFor) as TrainOptions, for showing or starting from. Zero options on
// a model that cannot be read (its error shows where the chain is displayed).
func TrainRecipe(base *Model) TrainOptions {
	if base.Err() != nil {
		return TrainOptions{}
	}
	static, err := workflow.IsStatic(base.Dir())
	if err != nil {
		return TrainOptions{}
	}
	r := workflow.RecipeFor(static)
	return TrainOptions{Loss: r.Loss, MiniBatchSize: r.MiniBatchSize, Epochs: r.Epochs, BatchSize: r.BatchSize,
		GradAccum: r.GradAccum, LearningRate: r.LearningRate, WarmupRatio: r.WarmupRatio, Schedule: r.Schedule}
}

// trainInput is the workflow's training input for base, data and opts' held-out set.
func trainInput(base *Model, data *Dataset, opts TrainOptions, o workflow.TrainOptions) (workflow.TrainInput, error) {
	in := workflow.TrainInput{Model: base.handle(), Data: data.Frame(), DataID: data.Hash()}
	if opts.Eval != nil {
		set, err := evalSet(opts.Eval, EvalOptions{Anchor: o.Anchor, Positive: o.Positive, Corpus: opts.EvalCorpus})
		if err != nil {
			return in, fmt.Errorf("eval: %w", err)
		}
		set.Name = fmt.Sprintf("%s: %d queries, %d passages", opts.Eval.Chain(), len(set.Queries), len(set.Corpus))
		in.Eval = set
	}
	for _, x := range []struct {
		d      *Dataset
		dst    **workflow.EvalTable
		scored bool
	}{{opts.EvalTriplets, &in.EvalTriplets, false}, {opts.EvalScored, &in.EvalScored, true}} {
		if x.d == nil {
			continue
		}
		t, err := evalTable(x.d, o, x.scored)
		if err != nil {
			return in, err
		}
		*x.dst = t
	}
	return in, nil
}

// evalTable is a triplet table (anchor, positive, negative) or a scored one (anchor, positive, label or score)
// for the extra evaluators.
func evalTable(d *Dataset, o workflow.TrainOptions, scored bool) (*workflow.EvalTable, error) {
	if d.Err() != nil {
		return nil, d.Err()
	}
	t := &workflow.EvalTable{ID: d.Hash()}
	var err error
	if t.Anchors, err = d.Strings(o.Anchor); err != nil {
		return nil, err
	}
	if t.Positives, err = d.Strings(o.Positive); err != nil {
		return nil, err
	}
	if !scored {
		t.Negatives, err = d.Strings("negative")
		return t, err
	}
	label := o.LabelColumn(d.Frame())
	if label == "" {
		return nil, fmt.Errorf("%s: no label or score column for the regression evaluator", d.Chain())
	}
	t.Scores = d.Frame().Col(label).Float()
	for i, v := range t.Scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: row %d column %s is not a score", d.Chain(), i+1, label)
		}
	}
	return t, nil
}

// matryoshkaKey is TrainMatryoshka's step-cache key, which ChooseBatchSize looks up too.
func matryoshkaKey(base *Model, data *Dataset, opts TrainOptions) (cache.Key, error) {
	if base.Err() != nil {
		return cache.Key{}, base.Err()
	}
	o := opts.workflow()
	in, err := trainInput(base, data, opts, o)
	if err != nil {
		return cache.Key{}, err
	}
	return workflow.TrainKey(in, o)
}

// trainModel runs a workflow training step on data in the notebook's Env: the trained model directory is a
// cache entry, and the run's checkpoints live in <cache>/.train/<key> until it completes, so an interrupted
// cell resumes where it stopped when run again.
func trainModel(name, chain string, base *Model, data *Dataset, opts TrainOptions,
	step func(context.Context, workflow.Env, workflow.TrainInput, workflow.TrainOptions) (*workflow.Trained, error)) *Model {
	for _, d := range []*Dataset{data, opts.Eval, opts.EvalCorpus, opts.EvalTriplets, opts.EvalScored} {
		if d != nil && d.Err() != nil {
			return failedModel(chain, d.Err())
		}
	}
	if base.Err() != nil {
		return failedModel(chain, base.Err())
	}
	o := opts.workflow()
	in, err := trainInput(base, data, opts, o)
	if err != nil {
		return failedModel(chain, err)
	}
	env, err := stepEnv()
	if err != nil {
		return failedModel(chain, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	t, err := step(ctx, env, in, o)
	if err != nil {
		return failedModel(chain, err)
	}
	m := &Model{name: name, chain: chain, dir: t.Dir, id: t.ID}
	if t.Cached {
		m.notes = append(m.notes, "from cache")
	}
	return m
}

// MatryoshkaDims are the dimensions worth evaluating a bi-encoder at: its own and those of
// 768/512/256/128/64 below it — the dims TrainMatryoshka trains by default (workflow.MatryoshkaDims). Nil
// when the model is not a loadable bi-encoder (its error shows where the chain is displayed).
func (m *Model) MatryoshkaDims() []int {
	bi, err := m.BiEncoder()
	if err != nil {
		return nil
	}
	return workflow.MatryoshkaDims(bi.Dim())
}

// TrainMatryoshka fine-tunes a bi-encoder (BERT family or static) on (anchor, positive[, negatives…]) rows
// with MultipleNegativesRankingLoss inside MatryoshkaLoss (sentence-transformers' recipe; see TrainOptions
// for the rest), and returns the trained model (workflow.Train, as `ragnb train`). It is memoised: the same
// base model, data and options give the cached model, and an interrupted run resumes from its last
// checkpoint. The model directory holds training_history.jsonl (see TrainingHistory).
func TrainMatryoshka(base *Model, data *Dataset, opts TrainOptions) *Model {
	chain := fmt.Sprintf("TrainMatryoshka(%s, %s)", base.Chain(), data.Chain())
	return trainModel("fine-tuned", chain, base, data, opts, workflow.Train)
}

// TrainCrossEncoder fine-tunes a cross-encoder reranker on (anchor, positive) rows with a label column
// (binary cross-entropy on 0/1 labels) or teacher scores (Loss "mse": distillation from a stronger
// reranker); without a label column, (anchor, positive, negatives…) rows become pairs labelled 1 and 0
// (workflow.TrainReranker, as `ragnb train-reranker`). Memoised and resumable like TrainMatryoshka.
func TrainCrossEncoder(base *Model, data *Dataset, opts TrainOptions) *Model {
	chain := fmt.Sprintf("TrainCrossEncoder(%s, %s)", base.Chain(), data.Chain())
	return trainModel("fine-tuned reranker", chain, base, data, opts, workflow.TrainReranker)
}

// historyFile is where the model's training history is: its adapter's (TrainAdapter: the loss per step) when it
// has one, else the model directory's.
func (m *Model) historyFile() string {
	if m.adapterDir != "" {
		return filepath.Join(m.adapterDir, workflow.AdapterHistory)
	}
	return filepath.Join(m.dir, "training_history.jsonl")
}

// TrainingHistory is a trained model's history as a table: one row per optimizer step (step, epoch, loss,
// learning_rate, grad_norm) with the evaluation metrics (eval_<key>) on the steps that were evaluated. For a
// model with an adapter it is the adapter's (step, epoch, loss).
func (m *Model) TrainingHistory() *Dataset {
	chain := m.chain + ".TrainingHistory()"
	if m.err != nil {
		return Errorf(chain, "%w", m.err)
	}
	h, err := train.LoadHistory(m.historyFile())
	if err != nil {
		return Errorf(chain, "%s has no training history: %w", filepath.Dir(m.historyFile()), err)
	}
	d := FromFrame("history", h.Frame())
	d.chain = chain
	return d
}

// PlotTrainingHistory draws a trained model's loss over the steps above the evaluation metric (e.g.
// "dim_128_cosine_ndcg@10"; "" for the loss only).
func PlotTrainingHistory(m *Model, metric string) *Chart {
	chain := fmt.Sprintf("PlotTrainingHistory(%s, %q)", m.Chain(), metric)
	if m.err != nil {
		return &Chart{chain: chain, err: m.err}
	}
	h, err := train.LoadHistory(m.historyFile())
	if err != nil {
		return &Chart{chain: chain, err: err}
	}
	loss := plots.Curve{Name: "loss"}
	eval := plots.Curve{Name: metric}
	for _, r := range h.Records {
		if !math.IsNaN(r.Loss) {
			loss.Steps, loss.Values = append(loss.Steps, float64(r.Step)), append(loss.Values, r.Loss)
		}
		if v, ok := r.Eval[metric]; ok && metric != "" {
			eval.Steps, eval.Values = append(eval.Steps, float64(r.Step)), append(eval.Values, v)
		}
	}
	var evals []plots.Curve
	if metric != "" {
		if len(eval.Steps) == 0 {
			return &Chart{chain: chain, err: fmt.Errorf("metric %q was not evaluated during training", metric)}
		}
		evals = []plots.Curve{eval}
	}
	c, err := plots.TrainingCurves([]plots.Curve{loss}, evals, metric)
	return &Chart{chain: chain, c: c, err: err}
}
