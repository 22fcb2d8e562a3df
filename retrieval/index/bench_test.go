package index

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/vector"
)

// financial loads the shared financial set: its distinct contexts as the corpus, its questions as queries.
func financial(b *testing.B) ([]ir.Document, []string) {
	df, err := datasets.Load(sharedtest.FinancialQA(b))
	if err != nil {
		b.Fatal(err)
	}
	ctxs, _ := datasets.Strings(df, "context")
	qs, _ := datasets.Strings(df, "question")
	ds, _, err := ir.FromPairs(qs, ctxs, nil)
	if err != nil {
		b.Fatal(err)
	}
	return ds.Corpus, qs
}

// BenchmarkFinancialExactVsHNSW: the shared financial set's 6.7k distinct contexts embedded by the untrained
// static recipe (Gaussian token vectors × IDF, 256-d; toymodel), its first 1,000 questions as queries, top
// 10. Reports the HNSW link rate (rows/s, embedding excluded), one-query latency of exact search (GoMLX,
// the shared backend) and HNSW at several ef, and HNSW's recall@10 against exact search.
func BenchmarkFinancialExactVsHNSW(b *testing.B) {
	docs, qs := financial(b)
	qs = qs[:1000]
	e := &toymodel.Embedder{Dim: 256, Seed: 1}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	e.FitIDF(texts)
	backend, err := gpu.Shared()
	if err != nil {
		b.Fatal(err)
	}
	model := Model{Embedder: e, Hash: "toy"}
	exact, err := Build(context.Background(), model, docs, Options{Backend: backend}, nil)
	if err != nil {
		b.Fatal(err)
	}
	q, _ := exact.EmbedQueries(context.Background(), qs)
	truth, _ := exact.Search(context.Background(), q, 10)

	b.Run("hnsw-link", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			g, _ := hnsw.New(exact.vecs.Dim, hnsw.Params{})
			if err := g.Add(context.Background(), exact.vecs, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(docs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	approx, err := Build(context.Background(), model, docs, Options{Kind: HNSW}, nil)
	if err != nil {
		b.Fatal(err)
	}
	one := func(b *testing.B, ix *Index) {
		row := &vector.Matrix{Rows: 1, Dim: q.Dim}
		ix.Search(context.Background(), &vector.Matrix{Rows: 1, Dim: q.Dim, Data: q.Row(0)}, 10) // compile
		b.ResetTimer()
		start := time.Now()
		n := 0
		for i := 0; i < b.N; i++ {
			for j := 0; j < 200; j++ {
				row.Data = q.Row(j)
				if _, err := ix.Search(context.Background(), row, 10); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "µs/query")
	}
	b.Run("exact-one-query", func(b *testing.B) { one(b, exact) })
	b.Run("exact-batch-1000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			exact.Search(context.Background(), q, 10)
		}
		b.ReportMetric(float64(q.Rows)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
	for _, ef := range []int{16, 64, 128} {
		b.Run("hnsw-one-query-ef"+strconv.Itoa(ef), func(b *testing.B) {
			approx.SetEfSearch(ef)
			got, _ := approx.Search(context.Background(), q, 10)
			hit := 0
			for i := range got {
				want := map[int]bool{}
				for _, h := range truth[i] {
					want[h.Row] = true
				}
				for _, h := range got[i] {
					if want[h.Row] {
						hit++
					}
				}
			}
			one(b, approx)
			b.ReportMetric(float64(hit)/float64(10*len(got)), "recall@10")
		})
	}
}
