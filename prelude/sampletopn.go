package prelude

import (
	"fmt"

	"github.com/ragnb/ragnb/workflow"
)

// SampleTopNOptions configure SampleTopN; zero fields take workflow.DefaultSampleTopNOptions (the top 10
// retrieved, the pick among all 10 after reranking, seed 0), as `ragnb sample-topn` has them.
type SampleTopNOptions struct {
	// Query is the queries' column (default "anchor"); CorpusColumn the corpus's passage column (default "text").
	Query, CorpusColumn string
	Retrieve, TopN      int
	Seed                uint64
}

// SampleTopN is the reranker recipe's "retrieve the top 10, rerank, pick one at random" (workflow.SampleTopN):
// each query of d gets the retriever's top passages of corpus, the teacher reranks them and one of its top N
// is picked at random, as (anchor, positive, score, rank) rows.
func (d *Dataset) SampleTopN(corpus *Dataset, retriever *Model, t *Teacher, opts SampleTopNOptions) *Dataset {
	op := fmt.Sprintf("SampleTopN(%s, %s, %s)", corpus.Chain(), retriever.Chain(), t.name)
	n := d.next(op)
	for _, err := range []error{n.err, corpus.Err(), retriever.Err(), t.err} {
		if err != nil {
			return n.fail(op, err)
		}
	}
	def := workflow.DefaultSampleTopNOptions()
	o := workflow.SampleTopNOptions{Retrieve: opts.Retrieve, TopN: opts.TopN, Seed: opts.Seed}
	if o.Retrieve == 0 {
		o.Retrieve = def.Retrieve
	}
	if o.TopN == 0 {
		o.TopN = def.TopN
	}
	query, column := opts.Query, opts.CorpusColumn
	if query == "" {
		query = workflow.DefaultTrainOptions().Anchor
	}
	if column == "" {
		column = "text"
	}
	in := workflow.SampleTopNInput{Model: retriever.handle(), Teacher: t.t}
	var err error
	if in.Queries, err = d.Strings(query); err != nil {
		return n.fail(op, err)
	}
	if in.Corpus, err = corpus.Strings(column); err != nil {
		return n.fail(op, fmt.Errorf("corpus: %w", err))
	}
	env, err := stepEnv()
	if err != nil {
		return n.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	s, err := workflow.SampleTopN(ctx, env, in, o)
	if s == nil {
		return n.fail(op, err)
	}
	n.df = s.Frame
	if err != nil {
		n.notes = append(n.notes, op+": "+err.Error())
	}
	return n
}
