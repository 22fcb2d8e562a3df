package hybrid

import (
	"context"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/vector"
)

// hashEmbedder embeds a text as the sum of one pseudo-random vector per word (a bag of words that ranks
// differently from BM25, so the fusion matters); queries get a fixed extra word, as an instruction would.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) embed(texts []string, prefix string) *vector.Matrix {
	m := vector.New(len(texts), h.dim)
	for i, t := range texts {
		row := m.Row(i)
		for _, w := range strings.Fields(strings.ToLower(prefix + t)) {
			f := fnv.New64a()
			f.Write([]byte(w))
			x := f.Sum64()
			for j := range row {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				row[j] += float32(int64(x%2001)-1000) / 1000
			}
		}
	}
	return m
}

func (h hashEmbedder) EmbedQueries(_ context.Context, texts []string, _ progress.Func) (*vector.Matrix, error) {
	return h.embed(texts, "query: "), nil
}

func (h hashEmbedder) EmbedDocuments(_ context.Context, texts []string, _ progress.Func) (*vector.Matrix, error) {
	return h.embed(texts, ""), nil
}

// financialSample is the first n questions and the distinct contexts of the embedded financial sample.
func financialSample(t *testing.T, n int) (queries, corpus []string) {
	t.Helper()
	df, err := datasets.Load("../../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := datasets.Strings(df, "question")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := datasets.Strings(df, "context")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if i < n {
			queries = append(queries, qs[i])
		}
		if !seen[c] {
			seen[c] = true
			corpus = append(corpus, c)
		}
	}
	return queries, corpus
}

// retrievalRuns are what hybrid retrieval fuses, computed independently of the teacher: each query's depth
// nearest passages by cosine and BM25's depth best (bm25.Index.Search), doc ids the corpus indexes.
func retrievalRuns(t *testing.T, e hashEmbedder, queries, corpus []string, depth int) (dense, lexical ir.Run) {
	t.Helper()
	ix, err := bm25.New(corpus, bm25.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	qm, _ := e.EmbedQueries(context.Background(), queries, nil)
	cm, _ := e.EmbedDocuments(context.Background(), corpus, nil)
	dense, lexical = ir.Run{}, ir.Run{}
	for i, q := range queries {
		var hits []ir.Hit
		for d := range corpus {
			hits = append(hits, ir.Hit{DocID: strconv.Itoa(d), Score: vector.Cosine(qm.Row(i), cm.Row(d))})
		}
		ir.SortHits(hits)
		dense[q] = hits[:min(depth, len(hits))]
		for _, h := range ix.Search(q, depth) {
			lexical[q] = append(lexical[q], ir.Hit{DocID: strconv.Itoa(h.Index), Score: h.Score})
		}
	}
	return dense, lexical
}

// TestHybridTeacherScoresAreTheFusedScores: scoring every corpus passage with the pool as deep as the corpus,
// the teacher's scores are hybrid.Fuse's over the two full runs (so they order the passages exactly as hybrid
// retrieval ranks them); at depth 10, the passages among both runs' top 10 get exactly the fused scores of
// retrieval at depth 10, and every score lies in [0, 1].
func TestHybridTeacherScoresAreTheFusedScores(t *testing.T) {
	ctx := context.Background()
	queries, corpus := financialSample(t, 25)
	e := hashEmbedder{dim: 48}
	for _, alpha := range []float64{0.3, 0.7} {
		// The whole corpus, depth = the corpus.
		dense, lexical := retrievalRuns(t, e, queries, corpus, len(corpus))
		want, err := Fuse(dense, lexical, Options{Alpha: alpha, Depth: len(corpus)})
		if err != nil {
			t.Fatal(err)
		}
		var pairs []ir.Pair
		for _, q := range queries {
			for _, c := range corpus {
				pairs = append(pairs, ir.Pair{Query: q, Passage: c})
			}
		}
		teacher := &Teacher{Embedder: e, Corpus: corpus, Fusion: Options{Alpha: alpha, Depth: len(corpus)}}
		got, err := teacher.ScorePairs(ctx, pairs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for qi, q := range queries {
			var hits []ir.Hit
			for d := range corpus {
				hits = append(hits, ir.Hit{DocID: strconv.Itoa(d), Score: got[qi*len(corpus)+d]})
			}
			ir.SortHits(hits)
			ranked := want[q]
			for r := range 10 {
				if hits[r].DocID != ranked[r].DocID || math.Abs(hits[r].Score-ranked[r].Score) > 1e-5 {
					t.Fatalf("α=%v query %d rank %d: teacher %v, hybrid retrieval %v", alpha, qi, r+1, hits[:10], ranked[:10])
				}
			}
		}

		// Depth 10: the passages both runs found.
		dense, lexical = retrievalRuns(t, e, queries, corpus, 10)
		want, _ = Fuse(dense, lexical, Options{Alpha: alpha, Depth: 10})
		pairs = pairs[:0]
		var wantScores []float64
		for _, q := range queries {
			inDense := map[string]bool{}
			for _, h := range dense[q] {
				inDense[h.DocID] = true
			}
			for _, h := range want[q] {
				inLexical := false
				for _, l := range lexical[q] {
					inLexical = inLexical || l.DocID == h.DocID
				}
				if inDense[h.DocID] && inLexical {
					d, _ := strconv.Atoi(h.DocID)
					pairs = append(pairs, ir.Pair{Query: q, Passage: corpus[d]})
					wantScores = append(wantScores, h.Score)
				}
			}
		}
		if len(pairs) < len(queries) {
			t.Fatalf("only %d passages in both top 10s of %d queries", len(pairs), len(queries))
		}
		got, err = (&Teacher{Embedder: e, Corpus: corpus, Fusion: Options{Alpha: alpha, Depth: 10}}).ScorePairs(ctx, pairs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pairs {
			if math.Abs(got[i]-wantScores[i]) > 1e-5 || got[i] < 0 || got[i] > 1 {
				t.Errorf("α=%v pair %d: teacher %v, fused score %v", alpha, i, got[i], wantScores[i])
			}
		}
	}
}

// A passage outside the corpus is scored among the query's candidates too (graded, not tied at 0), RRF is
// refused, and a teacher without a corpus says so.
func TestHybridTeacherEdges(t *testing.T) {
	ctx := context.Background()
	queries, corpus := financialSample(t, 3)
	e := hashEmbedder{dim: 16}
	te := &Teacher{Embedder: e, Corpus: corpus}
	pairs := []ir.Pair{{Query: queries[0], Passage: queries[0] + " " + corpus[0]}, {Query: queries[0], Passage: "zzz unrelated words"}}
	got, err := te.ScorePairs(ctx, pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(got[0] > got[1]) || got[0] > 1 || got[1] < 0 {
		t.Errorf("the query's own words scored %v, unrelated words %v", got[0], got[1])
	}
	if _, err := (&Teacher{Embedder: e, Corpus: corpus, Fusion: Options{Method: RRF}}).ScorePairs(ctx, pairs, nil); err == nil || !strings.Contains(err.Error(), "convex") {
		t.Errorf("rrf: %v", err)
	}
	if _, err := (&Teacher{Embedder: e}).ScorePairs(ctx, pairs, nil); err == nil || !strings.Contains(err.Error(), "corpus") {
		t.Errorf("no corpus: %v", err)
	}
}
