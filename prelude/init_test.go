package prelude

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/workflow"
)

func TestNewBertModelsUseTheVocabularyOfAnother(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	t.Setenv(EnvReranker, "")
	pairs, _, test := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 64})

	rr := BaseReranker(base)
	if rr.Err() != nil || rr.Name() != "reranker" {
		t.Fatalf("BaseReranker: %v %q", rr.Err(), rr.Name())
	}
	ce, err := rr.CrossEncoder()
	if err != nil {
		t.Fatal(err)
	}
	bi, _ := base.BiEncoder()
	if ce.Tokenizer().VocabSize() != bi.Tokenizer().VocabSize() {
		t.Errorf("the reranker's vocabulary (%d) is not the base model's (%d)", ce.Tokenizer().VocabSize(), bi.Tokenizer().VocabSize())
	}
	scores, err := ce.ScorePairs(t.Context(), []ir.Pair{{Query: test.Column("anchor")[0], Passage: test.Column("positive")[0]}}, nil)
	if err != nil || len(scores) != 1 {
		t.Fatalf("scores %v %v", scores, err)
	}
	if again := NewCrossEncoder(base, BertOptions{}); again.ID() != rr.ID() {
		t.Error("the same vocabulary and options must give the same (cached) reranker")
	}
	if other := NewCrossEncoder(base, BertOptions{Seed: 7}); other.ID() == rr.ID() {
		t.Error("another seed must give another model")
	}

	enc := NewBertBiEncoder(base, BertOptions{Layers: 1, Hidden: 32, Heads: 2})
	m, err := enc.BiEncoder()
	if err != nil {
		t.Fatal(err)
	}
	if m.Dim() != 32 || m.IsStatic() {
		t.Errorf("bi-encoder dim %d static %v", m.Dim(), m.IsStatic())
	}

	if bad := NewCrossEncoder(LoadModel(t.TempDir()), BertOptions{}); bad.Err() == nil || !strings.Contains(bad.String(), "NewCrossEncoder(LoadModel(") {
		t.Errorf("a failed vocabulary model: %v", bad)
	}
}

// TestEvaluateReranker: a reranker's metrics are those of the first stage's top Depth reordered by the
// cross-encoder; computed here again by hand from the library's run and scores.
func TestEvaluateReranker(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	t.Setenv(EnvReranker, "")
	pairs, _, test := samplePairs(t)
	base := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	rr := BaseReranker(base)
	got := EvaluateReranker(nil, rr, test, RerankOptions{EvalOptions: EvalOptions{Corpus: pairs}, Depth: 10})
	if got.Err() != nil {
		t.Fatal(got.Err())
	}
	bm := EvaluateBM25(test, EvalOptions{Corpus: pairs})
	// Reordering the top 10 keeps which passages are in it: every @10 set metric is BM25's.
	for _, k := range []string{"accuracy@10", "recall@10", "precision@10"} {
		if g, w := got.Get("reranked_"+k), bm.Get("bm25_"+k); g != w {
			t.Errorf("%s: reranked %v, BM25 %v (a reorder of the top 10 keeps it)", k, g, w)
		}
	}
	// Passages below the depth are not ranked (sentence-transformers' reranking evaluator).
	shallow := EvaluateReranker(nil, rr, test, RerankOptions{EvalOptions: EvalOptions{Corpus: pairs}, Depth: 3})
	if g, w := shallow.Get("reranked_recall@10"), bm.Get("bm25_recall@3"); g != w {
		t.Errorf("depth 3: recall@10 %v, want BM25's recall@3 %v", g, w)
	}
	if got.Name() != "bm25 → reranker" || got.Get("reranked_ndcg@10") <= 0 {
		t.Errorf("name %q ndcg %v", got.Name(), got.Get("reranked_ndcg@10"))
	}
	dense := EvaluateReranker(base, rr, test, RerankOptions{EvalOptions: EvalOptions{Corpus: pairs}, Depth: 10, Label: "r"})
	first := Evaluate(base, test, EvalOptions{Corpus: pairs})
	if g, w := dense.Get("r_accuracy@10"), first.Get("dim_64_cosine_accuracy@10"); dense.Err() != nil || g != w {
		t.Errorf("dense first stage: accuracy@10 %v vs %v (%v)", g, w, dense.Err())
	}
	// A nil reranker is an error the chain carries, not a panic.
	if none := EvaluateReranker(base, nil, test, RerankOptions{EvalOptions: EvalOptions{Corpus: pairs}}); none.Err() == nil ||
		!strings.Contains(none.Err().Error(), "no reranker") {
		t.Errorf("nil reranker: %v", none.Err())
	}
}

// Zero prelude options are the workflow's defaults, which `ragnb init-model` uses too.
func TestInitDefaultsAreTheWorkflowDefaults(t *testing.T) {
	if got, want := (StaticOptions{}).workflow(), workflow.DefaultInitModelOptions(workflow.ArchStatic); !reflect.DeepEqual(got, want) {
		t.Errorf("StaticOptions{} → %+v, want %+v", got, want)
	}
	for _, arch := range []string{workflow.ArchBert, workflow.ArchCrossEncoder} {
		if got, want := (BertOptions{}).workflow(arch), workflow.DefaultInitModelOptions(arch); !reflect.DeepEqual(got, want) {
			t.Errorf("BertOptions{} for %s → %+v, want %+v", arch, got, want)
		}
	}
	// A set field wins over its default; the rest stay defaults.
	o := (BertOptions{Hidden: 64}).workflow(workflow.ArchBert).Resolve(false)
	if o.Bert.Hidden != 64 || o.Bert.Intermediate != 256 || o.Bert.Layers != workflow.DefaultBertOptions().Layers {
		t.Errorf("BertOptions{Hidden: 64} → %+v", o.Bert)
	}
}
