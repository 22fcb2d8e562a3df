// Package search is exact (brute-force) dense top-k search: for every query row, the k corpus rows with the
// highest cosine or dot-product score. Scores are computed on a GoMLX backend (gpu.Shared() by default) in
// fixed-shape blocks of QueryChunk × CorpusChunk, so memory stays bounded by a few blocks plus k hits per
// query and never holds the full query × corpus score matrix. The last chunks are zero-padded so every
// block has the same shape and each shape compiles once per Searcher.
//
// It owns exact search and the Hit type that other retrievers (bm25) share. It does not own embedding
// (vector.Embedder), approximate indexes, or evaluation (package evaluate).
package search

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// Hit is one retrieved corpus row and its score; higher scores are better.
type Hit struct {
	Index int
	Score float64
}

// Similarity names a score function.
type Similarity string

const (
	// Cosine is the dot product of the L2-normalised rows (a zero row scores 0), sentence-transformers'
	// cos_sim.
	Cosine Similarity = "cosine"
	// Dot is the raw dot product.
	Dot Similarity = "dot"
)

// Check says whether s is one of the similarities (the packages that take one report it under their name).
func (s Similarity) Check() error {
	if s != Cosine && s != Dot {
		return fmt.Errorf("unknown similarity %q (want cosine or dot)", s)
	}
	return nil
}

// Selection says where each block's top k is picked.
type Selection string

const (
	// SelectAuto picks on the device for accelerators (the block's scores never leave it, only k per row do),
	// and on the host for the pure-Go backend (where the block is already in host memory and a bounded
	// heap beats a full sort).
	SelectAuto Selection = ""
	// SelectHost copies each score block to host memory and keeps a bounded heap per query.
	SelectHost Selection = "host"
	// SelectDevice runs TopK on the backend and merges k candidates per block on the host.
	SelectDevice Selection = "device"
)

// Options configure a Searcher. Zero values take the defaults.
type Options struct {
	// Similarity is Cosine (default) or Dot.
	Similarity Similarity
	// QueryChunk and CorpusChunk are the block shape (defaults 256 and 8192): one block of scores takes
	// QueryChunk × CorpusChunk × 4 bytes. Smaller inputs use smaller blocks (rounded up to 8 queries and 64
	// corpus rows) so tiny searches do not pay for a full block.
	QueryChunk, CorpusChunk int
	// Select chooses where top-k selection happens; see Selection.
	Select Selection
}

func (o Options) withDefaults() (Options, error) {
	if o.Similarity == "" {
		o.Similarity = Cosine
	}
	if err := o.Similarity.Check(); err != nil {
		return o, fmt.Errorf("search: %w", err)
	}
	if o.QueryChunk <= 0 {
		o.QueryChunk = 256
	}
	if o.CorpusChunk <= 0 {
		o.CorpusChunk = 8192
	}
	switch o.Select {
	case SelectAuto, SelectHost, SelectDevice:
	default:
		return o, fmt.Errorf("search: unknown selection %q (want host or device)", o.Select)
	}
	return o, nil
}

// Searcher runs exact searches on one backend. It keeps its compiled programs between calls, so build it
// once and reuse it (an evaluator called every few training steps pays compilation only on the first call).
// It is safe for concurrent use.
type Searcher struct {
	backend compute.Backend
	opts    Options
	device  bool // top-k selection on the device

	mu     sync.Mutex
	scores *graph.Exec         // (q, c) → scores [bq, bc]
	topk   map[int]*graph.Exec // k → (q, c, valid) → (values, indices) [bq, k]
}

// New returns a Searcher on backend b; nil means gpu.Shared().
func New(b compute.Backend, opts Options) (*Searcher, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if b == nil {
		sb, err := gpu.Shared()
		if err != nil {
			return nil, fmt.Errorf("search: open backend: %w", err)
		}
		b = sb
	}
	s := &Searcher{backend: b, opts: opts, topk: map[int]*graph.Exec{}}
	switch opts.Select {
	case SelectDevice:
		s.device = true
	case SelectAuto:
		s.device = b.String() != gobackend.BackendName
	}
	return s, nil
}

// Options returns the searcher's options with defaults filled in.
func (s *Searcher) Options() Options { return s.opts }

// Close frees the compiled programs. The backend itself is not closed.
func (s *Searcher) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scores != nil {
		s.scores.Finalize()
		s.scores = nil
	}
	for k, e := range s.topk {
		e.Finalize()
		delete(s.topk, k)
	}
}

// normalize applies the similarity's preprocessing to a [rows, dim] block.
func (s *Searcher) normalize(x *graph.Node) *graph.Node {
	if s.opts.Similarity == Cosine {
		return graph.L2Normalize(x, -1) // zero rows stay zero, as torch's F.normalize does
	}
	return x
}

func (s *Searcher) blockScores(q, c *graph.Node) *graph.Node {
	return graph.DotGeneral(s.normalize(q), []int{1}, nil, s.normalize(c), []int{1}, nil)
}

func (s *Searcher) scoresExec() (*graph.Exec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scores == nil {
		e, err := graph.NewExec(s.backend, func(q, c *graph.Node) *graph.Node { return s.blockScores(q, c) })
		if err != nil {
			return nil, err
		}
		s.scores = e.SetMaxCache(-1).WithName("search.scores")
	}
	return s.scores, nil
}

func (s *Searcher) topkExec(k int) (*graph.Exec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.topk[k]; e != nil {
		return e, nil
	}
	e, err := graph.NewExec(s.backend, func(q, c, valid *graph.Node) (*graph.Node, *graph.Node) {
		scores := s.blockScores(q, c)
		// Padded corpus rows (column ≥ valid) must never be selected.
		col := graph.Iota(q.Graph(), shapes.Make(dtypes.Int32, scores.Shape().Dimensions...), 1)
		negInf := graph.BroadcastToDims(graph.Infinity(q.Graph(), scores.DType(), -1), scores.Shape().Dimensions...)
		scores = graph.Where(graph.LessThan(col, valid), scores, negInf)
		return graph.TopK(scores, k, -1)
	})
	if err != nil {
		return nil, err
	}
	e = e.SetMaxCache(-1).WithName(fmt.Sprintf("search.top%d", k))
	s.topk[k] = e
	return e, nil
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// Search returns, for every query row, the k best corpus rows by score (highest first; equal scores by lower
// corpus row first). k larger than the corpus returns every row. A NaN score ranks below every number.
// Scores are float32 dot products (after L2 normalisation for Cosine) reported as float64.
func (s *Searcher) Search(ctx context.Context, queries, corpus *vector.Matrix, k int, report progress.Func) ([][]Hit, error) {
	if k < 1 {
		return nil, fmt.Errorf("search: k=%d, want at least 1", k)
	}
	if queries.Rows > 0 && corpus.Rows > 0 && queries.Dim != corpus.Dim {
		return nil, fmt.Errorf("search: queries have dimension %d, corpus %d", queries.Dim, corpus.Dim)
	}
	nq, nc, dim := queries.Rows, corpus.Rows, queries.Dim
	heaps := make([]topHeap, nq)
	if nq == 0 || nc == 0 {
		return make([][]Hit, nq), nil
	}
	k = min(k, nc)
	for i := range heaps {
		heaps[i] = topHeap{k: k, items: make([]cand, 0, k)}
	}
	bq := min(s.opts.QueryChunk, roundUp(nq, 8))
	bc := min(s.opts.CorpusChunk, roundUp(nc, 64))
	kb := min(k, bc) // candidates per block when selecting on the device
	var exec *graph.Exec
	var err error
	if s.device {
		exec, err = s.topkExec(kb)
	} else {
		exec, err = s.scoresExec()
	}
	if err != nil {
		return nil, fmt.Errorf("search: build program: %w", err)
	}

	// Query chunks are uploaded once and reused against every corpus chunk.
	nQChunks, nCChunks := (nq+bq-1)/bq, (nc+bc-1)/bc
	qTensors := make([]*tensors.Tensor, nQChunks)
	defer func() {
		for _, t := range qTensors {
			if t != nil {
				t.FinalizeAll()
			}
		}
	}()
	buf := make([]float32, max(bq, bc)*dim)
	for i := range qTensors {
		qTensors[i] = paddedChunk(queries, i*bq, bq, buf)
	}

	// The producer stops early when the consumer fails or the caller cancels.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tracker := progress.Start(report, "search", nQChunks*nCChunks, "blocks")
	type block struct {
		out       []*tensors.Tensor
		qStart    int
		cStart    int
		validCols int
		err       error
		cancelled bool
	}
	blocks := make(chan block, 1)
	go func() {
		defer close(blocks)
		for ci := 0; ci < nCChunks; ci++ {
			cStart := ci * bc
			valid := min(bc, nc-cStart)
			cT := paddedChunk(corpus, cStart, bc, buf)
			for qi := 0; qi < nQChunks; qi++ {
				if ctx.Err() != nil {
					cT.FinalizeAll()
					blocks <- block{cancelled: true}
					return
				}
				var out []*tensors.Tensor
				var err error
				if s.device {
					out, err = exec.Call(qTensors[qi], cT, int32(valid))
				} else {
					out, err = exec.Call(qTensors[qi], cT)
				}
				if err != nil {
					cT.FinalizeAll()
					blocks <- block{err: fmt.Errorf("search: block of queries %d.. × corpus rows %d..: %w", qi*bq, cStart, err)}
					return
				}
				blocks <- block{out: out, qStart: qi * bq, cStart: cStart, validCols: valid}
			}
			cT.FinalizeAll()
		}
	}()
	var firstErr error
	for b := range blocks {
		if firstErr != nil || b.err != nil || b.cancelled {
			if firstErr == nil {
				firstErr = b.err
				if b.cancelled {
					firstErr = fmt.Errorf("search: %w", context.Cause(ctx))
				}
			}
			for _, t := range b.out {
				t.FinalizeAll()
			}
			continue
		}
		rows := min(bq, nq-b.qStart)
		if s.device {
			err = mergeDevice(b.out[0], b.out[1], heaps[b.qStart:b.qStart+rows], kb, b.cStart, b.validCols)
		} else {
			err = selectHost(b.out[0], heaps[b.qStart:b.qStart+rows], bc, b.cStart, b.validCols)
		}
		for _, t := range b.out {
			t.FinalizeAll()
		}
		if err != nil {
			firstErr = err
			cancel()
		}
		tracker.Add(1)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	tracker.Finish()
	out := make([][]Hit, nq)
	for i := range heaps {
		out[i] = heaps[i].sorted()
	}
	return out, nil
}

// paddedChunk copies rows [start, start+size) of m into a size×Dim tensor, zero rows past the end.
func paddedChunk(m *vector.Matrix, start, size int, buf []float32) *tensors.Tensor {
	n := min(size, m.Rows-start)
	b := buf[:size*m.Dim]
	copy(b, m.Data[start*m.Dim:(start+n)*m.Dim])
	clear(b[n*m.Dim:])
	return tensors.FromFlatDataAndDimensions(b, size, m.Dim)
}

// selectHost offers each valid score of a [len(heaps) padded to bq, bc] block to its query's heap, rows split
// across the CPUs.
func selectHost(scores *tensors.Tensor, heaps []topHeap, bc, cStart, valid int) error {
	return tensors.ConstFlatData(scores, func(flat []float32) {
		parallelRows(len(heaps), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				h := &heaps[r]
				row := flat[r*bc : r*bc+valid]
				for j, sc := range row {
					if len(h.items) == h.k && !(sc > h.items[0].score) {
						continue // not better than the worst kept (ties: the kept one has the lower index)
					}
					h.offer(sc, cStart+j)
				}
			}
		})
	})
}

// mergeDevice offers each block's device-selected candidates to the heaps.
func mergeDevice(values, indices *tensors.Tensor, heaps []topHeap, kb, cStart, valid int) error {
	var idx []int32
	if err := tensors.ConstFlatData(indices, func(flat []int32) { idx = append(idx, flat...) }); err != nil {
		return err
	}
	return tensors.ConstFlatData(values, func(flat []float32) {
		for r := range heaps {
			for j := 0; j < kb; j++ {
				col := int(idx[r*kb+j])
				if col >= valid {
					continue // padding (only when a chunk has fewer valid rows than k)
				}
				heaps[r].offer(flat[r*kb+j], cStart+col)
			}
		}
	})
}

// parallelRows runs fn over [0, n) split into one contiguous range per CPU.
func parallelRows(n int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + p - 1) / p
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// cand is a candidate hit while searching.
type cand struct {
	score float32
	index int
}

// worse orders candidates: a lower score is worse; among equal scores the higher index is worse.
func worse(a, b cand) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.index > b.index
}

// topHeap keeps the best k candidates in a min-heap whose root is the worst kept.
type topHeap struct {
	k     int
	items []cand
}

func (h *topHeap) offer(score float32, index int) {
	if score != score { // NaN ranks below every number
		score = float32(math.Inf(-1))
	}
	c := cand{score, index}
	if len(h.items) < h.k {
		h.items = append(h.items, c)
		h.up(len(h.items) - 1)
		return
	}
	if !worse(h.items[0], c) {
		return
	}
	h.items[0] = c
	h.down(0)
}

func (h *topHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !worse(h.items[i], h.items[p]) {
			return
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *topHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && worse(h.items[r], h.items[l]) {
			m = r
		}
		if !worse(h.items[m], h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

func (h *topHeap) sorted() []Hit {
	items := append([]cand(nil), h.items...)
	sort.Slice(items, func(i, j int) bool { return worse(items[j], items[i]) })
	out := make([]Hit, len(items))
	for i, c := range items {
		out[i] = Hit{Index: c.index, Score: float64(c.score)}
	}
	return out
}

// Search is a one-off search on gpu.Shared(). Build a Searcher with New to reuse compiled programs across calls.
func Search(ctx context.Context, queries, corpus *vector.Matrix, k int, opts Options, report progress.Func) ([][]Hit, error) {
	s, err := New(nil, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Search(ctx, queries, corpus, k, report)
}
