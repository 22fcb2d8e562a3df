package evaluate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/vector"
)

// peakRSSMB is the process's peak resident set (VmHWM) in MB, or 0 where /proc is not available.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkEvaluate100k evaluates 10,000 queries against a synthetic 100,000-document corpus of 384-d
// embeddings at Matryoshka dimensions 384 and 64. The full query × corpus float32 score matrix would take
// 10,000 × 100,000 × 4 B = 4,000 MB; the evaluator searches in bounded blocks instead. Reports the process's
// peak RSS (including the 154 MB corpus and 15 MB of queries the benchmark itself holds).
//
//	go test -c -o /tmp/evaluate.test ./evaluate && /usr/bin/time -v /tmp/evaluate.test -test.run '^$' -test.bench Evaluate100k -test.benchtime 1x
func BenchmarkEvaluate100k(b *testing.B) {
	const nc, nq, dim = 100_000, 10_000, 384
	rng := rand.New(rand.NewPCG(7, 7))
	corpus := vector.New(nc, dim)
	for i := range corpus.Data {
		corpus.Data[i] = float32(rng.NormFloat64())
	}
	corpus.Normalize()
	ds := &ir.Dataset{Qrels: ir.Qrels{}}
	for i := 0; i < nc; i++ {
		ds.Corpus = append(ds.Corpus, ir.Document{ID: fmt.Sprintf("d%06d", i)})
	}
	queries := vector.New(nq, dim)
	for i := 0; i < nq; i++ {
		rel := (i * 7919) % nc
		for j, x := range corpus.Row(rel) {
			queries.Row(i)[j] = x + float32(0.05*rng.NormFloat64()) // a noisy copy of its relevant document
		}
		qid := fmt.Sprintf("q%05d", i)
		ds.Queries = append(ds.Queries, ir.Query{ID: qid})
		ds.Qrels.Add(qid, ds.Corpus[rel].ID, 1)
	}
	e, err := NewIR(ds, Options{Dims: []int{384, 64}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	var r *Report
	for i := 0; i < b.N; i++ {
		if r, err = e.EvaluateEmbeddings(context.Background(), queries, corpus, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	ndcg, _ := r.Get("dim_384_cosine_ndcg@10")
	if ndcg < 0.9 {
		b.Errorf("ndcg@10 at 384 = %v: the noisy copies should find their documents", ndcg)
	}
	b.ReportMetric(peakRSSMB(), "peakRSS_MB")
	b.ReportMetric(float64(nq)*nc*4/1e6, "fullMatrix_MB")
	b.ReportMetric(float64(nq*b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkBM25Financial indexes the 6,756 financial contexts and searches all 6,999 questions (top 100).
func BenchmarkBM25Financial(b *testing.B) {
	ds := financialPairs(b)
	e, err := NewIR(ds, Options{})
	if err != nil {
		b.Fatal(err)
	}
	texts := e.CorpusTexts()
	queries := e.QueryTexts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := bm25.New(texts, bm25.DefaultParams())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ix.SearchMany(context.Background(), queries, 100, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(queries)*b.N)/b.Elapsed().Seconds(), "queries/s")
}
