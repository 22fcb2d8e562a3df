package search

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/ragnb/ragnb/vector"
)

func randomUnit(rows, dim int, seed uint64) *vector.Matrix {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := vector.New(rows, dim)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	m.Normalize()
	return m
}

// BenchmarkSearch100k: 1,000 queries against 100,000 × 384-d documents, top 100, host selection (what
// SelectAuto picks on the pure-Go backend: its Sort-based TopK takes seconds for a single 64 × 1,024 block).
// Reports queries/s and the matmul rate (2·queries·docs·dim FLOP per search).
func BenchmarkSearch100k(b *testing.B) {
	const nq, nc, dim, k = 1000, 100_000, 384, 100
	corpus, queries := randomUnit(nc, dim, 1), randomUnit(nq, dim, 2)
	for _, sel := range []Selection{SelectHost} {
		b.Run(string(sel), func(b *testing.B) {
			s := testSearcher(b, Options{Similarity: Dot, Select: sel})
			if _, err := s.Search(context.Background(), queries, corpus, k, nil); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Search(context.Background(), queries, corpus, k, nil); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(nq/sec, "queries/s")
			b.ReportMetric(2*float64(nq)*nc*dim/sec/1e9, "GFLOP/s")
		})
	}
}
