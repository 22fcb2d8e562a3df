package teacher

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// Candidates is one query and the passages to choose from (e.g. its mined hard negatives).
type Candidates struct {
	Query    string
	Passages []string
}

// Sample is the passage picked for one query.
type Sample struct {
	Query, Passage string
	// Score is the teacher's score of the pick; Rank its 1-based place in the teacher's order; Index its
	// position in Candidates.Passages.
	Score       float64
	Rank, Index int
}

// SampleTopN is the randomised distillation of the reranker recipe: for each query, score its candidates with
// the teacher (all pairs in one ScorePairs call), order them by score (ties by position), keep the top n and
// pick one uniformly at random. The generator of item i is seeded with (seed, i), so the picks do not depend
// on batching or concurrency and the same seed gives the same samples. Queries without scored candidates
// are left out, and the error (returned with the samples) says how many pairs could not be scored.
func SampleTopN(ctx context.Context, scorer ir.Scorer, items []Candidates, topN int, seed uint64, report progress.Func) ([]Sample, error) {
	if topN < 1 {
		return nil, fmt.Errorf("sample top-n: n = %d, want ≥ 1", topN)
	}
	var pairs []ir.Pair
	start := make([]int, len(items)+1)
	for i, it := range items {
		start[i] = len(pairs)
		for _, p := range it.Passages {
			pairs = append(pairs, ir.Pair{Query: it.Query, Passage: p})
		}
	}
	start[len(items)] = len(pairs)
	scores, err := scorer.ScorePairs(ctx, pairs, report)
	if len(scores) != len(pairs) {
		if err == nil {
			err = fmt.Errorf("the teacher returned %d scores for %d pairs", len(scores), len(pairs))
		}
		return nil, fmt.Errorf("sample top-n: %w", err)
	}
	var out []Sample
	for i, it := range items {
		type cand struct {
			idx   int
			score float64
		}
		var cs []cand
		for k := range it.Passages {
			if s := scores[start[i]+k]; !math.IsNaN(s) {
				cs = append(cs, cand{k, s})
			}
		}
		if len(cs) == 0 {
			continue
		}
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].score > cs[b].score })
		n := min(topN, len(cs))
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		pick := rng.IntN(n)
		c := cs[pick]
		out = append(out, Sample{Query: it.Query, Passage: it.Passages[c.idx], Score: c.score, Rank: pick + 1, Index: c.idx})
	}
	if err != nil {
		return out, fmt.Errorf("sample top-n: %w", err)
	}
	return out, nil
}
