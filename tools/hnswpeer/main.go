// Command hnswpeer checks package hnsw against a reference HNSW (faiss, tools/hnsw_peer.py) on the same
// vectors: the shared financial set's distinct contexts and first 1,000 questions embedded by the untrained
// static recipe (toymodel: Gaussian token vectors × IDF, 256-d, L2-normalised). It writes corpus.npy and
// queries.npy to -out and prints ragnb's build time, recall@10 against exact search and µs/query at
// several ef; run `python3 tools/hnsw_peer.py OUT` for faiss's figures with the same M and efConstruction.
//
//	go run ./tools/hnswpeer -qa ../shared/data/financial-qa-10k/qa.csv -out /tmp/hnswpeer
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/vector"
)

func main() {
	qa := flag.String("qa", "../shared/data/financial-qa-10k/qa.csv", "financial QA CSV (question, context columns)")
	out := flag.String("out", "/tmp/hnswpeer", "folder for corpus.npy and queries.npy")
	m := flag.Int("m", 16, "HNSW M")
	efc := flag.Int("ef-construction", 200, "HNSW efConstruction")
	workers := flag.Int("workers", 1, "goroutines linking the graph (faiss runs one thread)")
	flag.Parse()

	df, err := datasets.Load(*qa)
	if err != nil {
		log.Fatal(err)
	}
	ctxs, _ := datasets.Strings(df, "context")
	qs, _ := datasets.Strings(df, "question")
	var docs []string
	seen := map[string]bool{}
	for _, c := range ctxs {
		if !seen[c] {
			seen[c] = true
			docs = append(docs, c)
		}
	}
	qs = qs[:min(1000, len(qs))]
	e := &toymodel.Embedder{Dim: 256, Seed: 1}
	e.FitIDF(docs)
	ctx := context.Background()
	corpus, _ := e.EmbedDocuments(ctx, docs, nil)
	queries, _ := e.EmbedQueries(ctx, qs, nil)
	os.MkdirAll(*out, 0o755)
	if err := vector.SaveNPY(filepath.Join(*out, "corpus.npy"), corpus); err != nil {
		log.Fatal(err)
	}
	if err := vector.SaveNPY(filepath.Join(*out, "queries.npy"), queries); err != nil {
		log.Fatal(err)
	}

	truth := make([]map[int]bool, queries.Rows)
	for i := range truth {
		idx := make([]int, corpus.Rows)
		sc := make([]float64, corpus.Rows)
		for j := range idx {
			idx[j] = j
			sc[j] = vector.Dot(queries.Row(i), corpus.Row(j))
		}
		sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
		truth[i] = map[int]bool{}
		for _, j := range idx[:10] {
			truth[i][j] = true
		}
	}
	g, _ := hnsw.New(corpus.Dim, hnsw.Params{M: *m, EfConstruction: *efc})
	t0 := time.Now()
	if err := g.AddWorkers(ctx, corpus, *workers, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ragnb hnsw: %d × %d, M %d efConstruction %d, build %.2f s (%d workers)\n", corpus.Rows, corpus.Dim, *m, *efc, time.Since(t0).Seconds(), *workers)
	for _, ef := range []int{16, 32, 64, 128, 256} {
		t0 = time.Now()
		hit := 0
		for i := 0; i < queries.Rows; i++ {
			hits, _ := g.Search(corpus, queries.Row(i), 10, ef)
			for _, h := range hits {
				if truth[i][h.Index] {
					hit++
				}
			}
		}
		us := float64(time.Since(t0).Microseconds()) / float64(queries.Rows)
		fmt.Printf("  ef %3d  recall@10 %.4f  %.0f µs/query\n", ef, float64(hit)/float64(10*queries.Rows), us)
	}
}
