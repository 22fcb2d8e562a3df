package train

import (
	"context"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/evaluate"
)

// IREvaluator evaluates a bi-encoder's retrieval with ev (sentence-transformers' InformationRetrievalEvaluator
// metrics, at ev's Matryoshka dimensions): keys dim_<d>_cosine_ndcg@10 and so on.
func IREvaluator(ev *evaluate.IR, m *encoder.BiEncoder) Evaluator {
	return EvalFunc(func(ctx context.Context, report progress.Func) (map[string]float64, error) {
		r, err := ev.EvaluateEmbedder(ctx, m, report)
		if err != nil {
			return nil, err
		}
		return r.Flat(), nil
	})
}

// RerankEvaluator evaluates a cross-encoder reranking the first-stage run first (e.g. ev.BM25Run) with ev's
// metrics; label prefixes the keys ("bm25_rerank" gives bm25_rerank_ndcg@10).
func RerankEvaluator(ev *evaluate.IR, m *encoder.CrossEncoder, first ir.Run, opts evaluate.RerankOptions, label string) Evaluator {
	return EvalFunc(func(ctx context.Context, report progress.Func) (map[string]float64, error) {
		r, _, err := ev.EvaluateReranker(ctx, m, first, opts, label, report)
		if err != nil {
			return nil, err
		}
		return r.Flat(), nil
	})
}
