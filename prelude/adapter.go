package prelude

import (
	"fmt"

	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/workflow"
)

// AdapterOptions configure TrainAdapter. Zero values take workflow.DefaultAdapterOptions, the defaults of
// `ragnb train-adapter` too (LlamaIndex's EmbeddingAdapterFinetuneEngine: a linear adapter seeded with the
// identity, no bias, 1 epoch of batches of 10, lr 2e-5, weight decay 0.01, 10% warmup, clipping at 1,
// scale 20). Those defaults barely move the identity on a small set: raise Epochs and LearningRate.
type AdapterOptions struct {
	// Anchor and Positive name the (query, passage) columns (defaults "anchor", "positive").
	Anchor, Positive string
	// Kind is "linear" (default) or "two-layer" (LlamaIndex's TwoLayerNN: in → Hidden → out with both
	// biases; Hidden default 1024, Activation default relu; Residual makes it r·f(q) + q, r learnt from 0).
	Kind       string
	Hidden     int
	Activation string
	// Bias adds the linear adapter's bias.
	Bias, Residual bool

	Epochs, BatchSize                                          int
	LearningRate, WeightDecay, WarmupRatio, MaxGradNorm, Scale float64
	CheckpointEvery                                            int
	// Seed draws the two-layer adapter's initial weights (default 42).
	Seed int
}

// workflow is the options as the workflow's: every zero field takes workflow.DefaultAdapterOptions (and, for a
// two-layer adapter, DefaultAdapterHidden and DefaultAdapterActivation, as the command line's flags do).
func (o AdapterOptions) workflow() workflow.AdapterOptions {
	w := workflow.DefaultAdapterOptions()
	if o.Kind != "" {
		w.Adapter.Kind = o.Kind
	}
	w.Adapter.Bias, w.Adapter.AddResidual = o.Bias, o.Residual
	if w.Adapter.Kind == adapter.TwoLayer {
		w.Adapter.Hidden, w.Adapter.Activation = workflow.DefaultAdapterHidden, workflow.DefaultAdapterActivation
		if o.Hidden != 0 {
			w.Adapter.Hidden = o.Hidden
		}
		if o.Activation != "" {
			w.Adapter.Activation = o.Activation
		}
	}
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setF := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	set(&w.Train.Epochs, o.Epochs)
	set(&w.Train.BatchSize, o.BatchSize)
	set(&w.Train.CheckpointEvery, o.CheckpointEvery)
	setF(&w.Train.LR, o.LearningRate)
	setF(&w.Train.WeightDecay, o.WeightDecay)
	setF(&w.Train.WarmupRatio, o.WarmupRatio)
	setF(&w.Train.MaxGradNorm, o.MaxGradNorm)
	setF(&w.Train.Scale, o.Scale)
	if o.Seed != 0 {
		w.Seed = uint64(o.Seed)
	}
	return w
}

// TrainAdapter trains an adapter over base's frozen embeddings of pairs' (anchor, positive) rows
// (workflow.TrainAdapter, as `ragnb train-adapter`) and returns base with the adapter on its query embeddings
// only, as LlamaIndex's AdapterEmbeddingModel applies one: Evaluate, MineNegatives, BuildPipeline and
// Embed(…, true) use the adapted queries, passages keep the base model's vectors (so the base model's
// embeddings and indexes are reused). Its cache keys include the adapter. It is memoised: the same base,
// pairs and options give the cached adapter at once. TrainingHistory and PlotTrainingHistory show its loss
// per step.
func TrainAdapter(base *Model, pairs *Dataset, opts AdapterOptions) *Model {
	chain := fmt.Sprintf("TrainAdapter(%s, %s)", base.Chain(), pairs.Chain())
	if base.Err() != nil {
		return failedModel(chain, base.Err())
	}
	if pairs.Err() != nil {
		return failedModel(chain, pairs.Err())
	}
	if base.adapter != nil {
		return failedModel(chain, fmt.Errorf("%s already has an adapter: train on the base model", base.Chain()))
	}
	def := workflow.DefaultTrainOptions()
	anchor, positive := opts.Anchor, opts.Positive
	if anchor == "" {
		anchor = def.Anchor
	}
	if positive == "" {
		positive = def.Positive
	}
	in := workflow.AdapterInput{Model: base.handle()}
	var err error
	if in.Queries, err = pairs.Strings(anchor); err != nil {
		return failedModel(chain, err)
	}
	if in.Positives, err = pairs.Strings(positive); err != nil {
		return failedModel(chain, err)
	}
	env, err := stepEnv()
	if err != nil {
		return failedModel(chain, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	res, err := workflow.TrainAdapter(ctx, env, in, opts.workflow(), "")
	if err != nil {
		return failedModel(chain, err)
	}
	m := *base
	m.h, m.chain, m.name = nil, chain, "adapter"
	m.adapter, m.adapterID, m.adapterDir = res.Adapter, res.ID, res.Dir
	m.notes = nil
	c := res.Adapter.Config()
	note := fmt.Sprintf("%s adapter %d → %d on queries only", c.Kind, c.In, c.Out)
	if n := len(res.Losses); n > 0 {
		note += fmt.Sprintf("; loss %.4f → %.4f over %d steps", res.Losses[0], res.Losses[n-1], n)
	}
	m.notes = append(m.notes, note)
	if res.Cached {
		m.notes = append(m.notes, "from cache")
	}
	return &m
}

// WithAdapter returns the model with the adapter saved in dir (`ragnb train-adapter --out DIR`) on its query
// embeddings, as TrainAdapter's result has it.
func (m *Model) WithAdapter(dir string) *Model {
	chain := fmt.Sprintf("%s.WithAdapter(%q)", m.chain, dir)
	if m.err != nil {
		return failedModel(chain, m.err)
	}
	a, id, err := workflow.LoadAdapter(dir)
	if err != nil {
		return failedModel(chain, err)
	}
	c := *m
	c.h, c.chain = nil, chain
	c.adapter, c.adapterID, c.adapterDir = a, id, dir
	return &c
}

// AdapterDir is the directory of the model's adapter ("" without one): config.json, model.safetensors and
// training_history.jsonl, in LlamaIndex's layout with safetensors weights.
func (m *Model) AdapterDir() string { return m.adapterDir }
