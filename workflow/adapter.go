package workflow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train"
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

// The two-layer adapter's shape when none is given (LlamaIndex's TwoLayerNN has no default width; 1024 is the
// one its adapter notebook uses, with relu), for `ragnb train-adapter --kind two-layer` and the prelude alike.
const (
	DefaultAdapterHidden     = 1024
	DefaultAdapterActivation = "relu"
)

// AdapterInput is what TrainAdapter reads: the frozen base model and (query, passage) pairs.
type AdapterInput struct {
	Model              *Model
	Queries, Positives []string
}

// Adapted is TrainAdapter's outcome: the adapter (as saved: float32 weights, so a cached run gives the same
// vectors as the first), the directory it is saved in, its identity (AdapterIdentity), the loss of every step.
type Adapted struct {
	Adapter *adapter.Adapter
	Dir     string
	ID      string
	Losses  []float64
	Cached  bool
}

// AdapterHistory is the file in an adapter directory holding its training loss per step (train.History's
// JSONL: step, epoch, loss), which the prelude shows as the training history.
const AdapterHistory = "training_history.jsonl"

// AdapterIdentity is an adapter directory's identity: the hash of its config.json and model.safetensors only,
// so a copy (TrainAdapter's --out) identifies as the cache entry it came from, checkpoints and history aside.
func AdapterIdentity(dir string) (string, error) {
	var parts []string
	for _, f := range []string{"config.json", "model.safetensors"} {
		h, err := cache.HashFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("adapter %s: %w", dir, err)
		}
		parts = append(parts, f+"="+h)
	}
	return cache.HashStrings(parts...), nil
}

// LoadAdapter reads an adapter directory (TrainAdapter's output, `ragnb train-adapter --out`) with its
// identity.
func LoadAdapter(dir string) (*adapter.Adapter, string, error) {
	id, err := AdapterIdentity(dir)
	if err != nil {
		return nil, "", err
	}
	a, err := adapter.Load(dir)
	if err != nil {
		return nil, "", fmt.Errorf("adapter %s: %w", dir, err)
	}
	return a, id, nil
}

// WithAdapter is m with a (identity id) on its query embeddings: a new handle on the same directory and load
// options, whose EmbedID includes the adapter. The adapter's input width must be the model's output width;
// that is checked when it is first applied.
func (m *Model) WithAdapter(a *adapter.Adapter, id string) *Model {
	return &Model{Dir: m.Dir, ID: m.ID, Options: m.Options, Adapter: a, AdapterID: id}
}

// OpenAdapted is OpenModel followed by WithAdapter(LoadAdapter(adapterDir)); adapterDir "" opens the model
// alone. It is what the command line's --adapter DIR does.
func OpenAdapted(ctx context.Context, env Env, ref, adapterDir string, o encoder.Options) (*Model, error) {
	m, err := OpenModel(ctx, env, ref, o)
	if err != nil || adapterDir == "" {
		return m, err
	}
	a, id, err := LoadAdapter(adapterDir)
	if err != nil {
		return nil, err
	}
	return m.WithAdapter(a, id), nil
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
	if in.Model.Adapter != nil {
		return nil, fmt.Errorf("train adapter: the base model already has an adapter; train on the base model")
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
			return fmt.Errorf("train adapter: no output directory")
		}
		a, err := adapter.New(o.Adapter, o.Seed)
		if err != nil {
			return err
		}
		to := o.Train
		to.CheckpointDir = filepath.Join(dir, "checkpoints")
		losses, err := adapter.Train(ctx, a, q, p, to, env.Progress)
		if err != nil {
			return err
		}
		if err := a.Save(dir); err != nil {
			return err
		}
		return saveAdapterHistory(filepath.Join(dir, AdapterHistory), losses, len(in.Queries), o.Train.BatchSize)
	}
	key := cache.Key{Step: "train-adapter", Version: 2, Inputs: []string{in.Model.EmbedID(),
		cache.HashStrings(in.Queries...), cache.HashStrings(in.Positives...)}, Params: o}
	// Both paths read the adapter back from where it was saved, so the first run and a cached one apply the
	// same float32 weights.
	load := func(dir string) (err error) {
		res.Dir = dir
		if res.Adapter, res.ID, err = LoadAdapter(dir); err != nil {
			return err
		}
		res.Losses, err = loadAdapterHistory(filepath.Join(dir, AdapterHistory))
		return err
	}
	if env.Cache == nil {
		if err := compute(ctx, out); err != nil {
			return nil, err
		}
		if err := load(out); err != nil {
			return nil, err
		}
		return res, nil
	}
	// The step cache directly rather than env.memo: the adapter is read back from the entry's final
	// directory, which the model of the prelude points at.
	dir, hit, err := env.Cache.Do(ctx, key, compute)
	if err != nil {
		return nil, err
	}
	res.Cached = hit
	if err := load(dir); err != nil {
		return nil, fmt.Errorf("cached step train-adapter in %s: %w", dir, err)
	}
	if out != "" && res.Dir != out { // a copy where the caller asked for one, beside the cache entry
		if err := res.Adapter.Save(out); err != nil {
			return nil, err
		}
		if err := saveAdapterHistory(filepath.Join(out, AdapterHistory), res.Losses, len(in.Queries), o.Train.BatchSize); err != nil {
			return nil, err
		}
		res.Dir = out
	}
	return res, nil
}

// saveAdapterHistory writes the losses as a train.History (step, epoch, loss), the shape the prelude's
// TrainingHistory reads for full fine-tuning too.
func saveAdapterHistory(path string, losses []float64, pairs, batch int) error {
	if batch < 1 {
		batch = adapter.DefaultTrainOptions().BatchSize
	}
	perEpoch := float64((pairs + batch - 1) / batch)
	h := &train.History{}
	for i, l := range losses {
		h.Records = append(h.Records, train.Record{Step: i + 1, Epoch: float64(i+1) / perEpoch, Loss: l,
			LearningRate: math.NaN(), GradNorm: math.NaN()})
	}
	return h.SaveJSONL(path)
}

// loadAdapterHistory reads saveAdapterHistory's losses; an adapter saved without one (by hand, or by an
// earlier release) has none.
func loadAdapterHistory(path string) ([]float64, error) {
	h, err := train.LoadHistory(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	losses := make([]float64, len(h.Records))
	for i, r := range h.Records {
		losses[i] = r.Loss
	}
	return losses, nil
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
