package evaluate

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// bagOfWords embeds a text as its counts of four words, so rankings can be computed by hand.
type bagOfWords struct{ queryCalls, docCalls atomic.Int32 }

var vocab = []string{"cat", "dog", "fish", "bird"}

func (b *bagOfWords) embed(texts []string) *vector.Matrix {
	m := vector.New(len(texts), len(vocab))
	for i, t := range texts {
		for _, w := range strings.Fields(t) {
			for j, v := range vocab {
				if w == v {
					m.Row(i)[j]++
				}
			}
		}
	}
	return m
}

func (b *bagOfWords) EmbedQueries(_ context.Context, texts []string, _ progress.Func) (*vector.Matrix, error) {
	b.queryCalls.Add(1)
	return b.embed(texts), nil
}

func (b *bagOfWords) EmbedDocuments(_ context.Context, texts []string, _ progress.Func) (*vector.Matrix, error) {
	b.docCalls.Add(1)
	return b.embed(texts), nil
}

// animals is a corpus given out of id order (the evaluator orders it by id) and four queries:
// q1 "cat" (relevant d1), q2 "fish" (relevant d3), q3 "" (empty text, relevant d2), q4 (no judgements: skipped).
func animals() *ir.Dataset {
	qrels := ir.Qrels{}
	qrels.Add("q1", "d1", 1)
	qrels.Add("q2", "d3", 1)
	qrels.Add("q3", "d2", 1)
	return &ir.Dataset{
		Corpus: []ir.Document{
			{ID: "d3", Text: "fish bird"},
			{ID: "d1", Text: "cat cat dog"},
			{ID: "d4", Text: "cat"},
			{ID: "d2", Text: "dog"},
		},
		Queries: []ir.Query{{ID: "q1", Text: "cat"}, {ID: "q2", Text: "fish"}, {ID: "q3", Text: ""}, {ID: "q4", Text: "dog"}},
		Qrels:   qrels,
	}
}

func TestEvaluateEmbedderAllDimsOnePass(t *testing.T) {
	e, err := NewIR(animals(), Options{Dims: []int{4, 1}, Similarities: []search.Similarity{search.Cosine, search.Dot}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if len(e.Queries()) != 3 || e.Corpus()[0].ID != "d1" {
		t.Fatalf("queries %v corpus %v", e.Queries(), e.Corpus())
	}
	emb := &bagOfWords{}
	r, err := e.EvaluateEmbedder(context.Background(), emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if emb.queryCalls.Load() != 1 || emb.docCalls.Load() != 1 {
		t.Errorf("embedder called %d/%d times: want one pass for every dimension", emb.queryCalls.Load(), emb.docCalls.Load())
	}
	// By hand (ties by document id; an all-zero query scores every document 0):
	//   dim 4 cosine: q1 "cat": d4 (1) > d1 (2/√5) → rank 2; q2: d3 first; q3: all 0 → d1, d2 → rank 2.
	//   dim 4 dot:    q1: d1 (2) > d4 (1) → rank 1; q2 rank 1; q3 rank 2.
	//   dim 1 (only the "cat" coordinate) cosine: q1: d1 = d4 = 1 → d1 first; q2 is all 0 → d3 at rank 3; q3 rank 2.
	//   dim 1 dot: q1: d1 (2) first; q2 rank 3; q3 rank 2.
	want := map[string]float64{
		"dim_4_cosine_mrr@10":       (0.5 + 1 + 0.5) / 3,
		"dim_4_dot_mrr@10":          (1 + 1 + 0.5) / 3,
		"dim_1_cosine_mrr@10":       (1 + 1.0/3 + 0.5) / 3,
		"dim_1_dot_mrr@10":          (1 + 1.0/3 + 0.5) / 3,
		"dim_4_cosine_accuracy@1":   1.0 / 3,
		"dim_4_cosine_precision@10": 0.1, // one relevant each, all found within 4 documents: 3 × (1/10) / 3
		"dim_1_cosine_ndcg@10":      (1 + 1/math.Log2(4) + 1/math.Log2(3)) / 3,
	}
	for k, w := range want {
		if got, ok := r.Get(k); !ok || math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v (%v), want %v", k, got, ok, w)
		}
	}
	if len(r.Columns) != 4 || r.Columns[0].Label != "dim_4_cosine" || r.Columns[3].Label != "dim_1_dot" {
		t.Errorf("columns %v", r.Columns)
	}
	// The report keeps the run of each column: SaveRun writes the first one (dim 4 cosine: q1 ranks d4
	// first), as `ragnb eval --save-run` does for a bi-encoder.
	runFile := filepath.Join(t.TempDir(), "model.trec")
	label, err := r.SaveRun(runFile, "toy")
	run, rerr := ir.LoadRun(runFile)
	if err != nil || rerr != nil || label != "dim_4_cosine" || len(run) != 3 || run["q1"][0].DocID != "d4" {
		t.Errorf("saved run of %q: %v, %v, %v", label, err, rerr, run)
	}
	// Called again (as a trainer would), the evaluator gives the same answer.
	again, err := e.EvaluateEmbedder(context.Background(), emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range r.Keys() {
		a, _ := r.Get(k)
		b, _ := again.Get(k)
		if a != b {
			t.Errorf("%s: %v then %v", k, a, b)
		}
	}
}

func TestEvaluateEmbeddingsRejectsBadShapes(t *testing.T) {
	e, err := NewIR(animals(), Options{Dims: []int{8}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.EvaluateEmbeddings(context.Background(), vector.New(3, 4), vector.New(4, 4), nil); err == nil {
		t.Error("dimension 8 of 4-d embeddings: want an error")
	}
	e, _ = NewIR(animals(), Options{})
	if _, err := e.EvaluateEmbeddings(context.Background(), vector.New(2, 4), vector.New(4, 4), nil); err == nil {
		t.Error("2 query rows for 3 queries: want an error")
	}
	if _, err := NewIR(&ir.Dataset{Corpus: animals().Corpus, Queries: []ir.Query{{ID: "x", Text: "y"}}, Qrels: ir.Qrels{}}, Options{}); err == nil {
		t.Error("no judged query: want an error")
	}
}

func TestEvaluateBM25ByHand(t *testing.T) {
	e, err := NewIR(animals(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.EvaluateBM25(context.Background(), bm25.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// q1 "cat": d4 (tf 1, length 1) outscores d1 (tf 2, length 3) with avgdl 7/4 → relevant d1 at rank 2;
	// q2 "fish": only d3 → rank 1; q3 "" matches nothing → 0.
	for k, w := range map[string]float64{"bm25_mrr@10": 0.5, "bm25_accuracy@1": 1.0 / 3, "bm25_recall@3": 2.0 / 3} {
		if got, ok := r.Get(k); !ok || math.Abs(got-w) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
}

// longerWins scores a passage by its length when it contains the query text, else -1.
type longerWins struct{ calls atomic.Int32 }

func (l *longerWins) ScorePairs(_ context.Context, pairs []ir.Pair, _ progress.Func) ([]float64, error) {
	l.calls.Add(1)
	out := make([]float64, len(pairs))
	for i, p := range pairs {
		out[i] = -1
		if p.Query != "" && strings.Contains(p.Passage, p.Query) {
			out[i] = float64(len(p.Passage))
		}
	}
	return out, nil
}

func TestEvaluateRerankerOverBM25(t *testing.T) {
	e, err := NewIR(animals(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.BM25Run(context.Background(), bm25.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &longerWins{}
	// The reranker puts "cat cat dog" (d1) above "cat" (d4) for q1: every evaluated query but q3 (no candidates)
	// is now a hit at rank 1.
	r, run, err := e.EvaluateReranker(context.Background(), s, first, RerankOptions{BatchPairs: 1}, "bm25_rerank", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("bm25_rerank_mrr@10"); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("reranked mrr@10 = %v, want 2/3", got)
	}
	if h := run.Sorted("q1"); len(h) != 2 || h[0].DocID != "d1" || h[0].Score != 11 {
		t.Errorf("q1 reranked: %v", h)
	}
	if s.calls.Load() != 3 { // 3 candidate pairs, one per call
		t.Errorf("scorer called %d times", s.calls.Load())
	}
	// Depth 1: only BM25's first hit is rescored, so q1's relevant d1 (BM25 rank 2) is lost.
	r, _, err = e.EvaluateReranker(context.Background(), s, first, RerankOptions{Depth: 1}, "top1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get("top1_mrr@10"); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("depth-1 mrr@10 = %v, want 1/3", got)
	}
	bad := ir.Run{"q1": {{DocID: "nope", Score: 1}}}
	if _, _, err := e.EvaluateReranker(context.Background(), s, bad, RerankOptions{}, "x", nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown document: %v", err)
	}
}

func TestRegressionByHand(t *testing.T) {
	r, err := RegressionMetrics([]float64{1, 2, 3, 4}, []float64{1, 2, 2, 5})
	if err != nil {
		t.Fatal(err)
	}
	// MSE (0+0+1+1)/4; Pearson 6/√(5·9); Spearman over ranks [1 2 3 4] and [1 2.5 2.5 4]: 4.5/√(5·4.5).
	if r.N != 4 || r.MSE != 0.5 || math.Abs(r.Pearson-6/math.Sqrt(45)) > 1e-15 || math.Abs(r.Spearman-4.5/math.Sqrt(22.5)) > 1e-15 {
		t.Errorf("%+v", r)
	}
	ranks := AverageRanks([]float64{10, 30, 20, 20, 10})
	for i, w := range []float64{1.5, 5, 3.5, 3.5, 1.5} {
		if ranks[i] != w {
			t.Errorf("AverageRanks = %v", ranks)
			break
		}
	}
	if r, _ := RegressionMetrics([]float64{1, 1}, []float64{1, 2}); !math.IsNaN(r.Pearson) || !math.IsNaN(r.Spearman) {
		t.Errorf("constant predictions: %+v, want NaN correlations", r)
	}
	for _, c := range [][2][]float64{{{1}, {1}}, {{1, 2}, {1}}, {{1, math.NaN()}, {1, 2}}} {
		if _, err := RegressionMetrics(c[0], c[1]); err == nil {
			t.Errorf("%v: want an error", c)
		}
	}
	s := &longerWins{}
	got, err := ScorerRegression(context.Background(), s,
		[]ir.Pair{{Query: "a", Passage: "a"}, {Query: "a", Passage: "aaa"}, {Query: "b", Passage: "a"}}, []float64{1, 3, -1}, nil)
	if err != nil || got.MSE != 0 || math.Abs(got.Pearson-1) > 1e-15 {
		t.Errorf("ScorerRegression: %+v %v", got, err)
	}
}
