package evaluate

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/hybrid"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

// HybridRun fuses the dense run at dimension dim (cosine) with the BM25 run (package hybrid): the first
// stage of a hybrid system. Each run contributes its top Config().MaxK() hits (fewer when fusion.Depth says).
func (e *IR) HybridRun(ctx context.Context, queries, corpus *vector.Matrix, dim int, p bm25.Params, fusion hybrid.Options, report progress.Func) (ir.Run, error) {
	dense, err := e.DenseRun(ctx, queries, corpus, dim, search.Cosine, report)
	if err != nil {
		return nil, err
	}
	lexical, err := e.BM25Run(ctx, p, report)
	if err != nil {
		return nil, err
	}
	return hybrid.Fuse(dense, lexical, fusion)
}

// EvaluateHybrid evaluates BM25 fused with the embeddings at every configured dimension (keys
// hybrid_dim_<d>_<metric>@k), with one fusion for all of them.
func (e *IR) EvaluateHybrid(ctx context.Context, queries, corpus *vector.Matrix, p bm25.Params, fusion hybrid.Options, report progress.Func) (*Report, error) {
	dims := e.opts.Dims
	if len(dims) == 0 {
		dims = []int{queries.Dim}
	}
	out := &Report{}
	for _, d := range dims {
		run, err := e.HybridRun(ctx, queries, corpus, d, p, fusion, report)
		if err != nil {
			return nil, err
		}
		r, err := e.EvaluateRun(run, fmt.Sprintf("hybrid_dim_%d", d))
		if err != nil {
			return nil, err
		}
		out.Columns = append(out.Columns, r.Columns...)
	}
	return out, nil
}

// TuneHybrid chooses the convex weight on this evaluator's queries (a dev split: never the queries a report
// is made on) at dimension dim, by metric (e.g. "ndcg@10"); see hybrid.Tune.
func (e *IR) TuneHybrid(ctx context.Context, queries, corpus *vector.Matrix, dim int, p bm25.Params, metric string, fusion hybrid.Options, report progress.Func) (hybrid.Options, []hybrid.Trial, error) {
	dense, err := e.DenseRun(ctx, queries, corpus, dim, search.Cosine, report)
	if err != nil {
		return fusion, nil, err
	}
	lexical, err := e.BM25Run(ctx, p, report)
	if err != nil {
		return fusion, nil, err
	}
	dev := ir.Qrels{}
	for _, q := range e.queries {
		dev[q.ID] = e.qrels[q.ID]
	}
	return hybrid.Tune(dense, lexical, dev, e.opts.Config, metric, nil, fusion)
}
