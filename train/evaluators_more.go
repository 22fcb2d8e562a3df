package train

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/vector"
)

// TripletEvaluator is sentence-transformers' TripletEvaluator with cosine: the share of (anchor, positive,
// negative) triplets whose positive is closer to the anchor than the negative, cos(a, p) > cos(a, n) (key
// <name>_cosine_accuracy; name "" gives cosine_accuracy). Anchors are embedded as queries, the others as
// documents. Usable as Config.Evaluator with BestMetric "<name>_cosine_accuracy".
func TripletEvaluator(m vector.Embedder, anchors, positives, negatives []string, name string) (Evaluator, error) {
	if len(anchors) == 0 || len(anchors) != len(positives) || len(anchors) != len(negatives) {
		return nil, fmt.Errorf("triplet evaluator: %d anchors, %d positives, %d negatives: want as many of each, at least one",
			len(anchors), len(positives), len(negatives))
	}
	key := "cosine_accuracy"
	if name != "" {
		key = name + "_" + key
	}
	return EvalFunc(func(ctx context.Context, report progress.Func) (map[string]float64, error) {
		a, err := m.EmbedQueries(ctx, anchors, report)
		if err != nil {
			return nil, err
		}
		p, err := m.EmbedDocuments(ctx, positives, report)
		if err != nil {
			return nil, err
		}
		n, err := m.EmbedDocuments(ctx, negatives, report)
		if err != nil {
			return nil, err
		}
		right := 0
		for i := range anchors {
			if vector.Cosine(a.Row(i), p.Row(i)) > vector.Cosine(a.Row(i), n.Row(i)) {
				right++
			}
		}
		return map[string]float64{key: float64(right) / float64(len(anchors))}, nil
	}), nil
}

// RegressionEvaluator scores (query, passage) pairs with a cross-encoder and compares them with teacher
// scores — the reranker distillation recipe's evaluator: keys <name>_mse, <name>_pearson, <name>_spearman.
// For best-checkpoint selection use BestMetric "<name>_mse" with LowerIsBetter, or a correlation.
func RegressionEvaluator(s ir.Scorer, pairs []ir.Pair, teacher []float64, name string) Evaluator {
	if name == "" {
		name = "regression"
	}
	return EvalFunc(func(ctx context.Context, report progress.Func) (map[string]float64, error) {
		r, err := evaluate.ScorerRegression(ctx, s, pairs, teacher, report)
		if err != nil {
			return nil, err
		}
		return map[string]float64{name + "_mse": r.MSE, name + "_pearson": r.Pearson, name + "_spearman": r.Spearman}, nil
	})
}
