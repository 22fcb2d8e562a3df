package pipeline

import (
	"context"

	"github.com/ragnb/ragnb/retrieval/weaviate"
)

// Remote retrieves from a Weaviate collection (nearVector or hybrid, as the searcher was opened). The
// adapter lives here rather than in retrieval/weaviate so that the retrieval wing never imports the pipeline.
func Remote(s *weaviate.Searcher) Retriever { return remoteRetriever{s} }

type remoteRetriever struct{ s *weaviate.Searcher }

func (r remoteRetriever) Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error) {
	hits, t, err := r.s.Search(ctx, questions, k)
	rt := RetrieveTimings{Embed: t.Embed, Search: t.Search}
	if err != nil {
		return nil, rt, err
	}
	return candidates(hits, func(h weaviate.Hit) Candidate {
		return Candidate{DocID: h.DocID, Title: h.Title, Text: h.Text, Score: h.Score}
	}), rt, nil
}
