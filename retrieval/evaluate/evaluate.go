// Package evaluate measures retrieval end to end, the way sentence-transformers' evaluators do: a
// bi-encoder (any vector.Embedder) at every Matryoshka dimension in one embedding pass, the BM25 baseline,
// a given run, and a reranker (any relevance.Scorer) over a first stage; plus cross-encoder regression
// against teacher scores. Results are Reports: flat sentence-transformers-style keys
// (dim_<d>_cosine_ndcg@10, bm25_ndcg@10, ndcg@10) for JSON, a gota DataFrame for the notebook, a text
// table for the terminal, and base-vs-fine-tuned comparisons.
//
// It composes packages ir (data, metrics), search (dense top-k) and bm25; it does not load models.
package evaluate

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/gomlx/compute"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// Options configure an IR evaluator. Zero values take the defaults.
type Options struct {
	// Config holds the metric cut-offs; the zero value means ir.DefaultConfig().
	Config ir.Config
	// Dims are the Matryoshka dimensions to evaluate, e.g. 768, 512, 256, 128, 64; nil means the embeddings'
	// full dimension only.
	Dims []int
	// Similarities are the score functions (search.Cosine, search.Dot); nil means cosine only.
	Similarities []search.Similarity
	// Search sets the dense search block shape and selection (its Similarity is ignored).
	Search search.Options
	// Backend runs the dense search; nil means gpu.Shared().
	Backend compute.Backend
}

// IR evaluates retrieval over one dataset. Build it once (NewIR) and call it as often as needed, e.g. every
// few hundred training steps: the corpus, BM25 indexes and compiled search programs are kept.
// It is safe for concurrent use.
type IR struct {
	opts    Options
	corpus  []ir.Document // sorted by id: row i of corpus embeddings is corpus[i]
	queries []ir.Query    // evaluated queries (with a relevant document), dataset order
	qrels   ir.Qrels

	searcherOnce sync.Once
	searcher     *search.Searcher
	searcherErr  error

	mu   sync.Mutex
	bm25 map[bm25.Params]*bm25.Index
}

// NewIR prepares an evaluator. Only queries with at least one relevant document are evaluated
// (sentence-transformers' rule); queries with empty text are kept. The corpus is ordered by document id,
// so that equal scores rank by document id everywhere (dense search breaks ties by row).
func NewIR(ds *ir.Dataset, opts Options) (*IR, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if len(opts.Config.Names()) == 0 {
		opts.Config = ir.DefaultConfig()
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if len(opts.Similarities) == 0 {
		opts.Similarities = []search.Similarity{search.Cosine}
	}
	for _, s := range opts.Similarities {
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
	}
	e := &IR{opts: opts, qrels: ds.Qrels, queries: ds.Evaluated(), bm25: map[bm25.Params]*bm25.Index{}}
	if len(e.queries) == 0 {
		return nil, fmt.Errorf("evaluate: none of the %d queries has a relevant document in the qrels", len(ds.Queries))
	}
	if len(ds.Corpus) == 0 {
		return nil, fmt.Errorf("evaluate: empty corpus")
	}
	e.corpus = append([]ir.Document(nil), ds.Corpus...)
	sort.SliceStable(e.corpus, func(i, j int) bool { return e.corpus[i].ID < e.corpus[j].ID })
	return e, nil
}

// Corpus is the evaluated corpus in row order (sorted by id): corpus embeddings passed to
// EvaluateEmbeddings must follow it.
func (e *IR) Corpus() []ir.Document { return e.corpus }

// Queries are the evaluated queries in row order: query embeddings passed to EvaluateEmbeddings follow it.
func (e *IR) Queries() []ir.Query { return e.queries }

// Config is the metric configuration in use.
func (e *IR) Config() ir.Config { return e.opts.Config }

// QueryTexts and CorpusTexts are what an embedder or a lexical retriever sees (documents as Content()).
func (e *IR) QueryTexts() []string {
	out := make([]string, len(e.queries))
	for i, q := range e.queries {
		out[i] = q.Text
	}
	return out
}

// CorpusTexts returns each document's Content() in row order.
func (e *IR) CorpusTexts() []string {
	out := make([]string, len(e.corpus))
	for i, d := range e.corpus {
		out[i] = d.Content()
	}
	return out
}

func (e *IR) getSearcher() (*search.Searcher, error) {
	e.searcherOnce.Do(func() {
		// Rows are normalised before searching for cosine, so the search itself is always a dot product.
		so := e.opts.Search
		so.Similarity = search.Dot
		e.searcher, e.searcherErr = search.New(e.opts.Backend, so)
	})
	return e.searcher, e.searcherErr
}

// Close frees the compiled search programs.
func (e *IR) Close() {
	if s, err := e.getSearcher(); err == nil && s != nil {
		s.Close()
	}
}

// EvaluateRun scores a run over the evaluated queries; label prefixes its keys ("" for bare metric names).
func (e *IR) EvaluateRun(run ir.Run, label string) (*Report, error) {
	ids := make([]string, len(e.queries))
	for i, q := range e.queries {
		ids[i] = q.ID
	}
	m, err := ir.EvaluateQueries(run, e.qrels, ids, e.opts.Config)
	if err != nil {
		return nil, err
	}
	return &Report{Columns: []Column{{Label: label, Metrics: m, Run: run}}}, nil
}

// EvaluateEmbedder embeds the queries and the corpus once at full dimension and evaluates every configured
// dimension and similarity from those embeddings (keys dim_<d>_<similarity>_<metric>@k).
func (e *IR) EvaluateEmbedder(ctx context.Context, emb vector.Embedder, report progress.Func) (*Report, error) {
	q, err := emb.EmbedQueries(ctx, e.QueryTexts(), report)
	if err != nil {
		return nil, fmt.Errorf("evaluate: embed %d queries: %w", len(e.queries), err)
	}
	c, err := emb.EmbedDocuments(ctx, e.CorpusTexts(), report)
	if err != nil {
		return nil, fmt.Errorf("evaluate: embed %d documents: %w", len(e.corpus), err)
	}
	return e.EvaluateEmbeddings(ctx, q, c, report)
}

// EvaluateEmbeddings evaluates precomputed embeddings, rows in Queries() and Corpus() order. For each
// dimension d the first d columns are taken; cosine renormalises them (Matryoshka truncation,
// vector.Matrix.Truncate), dot uses them as they are (sentence-transformers' truncate_dim).
func (e *IR) EvaluateEmbeddings(ctx context.Context, queries, corpus *vector.Matrix, report progress.Func) (*Report, error) {
	if queries.Rows != len(e.queries) || corpus.Rows != len(e.corpus) {
		return nil, fmt.Errorf("evaluate: got %d query and %d corpus embeddings for %d queries and %d documents",
			queries.Rows, corpus.Rows, len(e.queries), len(e.corpus))
	}
	if queries.Dim != corpus.Dim {
		return nil, fmt.Errorf("evaluate: query embeddings have dimension %d, corpus %d", queries.Dim, corpus.Dim)
	}
	dims := e.opts.Dims
	if len(dims) == 0 {
		dims = []int{queries.Dim}
	}
	for _, d := range dims {
		if d < 1 || d > queries.Dim {
			return nil, fmt.Errorf("evaluate: dimension %d: embeddings have %d", d, queries.Dim)
		}
	}
	out := &Report{}
	for _, d := range dims {
		for _, sim := range e.opts.Similarities {
			run, err := e.DenseRun(ctx, queries, corpus, d, sim, report)
			if err != nil {
				return nil, err
			}
			r, err := e.EvaluateRun(run, fmt.Sprintf("dim_%d_%s", d, sim))
			if err != nil {
				return nil, err
			}
			out.Columns = append(out.Columns, r.Columns...)
		}
	}
	return out, nil
}

// DenseRun searches the corpus embeddings with the query embeddings at dimension dim and returns the top
// Config().MaxK() hits per query as a run (e.g. a first stage to rerank).
func (e *IR) DenseRun(ctx context.Context, queries, corpus *vector.Matrix, dim int, sim search.Similarity, report progress.Func) (ir.Run, error) {
	if queries.Dim != corpus.Dim || dim < 1 || dim > queries.Dim {
		return nil, fmt.Errorf("evaluate: dimension %d of query embeddings (%d) and corpus embeddings (%d)", dim, queries.Dim, corpus.Dim)
	}
	if queries.Rows != len(e.queries) || corpus.Rows != len(e.corpus) {
		return nil, fmt.Errorf("evaluate: got %d query and %d corpus embeddings for %d queries and %d documents",
			queries.Rows, corpus.Rows, len(e.queries), len(e.corpus))
	}
	s, err := e.getSearcher()
	if err != nil {
		return nil, err
	}
	hits, err := s.Search(ctx, prepare(queries, dim, sim), prepare(corpus, dim, sim), e.opts.Config.MaxK(), report)
	if err != nil {
		return nil, fmt.Errorf("evaluate: dimension %d %s: %w", dim, sim, err)
	}
	return e.toRun(hits), nil
}

// prepare returns the first dim columns of m, renormalised for cosine. The matrix itself is returned (no
// copy) at full dimension for dot, and for cosine when its rows are already unit length or zero.
func prepare(m *vector.Matrix, dim int, sim search.Similarity) *vector.Matrix {
	if sim == search.Cosine {
		if dim == m.Dim && unitRows(m) {
			return m
		}
		t, _ := m.Truncate(dim) // dim was validated
		return t
	}
	if dim == m.Dim {
		return m
	}
	out := vector.New(m.Rows, dim)
	for i := 0; i < m.Rows; i++ {
		copy(out.Row(i), m.Row(i)[:dim])
	}
	return out
}

// unitRows reports whether every row of m has L2 norm 1 (within float32 rounding) or 0.
func unitRows(m *vector.Matrix) bool {
	for i := 0; i < m.Rows; i++ {
		n := vector.Dot(m.Row(i), m.Row(i))
		if n != 0 && math.Abs(n-1) > 1e-6 {
			return false
		}
	}
	return true
}

func (e *IR) toRun(hits [][]search.Hit) ir.Run {
	run := make(ir.Run, len(hits))
	for i, hs := range hits {
		out := make([]ir.Hit, len(hs))
		for j, h := range hs {
			out[j] = ir.Hit{DocID: e.corpus[h.Index].ID, Score: h.Score}
		}
		run[e.queries[i].ID] = out
	}
	return run
}

// BM25Index returns the BM25 index of the corpus for p, built on first use and kept.
func (e *IR) BM25Index(p bm25.Params) (*bm25.Index, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ix := e.bm25[p]; ix != nil {
		return ix, nil
	}
	ix, err := bm25.New(e.CorpusTexts(), p)
	if err != nil {
		return nil, err
	}
	e.bm25[p] = ix
	return ix, nil
}

// BM25Run retrieves the top Config().MaxK() documents per query with BM25.
func (e *IR) BM25Run(ctx context.Context, p bm25.Params, report progress.Func) (ir.Run, error) {
	ix, err := e.BM25Index(p)
	if err != nil {
		return nil, err
	}
	hits, err := ix.SearchMany(ctx, e.QueryTexts(), e.opts.Config.MaxK(), report)
	if err != nil {
		return nil, err
	}
	return e.toRun(hits), nil
}

// EvaluateBM25 evaluates the BM25 baseline (keys bm25_<metric>@k).
func (e *IR) EvaluateBM25(ctx context.Context, p bm25.Params, report progress.Func) (*Report, error) {
	run, err := e.BM25Run(ctx, p, report)
	if err != nil {
		return nil, err
	}
	return e.EvaluateRun(run, "bm25")
}

// EvaluateReranker reranks the top opts.Depth hits of a first-stage run with the scorer and evaluates the
// result; label prefixes the keys (e.g. "bm25_rerank" gives bm25_rerank_ndcg@10).
func (e *IR) EvaluateReranker(ctx context.Context, s ir.Scorer, first ir.Run, opts RerankOptions, label string, report progress.Func) (*Report, ir.Run, error) {
	queries := make(map[string]string, len(e.queries))
	for _, q := range e.queries {
		queries[q.ID] = q.Text
	}
	docs := make(map[string]string, len(e.corpus))
	for _, d := range e.corpus {
		docs[d.ID] = d.Content()
	}
	run, err := Rerank(ctx, s, first, queries, docs, opts, report)
	if err != nil {
		return nil, nil, err
	}
	r, err := e.EvaluateRun(run, label)
	if err != nil {
		return nil, nil, err
	}
	return r, run, nil
}
