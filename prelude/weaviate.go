package prelude

import (
	"fmt"
	"html"
	"os"

	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/weaviate"
	"github.com/ragnb/ragnb/workflow"
)

// Weaviate names a collection on a Weaviate server: where Model.PushIndex writes and, as
// PipelineOptions.Weaviate, where BuildPipeline retrieves from.
type Weaviate struct {
	// URL is the server (e.g. http://127.0.0.1:8080).
	URL string
	// Collection is the class (default: from the model's name, weaviate.CollectionName).
	Collection string
	// APIKeyEnv names the environment variable holding the API key ("" for anonymous access).
	APIKeyEnv string
	// Hybrid fuses Weaviate's BM25 with the vector search; Alpha weighs the vector side (0: the workflow's
	// default, workflow.DefaultWeaviateOptions).
	Hybrid bool
	Alpha  float64
}

func (w Weaviate) apiKey() (string, error) {
	if w.APIKeyEnv == "" {
		return "", nil
	}
	if k := os.Getenv(w.APIKeyEnv); k != "" {
		return k, nil
	}
	return "", fmt.Errorf("weaviate: $%s (Weaviate.APIKeyEnv) is unset or empty", w.APIKeyEnv)
}

// source is the collection as MineOptions.Weaviate and EvalOptions.Weaviate search it (the bulk search's
// defaults: workflow.WeaviateSource's zero tuning).
func (w Weaviate) source(m *Model) (*workflow.WeaviateSource, error) {
	if w.URL == "" {
		return nil, fmt.Errorf("weaviate: no server URL (Weaviate.URL)")
	}
	k, err := w.apiKey()
	if err != nil {
		return nil, err
	}
	return &workflow.WeaviateSource{URL: w.URL, Collection: w.collection(m), APIKey: k}, nil
}

func (w Weaviate) collection(m *Model) string {
	if w.Collection != "" {
		return w.Collection
	}
	return weaviate.CollectionName(m.Name())
}

// IndexPushOptions configure Model.PushIndex. Zero values take the defaults.
type IndexPushOptions struct {
	// Corpus holds the passages in column Column (default "positive"), as for BuildPipeline.
	Corpus *Dataset
	Column string
	// Dim pushes a Matryoshka prefix of the embeddings, renormalised (0: the full dimension).
	Dim int
	// Prune deletes the collection's passages that left the corpus.
	Prune bool
}

// IndexPushed is the outcome of Model.PushIndex.
type IndexPushed struct {
	chain string
	res   weaviate.PushResult
	err   error
}

// Err is the push's error, or nil.
func (p *IndexPushed) Err() error { return p.err }

// Result says what the push did (collection, pushed, pruned, count).
func (p *IndexPushed) Result() weaviate.PushResult { return p.res }

// String describes the push in one line, or its error.
func (p *IndexPushed) String() string {
	if p.err != nil {
		return p.chain + " failed: " + p.err.Error()
	}
	return fmt.Sprintf("collection %s: pushed %d, pruned %d, %d objects", p.res.Collection, p.res.Pushed, p.res.Pruned, p.res.Count)
}

// HTML renders the push for the notebook.
func (p *IndexPushed) HTML() string {
	if p.err != nil {
		return tableError(p.chain, p.err)
	}
	return "<div>" + html.EscapeString(p.String()) + "</div>"
}

// PushIndex embeds the corpus with the model (the same memoised "index" step as BuildPipeline, so a pipeline
// built before costs nothing more) and writes it into a Weaviate collection, with the model's identity
// recorded on it. Pushing again updates in place; an interrupted push is resumed by running the cell again.
func (m *Model) PushIndex(target Weaviate, o IndexPushOptions) *IndexPushed {
	out := &IndexPushed{chain: fmt.Sprintf("%s.PushIndex(%s)", m.Name(), target.URL)}
	if o.Corpus == nil {
		out.err = fmt.Errorf("no corpus (IndexPushOptions.Corpus)")
		return out
	}
	if m.Err() != nil {
		out.err = m.Err()
		return out
	}
	column := o.Column
	docs, err := corpusDocs(o.Corpus, &column)
	if err != nil {
		out.err = err
		return out
	}
	env, err := stepEnv()
	if err != nil {
		out.err = err
		return out
	}
	ctx, cancel := cellContext()
	defer cancel()
	io := workflow.DefaultIndexOptions()
	io.Dim = o.Dim
	ix, err := workflow.BuildIndex(ctx, env, workflow.IndexInput{Docs: docs, Model: m.handle(), DocsID: o.Corpus.Hash(),
		Column: column, Name: m.Name()}, io)
	if err != nil {
		out.err = err
		return out
	}
	dir := ix.Dir
	opts := workflow.DefaultPushIndexOptions()
	opts.Collection, opts.Prune = target.collection(m), o.Prune
	if opts.APIKey, out.err = target.apiKey(); out.err != nil {
		return out
	}
	res, err := workflow.PushIndex(ctx, env, workflow.PushIndexInput{IndexDir: dir, URL: target.URL}, opts)
	if res != nil {
		out.res = *res
	}
	out.err = err
	return out
}

// weaviateInput is BuildPipeline's input retrieving from the collection w with the retriever model m.
func weaviateInput(m *Model, w Weaviate) (workflow.PipelineInput, error) {
	var in workflow.PipelineInput
	if m == nil {
		return in, fmt.Errorf("PipelineOptions.Weaviate needs the retriever model the collection was pushed with")
	}
	if m.Err() != nil {
		return in, m.Err()
	}
	e, err := m.embedder()
	if err != nil {
		return in, err
	}
	o := workflow.DefaultWeaviateOptions()
	o.URL, o.Collection, o.Hybrid = w.URL, w.collection(m), w.Hybrid
	if w.Alpha != 0 {
		o.Alpha = w.Alpha
	}
	if o.APIKey, err = w.apiKey(); err != nil {
		return in, err
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, s, err := workflow.WeaviateRetriever(ctx, index.Model{Embedder: e, Hash: m.ID(), Name: m.Name()}, o)
	if err != nil {
		return in, err
	}
	in.Retriever = r
	in.RetrieverInfo = map[string]any{"retriever": "weaviate", "collection": s.Collection(), "dim": s.Record().Dim}
	return in, nil
}
