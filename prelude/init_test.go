package prelude

import (
	"strings"
	"testing"

	"github.com/ragnb/ragnb/relevance"
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
	scores, err := ce.ScorePairs(t.Context(), []relevance.Pair{{Query: test.Column("anchor")[0], Passage: test.Column("positive")[0]}}, nil)
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
