package evaluate

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// RerankOptions configure Rerank.
type RerankOptions struct {
	// Depth is how many of each query's first-stage hits are rescored (default 100). Hits below it are dropped:
	// the reranked run holds exactly the rescored candidates, as a production reranker sees them.
	Depth int
	// BatchPairs is how many pairs go to the scorer per call (default 1024); progress is reported after each.
	BatchPairs int
}

// Rerank rescores each query's top Depth hits of first with the scorer and returns them ranked by the new
// score. queries and docs map ids to the texts the scorer sees (a document's ir.Document.Content()). Only the
// queries present in both first and queries are reranked. Unlike sentence-transformers'
// CrossEncoderRerankingEvaluator with always_rerank_positives, relevant documents the first stage missed are
// not added: the result measures the real two-stage pipeline.
func Rerank(ctx context.Context, s ir.Scorer, first ir.Run, queries, docs map[string]string, opts RerankOptions, report progress.Func) (ir.Run, error) {
	if opts.Depth <= 0 {
		opts.Depth = 100
	}
	if opts.BatchPairs <= 0 {
		opts.BatchPairs = 1024
	}
	var qids []string
	for q := range first {
		if _, ok := queries[q]; ok {
			qids = append(qids, q)
		}
	}
	sort.Strings(qids)
	type slot struct {
		qid   string
		docID string
	}
	var pairs []ir.Pair
	var slots []slot
	for _, q := range qids {
		hits := first.Sorted(q)
		if len(hits) > opts.Depth {
			hits = hits[:opts.Depth]
		}
		for _, h := range hits {
			text, ok := docs[h.DocID]
			if !ok {
				return nil, fmt.Errorf("rerank: query %q: document %q is not in the corpus", q, h.DocID)
			}
			pairs = append(pairs, ir.Pair{Query: queries[q], Passage: text})
			slots = append(slots, slot{q, h.DocID})
		}
	}
	out := ir.Run{}
	tracker := progress.Start(report, "rerank", len(pairs), "pairs")
	for start := 0; start < len(pairs); start += opts.BatchPairs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rerank: %w", err)
		}
		end := min(start+opts.BatchPairs, len(pairs))
		scores, err := s.ScorePairs(ctx, pairs[start:end], nil)
		if err != nil {
			return nil, fmt.Errorf("rerank: score pairs %d..%d: %w", start, end-1, err)
		}
		if len(scores) != end-start {
			return nil, fmt.Errorf("rerank: scorer returned %d scores for %d pairs", len(scores), end-start)
		}
		for i, sc := range scores {
			sl := slots[start+i]
			if math.IsNaN(sc) {
				return nil, fmt.Errorf("rerank: query %q document %q: NaN score", sl.qid, sl.docID)
			}
			out[sl.qid] = append(out[sl.qid], ir.Hit{DocID: sl.docID, Score: sc})
		}
		tracker.Add(end - start)
	}
	tracker.Finish()
	return out, nil
}
