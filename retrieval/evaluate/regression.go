package evaluate

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// Regression compares a scorer's outputs with reference (teacher) scores, as sentence-transformers'
// CrossEncoderCorrelationEvaluator (Pearson, Spearman) and an MSE do.
type Regression struct {
	N int
	// MSE is the mean of (pred − gold)².
	MSE float64
	// Pearson is the linear correlation; NaN when either side is constant.
	Pearson float64
	// Spearman is the Pearson correlation of the ranks, tied values sharing their average rank (SciPy's
	// spearmanr); NaN when either side is constant.
	Spearman float64
}

// RegressionMetrics computes MSE, Pearson and Spearman of pred against gold.
func RegressionMetrics(pred, gold []float64) (Regression, error) {
	if len(pred) != len(gold) {
		return Regression{}, fmt.Errorf("regression: %d predictions but %d reference scores", len(pred), len(gold))
	}
	if len(pred) < 2 {
		return Regression{}, fmt.Errorf("regression: need at least 2 scores, got %d", len(pred))
	}
	for i := range pred {
		if math.IsNaN(pred[i]) || math.IsNaN(gold[i]) {
			return Regression{}, fmt.Errorf("regression: score %d is NaN", i)
		}
	}
	var mse float64
	for i := range pred {
		d := pred[i] - gold[i]
		mse += d * d
	}
	return Regression{
		N:        len(pred),
		MSE:      mse / float64(len(pred)),
		Pearson:  Pearson(pred, gold),
		Spearman: Pearson(AverageRanks(pred), AverageRanks(gold)),
	}, nil
}

// Pearson is the sample correlation coefficient of two equal-length series (NaN when either is constant).
func Pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// AverageRanks returns 1-based ranks of x in ascending order, tied values sharing the mean of their ranks
// ([10, 20, 20, 30] → [1, 2.5, 2.5, 4]).
func AverageRanks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	ranks := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for t := i; t <= j; t++ {
			ranks[idx[t]] = avg
		}
		i = j + 1
	}
	return ranks
}

// ScorerRegression scores pairs with s and compares the scores with teacher.
func ScorerRegression(ctx context.Context, s ir.Scorer, pairs []ir.Pair, teacher []float64, report progress.Func) (Regression, error) {
	if len(pairs) != len(teacher) {
		return Regression{}, fmt.Errorf("regression: %d pairs but %d teacher scores", len(pairs), len(teacher))
	}
	pred, err := s.ScorePairs(ctx, pairs, report)
	if err != nil {
		return Regression{}, fmt.Errorf("regression: score pairs: %w", err)
	}
	if len(pred) != len(pairs) {
		return Regression{}, fmt.Errorf("regression: scorer returned %d scores for %d pairs", len(pred), len(pairs))
	}
	return RegressionMetrics(pred, teacher)
}
