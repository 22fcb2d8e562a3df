package workflow

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/retrieval/weaviate"
)

// pushedSample pushes the financial sample's passages, embedded by the tiny BERT test model, into collection
// name on srv, and returns the model with the sample's questions and passages.
func pushedSample(t *testing.T, srv *weaviatetest.Server, name string) (*Model, []string, []string) {
	t.Helper()
	ctx := context.Background()
	env := Env{}
	m, err := OpenModel(ctx, env, filepath.Join("..", "testdata", "models", "tiny-bert-mean"), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pairs := "../testdata/financial-sample/pairs.csv"
	df, err := datasets.Load(pairs)
	if err != nil {
		t.Fatal(err)
	}
	questions, err := datasets.Strings(df, "question")
	if err != nil {
		t.Fatal(err)
	}
	contexts, err := datasets.Strings(df, "context")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := index.LoadCorpus(pairs, index.CorpusOptions{TextColumn: "context"})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := BuildIndex(ctx, env, IndexInput{Docs: docs, Model: m}, DefaultIndexOptions())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "sample")
	if err := ix.Index.Save(dir); err != nil {
		t.Fatal(err)
	}
	o := DefaultPushIndexOptions()
	o.Collection = name
	if _, err := PushIndex(ctx, env, PushIndexInput{IndexDir: dir, URL: srv.URL}, o); err != nil {
		t.Fatal(err)
	}
	return m, questions, contexts
}

// negativeTexts is each input row's negatives, as passage texts.
func negativeTexts(r *Mined) map[int][]string {
	out := map[int][]string{}
	for _, row := range r.Set.Rows {
		for _, n := range r.Queries[row.Query].Negatives {
			out[row.Input] = append(out[row.Input], r.Set.Corpus[n.Passage])
		}
	}
	return out
}

// Mining through a collection picks the negatives the in-process exact search picks: the candidates are the
// same when HNSW finds the true top-k, which it does for 223 passages (its dynamic ef, at least 100, visits
// nearly the whole graph), and the selection recomputes every cosine from the vectors. A collection of another
// model is refused before anything is searched.
func TestWeaviateMineMatchesLocalExactMining(t *testing.T) {
	srv := weaviatetest.Start(t)
	ctx := context.Background()
	m, questions, contexts := pushedSample(t, srv, "Sample")
	o := DefaultMineOptions()
	o.Mining.TopK, o.Mining.NumNegatives, o.Mining.Window = 20, 3, mining.Window{}
	in := MineInput{Anchors: questions, Positives: contexts, Model: m}
	local, err := Mine(ctx, Env{}, in, o)
	if err != nil {
		t.Fatal(err)
	}
	in.Weaviate = &WeaviateSource{URL: srv.URL, Collection: "Sample", PerRequest: 5, Concurrency: 3}
	remote, err := Mine(ctx, Env{}, in, o)
	if err != nil {
		t.Fatal(err)
	}
	w := remote.Weaviate
	if w == nil || w.TopK != 20 || w.Dim != 32 || w.Search.Queries != len(remote.Set.Queries) || w.Search.Requests != (w.Search.Queries+4)/5 {
		t.Fatalf("weaviate run %+v", w)
	}
	// The pool holds only what was retrieved, plus the positives.
	if w.Pool > 223 || len(remote.Set.Corpus) > 223 {
		t.Errorf("pool %d, corpus %d: more than the collection's 223 passages", w.Pool, len(remote.Set.Corpus))
	}
	want, got := negativeTexts(local), negativeTexts(remote)
	same := 0
	for row, neg := range want {
		if strings.Join(neg, "\x00") == strings.Join(got[row], "\x00") {
			same++
		}
	}
	if len(want) != len(questions) || same < len(want)*98/100 {
		t.Errorf("identical negatives for %d of %d rows", same, len(want))
	}
	if remote.Stats.Negatives != local.Stats.Negatives {
		t.Errorf("%d negatives through Weaviate, %d locally", remote.Stats.Negatives, local.Stats.Negatives)
	}
	t.Logf("identical negatives for %d of %d rows; %s", same, len(want), w)

	// A corpus table beside the collection is refused: the collection is the corpus.
	in.Corpus = []string{"an extra passage"}
	if _, err := Mine(ctx, Env{}, in, o); err == nil || !strings.Contains(err.Error(), "the collection is the corpus") {
		t.Errorf("corpus and collection: err = %v", err)
	}
	in.Corpus = nil
	in.Model = &Model{Dir: m.Dir, ID: "another-model"}
	var mm *weaviate.MismatchError
	if _, err := Mine(ctx, Env{}, in, o); !errors.As(err, &mm) {
		t.Errorf("another model: err = %v, want a MismatchError", err)
	}
}

// Evaluating through a collection gives the metrics of the exact in-process evaluation at the same dimension
// (HNSW's recall is 1 here), and says so through weaviate_agreement@k; the pairs set's document ids (d000…)
// are found under the content ids the push gave them. A set the collection does not hold is refused with its
// missing documents named.
func TestWeaviateEvaluateMatchesLocalEvaluation(t *testing.T) {
	srv := weaviatetest.Start(t)
	ctx := context.Background()
	m, questions, contexts := pushedSample(t, srv, "Sample")
	set, err := EvalPairs{Anchors: questions, Positives: contexts}.Set()
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultEvalOptions()
	local, err := EvaluateModel(ctx, Env{}, set, m, o)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := EvaluateWeaviate(ctx, Env{}, set, m, o, WeaviateSource{URL: srv.URL, Collection: "Sample"})
	if err != nil {
		t.Fatal(err)
	}
	lf, rf := local.Flat(), remote.Flat()
	for _, metric := range []string{"ndcg@10", "mrr@10", "accuracy@1", "recall@10", "map@100"} {
		l, ok1 := lf["dim_32_cosine_"+metric]
		r, ok2 := rf["weaviate_cosine_"+metric]
		if !ok1 || !ok2 || l-r > 0.01 || r-l > 0.01 {
			t.Errorf("%s: local %v (%v), weaviate %v (%v)", metric, l, ok1, r, ok2)
		}
	}
	if a10, a100 := rf["weaviate_agreement@10"], rf["weaviate_agreement@100"]; a10 < 0.98 || a100 < 0.98 {
		t.Errorf("agreement@10 %v, @100 %v", a10, a100)
	}
	if remote.Outside != 0 || remote.Search.Queries != len(remote.Run) {
		t.Errorf("outside %d, %d queries searched for %d", remote.Outside, remote.Search.Queries, len(remote.Run))
	}
	t.Logf("ndcg@10 local %.4f weaviate %.4f, agreement@10 %.4f; %s", lf["dim_32_cosine_ndcg@10"], rf["weaviate_cosine_ndcg@10"],
		rf["weaviate_agreement@10"], remote.Describe())

	extra, err := EvalPairs{Anchors: append(questions[:3:3], "a question"), Positives: append(contexts[:3:3], "a passage nobody pushed")}.Set()
	if err != nil {
		t.Fatal(err)
	}
	_, err = EvaluateWeaviate(ctx, Env{}, extra, m, o, WeaviateSource{URL: srv.URL, Collection: "Sample"})
	last := extra.Corpus[len(extra.Corpus)-1]
	if err == nil || last.Text != "a passage nobody pushed" ||
		!strings.Contains(err.Error(), fmt.Sprintf("lacks 1 of the %d evaluation documents (%s)", len(extra.Corpus), last.ID)) {
		t.Errorf("a passage outside the collection: err = %v", err)
	}
}

// Agreement is the share of the reference top k that the other run holds, averaged over queries.
func TestAgreement(t *testing.T) {
	a := map[string][]string{"q1": {"a", "b", "c"}, "q2": {"x", "y"}}
	b := map[string][]string{"q1": {"c", "b", "z"}, "q2": {"x", "y"}}
	toRun := func(m map[string][]string) ir.Run {
		r := ir.Run{}
		for q, ids := range m {
			for i, id := range ids {
				r[q] = append(r[q], ir.Hit{DocID: id, Score: float64(len(ids) - i)})
			}
		}
		return r
	}
	ra, rb := toRun(a), toRun(b)
	if got := Agreement(ra, rb, 3); math.Abs(got-5.0/6) > 1e-12 {
		t.Errorf("agreement@3 %v", got)
	}
	if got := Agreement(ra, rb, 1); got != 0.5 {
		t.Errorf("agreement@1 %v", got)
	}
}
