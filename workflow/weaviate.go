package workflow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/weaviate"
	"github.com/ragnb/ragnb/vector"
)

// PushIndexOptions configure PushIndex. A push has an effect outside the cache, so it is never memoised; the
// json tags name the options in logs and results.
type PushIndexOptions struct {
	// Collection is the Weaviate class; "" derives it from the index directory's name (weaviate.CollectionName).
	Collection string `json:"collection"`
	// Dim pushes the first Dim dimensions of each vector, renormalised (a Matryoshka model); 0 pushes the
	// index's dimension.
	Dim int `json:"dim"`
	// BatchSize is the number of objects per batch request.
	BatchSize int `json:"batch_size"`
	// Prune deletes the collection's documents that the index no longer holds.
	Prune bool `json:"prune"`
	// HNSW configures the collection's vector index when the push creates it (zero: Weaviate's defaults).
	HNSW weaviate.HNSW `json:"hnsw"`
	// APIKey authenticates with the server (a bearer token); never logged or cached.
	APIKey string `json:"-"`
}

// DefaultPushIndexOptions: 256 objects per batch, the same count `ragnb index build` embeds per call (a 256-d
// float vector batch is about 1 MB of JSON, well under Weaviate's request limits), no pruning.
func DefaultPushIndexOptions() PushIndexOptions { return PushIndexOptions{BatchSize: 256} }

// PushIndexInput names the index directory (retrieval/index's layout) and the server.
type PushIndexInput struct {
	IndexDir string
	URL      string
}

// PushIndex copies a saved index into a Weaviate collection: its documents and stored vectors (no model is
// loaded), with a record of the model's hash, name, similarity, dimensions and prompts on the collection
// (weaviate.Record). Pushing again updates objects in place (UUIDs derive from document ids), so a killed
// push is resumed by running it again.
func PushIndex(ctx context.Context, env Env, in PushIndexInput, o PushIndexOptions) (*weaviate.PushResult, error) {
	man, err := index.ReadManifest(in.IndexDir)
	if err != nil {
		return nil, err
	}
	docs, err := ir.LoadCorpus(filepath.Join(in.IndexDir, index.DocsFile))
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", in.IndexDir, err)
	}
	if len(docs) != man.Count {
		return nil, fmt.Errorf("push %s: %s holds %d documents, the manifest says %d", in.IndexDir, index.DocsFile, len(docs), man.Count)
	}
	if man.Count == 0 {
		return nil, fmt.Errorf("push %s: the index is empty", in.IndexDir)
	}
	vecs, err := vector.LoadNPY(filepath.Join(in.IndexDir, index.VectorsFile))
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", in.IndexDir, err)
	}
	if vecs.Rows != man.Count || vecs.Dim != man.Dim {
		return nil, fmt.Errorf("push %s: vectors are %d×%d, the manifest says %d×%d", in.IndexDir, vecs.Rows, vecs.Dim, man.Count, man.Dim)
	}
	rec := weaviate.Record{ModelHash: man.ModelHash, ModelName: man.ModelName, Similarity: string(man.Similarity),
		EmbeddingDim: man.EmbeddingDim, Dim: man.Dim}
	if o.Dim > 0 {
		if o.Dim > man.Dim {
			return nil, fmt.Errorf("push %s: --dim %d is larger than the index's dimension %d", in.IndexDir, o.Dim, man.Dim)
		}
		rec.Dim = o.Dim
	}
	// The prompts are recorded for readers of the collection; the model hash is what is checked.
	if info, err := os.Stat(man.ModelName); err == nil && info.IsDir() {
		if l, err := modeldir.Read(man.ModelName); err == nil {
			rec.QueryPrompt, rec.DocumentPrompt = l.QueryPrompt(), l.DocumentPrompt()
		}
	}
	name := o.Collection
	if name == "" {
		abs, _ := filepath.Abs(in.IndexDir)
		name = weaviate.CollectionName(filepath.Base(abs))
	}
	if err := weaviate.CheckCollectionName(name); err != nil {
		return nil, err
	}
	c, err := weaviate.New(in.URL, weaviate.Options{APIKey: o.APIKey})
	if err != nil {
		return nil, err
	}
	res, err := weaviate.Push(ctx, c, name, rec, docs, vecs, weaviate.PushOptions{BatchSize: o.BatchSize, Prune: o.Prune, HNSW: o.HNSW}, env.Progress)
	if err != nil {
		return &res, fmt.Errorf("push %s to %s collection %s: %w", in.IndexDir, c.URL(), name, err)
	}
	return &res, nil
}

// WeaviateOptions say which collection a pipeline retrieves from and how.
type WeaviateOptions struct {
	URL        string `json:"url"`
	Collection string `json:"collection"`
	// Hybrid fuses Weaviate's BM25 with the vector search; Alpha weighs the vector side (1: vector only).
	Hybrid bool    `json:"hybrid"`
	Alpha  float64 `json:"alpha"`
	APIKey string  `json:"-"`
}

// DefaultWeaviateOptions: vector search (nearVector); a hybrid search weighs BM25 and the vector equally
// (alpha 0.5), the middle ground until a corpus's own evaluation says otherwise (Weaviate's default, 0.75,
// assumes its vectorizer modules' general-purpose embeddings).
func DefaultWeaviateOptions() WeaviateOptions { return WeaviateOptions{Alpha: 0.5} }

// WeaviateRetriever opens collection o.Collection for the bi-encoder model (checked against the model hash
// recorded on the collection) and returns it as the pipeline's retriever, with the searcher for its record.
func WeaviateRetriever(ctx context.Context, model index.Model, o WeaviateOptions) (pipeline.Retriever, *weaviate.Searcher, error) {
	if o.Collection == "" {
		return nil, nil, fmt.Errorf("weaviate: no collection named")
	}
	c, err := weaviate.New(o.URL, weaviate.Options{APIKey: o.APIKey})
	if err != nil {
		return nil, nil, err
	}
	s, err := weaviate.OpenSearcher(ctx, c, o.Collection, model.Embedder, model.Hash, model.Name,
		weaviate.SearcherOptions{Hybrid: o.Hybrid, Alpha: o.Alpha})
	if err != nil {
		return nil, nil, err
	}
	return pipeline.Remote(s), s, nil
}
