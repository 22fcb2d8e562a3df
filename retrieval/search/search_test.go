package search

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/vector"
)

func testSearcher(t testing.TB, opts Options) *Searcher {
	t.Helper()
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// intMatrix has small integer entries, so float32 dot products are exact and rankings can be compared exactly.
func intMatrix(rng *rand.Rand, rows, dim int) *vector.Matrix {
	m := vector.New(rows, dim)
	for i := range m.Data {
		m.Data[i] = float32(rng.IntN(7) - 3)
	}
	return m
}

// reference is the brute-force top-k in float64: score descending, index ascending.
func reference(q, c *vector.Matrix, k int, score func(a, b []float32) float64) [][]Hit {
	out := make([][]Hit, q.Rows)
	for i := 0; i < q.Rows; i++ {
		hits := make([]Hit, c.Rows)
		for j := range hits {
			hits[j] = Hit{j, score(q.Row(i), c.Row(j))}
		}
		sort.SliceStable(hits, func(a, b int) bool { return hits[a].Score > hits[b].Score })
		out[i] = hits[:min(k, len(hits))]
	}
	return out
}

func TestSearchDotExactWithPaddingAndTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := intMatrix(rng, 13, 5)   // 2 query chunks of 8, the second padded
	c := intMatrix(rng, 150, 5)  // 3 corpus chunks of 64, the last padded
	copy(c.Row(77), c.Row(3))    // duplicate rows tie: the lower index must come first
	copy(c.Row(140), c.Row(3))   // ...across chunks too
	for i := 0; i < c.Dim; i++ { // an all-negative query: padded zero rows (score 0) must never show up
		q.Row(12)[i] = -3
	}
	for _, sel := range []Selection{SelectHost, SelectDevice} {
		s := testSearcher(t, Options{Similarity: Dot, QueryChunk: 8, CorpusChunk: 64, Select: sel})
		for _, k := range []int{1, 7, 150, 500} {
			got, err := s.Search(context.Background(), q, c, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(q, c, k, vector.Dot)
			for i := range want {
				if len(got[i]) != len(want[i]) {
					t.Fatalf("%s k=%d query %d: %d hits, want %d", sel, k, i, len(got[i]), len(want[i]))
				}
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("%s k=%d query %d rank %d: %+v, want %+v", sel, k, i, j, got[i][j], want[i][j])
					}
				}
			}
		}
	}
}

func TestSearchCosineMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	q, c := vector.New(20, 16), vector.New(300, 16)
	for _, m := range []*vector.Matrix{q, c} {
		for i := range m.Data {
			m.Data[i] = float32(rng.NormFloat64())
		}
	}
	clear(c.Row(5)) // a zero document scores 0 (not NaN)
	for _, sel := range []Selection{SelectHost, SelectDevice} {
		s := testSearcher(t, Options{QueryChunk: 16, CorpusChunk: 128, Select: sel})
		got, err := s.Search(context.Background(), q, c, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := reference(q, c, 10, vector.Cosine)
		for i := range want {
			for j := range want[i] {
				g := got[i][j]
				if math.Abs(g.Score-want[i][j].Score) > 1e-5 || math.Abs(g.Score-vector.Cosine(q.Row(i), c.Row(g.Index))) > 1e-5 {
					t.Fatalf("%s query %d rank %d: %+v, want %+v", sel, i, j, g, want[i][j])
				}
			}
		}
		// The zero row's score is 0 when it is retrieved at all.
		first := &vector.Matrix{Rows: 1, Dim: q.Dim, Data: q.Row(0)}
		all, err := s.Search(context.Background(), first, c, 300, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range all[0] {
			if h.Index == 5 && h.Score != 0 {
				t.Errorf("%s: zero document scored %v", sel, h.Score)
			}
		}
	}
}

func TestSearchEdgeCases(t *testing.T) {
	s := testSearcher(t, Options{})
	ctx := context.Background()
	q := vector.New(2, 3)
	if _, err := s.Search(ctx, q, vector.New(4, 2), 1, nil); err == nil {
		t.Error("dimension mismatch: want an error")
	}
	if _, err := s.Search(ctx, q, vector.New(4, 3), 0, nil); err == nil {
		t.Error("k=0: want an error")
	}
	got, err := s.Search(ctx, q, &vector.Matrix{Dim: 3}, 5, nil)
	if err != nil || len(got) != 2 || len(got[0]) != 0 {
		t.Errorf("empty corpus: %v %v", got, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Search(cancelled, q, vector.New(4, 3), 1, nil); err == nil {
		t.Error("cancelled context: want an error")
	}
	if _, err := New(nil, Options{Similarity: "euclid"}); err == nil {
		t.Error("unknown similarity: want an error")
	}
}

func TestHeapNaNRanksLast(t *testing.T) {
	h := topHeap{k: 2}
	h.offer(float32(math.NaN()), 0)
	h.offer(0.5, 1)
	h.offer(-1, 2)
	got := h.sorted()
	if len(got) != 2 || got[0].Index != 1 || got[1].Index != 2 {
		t.Errorf("sorted %v: want indices 1, 2 (NaN dropped)", got)
	}
}
