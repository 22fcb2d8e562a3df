package mining

import (
	"fmt"
	"math"
	"slices"

	"github.com/ragnb/ragnb/vector"
)

// Suggestion is a distance window read off the data rather than taken from a recipe: BGE's 0.4 < L2 ≤ 0.7
// suits a model whose positives sit at cosine ≈ 0.8–0.9, and holds nothing for one whose positives sit at
// 0.3 (a static model's, say). The window spans the positives' own distances between two quantiles: a
// candidate as close to its query as the real positives are is hard; one closer than nearly every positive
// is more likely an unlabelled positive (a false negative) than a hard negative.
type Suggestion struct {
	Window Window `json:"window"`
	// LowQuantile and HighQuantile are the quantiles of the positives' distances the bounds are.
	LowQuantile  float64 `json:"low_quantile"`
	HighQuantile float64 `json:"high_quantile"`
	// Covered counts the queries with at least NumNegatives retrieved non-positive candidates inside the
	// window, out of Queries.
	Covered      int `json:"covered_queries"`
	Queries      int `json:"queries"`
	NumNegatives int `json:"num_negatives"`
}

// String is the suggestion as one line.
func (s Suggestion) String() string {
	return fmt.Sprintf("suggested window %s (positives' q%.0f–q%.0f): %d of %d queries have ≥ %d candidates in it",
		s.Window, 100*s.LowQuantile, 100*s.HighQuantile, s.Covered, s.Queries, s.NumNegatives)
}

// SuggestWindow proposes a window on the given distance from the prepared embeddings: (quantile lo, quantile
// hi] of every (query, positive) distance (e.g. 0.1 and 0.9), and counts how many queries it leaves with at
// least numNegatives candidates among their retrieved hits.
func SuggestWindow(p *Prepared, distance Distance, lo, hi float64, numNegatives int) (Suggestion, error) {
	if distance == "" {
		distance = L2
	}
	switch {
	case distance != L2 && distance != CosineDistance:
		return Suggestion{}, fmt.Errorf("mine: suggest a window: distance %q, want l2 or cosine", distance)
	case !(0 <= lo && lo < hi && hi <= 1):
		return Suggestion{}, fmt.Errorf("mine: suggest a window: quantiles %v and %v, want 0 ≤ low < high ≤ 1", lo, hi)
	case numNegatives < 1:
		return Suggestion{}, fmt.Errorf("mine: suggest a window: %d negatives per query, want at least 1", numNegatives)
	}
	qn, cn := norms(p.Queries), norms(p.Corpus)
	dist := func(q, d int) float64 {
		c := 0.0
		if qn[q] > 0 && cn[d] > 0 {
			c = vector.Dot(p.Queries.Row(q), p.Corpus.Row(d)) / math.Sqrt(qn[q]*cn[d])
		}
		return distance.Of(c)
	}
	var pos []float64
	for q, ps := range p.Set.Positives {
		for _, d := range ps {
			pos = append(pos, dist(q, d))
		}
	}
	if len(pos) == 0 {
		return Suggestion{}, fmt.Errorf("mine: suggest a window: no (query, positive) pairs")
	}
	slices.Sort(pos)
	s := Suggestion{LowQuantile: lo, HighQuantile: hi, NumNegatives: numNegatives, Queries: len(p.Hits),
		Window: Window{Distance: distance, Min: quantile(pos, lo), Max: quantile(pos, hi)}}
	if s.Window.Max <= s.Window.Min { // every positive at one distance: open the window a little above it
		s.Window.Max = s.Window.Min + 1e-6
	}
	for q, hits := range p.Hits {
		n := 0
		for _, d := range hits {
			if !slices.Contains(p.Set.Positives[q], int(d)) && s.Window.Contains(dist(q, int(d))) {
				n++
			}
		}
		if n >= numNegatives {
			s.Covered++
		}
	}
	return s, nil
}

// quantile is the p-quantile of sorted xs by linear interpolation (numpy's default), as Summarize computes.
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	i := int(math.Floor(h))
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}
