// Package hnsw is an approximate nearest-neighbour graph (Hierarchical Navigable Small World, Malkov &
// Yashunin 2016, arXiv:1603.09320) over the rows of a vector.Matrix that the caller owns: the links only,
// so the same vectors serve exact search and the graph without a second copy.
//
// It follows the paper and hnswlib: layer 0 keeps up to 2·M links per node and the upper layers M; neighbours
// are chosen with the paper's heuristic (Algorithm 4: a candidate is kept only when it is closer to the new
// node than to every neighbour already kept), which keeps clustered data — chunks of the same document — from
// falling apart into islands; searches keep max(ef, k) candidates. The score is the float32 dot product, so
// cosine similarity needs L2-normalised rows (package index normalises them). A node's level is a hash of
// (Seed, node number), so a graph grows by Add without any random state to persist, and a graph built with one
// worker is reproducible.
//
// It owns the link structure, its search and its binary file format. It does not own the vectors, document
// ids, embedding, or exact search (package search); package index combines them.
//
// Searches may run concurrently with each other; Add (itself concurrent inside) must not run concurrently
// with anything else (the caller holds a lock).
package hnsw

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// Params configure a graph. Zero values take the defaults.
type Params struct {
	// M is the number of links per node on the upper layers (default 16); layer 0 keeps 2·M.
	M int `json:"m"`
	// EfConstruction is the candidate list size while inserting (default 200): larger builds slower and
	// better.
	EfConstruction int `json:"ef_construction"`
	// EfSearch is the default candidate list size of a search (default 128); a search uses max(ef, k).
	EfSearch int `json:"ef_search"`
	// Seed decides the nodes' levels.
	Seed uint64 `json:"seed"`
}

// WithDefaults fills zero fields with the defaults.
func (p Params) WithDefaults() Params {
	if p.M <= 0 {
		p.M = 16
	}
	if p.EfConstruction <= 0 {
		p.EfConstruction = 200
	}
	if p.EfSearch <= 0 {
		p.EfSearch = 128
	}
	return p
}

func (p Params) validate() error {
	if p.M < 2 || p.M > 1024 {
		return fmt.Errorf("hnsw: M=%d, want 2..1024", p.M)
	}
	return nil
}

// maxLevel caps node levels; with M ≥ 2 a level above it has a probability below 2^-64.
const maxLevel = 64

// Graph is the link structure over rows 0..Len()-1 of a matrix.
type Graph struct {
	p         Params
	dim       int
	levelMult float64
	links     [][][]int32 // node → level → neighbour rows
	entry     int32       // -1 when empty
	top       int         // level of the entry node
	visited   sync.Pool   // *visitSet
}

// New returns an empty graph for dim-dimensional rows.
func New(dim int, p Params) (*Graph, error) {
	p = p.WithDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	if dim < 1 {
		return nil, fmt.Errorf("hnsw: dimension %d", dim)
	}
	return &Graph{p: p, dim: dim, levelMult: 1 / math.Log(float64(p.M)), entry: -1}, nil
}

// Params returns the graph's parameters with defaults filled in.
func (g *Graph) Params() Params { return g.p }

// Dim is the row dimension the graph was built for.
func (g *Graph) Dim() int { return g.dim }

// Len is the number of rows linked into the graph.
func (g *Graph) Len() int { return len(g.links) }

// maxLinks is the link cap of a layer.
func (g *Graph) maxLinks(level int) int {
	if level == 0 {
		return 2 * g.p.M
	}
	return g.p.M
}

// levelOf draws node i's level from the exponential distribution with scale 1/ln(M), by hashing (Seed, i).
func (g *Graph) levelOf(i int) int {
	x := splitmix64(g.p.Seed ^ splitmix64(uint64(i)+0x9e3779b97f4a7c15))
	u := (float64(x>>11) + 1) / (1 << 53) // (0, 1]
	return min(int(-math.Log(u)*g.levelMult), maxLevel)
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (g *Graph) check(m *vector.Matrix) error {
	if m.Dim != g.dim && m.Rows > 0 {
		return fmt.Errorf("hnsw: matrix has dimension %d, graph %d", m.Dim, g.dim)
	}
	if m.Rows < len(g.links) {
		return fmt.Errorf("hnsw: matrix has %d rows, graph links %d", m.Rows, len(g.links))
	}
	return nil
}

// Add links rows Len()..m.Rows-1 of m into the graph with one goroutine per CPU; see AddWorkers.
func (g *Graph) Add(ctx context.Context, m *vector.Matrix, report progress.Func) error {
	return g.AddWorkers(ctx, m, 0, report)
}

// AddWorkers links rows Len()..m.Rows-1 of m into the graph using workers goroutines (0: GOMAXPROCS). With
// one worker rows are linked in order and the graph is reproducible: the same rows and Params give the same
// links. With more, rows are linked concurrently as hnswlib does (a lock per node, a global one while the top
// level rises), which is faster and as good, but the links depend on scheduling. It reports progress in rows
// and stops when ctx is cancelled; the rows linked by then form a prefix and stay linked and searchable.
func (g *Graph) AddWorkers(ctx context.Context, m *vector.Matrix, workers int, report progress.Func) error {
	if err := g.check(m); err != nil {
		return err
	}
	start, end := len(g.links), m.Rows
	if start == end {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, end-start)
	tracker := progress.Start(report, "hnsw insert", end-start, "rows")
	// Every new row gets its (empty) level lists up front, so g.links does not move while workers run.
	for i := start; i < end; i++ {
		g.links = append(g.links, make([][]int32, g.levelOf(i)+1))
	}
	var bs *buildState
	if workers > 1 {
		bs = &buildState{locks: make([]sync.Mutex, end)}
	}
	var next atomic.Int64 // the next row to link; rows below it are linked or being linked
	next.Store(int64(start))
	var mu sync.Mutex // guards tracker
	linked := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			vis := g.getVisited()
			defer g.visited.Put(vis)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(end) {
					next.Add(-1) // keep next = end
					return
				}
				g.insert(m, int32(i), vis, bs)
				mu.Lock()
				if linked++; linked%256 == 0 {
					tracker.Set(linked, nil)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if done := int(next.Load()); done < end {
		// Cancelled: rows from done on were never handed out, so nothing links to them.
		g.links = g.links[:done]
		return fmt.Errorf("hnsw: insert row %d: %w", done, ctx.Err())
	}
	tracker.Finish()
	return nil
}

// buildState holds the locks of a concurrent Add; nil means one goroutine (or a search), needing no locks.
type buildState struct {
	locks []sync.Mutex // per node: its link lists
	top   sync.Mutex   // entry and top
}

// neighbors returns node id's links on level l: the list itself, or under a concurrent build a copy made under
// the node's lock into buf.
func (g *Graph) neighbors(id int32, l int, buf []int32, bs *buildState) []int32 {
	if bs == nil {
		return g.links[id][l]
	}
	bs.locks[id].Lock()
	buf = append(buf[:0], g.links[id][l]...)
	bs.locks[id].Unlock()
	return buf
}

// cand is a row and its similarity to the current target.
type cand struct {
	sim float32
	id  int32
}

// insert links row id, whose level lists exist already.
func (g *Graph) insert(m *vector.Matrix, id int32, vis *visitSet, bs *buildState) {
	level := len(g.links[id]) - 1
	var entry int32
	var top int
	if bs == nil {
		entry, top = g.entry, g.top
	} else {
		bs.top.Lock()
		entry, top = g.entry, g.top
		if level > top || entry < 0 {
			defer bs.top.Unlock() // hold it while linking a node that raises the top, as hnswlib does
		} else {
			bs.top.Unlock()
		}
	}
	if entry < 0 {
		g.entry, g.top = id, level
		return
	}
	q := m.Row(int(id))
	ep := cand{dot(q, m.Row(int(entry))), entry}
	for l := top; l > level; l-- {
		ep = g.greedy(m, q, ep, l, bs, id)
	}
	eps := []cand{ep}
	for l := min(level, top); l >= 0; l-- {
		vis.reset(len(g.links))
		vis.mark(id) // under a concurrent build others may link to this node already: never its own neighbour
		w := g.searchLayer(m, q, eps, g.p.EfConstruction, l, vis, bs)
		sortBest(w)
		chosen := g.selectNeighbors(m, w, g.p.M)
		if bs == nil {
			own := make([]int32, len(chosen), g.maxLinks(l)+1)
			for i, c := range chosen {
				own[i] = c.id
			}
			g.links[id][l] = own
		} else {
			// Others may have linked to this node already; add to its list rather than replace it.
			for _, c := range chosen {
				g.connect(m, id, c.id, l, bs)
			}
		}
		for _, c := range chosen {
			g.connect(m, c.id, id, l, bs)
		}
		eps = w
	}
	if level > top {
		g.entry, g.top = id, level
	}
}

// connect adds a link from e to n on level l, pruning e's links with the heuristic when over the cap.
func (g *Graph) connect(m *vector.Matrix, e, n int32, l int, bs *buildState) {
	if bs != nil {
		bs.locks[e].Lock()
		defer bs.locks[e].Unlock()
	}
	for _, x := range g.links[e][l] {
		if x == n {
			return
		}
	}
	links := append(g.links[e][l], n)
	if limit := g.maxLinks(l); len(links) > limit {
		base := m.Row(int(e))
		cs := make([]cand, len(links))
		for i, x := range links {
			cs[i] = cand{dot(base, m.Row(int(x))), x}
		}
		sortBest(cs)
		chosen := g.selectNeighbors(m, cs, limit)
		links = links[:0]
		for _, c := range chosen {
			links = append(links, c.id)
		}
	}
	g.links[e][l] = links
}

// selectNeighbors is the paper's Algorithm 4 (hnswlib's getNeighborsByHeuristic2) over candidates sorted best
// first by similarity to the base row: a candidate is kept when it is more similar to the base than to every
// neighbour kept so far; at most limit are kept.
func (g *Graph) selectNeighbors(m *vector.Matrix, cs []cand, limit int) []cand {
	if len(cs) <= limit {
		return cs
	}
	out := make([]cand, 0, limit)
	for _, c := range cs {
		if len(out) == limit {
			break
		}
		row := m.Row(int(c.id))
		keep := true
		for _, r := range out {
			if dot(row, m.Row(int(r.id))) > c.sim {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

// greedy walks level l from ep to a local best for q, never stepping onto row skip (the row being
// inserted; -1 in searches).
func (g *Graph) greedy(m *vector.Matrix, q []float32, ep cand, l int, bs *buildState, skip int32) cand {
	var buf []int32
	for changed := true; changed; {
		changed = false
		buf = g.neighbors(ep.id, l, buf, bs)
		for _, nb := range buf {
			if nb == skip {
				continue
			}
			if s := dot(q, m.Row(int(nb))); s > ep.sim {
				ep, changed = cand{s, nb}, true
			}
		}
	}
	return ep
}

// searchLayer is the paper's Algorithm 2: the ef best rows for q reachable on level l from eps (unsorted).
func (g *Graph) searchLayer(m *vector.Matrix, q []float32, eps []cand, ef, l int, vis *visitSet, bs *buildState) []cand {
	var buf []int32
	var cands bestHeap // best first: what to expand next
	var res worstHeap  // worst first: the ef best found so far
	for _, e := range eps {
		if vis.seen(e.id) {
			continue
		}
		vis.mark(e.id)
		cands.push(e)
		res.push(e)
		if len(res) > ef {
			res.pop()
		}
	}
	for len(cands) > 0 {
		c := cands.pop()
		if len(res) >= ef && c.sim < res[0].sim {
			break
		}
		buf = g.neighbors(c.id, l, buf, bs)
		for _, nb := range buf {
			if vis.seen(nb) {
				continue
			}
			vis.mark(nb)
			s := dot(q, m.Row(int(nb)))
			if len(res) < ef || s > res[0].sim {
				cands.push(cand{s, nb})
				res.push(cand{s, nb})
				if len(res) > ef {
					res.pop()
				}
			}
		}
	}
	return res
}

// Search returns the k rows of m most similar to q by dot product, best first (equal scores by lower row),
// looking at max(ef, k) candidates; ef ≤ 0 uses the graph's EfSearch. It is approximate: Recall measures
// how often it agrees with exact search.
func (g *Graph) Search(m *vector.Matrix, q []float32, k, ef int) ([]search.Hit, error) {
	if err := g.check(m); err != nil {
		return nil, err
	}
	if len(q) != g.dim {
		return nil, fmt.Errorf("hnsw: query has dimension %d, graph %d", len(q), g.dim)
	}
	if k < 1 {
		return nil, fmt.Errorf("hnsw: k=%d, want at least 1", k)
	}
	if g.entry < 0 {
		return nil, nil
	}
	if ef <= 0 {
		ef = g.p.EfSearch
	}
	ef = max(ef, k)
	ep := cand{dot(q, m.Row(int(g.entry))), g.entry}
	for l := g.top; l > 0; l-- {
		ep = g.greedy(m, q, ep, l, nil, -1)
	}
	vis := g.getVisited()
	vis.reset(len(g.links))
	w := g.searchLayer(m, q, []cand{ep}, ef, 0, vis, nil)
	g.visited.Put(vis)
	sortBest(w)
	w = w[:min(k, len(w))]
	out := make([]search.Hit, len(w))
	for i, c := range w {
		out[i] = search.Hit{Index: int(c.id), Score: float64(c.sim)}
	}
	return out, nil
}

// Dot is the float32 dot product the graph scores with (AVX2 with FMA when the build has GOEXPERIMENT=simd
// and the CPU has them); b must be at least as long as a.
func Dot(a, b []float32) float32 { return dot(a, b) }

// sortBest orders candidates by similarity, highest first; equal similarities by lower row.
func sortBest(cs []cand) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].sim != cs[j].sim {
			return cs[i].sim > cs[j].sim
		}
		return cs[i].id < cs[j].id
	})
}

// visitSet marks rows seen during one search; a generation counter makes reset O(1).
type visitSet struct {
	marks []uint32
	gen   uint32
}

func (g *Graph) getVisited() *visitSet {
	if v, ok := g.visited.Get().(*visitSet); ok {
		return v
	}
	return &visitSet{}
}

func (v *visitSet) reset(n int) {
	if len(v.marks) < n {
		v.marks = append(v.marks, make([]uint32, n-len(v.marks)+n/4)...)
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

func (v *visitSet) seen(i int32) bool { return v.marks[i] == v.gen }
func (v *visitSet) mark(i int32)      { v.marks[i] = v.gen }

// bestHeap is a max-heap by similarity; worstHeap a min-heap.
type bestHeap []cand
type worstHeap []cand

func (h *bestHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !(s[i].sim > s[p].sim) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *bestHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, b := 2*i+1, 2*i+2, i
		if l < n && s[l].sim > s[b].sim {
			b = l
		}
		if r < n && s[r].sim > s[b].sim {
			b = r
		}
		if b == i {
			break
		}
		s[i], s[b] = s[b], s[i]
		i = b
	}
	*h = s
	return top
}

func (h *worstHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !(s[i].sim < s[p].sim) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *worstHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, b := 2*i+1, 2*i+2, i
		if l < n && s[l].sim < s[b].sim {
			b = l
		}
		if r < n && s[r].sim < s[b].sim {
			b = r
		}
		if b == i {
			break
		}
		s[i], s[b] = s[b], s[i]
		i = b
	}
	*h = s
	return top
}

func dotScalar(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
