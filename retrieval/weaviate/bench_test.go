package weaviate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/retrieval/weaviate"
	"github.com/ragnb/ragnb/vector"
)

// clustered returns n unit vectors of dimension dim drawn around 256 random centres (a corpus has topics;
// uniform random vectors are HNSW's worst case and no corpus looks like them), and q queries near random rows.
func clustered(n, q, dim int, seed uint64) (*vector.Matrix, *vector.Matrix) {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := vector.New(256, dim)
	for i := range centres.Data {
		centres.Data[i] = float32(r.NormFloat64())
	}
	centres.Normalize()
	noisy := func(m *vector.Matrix, i int, base []float32, sigma float64) {
		row := m.Row(i)
		for j := range row {
			row[j] = base[j] + float32(sigma*r.NormFloat64())
		}
	}
	docs := vector.New(n, dim)
	for i := range n {
		noisy(docs, i, centres.Row(r.IntN(256)), 0.06)
	}
	docs.Normalize()
	qs := vector.New(q, dim)
	for i := range q {
		noisy(qs, i, docs.Row(r.IntN(n)), 0.04)
	}
	qs.Normalize()
	return docs, qs
}

func exactTop(docs *vector.Matrix, q []float32, k int) []int {
	type s struct {
		i int
		v float64
	}
	all := make([]s, docs.Rows)
	for i := range docs.Rows {
		all[i] = s{i, vector.Dot(q, docs.Row(i))}
	}
	slices.SortFunc(all, func(a, b s) int {
		if a.v > b.v {
			return -1
		} else if a.v < b.v {
			return 1
		}
		return a.i - b.i
	})
	out := make([]int, k)
	for j := range k {
		out[j] = all[j].i
	}
	return out
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / 1e6
}

// BenchmarkWeaviateImportAndQuery measures, on the real server, the import rate of a synthetic corpus of
// RAGNB_WEAVIATE_BENCH_DOCS (default 20,000) 256-d vectors in batches of 256, one-query nearVector latency
// (p50, p99; 500 queries, top 10, sequential) and recall@10 against exact search, beside ragnb's own HNSW
// (retrieval/hnsw, M 16, efConstruction 200, ef 128) on the same vectors. Run it alone:
//
//	go test ./retrieval/weaviate/ -run '^$' -bench WeaviateImportAndQuery -benchtime 1x
func BenchmarkWeaviateImportAndQuery(b *testing.B) {
	n := 20000
	if s := os.Getenv("RAGNB_WEAVIATE_BENCH_DOCS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	const dim, nq, k = 256, 500, 10
	docsM, qs := clustered(n, nq, dim, 42)
	docs := make([]ir.Document, n)
	for i := range docs {
		docs[i] = ir.Document{ID: fmt.Sprintf("d%07d", i), Title: "synthetic", Text: fmt.Sprintf("synthetic passage number %d", i)}
	}
	truth := make([][]int, nq)
	for i := range nq {
		truth[i] = exactTop(docsM, qs.Row(i), k)
	}
	recall := func(got func(i int) []int) float64 {
		found := 0
		for i := range nq {
			g := got(i)
			for _, t := range truth[i] {
				if slices.Contains(g, t) {
					found++
				}
			}
		}
		return float64(found) / float64(nq*k)
	}

	srv := weaviatetest.Start(b)
	ctx := context.Background()
	c, err := weaviate.New(srv.URL, weaviate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rec := weaviate.Record{ModelHash: "synthetic", Similarity: "cosine", EmbeddingDim: dim, Dim: dim}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res, err := weaviate.Push(ctx, c, "Bench", rec, docs, docsM, weaviate.PushOptions{BatchSize: 256}, nil)
		if err != nil {
			b.Fatal(err)
		}
		importS := time.Since(start).Seconds()
		if res.Count != n {
			b.Fatalf("collection holds %d of %d", res.Count, n)
		}
		lat := make([]time.Duration, nq)
		ids := make([][]int, nq)
		for i := range nq {
			t0 := time.Now()
			hits, err := c.NearVector(ctx, "Bench", qs.Row(i), k, false)
			lat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			for _, h := range hits {
				v, _ := strconv.Atoi(h.DocID[1:])
				ids[i] = append(ids[i], v)
			}
		}
		wr := recall(func(i int) []int { return ids[i] })

		g, err := hnsw.New(dim, hnsw.Params{})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := g.Add(ctx, docsM, nil); err != nil {
			b.Fatal(err)
		}
		buildS := time.Since(start).Seconds()
		llat := make([]time.Duration, nq)
		lids := make([][]int, nq)
		for i := range nq {
			t0 := time.Now()
			hits, err := g.Search(docsM, qs.Row(i), k, 128)
			llat[i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			for _, h := range hits {
				lids[i] = append(lids[i], h.Index)
			}
		}
		lr := recall(func(i int) []int { return lids[i] })
		b.ReportMetric(float64(n)/importS, "weaviate_import_docs/s")
		b.ReportMetric(percentile(lat, 0.5), "weaviate_p50_ms")
		b.ReportMetric(percentile(lat, 0.99), "weaviate_p99_ms")
		b.ReportMetric(wr, "weaviate_recall@10")
		b.ReportMetric(float64(n)/buildS, "hnsw_build_rows/s")
		b.ReportMetric(percentile(llat, 0.5), "hnsw_p50_ms")
		b.ReportMetric(percentile(llat, 0.99), "hnsw_p99_ms")
		b.ReportMetric(lr, "hnsw_recall@10")
		if err := c.DeleteCollection(ctx, "Bench"); err != nil {
			b.Fatal(err)
		}
	}
}
