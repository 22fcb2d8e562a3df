// Package index is a persisted vector index over a corpus for one bi-encoder: the documents, their
// embeddings, and either exact search (package search, the default) or an HNSW graph (package hnsw) for
// large corpora. An index remembers the content hash of the model that embedded it, so opening it with
// another model — a fine-tuned one, or a model directory that changed — is a clear "stale index" error
// (or a rebuild, on request) instead of silently wrong neighbours. Add embeds only documents it does not
// hold yet; Save replaces the directory atomically.
//
// It owns the index directory format, staleness, and turning query texts into hits over documents. It does
// not own embedding (vector.Embedder), the graph algorithm (hnsw), reranking or answering (package pipeline).
//
// Directory layout: manifest.json (Manifest), docs.jsonl (BEIR corpus lines {"_id","title","text"}, row
// order = vector order), vectors.npy (float32 [count, dim], L2-normalised for cosine), hnsw.bin (kind hnsw).
package index

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// Kind is how an index searches.
type Kind string

const (
	// Exact scores every document (package search): exact top-k, the default.
	Exact Kind = "exact"
	// HNSW walks a navigable small-world graph: approximate, sub-linear, for large corpora.
	HNSW Kind = "hnsw"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// Model is the embedder an index is built with and the identity it is checked against.
type Model struct {
	Embedder vector.Embedder
	// Hash identifies the model's weights and configuration: cache.HashDir of its directory (ModelFromDir).
	Hash string
	// Name is shown in messages (a directory or model name).
	Name string
}

// ModelFromDir identifies the model in dir by its content hash (every file, see cache.HashDir).
func ModelFromDir(dir string, emb vector.Embedder) (Model, error) {
	h, err := cache.HashDir(dir)
	if err != nil {
		return Model{}, fmt.Errorf("index: hash model %s: %w", dir, err)
	}
	return Model{Embedder: emb, Hash: h, Name: dir}, nil
}

// Options configure Build. Zero values take the defaults.
type Options struct {
	// Kind is Exact (default) or HNSW.
	Kind Kind
	// Similarity is search.Cosine (default) or search.Dot.
	Similarity search.Similarity
	// Dim truncates embeddings to their first Dim values and renormalises them (Matryoshka models); 0 keeps
	// the full dimension. Cosine only.
	Dim int
	// HNSW configures the graph of an HNSW index.
	HNSW hnsw.Params
	// BatchSize is the number of texts per embedding call (default 256): progress and cancellation happen
	// between batches.
	BatchSize int
	// Workers is the number of goroutines linking an HNSW graph (0: one per CPU; 1: reproducible links). It
	// is not saved.
	Workers int
	// Backend runs exact search; nil means gpu.Shared(). It is not saved.
	Backend compute.Backend
}

// Manifest describes a saved index (manifest.json).
type Manifest struct {
	Format     int               `json:"format"`
	Kind       Kind              `json:"kind"`
	ModelHash  string            `json:"model_hash"`
	ModelName  string            `json:"model_name,omitempty"`
	Similarity search.Similarity `json:"similarity"`
	// EmbeddingDim is what the model returns; Dim what is stored and searched (≤ EmbeddingDim). 0 while empty.
	EmbeddingDim int          `json:"embedding_dim"`
	Dim          int          `json:"dim"`
	TruncateDim  int          `json:"truncate_dim,omitempty"`
	Count        int          `json:"count"`
	HNSW         *hnsw.Params `json:"hnsw,omitempty"`
	Created      time.Time    `json:"created"`
	Updated      time.Time    `json:"updated"`
	// Files holds the size and SHA-256 of each data file, by name, checked by Open and Verify. Manifests
	// written before it existed have none: such an index opens, reported as unverified. They describe the
	// saved directory (ReadManifest), not an open Index, whose Manifest has none.
	Files map[string]FileSum `json:"files,omitempty"`
}

// FileSum is a data file's size in bytes and hex SHA-256.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Index is a corpus, its embeddings and a search structure. Searches run concurrently; Add excludes them
// only while it appends (embedding happens outside the lock).
type Index struct {
	model   Model
	backend compute.Backend
	batch   int
	workers int

	addMu sync.Mutex // one Add at a time

	mu       sync.RWMutex
	man      Manifest
	docs     []ir.Document
	pos      map[string]int
	vecs     *vector.Matrix
	graph    *hnsw.Graph
	efSearch int

	searcherOnce sync.Once
	searcher     *search.Searcher
	searcherErr  error
	onCPU        bool // the searcher's backend is the pure-Go one
	forceBackend bool // tests: exact search on the backend whatever the batch
}

// Hit is one retrieved document.
type Hit struct {
	// Row is the document's position in the index (insertion order).
	Row   int
	Doc   ir.Document
	Score float64
}

func (o Options) withDefaults() (Options, error) {
	if o.Kind == "" {
		o.Kind = Exact
	}
	if o.Kind != Exact && o.Kind != HNSW {
		return o, fmt.Errorf("index: unknown kind %q (want exact or hnsw)", o.Kind)
	}
	if o.Similarity == "" {
		o.Similarity = search.Cosine
	}
	if err := o.Similarity.Check(); err != nil {
		return o, fmt.Errorf("index: %w", err)
	}
	if o.Dim < 0 || (o.Dim > 0 && o.Similarity != search.Cosine) {
		return o, fmt.Errorf("index: truncating to dimension %d needs cosine similarity", o.Dim)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	o.HNSW = o.HNSW.WithDefaults()
	return o, nil
}

func checkModel(m Model) error {
	if m.Embedder == nil {
		return fmt.Errorf("index: no embedder")
	}
	if m.Hash == "" {
		return fmt.Errorf("index: the model has no hash (use ModelFromDir)")
	}
	return nil
}

// Build embeds docs with the model and indexes them. Document ids must be unique and non-empty; a document
// is embedded as ir.Document.Content() (title and text).
func Build(ctx context.Context, model Model, docs []ir.Document, opts Options, report progress.Func) (*Index, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	ix := &Index{model: model, backend: opts.Backend, batch: opts.BatchSize, workers: opts.Workers, pos: map[string]int{},
		man: Manifest{Format: FormatVersion, Kind: opts.Kind, ModelHash: model.Hash, ModelName: model.Name,
			Similarity: opts.Similarity, TruncateDim: opts.Dim, Created: now, Updated: now}}
	if opts.Kind == HNSW {
		p := opts.HNSW
		ix.man.HNSW = &p
	}
	if _, err := ix.Add(ctx, docs, report); err != nil {
		return nil, err
	}
	return ix, nil
}

// Manifest returns a copy of the index's manifest.
func (ix *Index) Manifest() Manifest {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	m := ix.man
	if m.HNSW != nil {
		p := *m.HNSW
		m.HNSW = &p
	}
	return m
}

// Model is the model the index embeds queries and new documents with.
func (ix *Index) Model() Model { return ix.model }

// Len is the number of documents.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.docs)
}

// Doc returns the document at row i.
func (ix *Index) Doc(i int) ir.Document {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.docs[i]
}

// Lookup returns the document with id, if present.
func (ix *Index) Lookup(id string) (ir.Document, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	i, ok := ix.pos[id]
	if !ok {
		return ir.Document{}, false
	}
	return ix.docs[i], true
}

// SetEfSearch sets the candidate list size of HNSW searches (ignored by exact indexes); larger is slower and
// closer to exact. It is not saved.
func (ix *Index) SetEfSearch(ef int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.efSearch = ef
}

// Add embeds and indexes the documents whose ids the index does not hold yet and returns how many it added.
// A document whose id is present with the same title and text is skipped; with different content it is an
// error (nothing is added: rebuild the index to change documents). An error or a cancellation while
// embedding adds nothing; a cancellation while linking an HNSW graph keeps the documents linked so far (the
// count says how many). Searches wait while rows are linked.
func (ix *Index) Add(ctx context.Context, docs []ir.Document, report progress.Func) (int, error) {
	ix.addMu.Lock()
	defer ix.addMu.Unlock()

	var fresh []ir.Document
	seen := map[string]int{}
	ix.mu.RLock()
	for i, d := range docs {
		if d.ID == "" {
			ix.mu.RUnlock()
			return 0, fmt.Errorf("index: document %d has an empty id", i)
		}
		if j, dup := seen[d.ID]; dup {
			ix.mu.RUnlock()
			return 0, fmt.Errorf("index: documents %d and %d share the id %q", j, i, d.ID)
		}
		seen[d.ID] = i
		if k, ok := ix.pos[d.ID]; ok {
			if old := ix.docs[k]; old.Title != d.Title || old.Text != d.Text {
				ix.mu.RUnlock()
				return 0, fmt.Errorf("index: document %q is already indexed with different content; rebuild the index to change documents", d.ID)
			}
			continue
		}
		fresh = append(fresh, d)
	}
	ix.mu.RUnlock()
	if len(fresh) == 0 {
		return 0, nil
	}

	vecs, modelDim, err := ix.embed(ctx, fresh, report)
	if err != nil {
		return 0, err
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	n, err := ix.appendLocked(ctx, fresh, vecs, modelDim, report)
	if n > 0 {
		ix.man.Updated = time.Now().UTC()
	}
	return n, err
}

// embed returns the stored form of docs' embeddings (truncated and normalised as the manifest says) and the
// model's own dimension.
func (ix *Index) embed(ctx context.Context, docs []ir.Document, report progress.Func) (*vector.Matrix, int, error) {
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Content()
	}
	tracker := progress.Start(report, "embed documents", len(texts), "texts")
	var out *vector.Matrix
	for start := 0; start < len(texts); start += ix.batch {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("index: embed documents: %w", err)
		}
		end := min(start+ix.batch, len(texts))
		m, err := ix.model.Embedder.EmbedDocuments(ctx, texts[start:end], nil)
		if err != nil {
			return nil, 0, fmt.Errorf("index: embed documents %d..%d (first id %q): %w", start, end-1, docs[start].ID, err)
		}
		if m.Rows != end-start {
			return nil, 0, fmt.Errorf("index: the embedder returned %d rows for %d texts", m.Rows, end-start)
		}
		if r, v, bad := firstNonFinite(m); bad {
			// A NaN vector would be stored and rank by NaN forever: refuse it before it reaches the index.
			return nil, 0, fmt.Errorf("index: document %q: the model returned a %v in its embedding (a damaged or diverged model?)", docs[start+r].ID, v)
		}
		if out == nil {
			out = &vector.Matrix{Dim: m.Dim, Data: make([]float32, 0, len(texts)*m.Dim)}
		} else if m.Dim != out.Dim {
			return nil, 0, fmt.Errorf("index: the embedder returned dimension %d, then %d", out.Dim, m.Dim)
		}
		out.Data = append(out.Data, m.Data...)
		out.Rows += m.Rows
		tracker.Set(end, nil)
	}
	tracker.Finish()
	ix.mu.RLock()
	want := ix.man.EmbeddingDim
	ix.mu.RUnlock()
	if want != 0 && out.Dim != want {
		return nil, 0, fmt.Errorf("index: the model embeds to dimension %d, the index holds dimension %d", out.Dim, want)
	}
	prepared, err := ix.prepare(out)
	return prepared, out.Dim, err
}

// firstNonFinite returns the row and value of m's first NaN or infinite value.
func firstNonFinite(m *vector.Matrix) (row int, v float32, found bool) {
	for i, x := range m.Data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i / max(m.Dim, 1), x, true
		}
	}
	return 0, 0, false
}

// prepare truncates and normalises model output as the manifest says. Without truncation it normalises m in
// place (cosine) and returns it: m must be the index's own copy.
func (ix *Index) prepare(m *vector.Matrix) (*vector.Matrix, error) {
	if ix.man.TruncateDim > 0 && ix.man.TruncateDim < m.Dim {
		return m.Truncate(ix.man.TruncateDim) // renormalises
	}
	if ix.man.TruncateDim > m.Dim {
		return nil, fmt.Errorf("index: truncate dimension %d exceeds the model's %d", ix.man.TruncateDim, m.Dim)
	}
	if ix.man.Similarity == search.Cosine {
		m.Normalize()
	}
	return m, nil
}

// appendLocked appends documents and their prepared vectors and links them into the graph. It returns how
// many it added: all of them, or on a cancelled graph insert the ones linked before it stopped.
func (ix *Index) appendLocked(ctx context.Context, docs []ir.Document, vecs *vector.Matrix, modelDim int, report progress.Func) (int, error) {
	if ix.vecs == nil {
		ix.vecs = &vector.Matrix{Dim: vecs.Dim}
		ix.man.EmbeddingDim, ix.man.Dim = modelDim, vecs.Dim
	}
	if ix.man.Kind == HNSW && ix.graph == nil {
		g, err := hnsw.New(vecs.Dim, *ix.man.HNSW)
		if err != nil {
			return 0, fmt.Errorf("index: %w", err)
		}
		ix.graph = g
	}
	old := ix.vecs.Rows
	grown := &vector.Matrix{Rows: old + vecs.Rows, Dim: vecs.Dim,
		Data: append(ix.vecs.Data[:len(ix.vecs.Data):len(ix.vecs.Data)], vecs.Data...)}
	var linkErr error
	if ix.graph != nil {
		// Searches hold the read lock, so rows are linked under the write lock. Rows linked before a
		// cancellation stay: they are complete and searchable.
		if err := ix.graph.AddWorkers(ctx, grown, ix.workers, report); err != nil {
			linkErr = fmt.Errorf("index: %d of %d new documents linked: %w", ix.graph.Len()-old, len(docs), err)
			grown.Rows = ix.graph.Len()
			grown.Data = grown.Data[:grown.Rows*grown.Dim]
			docs = docs[:grown.Rows-old]
		}
	}
	ix.vecs = grown
	for _, d := range docs {
		ix.pos[d.ID] = len(ix.docs)
		ix.docs = append(ix.docs, d)
	}
	ix.man.Count = len(ix.docs)
	return len(docs), linkErr
}

// EmbedQueries embeds query texts with the model's query prompt and prepares them for Search.
func (ix *Index) EmbedQueries(ctx context.Context, texts []string) (*vector.Matrix, error) {
	m, err := ix.model.Embedder.EmbedQueries(ctx, texts, nil)
	if err != nil {
		return nil, fmt.Errorf("index: embed queries: %w", err)
	}
	if m.Rows != len(texts) {
		return nil, fmt.Errorf("index: the embedder returned %d rows for %d queries", m.Rows, len(texts))
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.man.EmbeddingDim != 0 && m.Dim != ix.man.EmbeddingDim {
		return nil, fmt.Errorf("index: queries embed to dimension %d, the index was built from dimension %d", m.Dim, ix.man.EmbeddingDim)
	}
	// The embedder's matrix is left as it returned it; prepare works on a copy.
	return ix.prepare(&vector.Matrix{Rows: m.Rows, Dim: m.Dim, Data: slices.Clone(m.Data)})
}

// Search returns the k best documents for each prepared query row (EmbedQueries), best first; equal scores
// rank the earlier-added document first.
func (ix *Index) Search(ctx context.Context, queries *vector.Matrix, k int) ([][]Hit, error) {
	if k < 1 {
		return nil, fmt.Errorf("index: k=%d, want at least 1", k)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([][]Hit, queries.Rows)
	if len(ix.docs) == 0 || queries.Rows == 0 {
		return out, nil
	}
	if queries.Dim != ix.vecs.Dim {
		return nil, fmt.Errorf("index: queries have dimension %d, the index %d", queries.Dim, ix.vecs.Dim)
	}
	var raw [][]search.Hit
	var err error
	if ix.graph != nil {
		raw, err = ix.searchGraph(ctx, queries, k)
	} else {
		raw, err = ix.searchExact(ctx, queries, k)
	}
	if err != nil {
		return nil, err
	}
	for i, hits := range raw {
		out[i] = make([]Hit, len(hits))
		for j, h := range hits {
			out[i][j] = Hit{Row: h.Index, Doc: ix.docs[h.Index], Score: h.Score}
		}
	}
	return out, nil
}

// hostQueries is the largest batch searched exactly on the host when an accelerator could take it: the
// backend's search copies and normalises the whole corpus on every call (≈ 24 ms for 6.7k × 256 on the
// pure-Go backend), which only a large batch amortises, while the host scans the stored rows in place
// (≈ 0.25 ms per query with the SIMD dot product). On the pure-Go backend the host scan is as fast per
// query as the backend's matmul even for 1,000 queries, so every exact search runs on the host there.
const hostQueries = 32

func (ix *Index) searchExact(ctx context.Context, queries *vector.Matrix, k int) ([][]search.Hit, error) {
	// The searcher is made on first use (it opens the backend); the index lock is only read-held here.
	ix.searcherOnce.Do(func() {
		b := ix.backend
		if b == nil {
			if b, ix.searcherErr = gpu.Shared(); ix.searcherErr != nil {
				return
			}
		}
		ix.onCPU = b.String() == gobackend.BackendName
		ix.searcher, ix.searcherErr = search.New(b, search.Options{Similarity: ix.man.Similarity})
	})
	if ix.searcherErr != nil {
		return nil, fmt.Errorf("index: %w", ix.searcherErr)
	}
	if (queries.Rows <= hostQueries || ix.onCPU) && !ix.forceBackend {
		return ix.searchHost(ctx, queries, k)
	}
	hits, err := ix.searcher.Search(ctx, queries, ix.vecs, k, nil)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return hits, nil
}

// searchHost scores every stored row against each query on the CPU (the stored rows are already
// normalised for cosine, the queries by prepare), queries in parallel.
func (ix *Index) searchHost(ctx context.Context, queries *vector.Matrix, k int) ([][]search.Hit, error) {
	out := make([][]search.Hit, queries.Rows)
	k = min(k, ix.vecs.Rows)
	var wg sync.WaitGroup
	work := make(chan int, queries.Rows)
	for i := range queries.Rows {
		work <- i
	}
	close(work)
	for range min(runtime.GOMAXPROCS(0), queries.Rows) {
		wg.Go(func() {
			for i := range work {
				if ctx.Err() != nil {
					return
				}
				out[i] = topK(queries.Row(i), ix.vecs, k)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	return out, nil
}

// topK returns the k rows of m with the highest dot product with q, best first, ties by lower row.
func topK(q []float32, m *vector.Matrix, k int) []search.Hit {
	h := make([]search.Hit, 0, k) // min-heap by (score, -row): the worst kept hit on top
	worse := func(a, b search.Hit) bool { return a.Score < b.Score || (a.Score == b.Score && a.Index > b.Index) }
	for r := 0; r < m.Rows; r++ {
		s := float64(hnsw.Dot(q, m.Row(r)))
		if len(h) == k {
			if !(s > h[0].Score) {
				continue // ties keep the earlier row, already kept
			}
			h[0] = search.Hit{Index: r, Score: s}
			for i := 0; ; {
				l, rr, w := 2*i+1, 2*i+2, i
				if l < k && worse(h[l], h[w]) {
					w = l
				}
				if rr < k && worse(h[rr], h[w]) {
					w = rr
				}
				if w == i {
					break
				}
				h[i], h[w] = h[w], h[i]
				i = w
			}
			continue
		}
		h = append(h, search.Hit{Index: r, Score: s})
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	sort.Slice(h, func(i, j int) bool { return worse(h[j], h[i]) })
	return h
}

func (ix *Index) searchGraph(ctx context.Context, queries *vector.Matrix, k int) ([][]search.Hit, error) {
	out := make([][]search.Hit, queries.Rows)
	for i := range out {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("index: search: %w", err)
			}
		}
		h, err := ix.graph.Search(ix.vecs, queries.Row(i), k, ix.efSearch)
		if err != nil {
			return nil, fmt.Errorf("index: query %d: %w", i, err)
		}
		out[i] = h
	}
	return out, nil
}

// Query embeds texts and searches: the k best documents for each text.
func (ix *Index) Query(ctx context.Context, texts []string, k int) ([][]Hit, error) {
	q, err := ix.EmbedQueries(ctx, texts)
	if err != nil {
		return nil, err
	}
	return ix.Search(ctx, q, k)
}

// StaleError says an index was built with another model than the one it is opened with.
type StaleError struct {
	Dir                  string
	BuiltHash, BuiltName string
	NowHash, NowName     string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("stale index %s: built with model %s (hash %s), now %s (hash %s); rebuild it "+
		"(ragnb index build, or index.OpenOptions.RebuildStale)", e.Dir, nameOr(e.BuiltName), short(e.BuiltHash),
		nameOr(e.NowName), short(e.NowHash))
}

func nameOr(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// String describes the index in one line.
func (m Manifest) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s index, %d documents, dim %d", m.Kind, m.Count, m.Dim)
	if m.TruncateDim > 0 {
		fmt.Fprintf(&b, " (of %d)", m.EmbeddingDim)
	}
	fmt.Fprintf(&b, ", %s, model %s (%s)", m.Similarity, nameOr(m.ModelName), short(m.ModelHash))
	if m.HNSW != nil {
		fmt.Fprintf(&b, ", M %d efConstruction %d efSearch %d", m.HNSW.M, m.HNSW.EfConstruction, m.HNSW.EfSearch)
	}
	return b.String()
}
