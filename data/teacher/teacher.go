// Package teacher scores (query, passage) pairs with a stronger model, to label or distil training data:
// an LLM judge (relevance 0–1 through any OpenAI-compatible chat endpoint), an HTTP rerank API (Cohere,
// Jina or Hugging Face TEI /rerank), an embedder (cosine of query and passage embeddings, as the ModernBERT
// recipe scored pairs with an arctic-embed model), or any relevance.Scorer — a local cross-encoder from the
// model package is one. ScoreWithTeacher adds the scores to a table as a column, optionally normalised;
// SampleTopN is the randomised distillation of the reranker recipe: rerank each query's candidates with the
// teacher, keep the top n, pick one at random. It does not generate questions (synth) or mine negatives.
package teacher

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ragnb/ragnb/internal/feed"
	"github.com/ragnb/ragnb/ir"
)

// errNotScored marks pairs never scored because the context was cancelled first.
var errNotScored = errors.New("not scored: stopped before it")

func notScored(n int) ([]float64, []error) {
	scores := make([]float64, n)
	errs := make([]error, n)
	for i := range scores {
		scores[i] = math.NaN()
		errs[i] = errNotScored
	}
	return scores, errs
}

// uniquePairs returns the distinct pairs and, for each input pair, the index of its distinct pair.
func uniquePairs(pairs []ir.Pair) ([]ir.Pair, []int) {
	seen := map[ir.Pair]int{}
	var uniq []ir.Pair
	index := make([]int, len(pairs))
	for i, p := range pairs {
		u, ok := seen[p]
		if !ok {
			u = len(uniq)
			seen[p] = u
			uniq = append(uniq, p)
		}
		index[i] = u
	}
	return uniq, index
}

// forEach runs fn(0..n-1) on workers goroutines, handing out no new index once ctx is done.
func forEach(ctx context.Context, n, workers int, fn func(i int)) {
	if workers < 1 {
		workers = 1
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	feed.Indices(ctx, next, n)
	wg.Wait()
}

// collect turns per-unique-pair errors into one error for the caller's pairs (nil when all were scored).
func collect(ctx context.Context, who string, index []int, errs []error) error {
	failed, first := 0, -1
	for i, u := range index {
		if errs[u] != nil {
			failed++
			if first < 0 {
				first = i
			}
		}
	}
	if failed == 0 {
		return nil
	}
	err := fmt.Errorf("%s: first, pair %d: %w", who, first, errs[index[first]])
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return &UnscoredError{Unscored: failed, Total: len(index), Err: err}
}

// UnscoredError says that some pairs could not be scored (their scores are NaN) while the others were: the
// results are usable, and the error says how many are missing and why the first one is.
type UnscoredError struct {
	Unscored, Total int
	Err             error
}

func (e *UnscoredError) Error() string {
	return fmt.Sprintf("%d of %d pairs not scored (NaN): %v", e.Unscored, e.Total, e.Err)
}

func (e *UnscoredError) Unwrap() error { return e.Err }
