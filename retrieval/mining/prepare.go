package mining

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// Prepared is the expensive part of mining, done once per (model, texts, top-k): the embeddings of the
// distinct queries and passages and each query's nearest passages. Select runs on it as often as needed.
type Prepared struct {
	Set *Set
	// Queries and Corpus are the embeddings (one row per Set.Queries / Set.Corpus entry), as the model gives
	// them; Select computes cosines, so they need not be normalised.
	Queries, Corpus *vector.Matrix
	// Hits holds, per query, the corpus indices of its min(TopK, corpus size) nearest passages by cosine,
	// nearest first (float32 scores, ties by lower index: package search), positives included.
	Hits [][]int32
	// EmbedCached and RetrieveCached say whether the embeddings / hits came from the cache.
	EmbedCached, RetrieveCached bool
}

// K is the number of hits retrieved per query.
func (p *Prepared) K() int {
	if len(p.Hits) == 0 {
		return 0
	}
	return len(p.Hits[0])
}

// PrepareOptions configure Prepare.
type PrepareOptions struct {
	// TopK is the number of passages retrieved per query (default 100).
	TopK int
	// Searcher runs the exact search; nil builds one on gpu.Shared() with search's default block shape.
	Searcher *search.Searcher
	// Cache, when set, memoises the query embeddings, the corpus embeddings and the hits as steps "embed"
	// and "mine-topk"; ModelID (the model's content identity, e.g. cache.HashDir of its folder, including
	// whatever changes its output such as a truncation dimension) is then required.
	Cache   *cache.Store
	ModelID string
	// DocumentsModelID, when set, keys the corpus embeddings instead of ModelID: a model whose queries are
	// changed after the base model (an adapter) shares the base model's passage vectors.
	DocumentsModelID string
}

// Embedder loads or returns the bi-encoder; Prepare calls it only when an embedding is not cached.
type Embedder func() (vector.Embedder, error)

// Static wraps an already loaded embedder.
func Static(e vector.Embedder) Embedder { return func() (vector.Embedder, error) { return e, nil } }

// Prepare embeds the set's queries (EmbedQueries, with the model's query prompt) and passages
// (EmbedDocuments) and retrieves each query's TopK nearest passages.
func Prepare(ctx context.Context, set *Set, load Embedder, o PrepareOptions, report progress.Func) (*Prepared, error) {
	if o.TopK == 0 {
		o.TopK = 100
	}
	if o.TopK < 1 {
		return nil, fmt.Errorf("mine: top-k %d, want at least 1", o.TopK)
	}
	if o.Cache != nil && o.ModelID == "" {
		return nil, fmt.Errorf("mine: caching needs the model's identity (PrepareOptions.ModelID)")
	}
	var model vector.Embedder
	getModel := func() (vector.Embedder, error) {
		if model == nil {
			m, err := load()
			if err != nil {
				return nil, fmt.Errorf("mine: load the bi-encoder: %w", err)
			}
			model = m
		}
		return model, nil
	}
	p := &Prepared{Set: set}
	qKey := EmbedKey(o.ModelID, set.QueriesHash(), true)
	docsID := o.ModelID
	if o.DocumentsModelID != "" {
		docsID = o.DocumentsModelID
	}
	cKey := EmbedKey(docsID, set.CorpusHash(), false)
	var qHit, cHit bool
	var err error
	p.Queries, qHit, err = embedCached(ctx, o.Cache, qKey, len(set.Queries), func() (*vector.Matrix, error) {
		m, err := getModel()
		if err != nil {
			return nil, err
		}
		return m.EmbedQueries(ctx, set.Queries, report)
	})
	if err != nil {
		return nil, fmt.Errorf("mine: embed %d queries: %w", len(set.Queries), err)
	}
	p.Corpus, cHit, err = embedCached(ctx, o.Cache, cKey, len(set.Corpus), func() (*vector.Matrix, error) {
		m, err := getModel()
		if err != nil {
			return nil, err
		}
		return m.EmbedDocuments(ctx, set.Corpus, report)
	})
	if err != nil {
		return nil, fmt.Errorf("mine: embed %d passages: %w", len(set.Corpus), err)
	}
	p.EmbedCached = qHit && cHit
	retrieve := func() ([][]int32, error) {
		return retrieveOn(ctx, o.Searcher, p.Queries, p.Corpus, o.TopK, report)
	}
	if o.Cache == nil {
		p.Hits, err = retrieve()
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	qh, err1 := qKey.Hash()
	ch, err2 := cKey.Hash()
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	key := cache.Key{Step: "mine-topk", Version: 1, Inputs: []string{qh, ch}, Params: map[string]any{"k": o.TopK, "similarity": "cosine"}}
	dir, hit, err := o.Cache.Do(ctx, key, func(ctx context.Context, dir string) error {
		hits, err := retrieve()
		if err != nil {
			return err
		}
		return SaveHits(filepath.Join(dir, "hits.bin"), hits)
	})
	if err != nil {
		return nil, err
	}
	if p.Hits, err = LoadHits(filepath.Join(dir, "hits.bin")); err != nil {
		return nil, err
	}
	p.RetrieveCached = hit
	return p, nil
}

// NewPrepared wraps embeddings computed elsewhere (e.g. loaded with vector.LoadNPY) and retrieves the hits.
func NewPrepared(ctx context.Context, set *Set, queries, corpus *vector.Matrix, searcher *search.Searcher, topK int, report progress.Func) (*Prepared, error) {
	if queries.Rows != len(set.Queries) || corpus.Rows != len(set.Corpus) {
		return nil, fmt.Errorf("mine: %d query and %d passage embeddings for %d queries and %d passages",
			queries.Rows, corpus.Rows, len(set.Queries), len(set.Corpus))
	}
	hits, err := retrieveOn(ctx, searcher, queries, corpus, topK, report)
	if err != nil {
		return nil, err
	}
	return &Prepared{Set: set, Queries: queries, Corpus: corpus, Hits: hits}, nil
}

// EmbedKey is the cache key of the embeddings of texts (textsHash = cache.HashStrings(texts...)) by a model,
// as queries (with the query prompt) or as documents: step "embed", data file embeddings.npy. The prelude's
// Model.Embed uses the same key, so mining and evaluation share stored embeddings.
func EmbedKey(modelID, textsHash string, queries bool) cache.Key {
	return cache.Key{Step: "embed", Version: 1, Inputs: []string{modelID, textsHash}, Params: map[string]any{"queries": queries}}
}

// embedCached runs embed, or loads its stored result when st has it.
func embedCached(ctx context.Context, st *cache.Store, key cache.Key, rows int, embed func() (*vector.Matrix, error)) (*vector.Matrix, bool, error) {
	check := func(m *vector.Matrix) (*vector.Matrix, error) {
		if m.Rows != rows {
			return nil, fmt.Errorf("%d embeddings for %d texts", m.Rows, rows)
		}
		return m, nil
	}
	if st == nil {
		m, err := embed()
		if err != nil {
			return nil, false, err
		}
		m, err = check(m)
		return m, false, err
	}
	dir, hit, err := st.Do(ctx, key, func(ctx context.Context, dir string) error {
		m, err := embed()
		if err != nil {
			return err
		}
		if _, err := check(m); err != nil {
			return err
		}
		return vector.SaveNPY(filepath.Join(dir, "embeddings.npy"), m)
	})
	if err != nil {
		return nil, false, err
	}
	m, err := vector.LoadNPY(filepath.Join(dir, "embeddings.npy"))
	if err != nil {
		return nil, hit, err
	}
	m, err = check(m)
	return m, hit, err
}

// Retrieve returns each query's min(k, corpus rows) nearest corpus rows by cosine (exact search, bounded
// memory: see package search).
func Retrieve(ctx context.Context, s *search.Searcher, queries, corpus *vector.Matrix, k int, report progress.Func) ([][]int32, error) {
	if s.Options().Similarity != search.Cosine {
		return nil, fmt.Errorf("mine: the searcher must use cosine similarity, not %s", s.Options().Similarity)
	}
	hits, err := s.Search(ctx, queries, corpus, k, report)
	if err != nil {
		return nil, fmt.Errorf("mine: retrieve top %d: %w", k, err)
	}
	out := make([][]int32, len(hits))
	for i, hs := range hits {
		out[i] = make([]int32, len(hs))
		for j, h := range hs {
			out[i][j] = int32(h.Index)
		}
	}
	return out, nil
}

// retrieveOn is Retrieve on s, or, when s is nil, on a searcher with search's defaults (gpu.Shared(), the
// default block shape) that is closed afterwards.
func retrieveOn(ctx context.Context, s *search.Searcher, queries, corpus *vector.Matrix, k int, report progress.Func) ([][]int32, error) {
	if s == nil {
		d, err := search.New(nil, search.Options{})
		if err != nil {
			return nil, err
		}
		defer d.Close()
		s = d
	}
	return Retrieve(ctx, s, queries, corpus, k, report)
}

// hitsMagic starts a hits file: the magic, then little-endian uint32 rows and k, then rows × k int32 corpus
// indices.
const hitsMagic = "RAGNBHITS1\n"

// SaveHits writes the retrieved indices (every row the same length) to path.
func SaveHits(path string, hits [][]int32) error {
	k := 0
	if len(hits) > 0 {
		k = len(hits[0])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString(hitsMagic)
	binary.Write(w, binary.LittleEndian, [2]uint32{uint32(len(hits)), uint32(k)})
	for i, h := range hits {
		if len(h) != k {
			f.Close()
			return fmt.Errorf("write %s: row %d has %d hits, row 0 has %d", path, i, len(h), k)
		}
		binary.Write(w, binary.LittleEndian, h)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// LoadHits reads a file written by SaveHits.
func LoadHits(path string) ([][]int32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	magic := make([]byte, len(hitsMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != hitsMagic {
		return nil, fmt.Errorf("read %s: not a hits file", path)
	}
	var dims [2]uint32
	if err := binary.Read(r, binary.LittleEndian, &dims); err != nil {
		return nil, fmt.Errorf("read %s header: %w", path, err)
	}
	hits := make([][]int32, dims[0])
	for i := range hits {
		hits[i] = make([]int32, dims[1])
		if err := binary.Read(r, binary.LittleEndian, hits[i]); err != nil {
			return nil, fmt.Errorf("read %s row %d: %w", path, i, err)
		}
	}
	return hits, nil
}
