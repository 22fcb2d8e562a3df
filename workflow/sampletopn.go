package workflow

import (
	"context"
	"fmt"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/retrieval/search"
)

// SampleTopNOptions configure SampleTopN, the reranker recipe's "retrieve the top 10, rerank, pick one at
// random": each query's Retrieve nearest corpus passages (the bi-encoder's cosine), reranked by the teacher,
// one picked uniformly among the teacher's TopN, labelled with the teacher's score.
type SampleTopNOptions struct {
	Retrieve int    `json:"retrieve"`
	TopN     int    `json:"top_n"`
	Seed     uint64 `json:"seed"`
}

// DefaultSampleTopNOptions are the defaults of `ragnb sample-topn` and the prelude's SampleTopN: the recipe's
// top 10 retrieved, the pick among all 10 after reranking (the teacher's score is the label), seed 0.
func DefaultSampleTopNOptions() SampleTopNOptions {
	return SampleTopNOptions{Retrieve: 10, TopN: 10}
}

// SampleTopNInput are the queries, the corpus searched, the retriever and the teacher.
type SampleTopNInput struct {
	Queries, Corpus []string
	Model           *Model
	Teacher         Teacher
}

// Sampled is SampleTopN's outcome: one row per query the teacher scored (query, passage, score, rank — the
// pick's 1-based place in the teacher's order), and the teacher's work.
type Sampled struct {
	Frame        dataframe.DataFrame
	TeacherStats string
}

// SampleTopN retrieves, reranks and picks one passage per query (teacher.SampleTopN over the bi-encoder's top
// o.Retrieve). The embeddings go through the Embed step (memoised with a cache); the teacher's answers are
// cached by the teacher. Queries the teacher could not score are left out, and the error says how many pairs.
func SampleTopN(ctx context.Context, env Env, in SampleTopNInput, o SampleTopNOptions) (*Sampled, error) {
	if o.Retrieve < 1 || o.TopN < 1 {
		return nil, fmt.Errorf("sample top-n: retrieve %d and top-n %d, want both ≥ 1", o.Retrieve, o.TopN)
	}
	if in.Model == nil || len(in.Queries) == 0 || len(in.Corpus) == 0 {
		return nil, fmt.Errorf("sample top-n: want a retriever, queries and a corpus (%d queries, %d passages)", len(in.Queries), len(in.Corpus))
	}
	q, err := in.Model.Embed(ctx, env, in.Queries, true)
	if err != nil {
		return nil, fmt.Errorf("embed %d queries: %w", len(in.Queries), err)
	}
	c, err := in.Model.Embed(ctx, env, in.Corpus, false)
	if err != nil {
		return nil, fmt.Errorf("embed %d passages: %w", len(in.Corpus), err)
	}
	s, err := search.New(nil, search.Options{Similarity: search.Cosine})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	hits, err := s.Search(ctx, q, c, min(o.Retrieve, len(in.Corpus)), env.Progress)
	if err != nil {
		return nil, err
	}
	items := make([]teacher.Candidates, len(in.Queries))
	for i, hs := range hits {
		items[i].Query = in.Queries[i]
		for _, h := range hs {
			items[i].Passages = append(items[i].Passages, in.Corpus[h.Index])
		}
	}
	scorer, stats, err := in.Teacher.scorer()
	if err != nil {
		return nil, err
	}
	samples, err := teacher.SampleTopN(ctx, scorer, items, o.TopN, o.Seed, env.Progress)
	if samples == nil && err != nil {
		return nil, err
	}
	var queries, passages []string
	var scores []float64
	var ranks []int
	for _, p := range samples {
		queries, passages = append(queries, p.Query), append(passages, p.Passage)
		scores, ranks = append(scores, p.Score), append(ranks, p.Rank)
	}
	def := DefaultTrainOptions()
	df := dataframe.New(series.New(queries, series.String, def.Anchor), series.New(passages, series.String, def.Positive),
		series.New(scores, series.Float, "score"), series.New(ranks, series.Int, "rank"))
	return &Sampled{Frame: df, TeacherStats: stats()}, err
}
