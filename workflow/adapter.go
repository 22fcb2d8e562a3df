package workflow

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/vector"
)

// AdapterOptions configure TrainAdapter: the adapter's shape and its training (LlamaIndex's defaults).
type AdapterOptions struct {
	Adapter adapter.Config       `json:"adapter"`
	Train   adapter.TrainOptions `json:"train"`
	Seed    uint64               `json:"seed"`
}

// DefaultAdapterOptions are LlamaIndex's EmbeddingAdapterFinetuneEngine defaults: a linear adapter without
// bias (seeded with the identity), 1 epoch of batches of 10, lr 2e-5, AdamW weight decay 0.01, warmup 10%.
// The dimensions come from the base model.
func DefaultAdapterOptions() AdapterOptions {
	return AdapterOptions{Adapter: adapter.Config{Kind: adapter.Linear}, Train: adapter.DefaultTrainOptions(), Seed: 42}
}

// AdapterInput is what TrainAdapter reads: the frozen base model and (query, passage) pairs.
type AdapterInput struct {
	Model              *Model
	Queries, Positives []string
}

// Adapted is TrainAdapter's outcome: the adapter, the directory it is saved in, its losses.
type Adapted struct {
	Adapter *adapter.Adapter
	Dir     string
	Losses  []float64
	Cached  bool
}

// TrainAdapter embeds the pairs once with the frozen base model (queries with its query prompt, passages
// as documents: the stored embeddings evaluation and mining share) and trains an adapter over the query
// embeddings (package train/adapter). With a cache the result is memoised as step "train-adapter" and dir
// is the cache entry; without one it is saved into out (required then), with checkpoints under
// out/checkpoints/step_<N>.
func TrainAdapter(ctx context.Context, env Env, in AdapterInput, o AdapterOptions, out string) (*Adapted, error) {
	if in.Model == nil {
		return nil, fmt.Errorf("train adapter: no base model")
	}
	if len(in.Queries) != len(in.Positives) || len(in.Queries) < 2 {
		return nil, fmt.Errorf("train adapter: %d queries and %d passages: want matching pairs, at least 2", len(in.Queries), len(in.Positives))
	}
	q, err := in.Model.Embed(ctx, env, in.Queries, true)
	if err != nil {
		return nil, fmt.Errorf("train adapter: embed queries: %w", err)
	}
	p, err := in.Model.Embed(ctx, env, in.Positives, false)
	if err != nil {
		return nil, fmt.Errorf("train adapter: embed passages: %w", err)
	}
	if o.Adapter.In == 0 {
		o.Adapter.In = q.Dim
	}
	res := &Adapted{}
	compute := func(ctx context.Context, dir string) error {
		if dir == "" {
			dir = out
		}
		if dir == "" {
			return fmt.Errorf("train adapter: no output directory")
		}
		a, err := adapter.New(o.Adapter, o.Seed)
		if err != nil {
			return err
		}
		to := o.Train
		to.CheckpointDir = filepath.Join(dir, "checkpoints")
		if res.Losses, err = adapter.Train(ctx, a, q, p, to, env.Progress); err != nil {
			return err
		}
		res.Adapter, res.Dir = a, dir
		return a.Save(dir)
	}
	key := cache.Key{Step: "train-adapter", Version: 1, Inputs: []string{in.Model.EmbedID(),
		cache.HashStrings(in.Queries...), cache.HashStrings(in.Positives...)}, Params: o}
	res.Cached, err = env.memo(ctx, key, compute, func(dir string) (err error) {
		res.Dir = dir
		res.Adapter, err = adapter.Load(dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	if env.Cache != nil && out != "" && res.Dir != out {
		if err := res.Adapter.Save(out); err != nil {
			return nil, err
		}
		res.Dir = out
	}
	return res, nil
}

// AdaptedEmbedder is a base embedder with an adapter on its query embeddings, as LlamaIndex's
// AdapterEmbeddingModel applies one: documents are embedded by the base model unchanged, so an index built
// with the base model serves the adapted queries.
type AdaptedEmbedder struct {
	Base    vector.Embedder
	Adapter *adapter.Adapter
}

// EmbedQueries embeds with the base model, then applies the adapter.
func (a AdaptedEmbedder) EmbedQueries(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	m, err := a.Base.EmbedQueries(ctx, texts, report)
	if err != nil {
		return nil, err
	}
	return a.Adapter.Apply(m)
}

// EmbedDocuments embeds with the base model alone.
func (a AdaptedEmbedder) EmbedDocuments(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	return a.Base.EmbedDocuments(ctx, texts, report)
}
