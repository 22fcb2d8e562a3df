package teacher

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// EmbedderTeacher scores a pair by the cosine similarity of the query's embedding (EmbedQueries, so a query
// instruction applies) and the passage's (EmbedDocuments). Each distinct query and passage is embedded once.
type EmbedderTeacher struct {
	Embedder vector.Embedder
}

// ScorePairs implements relevance.Scorer; scores are cosines in [-1, 1].
func (e EmbedderTeacher) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	if e.Embedder == nil {
		return nil, fmt.Errorf("embedder teacher: no embedder")
	}
	qi, queries := distinct(pairs, func(p ir.Pair) string { return p.Query })
	pi, passages := distinct(pairs, func(p ir.Pair) string { return p.Passage })
	qm, err := e.Embedder.EmbedQueries(ctx, queries, report)
	if err != nil {
		return nil, fmt.Errorf("embedder teacher: embed %d queries: %w", len(queries), err)
	}
	pm, err := e.Embedder.EmbedDocuments(ctx, passages, report)
	if err != nil {
		return nil, fmt.Errorf("embedder teacher: embed %d passages: %w", len(passages), err)
	}
	if qm.Rows != len(queries) || pm.Rows != len(passages) || qm.Dim != pm.Dim {
		return nil, fmt.Errorf("embedder teacher: got %dx%d query and %dx%d passage embeddings for %d queries and %d passages",
			qm.Rows, qm.Dim, pm.Rows, pm.Dim, len(queries), len(passages))
	}
	out := make([]float64, len(pairs))
	for i := range pairs {
		out[i] = vector.Cosine(qm.Row(qi[i]), pm.Row(pi[i]))
	}
	return out, nil
}

// distinct returns, for each pair, the index of its key among the distinct keys (in first-appearance order).
func distinct(pairs []ir.Pair, key func(ir.Pair) string) ([]int, []string) {
	seen := map[string]int{}
	var keys []string
	idx := make([]int, len(pairs))
	for i, p := range pairs {
		k := key(p)
		j, ok := seen[k]
		if !ok {
			j = len(keys)
			seen[k] = j
			keys = append(keys, k)
		}
		idx[i] = j
	}
	return idx, keys
}
