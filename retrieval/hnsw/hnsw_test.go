package hnsw

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// clustered makes unit rows around `clusters` random centres: many near neighbours per row, like chunks of
// the same documents — the case where HNSW without the neighbour heuristic falls apart.
func clustered(rows, dim, clusters int, spread float64, seed uint64) *vector.Matrix {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, clusters)
	for i := range centres {
		centres[i] = make([]float64, dim)
		for j := range centres[i] {
			centres[i][j] = rng.NormFloat64()
		}
	}
	m := vector.New(rows, dim)
	for i := 0; i < rows; i++ {
		c := centres[rng.IntN(clusters)]
		for j := range dim {
			m.Row(i)[j] = float32(c[j] + spread*rng.NormFloat64())
		}
	}
	m.Normalize()
	return m
}

// exactTopK is brute force in float64: the k best rows by dot product, ties by lower row.
func exactTopK(m *vector.Matrix, q []float32, k int) []int {
	idx := make([]int, m.Rows)
	sc := make([]float64, m.Rows)
	for i := range idx {
		idx[i] = i
		sc[i] = vector.Dot(q, m.Row(i))
	}
	sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
	return idx[:min(k, len(idx))]
}

func recallAt(t testing.TB, g *Graph, corpus, queries *vector.Matrix, k, ef int) float64 {
	t.Helper()
	hit := 0
	for i := 0; i < queries.Rows; i++ {
		want := map[int]bool{}
		for _, j := range exactTopK(corpus, queries.Row(i), k) {
			want[j] = true
		}
		got, err := g.Search(corpus, queries.Row(i), k, ef)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range got {
			if want[h.Index] {
				hit++
			}
		}
	}
	return float64(hit) / float64(k*queries.Rows)
}

// build links m with one worker (reproducible); buildWith chooses.
func build(t testing.TB, m *vector.Matrix, p Params) *Graph { return buildWith(t, m, p, 1) }

func buildWith(t testing.TB, m *vector.Matrix, p Params, workers int) *Graph {
	t.Helper()
	g, err := New(m.Dim, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.AddWorkers(context.Background(), m, workers, nil); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRecallAgainstExact(t *testing.T) {
	corpus := clustered(3000, 32, 30, 0.6, 1)
	queries := clustered(100, 32, 30, 0.6, 2)
	g := build(t, corpus, Params{M: 12, EfConstruction: 100})
	low := recallAt(t, g, corpus, queries, 10, 10)
	high := recallAt(t, g, corpus, queries, 10, 128)
	t.Logf("recall@10: ef 10 %.3f, ef 128 %.3f", low, high)
	if high < 0.97 {
		t.Errorf("recall@10 at ef 128 = %.3f, want ≥ 0.97", high)
	}
	if high < low {
		t.Errorf("a larger ef lowered recall: %.3f < %.3f", high, low)
	}
	// ef as large as the corpus explores every reachable node: exact if the graph is connected.
	if r := recallAt(t, g, corpus, queries, 10, corpus.Rows); r != 1 {
		t.Errorf("recall@10 with ef = corpus size: %.4f, want 1 (graph not connected?)", r)
	}
}

func TestSearchScoresAndOrder(t *testing.T) {
	corpus := clustered(500, 16, 5, 0.5, 3)
	g := build(t, corpus, Params{})
	q := corpus.Row(42)
	hits, err := g.Search(corpus, q, 5, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 || hits[0].Index != 42 {
		t.Fatalf("searching for row 42 itself: %v", hits)
	}
	for i, h := range hits {
		if want := vector.Dot(q, corpus.Row(h.Index)); math.Abs(h.Score-want) > 1e-5 {
			t.Errorf("hit %d score %v, dot product %v", i, h.Score, want)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("hits not sorted: %v", hits)
		}
	}
	if _, err := g.Search(corpus, q[:3], 5, 0); err == nil {
		t.Error("query of the wrong dimension: want an error")
	}
	if _, err := g.Search(corpus, q, 0, 0); err == nil {
		t.Error("k=0: want an error")
	}
	empty, _ := New(16, Params{})
	if hits, err := empty.Search(vector.New(0, 16), q, 3, 0); err != nil || len(hits) != 0 {
		t.Errorf("empty graph: %v %v", hits, err)
	}
	// k above the corpus size returns every row.
	small := clustered(7, 16, 2, 0.5, 4)
	if hits, _ := build(t, small, Params{}).Search(small, q, 20, 0); len(hits) != 7 {
		t.Errorf("k > rows: %d hits, want 7", len(hits))
	}
}

func TestLinkInvariants(t *testing.T) {
	corpus := clustered(2000, 16, 20, 0.5, 5)
	g := build(t, corpus, Params{M: 8})
	checkInvariants(t, g)
	// Levels follow the exponential law: about 1/M of the nodes reach level 1.
	up := 0
	for _, levels := range g.links {
		if len(levels) > 1 {
			up++
		}
	}
	if frac := float64(up) / float64(len(g.links)); frac < 0.09 || frac > 0.16 {
		t.Errorf("%.3f of the nodes above level 0, want ≈ 1/M = 0.125", frac)
	}
}

func checkInvariants(t *testing.T, g *Graph) {
	t.Helper()
	if len(g.links[g.entry])-1 != g.top {
		t.Errorf("entry %d has level %d, top is %d", g.entry, len(g.links[g.entry])-1, g.top)
	}
	for i, levels := range g.links {
		if len(levels)-1 != g.levelOf(i) {
			t.Fatalf("node %d has %d levels, its seed gives %d", i, len(levels), g.levelOf(i)+1)
		}
		for l, nb := range levels {
			if len(nb) > g.maxLinks(l) {
				t.Errorf("node %d level %d: %d links > cap %d", i, l, len(nb), g.maxLinks(l))
			}
			seen := map[int32]bool{}
			for _, x := range nb {
				if x == int32(i) || seen[x] || len(g.links[x]) <= l {
					t.Errorf("node %d level %d: bad link %d", i, l, x)
				}
				seen[x] = true
			}
		}
	}
}

func TestIncrementalAddMatchesOneShot(t *testing.T) {
	corpus := clustered(1200, 16, 10, 0.5, 6)
	whole := build(t, corpus, Params{Seed: 9})
	part, _ := New(16, Params{Seed: 9})
	first := &vector.Matrix{Rows: 500, Dim: 16, Data: corpus.Data[:500*16]}
	if err := part.AddWorkers(context.Background(), first, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := part.AddWorkers(context.Background(), corpus, 1, nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(whole.links, part.links) || whole.entry != part.entry {
		t.Error("adding in two steps built a different graph than one step")
	}
	if err := part.Add(context.Background(), first, nil); err == nil {
		t.Error("a matrix with fewer rows than the graph: want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g, _ := New(16, Params{})
	if err := g.Add(ctx, corpus, nil); err == nil || g.Len() != 0 {
		t.Errorf("cancelled add: err %v, %d rows linked", err, g.Len())
	}
}

// Cancelling a concurrent Add midway leaves a prefix of rows linked, consistent, and searchable; adding
// again completes it.
func TestCancelledConcurrentAddKeepsAPrefix(t *testing.T) {
	corpus := clustered(3000, 16, 10, 0.5, 11)
	g, _ := New(16, Params{})
	ctx, cancel := context.WithCancel(context.Background())
	err := g.AddWorkers(ctx, corpus, 4, func(r progress.Report) {
		if r.Done >= 512 {
			cancel()
		}
	})
	if err == nil || g.Len() < 512 || g.Len() >= 3000 {
		t.Fatalf("cancelled at ≥ 512 rows: err %v, %d linked", err, g.Len())
	}
	for i, levels := range g.links {
		for l, nb := range levels {
			for _, x := range nb {
				if int(x) >= g.Len() || len(g.links[x]) <= l {
					t.Fatalf("node %d level %d links to %d, beyond the %d linked rows", i, l, x, g.Len())
				}
			}
		}
	}
	if err := g.AddWorkers(context.Background(), corpus, 4, nil); err != nil || g.Len() != 3000 {
		t.Fatalf("resume: %v, %d rows", err, g.Len())
	}
	if hits, _ := g.Search(corpus, corpus.Row(2999), 1, 64); hits[0].Index != 2999 {
		t.Errorf("the last row does not find itself: %v", hits)
	}
}

// A concurrent build is as good as a sequential one and keeps every invariant.
func TestConcurrentBuildQuality(t *testing.T) {
	corpus := clustered(3000, 32, 30, 0.6, 1)
	queries := clustered(100, 32, 30, 0.6, 2)
	g := buildWith(t, corpus, Params{M: 12, EfConstruction: 100}, 4)
	if r := recallAt(t, g, corpus, queries, 10, 128); r < 0.97 {
		t.Errorf("recall@10 of a 4-worker build at ef 128: %.3f, want ≥ 0.97", r)
	}
	checkInvariants(t, g)
}

func TestFileRoundTripAndDamage(t *testing.T) {
	corpus := clustered(800, 16, 8, 0.5, 8)
	g := build(t, corpus, Params{M: 6, EfSearch: 33, Seed: 4})
	var buf bytes.Buffer
	n, err := g.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d bytes reported, %d written, %v", n, buf.Len(), err)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.links, g.links) || back.entry != g.entry || back.top != g.top || back.p != g.p || back.dim != g.dim {
		t.Fatal("round trip changed the graph")
	}
	a, _ := g.Search(corpus, corpus.Row(3), 10, 0)
	b, _ := back.Search(corpus, corpus.Row(3), 10, 0)
	if !reflect.DeepEqual(a, b) {
		t.Error("round-tripped graph searches differently")
	}
	data := buf.Bytes()
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)-9],
		"flipped":   flip(data, len(data)/2),
		"magic":     append([]byte("NOTHNSW!"), data[8:]...),
		"empty":     nil,
	} {
		if _, err := Read(bytes.NewReader(bad)); err == nil {
			t.Errorf("%s file: want an error", name)
		} else if !strings.HasPrefix(err.Error(), "hnsw: ") {
			t.Errorf("%s file: error %q lacks the package prefix", name, err)
		}
	}
}

func flip(b []byte, at int) []byte {
	c := append([]byte(nil), b...)
	c[at] ^= 0x40
	return c
}

func TestConcurrentSearches(t *testing.T) {
	corpus := clustered(1000, 16, 10, 0.5, 10)
	g := build(t, corpus, Params{})
	want := make([][]int, 50)
	for i := range want {
		hits, _ := g.Search(corpus, corpus.Row(i), 5, 0)
		for _, h := range hits {
			want[i] = append(want[i], h.Index)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := range want {
				hits, _ := g.Search(corpus, corpus.Row(i), 5, 0)
				for j, h := range hits {
					if h.Index != want[i][j] {
						errs <- "concurrent search differs"
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestDotMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 15, 16, 17, 31, 64, 100, 384} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		want := vector.Dot(a, b)
		if got := float64(dot(a, b)); math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("n=%d: dot %v, float64 reference %v", n, got, want)
		}
	}
}

// BenchmarkBuildAndSearch: 20,000 clustered unit rows of 128 dimensions (50 centres), M 16, efConstruction
// 200; 200 queries at several ef. Reports build rows/s, queries/s and recall@10 against exact search.
func BenchmarkBuildAndSearch(b *testing.B) {
	corpus := clustered(20000, 128, 50, 0.7, 1)
	queries := clustered(200, 128, 50, 0.7, 2)
	var g *Graph
	for _, w := range []int{1, 0} {
		b.Run("build-workers-"+strconv.Itoa(w), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g = buildWith(b, corpus, Params{}, w)
			}
			b.ReportMetric(float64(corpus.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	for _, ef := range []int{16, 64, 256} {
		b.Run("search-ef"+strconv.Itoa(ef), func(b *testing.B) {
			recall := recallAt(b, g, corpus, queries, 10, ef)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < queries.Rows; j++ {
					g.Search(corpus, queries.Row(j), 10, ef)
				}
			}
			b.ReportMetric(float64(queries.Rows)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			b.ReportMetric(recall, "recall@10")
		})
	}
}

// BenchmarkLarge: 100,000 clustered unit rows of 128 dimensions (200 centres), built with every CPU; 500
// queries. Reports build rows/s, and for exact scanning and HNSW at several ef the queries/s and recall@10.
func BenchmarkLarge(b *testing.B) {
	corpus := clustered(100_000, 128, 200, 0.7, 1)
	queries := clustered(500, 128, 200, 0.7, 2)
	var g *Graph
	b.Run("build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			g = buildWith(b, corpus, Params{}, 0)
		}
		b.ReportMetric(float64(corpus.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("exact-scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j := 0; j < queries.Rows; j++ {
				exactTopK32(corpus, queries.Row(j), 10)
			}
		}
		b.ReportMetric(float64(queries.Rows)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
	for _, ef := range []int{64, 128, 256} {
		b.Run("hnsw-ef"+strconv.Itoa(ef), func(b *testing.B) {
			recall := recallAt(b, g, corpus, queries, 10, ef)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < queries.Rows; j++ {
					g.Search(corpus, queries.Row(j), 10, ef)
				}
			}
			b.ReportMetric(float64(queries.Rows)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			b.ReportMetric(recall, "recall@10")
		})
	}
}

// exactTopK32 is a float32 scan with the SIMD dot product (what an exact index does on the host): the k best
// kept sorted by insertion.
func exactTopK32(m *vector.Matrix, q []float32, k int) []int {
	best := make([]cand, 0, k+1)
	for r := 0; r < m.Rows; r++ {
		s := dot(q, m.Row(r))
		if len(best) == k && s <= best[k-1].sim {
			continue
		}
		i := len(best)
		best = append(best, cand{})
		for i > 0 && best[i-1].sim < s {
			best[i] = best[i-1]
			i--
		}
		best[i] = cand{s, int32(r)}
		if len(best) > k {
			best = best[:k]
		}
	}
	out := make([]int, len(best))
	for i, c := range best {
		out[i] = int(c.id)
	}
	return out
}
