package prelude

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/plots"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/ui/display"
)

// TrainOptions configure TrainMatryoshka and TrainCrossEncoder. Zero values take package train's defaults
// (sentence-transformers' and transformers' Trainer defaults; learning rate 0.2 for static models, 5e-5
// for transformers; one epoch; batch 32).
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

	Epochs, MaxSteps, BatchSize, GradAccum int
	LearningRate, WarmupRatio, WeightDecay float64
	MaxGradNorm                            float64
	Schedule                               string
	Seed                                   int

	// Eval is a held-out pairs table evaluated before, during (every EvalEvery steps, default each epoch)
	// and after training, against the passages of EvalCorpus (default: Eval's own positives) — for a
	// cross-encoder by reranking BM25's top 100. BestMetric (e.g. "dim_128_cosine_ndcg@10",
	// "bm25_rerank_ndcg@10") picks the weights returned.
	Eval       *Dataset `json:"-"`
	EvalCorpus *Dataset `json:"-"`
	EvalEvery  int
	BestMetric string
}

func (o TrainOptions) config() train.Config {
	return train.Config{Loss: o.Loss, Scale: o.Scale, MatryoshkaDims: o.Dims, MatryoshkaWeights: o.Weights,
		MiniBatchSize: o.MiniBatchSize, Epochs: o.Epochs, MaxSteps: o.MaxSteps, BatchSize: o.BatchSize,
		GradAccum: o.GradAccum, LearningRate: o.LearningRate, WarmupRatio: o.WarmupRatio, WeightDecay: o.WeightDecay,
		MaxGradNorm: o.MaxGradNorm, Schedule: o.Schedule, Seed: uint64(o.Seed), EvalEvery: o.EvalEvery,
		BestMetric: o.BestMetric}
}

// trainInputs are the content hashes a training step depends on, besides its options.
func trainInputs(base *Model, data *Dataset, o TrainOptions) ([]string, error) {
	if base.Err() != nil {
		return nil, base.Err()
	}
	if data.Err() != nil {
		return nil, data.Err()
	}
	inputs := []string{base.ID(), data.Hash()}
	for _, d := range []*Dataset{o.Eval, o.EvalCorpus} {
		if d == nil {
			inputs = append(inputs, "")
			continue
		}
		if d.Err() != nil {
			return nil, d.Err()
		}
		inputs = append(inputs, d.Hash())
	}
	return inputs, nil
}

// evalSet is the IR task of the options' held-out pairs (nil without Eval).
func (o TrainOptions) evalSet(anchor, positive string) (*ir.Dataset, error) {
	if o.Eval == nil {
		return nil, nil
	}
	eo := EvalOptions{Anchor: anchor, Positive: positive, Corpus: o.EvalCorpus}.withDefaults()
	task, err := newIRTask(o.Eval, eo)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return task.ds, nil
}

// trainStep runs a memoised training step: the trained model directory is a cache entry, and the run's
// checkpoints live in <cache>/.train/<key> until it completes, so an interrupted cell resumes where it
// stopped when run again.
func trainStep(name, chain string, key cache.Key, run func(ctx context.Context, dir string, cfg train.Config) error) *Model {
	s, err := store()
	if err != nil {
		return failedModel(chain, err)
	}
	hash, err := key.Hash()
	if err != nil {
		return failedModel(chain, err)
	}
	ckpt := filepath.Join(s.Dir(), ".train", hash)
	dir, id, hit, err := cachedDir(key, func(ctx context.Context, dir string) error {
		if err := run(ctx, dir, train.Config{CheckpointDir: ckpt, Resume: true}); err != nil {
			return err
		}
		return os.RemoveAll(ckpt)
	})
	if err != nil {
		return failedModel(chain, fmt.Errorf("%w (checkpoints kept in %s: running the cell again resumes)", err, ckpt))
	}
	m := &Model{name: name, chain: chain, dir: dir, id: id}
	if hit {
		m.notes = append(m.notes, "from cache")
	}
	return m
}

// defaultDims is the model's dimension and those of 768/512/256/128/64 below it.
func defaultDims(dim int) []int {
	out := []int{dim}
	for _, d := range []int{768, 512, 256, 128, 64} {
		if d < dim {
			out = append(out, d)
		}
	}
	return out
}

// MatryoshkaDims are the dimensions worth evaluating a bi-encoder at: its own and those of
// 768/512/256/128/64 below it — the dims TrainMatryoshka trains by default. Nil when the model is not a
// loadable bi-encoder (its error shows where the chain is displayed).
func (m *Model) MatryoshkaDims() []int {
	bi, err := m.BiEncoder()
	if err != nil {
		return nil
	}
	return defaultDims(bi.Dim())
}

// matryoshkaColumns fills TrainMatryoshka's default column names.
func (o TrainOptions) matryoshkaColumns() TrainOptions {
	if o.Anchor == "" {
		o.Anchor = "anchor"
	}
	if o.Positive == "" {
		o.Positive = "positive"
	}
	return o
}

// matryoshkaKey is TrainMatryoshka's step-cache key, which ChooseBatchSize looks up too.
func matryoshkaKey(base *Model, data *Dataset, opts TrainOptions) (cache.Key, error) {
	inputs, err := trainInputs(base, data, opts)
	if err != nil {
		return cache.Key{}, err
	}
	return cache.Key{Step: "train-matryoshka", Version: 1, Inputs: inputs, Params: opts.matryoshkaColumns()}, nil
}

// TrainMatryoshka fine-tunes a bi-encoder (BERT family or static) on (anchor, positive[, negatives…]) rows
// with MultipleNegativesRankingLoss inside MatryoshkaLoss (sentence-transformers' recipe; see TrainOptions
// for the rest), and returns the trained model. It is memoised: the same base model, data and options give
// the cached model, and an interrupted run resumes from its last checkpoint. The model directory holds
// training_history.jsonl (see TrainingHistory).
func TrainMatryoshka(base *Model, data *Dataset, opts TrainOptions) *Model {
	chain := fmt.Sprintf("TrainMatryoshka(%s, %s)", base.Chain(), data.Chain())
	opts = opts.matryoshkaColumns()
	key, err := matryoshkaKey(base, data, opts)
	if err != nil {
		return failedModel(chain, err)
	}
	return trainStep("fine-tuned", chain, key, func(ctx context.Context, dir string, cfg train.Config) error {
		// A fresh copy: training updates weights in place, and the base Model must keep embedding as the base
		// for the rest of this process (an exported program runs every cell in one process).
		if base.Err() != nil {
			return base.Err()
		}
		m, err := encoder.LoadBiEncoder(base.Dir(), encoder.Options{})
		if err != nil {
			return err
		}
		ex, err := train.BiEncoderExamples(data.Frame(), opts.Anchor, opts.Positive, opts.Negatives)
		if err != nil {
			return err
		}
		c := opts.config()
		c.CheckpointDir, c.Resume = cfg.CheckpointDir, cfg.Resume
		if c.MatryoshkaDims == nil {
			c.MatryoshkaDims = defaultDims(m.Dim())
		}
		ds, err := opts.evalSet(opts.Anchor, opts.Positive)
		if err != nil {
			return err
		}
		if ds != nil {
			ev, err := evaluate.NewIR(ds, evaluate.Options{Dims: c.MatryoshkaDims})
			if err != nil {
				return err
			}
			defer ev.Close()
			c.Evaluator = train.IREvaluator(ev, m)
		}
		res, err := train.TrainBiEncoder(ctx, m, ex, c, display.Progress())
		if err != nil {
			return err
		}
		if err := m.Save(dir); err != nil {
			return err
		}
		return res.History.SaveJSONL(filepath.Join(dir, "training_history.jsonl"))
	})
}

// TrainCrossEncoder fine-tunes a cross-encoder reranker on (anchor, positive) rows with a label column
// (binary cross-entropy on 0/1 labels) or teacher scores (Loss "mse": distillation from a stronger
// reranker); without a label column, (anchor, positive, negatives…) rows become pairs labelled 1 and 0.
// Memoised and resumable like TrainMatryoshka.
func TrainCrossEncoder(base *Model, data *Dataset, opts TrainOptions) *Model {
	chain := fmt.Sprintf("TrainCrossEncoder(%s, %s)", base.Chain(), data.Chain())
	inputs, err := trainInputs(base, data, opts)
	if err != nil {
		return failedModel(chain, err)
	}
	if opts.Anchor == "" {
		opts.Anchor = "anchor"
	}
	if opts.Positive == "" {
		opts.Positive = "positive"
	}
	if opts.Label == "" {
		for _, c := range []string{"score", "label"} {
			if data.has(c) {
				opts.Label = c
			}
		}
	}
	key := cache.Key{Step: "train-cross-encoder", Version: 1, Inputs: inputs, Params: opts}
	return trainStep("fine-tuned reranker", chain, key, func(ctx context.Context, dir string, cfg train.Config) error {
		if base.Err() != nil { // a fresh copy, as in TrainMatryoshka: the base keeps its weights
			return base.Err()
		}
		m, err := encoder.LoadCrossEncoder(base.Dir(), encoder.Options{})
		if err != nil {
			return err
		}
		var ex *train.Examples
		if opts.Label != "" {
			ex, err = train.CrossEncoderExamples(data.Frame(), opts.Anchor, opts.Positive, opts.Label)
		} else {
			ex, err = train.LabeledPairs(data.Frame(), opts.Anchor, opts.Positive, opts.Negatives)
		}
		if err != nil {
			return err
		}
		c := opts.config()
		c.CheckpointDir, c.Resume = cfg.CheckpointDir, cfg.Resume
		ds, err := opts.evalSet(opts.Anchor, opts.Positive)
		if err != nil {
			return err
		}
		if ds != nil {
			ev, err := evaluate.NewIR(ds, evaluate.Options{})
			if err != nil {
				return err
			}
			defer ev.Close()
			first, err := ev.BM25Run(ctx, bm25.DefaultParams(), nil)
			if err != nil {
				return err
			}
			c.Evaluator = train.RerankEvaluator(ev, m, first, evaluate.RerankOptions{Depth: 100}, "bm25_rerank")
		}
		res, err := train.TrainCrossEncoder(ctx, m, ex, c, display.Progress())
		if err != nil {
			return err
		}
		if err := m.Save(dir); err != nil {
			return err
		}
		return res.History.SaveJSONL(filepath.Join(dir, "training_history.jsonl"))
	})
}

// TrainingHistory is a trained model's history as a table: one row per optimizer step (step, epoch, loss,
// learning_rate, grad_norm) with the evaluation metrics (eval_<key>) on the steps that were evaluated.
func (m *Model) TrainingHistory() *Dataset {
	chain := m.chain + ".TrainingHistory()"
	if m.err != nil {
		return Errorf(chain, "%w", m.err)
	}
	h, err := train.LoadHistory(filepath.Join(m.dir, "training_history.jsonl"))
	if err != nil {
		return Errorf(chain, "%s has no training history: %w", m.dir, err)
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
	h, err := train.LoadHistory(filepath.Join(m.dir, "training_history.jsonl"))
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
