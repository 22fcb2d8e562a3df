package ir

// What a relevance scorer looks like: anything that gives a (query, passage) pair a score — a cross-encoder,
// an LLM judge, a rerank API, a bi-encoder's cosine. Teachers, reranking and the answer pipeline all take a
// Scorer, so any of them can stand in for another.

import (
	"context"

	"github.com/ragnb/ragnb/progress"
)

// Pair is one query and one candidate passage.
type Pair struct {
	Query, Passage string
}

// Scorer scores pairs; a higher score means more relevant. Scores are returned in the order of pairs.
// Whether scores are logits, probabilities or cosines is the implementation's to document. report may be nil.
type Scorer interface {
	ScorePairs(ctx context.Context, pairs []Pair, report progress.Func) ([]float64, error)
}
