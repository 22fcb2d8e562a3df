package pipeline

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/hybrid"
)

// Hybrid retrieves with both retrievers (a dense one and BM25) and fuses their rankings as package hybrid
// does: each contributes max(k, fusion.Depth) candidates; the best k fused ones are returned, scored by the
// fusion. The weight should be the one chosen on a dev split (evaluate.IR.TuneHybrid).
func Hybrid(dense, lexical Retriever, fusion hybrid.Options) (Retriever, error) {
	if _, err := hybrid.Fuse(nil, nil, fusion); err != nil {
		return nil, err
	}
	return hybridRetriever{dense: dense, lexical: lexical, fusion: fusion}, nil
}

type hybridRetriever struct {
	dense, lexical Retriever
	fusion         hybrid.Options
}

func (h hybridRetriever) Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error) {
	depth := max(k, h.fusion.Depth)
	d, t, err := h.dense.Retrieve(ctx, questions, depth)
	if err != nil {
		return nil, t, err
	}
	l, tl, err := h.lexical.Retrieve(ctx, questions, depth)
	t.Search += tl.Search
	if err != nil {
		return nil, t, err
	}
	if len(d) != len(questions) || len(l) != len(questions) {
		return nil, t, fmt.Errorf("hybrid: %d dense and %d lexical result lists for %d questions", len(d), len(l), len(questions))
	}
	out := make([][]Candidate, len(questions))
	for i := range questions {
		byID := map[string]Candidate{}
		toRun := func(cs []Candidate) []ir.Hit {
			hits := make([]ir.Hit, len(cs))
			for j, c := range cs {
				hits[j] = ir.Hit{DocID: c.DocID, Score: c.Score}
				byID[c.DocID] = c
			}
			return hits
		}
		fusion := h.fusion
		fusion.Depth = depth
		fused, err := hybrid.Fuse(ir.Run{"q": toRun(d[i])}, ir.Run{"q": toRun(l[i])}, fusion)
		if err != nil {
			return nil, t, err
		}
		hits := fused.Sorted("q")
		for _, hit := range hits[:min(k, len(hits))] {
			c := byID[hit.DocID]
			c.Score = hit.Score
			out[i] = append(out[i], c)
		}
	}
	return out, t, nil
}
