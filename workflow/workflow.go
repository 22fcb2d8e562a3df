// Package workflow holds the mission's steps — load, chunk, generate, score, mine, train, evaluate, index,
// ask/serve, push — each as one function with one Options struct and one place for its defaults
// (Default<Step>Options), memoised through the step cache when the Env has one. It is the one layer both
// faces stand on: the prelude is its chainable façade for notebooks, cmd/ragnb turns flags into the same
// Options (its flag defaults read from the same Default functions). Nothing below this package imports it.
//
// A step takes its inputs in memory (texts, tables with their content hashes, opened models) so that both
// faces can feed it: the prelude from its Datasets and Models, the CLI from files. It reports progress to
// Env.Progress and never prints.
package workflow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/vector"
)

// Env is what every step runs in: where results are memoised, where progress goes and how model references
// are found.
type Env struct {
	// Cache memoises steps (the notebook's .ragnb, `--cache DIR` on the command line); nil computes every step
	// afresh and stores nothing.
	Cache *cache.Store
	// Progress receives the steps' progress reports (nil: none). The faces pass a ui/display renderer.
	Progress progress.Func
	// Resolve turns a model reference that is not a local directory (a Hub id) into one; nil accepts
	// directories only.
	Resolve func(ctx context.Context, ref string) (string, error)
}

// memo runs compute under key in the cache, or directly when there is none. fill is called on a hit (and on a
// miss after compute stored its files) with the entry's directory, to load the result; with no cache compute
// writes nowhere and fill is not called.
func (e Env) memo(ctx context.Context, key cache.Key, compute func(ctx context.Context, dir string) error, fill func(dir string) error) (hit bool, err error) {
	if e.Cache == nil {
		return false, compute(ctx, "")
	}
	computed := false
	dir, hit, err := e.Cache.Do(ctx, key, func(ctx context.Context, dir string) error {
		computed = true
		return compute(ctx, dir)
	})
	if err != nil {
		return hit, err
	}
	if computed {
		return hit, nil
	}
	if err := fill(dir); err != nil {
		return hit, fmt.Errorf("cached step %s in %s: %w", key.Step, dir, err)
	}
	return hit, nil
}

// Model is a model directory in the Hugging Face / sentence-transformers layout with its content identity,
// loaded at most once per process as a bi-encoder or a cross-encoder.
type Model struct {
	// Dir is the local directory.
	Dir string
	// ID is the content identity that cache keys use (cache.HashDir of Dir, or the key of the step that made
	// it); OpenModel fills it.
	ID string
	// Options are the load options (batch size, max length, Matryoshka dimension, sigmoid for rerankers).
	Options encoder.Options
	// Adapter, when set, is applied to the query embeddings only (LlamaIndex's AdapterEmbeddingModel): documents
	// keep the base model's vectors, so an index built with the base model serves the adapted queries.
	// AdapterID is its identity (AdapterIdentity), folded into EmbedID. WithAdapter sets both.
	Adapter   *adapter.Adapter
	AdapterID string

	mu sync.Mutex
	bi *encoder.BiEncoder
	ce *encoder.CrossEncoder
}

// OpenModel resolves ref (a directory, or what env.Resolve accepts) and hashes the directory for its ID.
func OpenModel(ctx context.Context, env Env, ref string, o encoder.Options) (*Model, error) {
	dir := ref
	if env.Resolve != nil {
		var err error
		if dir, err = env.Resolve(ctx, ref); err != nil {
			return nil, err
		}
	}
	id, err := cache.HashDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", ref, err)
	}
	return &Model{Dir: dir, ID: id, Options: o}, nil
}

// EmbedID identifies the embeddings this model gives under its load options: its ID when the options leave the
// vectors as the directory defines them, else the ID with the max length and dimension folded in; with an
// adapter, its identity too (so an adapted model's evaluations, minings and trainings never share a cache
// entry with the base model's).
func (m *Model) EmbedID() string {
	id := m.baseEmbedID()
	if m.Adapter == nil {
		return id
	}
	return cache.HashStrings(id, "adapter="+m.AdapterID)
}

// baseEmbedID is EmbedID without the adapter: the identity of the base model's vectors, which the Embed step
// keys on (documents are the base model's vectors; queries get the adapter after the cache).
func (m *Model) baseEmbedID() string {
	id := m.PromptID()
	if m.Options.MaxLength == 0 && m.Options.Dim == 0 {
		return id
	}
	return cache.HashStrings(id, fmt.Sprintf("max-length=%d dim=%d", m.Options.MaxLength, m.Options.Dim))
}

// PromptID is the model's identity under its prompt overrides (Options.Prompts, e.g. a query instruction set
// or removed): its ID when there are none, so the keys made before the overrides existed stay valid.
func (m *Model) PromptID() string {
	if len(m.Options.Prompts) == 0 {
		return m.ID
	}
	names := slices.Sorted(maps.Keys(m.Options.Prompts))
	parts := []string{m.ID}
	for _, n := range names {
		parts = append(parts, "prompt "+n+"="+m.Options.Prompts[n])
	}
	return cache.HashStrings(parts...)
}

// QueryInstruction are the encoder prompt overrides that set the query instruction (the "query" prompt of
// config_sentence_transformers.json, e.g. bge's "Represent this sentence for searching relevant passages: ")
// to instruction, or remove it with none; nil (the model's own prompts) when neither is asked.
func QueryInstruction(instruction string, none bool) (map[string]string, error) {
	switch {
	case none && instruction != "":
		return nil, fmt.Errorf("give a query instruction or none, not both")
	case none:
		return map[string]string{"query": ""}, nil
	case instruction != "":
		return map[string]string{"query": instruction}, nil
	}
	return nil, nil
}

// BiEncoder loads the model for embedding (once).
func (m *Model) BiEncoder() (*encoder.BiEncoder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bi == nil {
		bi, err := encoder.LoadBiEncoder(m.Dir, m.Options)
		if err != nil {
			return nil, err
		}
		m.bi = bi
	}
	return m.bi, nil
}

// Embedder is the model as retrieval embeds with it: the bi-encoder, with the adapter on its query embeddings
// when there is one.
func (m *Model) Embedder() (vector.Embedder, error) {
	bi, err := m.BiEncoder()
	if err != nil {
		return nil, err
	}
	if m.Adapter == nil {
		return bi, nil
	}
	return AdaptedEmbedder{Base: bi, Adapter: m.Adapter}, nil
}

// CrossEncoder loads the model as a reranker (once).
func (m *Model) CrossEncoder() (*encoder.CrossEncoder, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ce == nil {
		ce, err := encoder.LoadCrossEncoder(m.Dir, m.Options)
		if err != nil {
			return nil, err
		}
		m.ce = ce
	}
	return m.ce, nil
}
