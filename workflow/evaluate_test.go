package workflow

import (
	"context"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/retrieval/bm25"
)

func pairsSet(t *testing.T) *EvalSet {
	t.Helper()
	set, err := EvalPairs{
		Anchors:   []string{"what was revenue", "who is the auditor", "where is the headquarters"},
		Positives: []string{"revenue was 10 million", "the auditor is KPMG", "the headquarters are in Oslo"},
		Corpus: []string{"revenue was 10 million", "the auditor is KPMG", "the headquarters are in Oslo",
			"net income fell", "the company sells ships"},
		TestID: "test-hash", CorpusID: "corpus-hash", Anchor: "anchor", Positive: "positive", CorpusColumn: "positive",
	}.Set()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// The evaluation steps keep the prelude's keys: spelt the old way, they hash alike; a non-default BM25 is
// keyed (it changes the numbers).
func TestEvaluateKeysAreThePreludesOldKeys(t *testing.T) {
	set := pairsSet(t)
	o := DefaultEvalOptions()
	o.Dims = []int{256, 64}
	old := map[string]any{"dims": []int{256, 64}, "anchor": "anchor", "positive": "positive", "corpus_column": "positive", "corpus": true}
	sameKey(t, cache.Key{Step: "evaluate", Version: 1, Inputs: append([]string{"model"}, set.Inputs...), Params: o.keyParams(set, "dims")},
		cache.Key{Step: "evaluate", Version: 1, Inputs: []string{"model", "test-hash", "corpus-hash"}, Params: old})
	delete(old, "dims")
	sameKey(t, cache.Key{Step: "evaluate-bm25", Version: 1, Inputs: set.Inputs, Params: o.keyParams(set)},
		cache.Key{Step: "evaluate-bm25", Version: 1, Inputs: []string{"test-hash", "corpus-hash"}, Params: old})
	old["dims"], old["depth"], old["dim"], old["label"] = []int{256, 64}, 20, 0, "reranked"
	sameKey(t, cache.Key{Step: "evaluate-reranker", Version: 1, Params: o.keyParams(set, "dims", "depth")},
		cache.Key{Step: "evaluate-reranker", Version: 1, Params: old})

	other := o
	other.BM25 = bm25.Params{K1: 0.9, B: 0.4}
	if mustHash(t, cache.Key{Step: "evaluate-bm25", Params: other.keyParams(set)}) == mustHash(t, cache.Key{Step: "evaluate-bm25", Params: o.keyParams(set)}) {
		t.Error("BM25's parameters are not keyed")
	}
}

// EvaluateBM25 computes the run and its metrics without a cache; with one, the second call replays the same
// metrics from the cache (no run).
func TestEvaluateBM25MemoisesTheMetrics(t *testing.T) {
	set := pairsSet(t)
	direct, err := EvaluateBM25(context.Background(), Env{}, set, DefaultEvalOptions())
	if err != nil {
		t.Fatal(err)
	}
	if direct.Run == nil || direct.Cached {
		t.Fatalf("without a cache: run %v cached %v", direct.Run != nil, direct.Cached)
	}
	if got := direct.Flat()["bm25_ndcg@10"]; !(got > 0.9) {
		t.Errorf("bm25_ndcg@10 = %v on queries that share their passage's words", got)
	}
	st, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Cache: st}
	for i, wantCached := range []bool{false, true} {
		r, err := EvaluateBM25(context.Background(), env, set, DefaultEvalOptions())
		if err != nil {
			t.Fatal(err)
		}
		if r.Cached != wantCached {
			t.Errorf("call %d: cached %v", i, r.Cached)
		}
		for k, v := range direct.Flat() {
			if g := r.Flat()[k]; g != v {
				t.Errorf("call %d: %s = %v, want %v", i, k, g, v)
			}
		}
	}
}
