package prelude

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/vector"
)

// EvalOptions configure Evaluate and EvaluateBM25. Zero values take the defaults.
type EvalOptions struct {
	// Dims are the Matryoshka dimensions to evaluate (e.g. 768, 512, 256, 128, 64); nil means the model's
	// full dimension.
	Dims []int
	// Corpus holds the passages searched; nil means the test set's own positives. Pass the whole pairs table
	// to search the test questions against every passage, as the financial recipe does.
	Corpus *Dataset
	// Anchor, Positive and CorpusColumn name the columns (defaults "anchor", "positive", and Positive).
	Anchor, Positive, CorpusColumn string
	// Name labels the metric set (default: the model's name, or "bm25").
	Name string
}

func (o EvalOptions) withDefaults() EvalOptions {
	if o.Anchor == "" {
		o.Anchor = "anchor"
	}
	if o.Positive == "" {
		o.Positive = "positive"
	}
	if o.CorpusColumn == "" {
		o.CorpusColumn = o.Positive
	}
	return o
}

// irTask is a test set turned into queries, corpus and relevance judgements (ir.FromPairs: identical passages
// are one document, so a duplicate context counts as relevant).
type irTask struct {
	ds      *ir.Dataset
	skipped int
	inputs  []string // content hashes for cache keys
}

func newIRTask(test *Dataset, o EvalOptions) (*irTask, error) {
	if test.Err() != nil {
		return nil, test.Err()
	}
	anchors, err := test.Strings(o.Anchor)
	if err != nil {
		return nil, err
	}
	positives, err := test.Strings(o.Positive)
	if err != nil {
		return nil, err
	}
	inputs := []string{test.Hash()}
	var corpus []string
	if o.Corpus != nil {
		if o.Corpus.Err() != nil {
			return nil, o.Corpus.Err()
		}
		if corpus, err = o.Corpus.Strings(o.CorpusColumn); err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		inputs = append(inputs, o.Corpus.Hash())
	}
	ds, skipped, err := ir.FromPairs(anchors, positives, corpus)
	if err != nil {
		return nil, err
	}
	return &irTask{ds: ds, skipped: len(skipped), inputs: inputs}, nil
}

// evalParams is what, besides the inputs, decides a metric set.
func (o EvalOptions) evalParams() map[string]any {
	return map[string]any{"dims": o.Dims, "anchor": o.Anchor, "positive": o.Positive, "corpus_column": o.CorpusColumn,
		"corpus": o.Corpus != nil}
}

// Evaluate measures how well model m retrieves each test anchor's positive, with sentence-transformers'
// InformationRetrievalEvaluator metrics (accuracy, precision, recall @1/3/5/10, MRR@10, NDCG@10, MAP@100) at
// every Matryoshka dimension in opts.Dims, keys as "dim_256_cosine_ndcg@10". Embeddings and metrics are
// memoised: a re-run replays them from the cache.
func Evaluate(m *Model, test *Dataset, opts EvalOptions) *Metrics {
	o := opts.withDefaults()
	chain := fmt.Sprintf("Evaluate(%s, %s)", m.Chain(), test.Chain())
	name := o.Name
	if name == "" {
		name = m.Name()
	}
	fail := func(err error) *Metrics { return &Metrics{name: name, chain: chain, err: err} }
	if m.Err() != nil {
		return fail(m.Err())
	}
	task, err := newIRTask(test, o)
	if err != nil {
		return fail(err)
	}
	key := cache.Key{Step: "evaluate", Version: 1, Inputs: append([]string{m.ID()}, task.inputs...), Params: o.evalParams()}
	return memoMetrics(name, chain, key, func(ctx context.Context) (map[string]float64, error) {
		e, err := evaluate.NewIR(task.ds, evaluate.Options{Dims: o.Dims})
		if err != nil {
			return nil, err
		}
		defer e.Close()
		q, c, err := embedEvalSet(m, e)
		if err != nil {
			return nil, err
		}
		r, err := e.EvaluateEmbeddings(ctx, q, c, display.Progress())
		if err != nil {
			return nil, err
		}
		return r.Flat(), nil
	})
}

// EvaluateBM25 is the lexical baseline on the same task: Okapi BM25 (k1 1.2, b 0.75, package bm25's
// tokenisation), keys as "bm25_ndcg@10".
func EvaluateBM25(test *Dataset, opts EvalOptions) *Metrics {
	o := opts.withDefaults()
	chain := fmt.Sprintf("EvaluateBM25(%s)", test.Chain())
	name := o.Name
	if name == "" {
		name = "bm25"
	}
	task, err := newIRTask(test, o)
	if err != nil {
		return &Metrics{name: name, chain: chain, err: err}
	}
	params := o.evalParams()
	delete(params, "dims") // BM25 has no dimensions
	key := cache.Key{Step: "evaluate-bm25", Version: 1, Inputs: task.inputs, Params: params}
	return memoMetrics(name, chain, key, func(ctx context.Context) (map[string]float64, error) {
		e, err := evaluate.NewIR(task.ds, evaluate.Options{})
		if err != nil {
			return nil, err
		}
		defer e.Close()
		r, err := e.EvaluateBM25(ctx, bm25.DefaultParams(), display.Progress())
		if err != nil {
			return nil, err
		}
		return r.Flat(), nil
	})
}

// memoMetrics computes a metric set once per key and replays it afterwards.
func memoMetrics(name, chain string, key cache.Key, compute func(ctx context.Context) (map[string]float64, error)) *Metrics {
	m := &Metrics{name: name, chain: chain}
	s, err := store()
	if err != nil {
		m.err = err
		return m
	}
	ctx, cancel := cellContext()
	defer cancel()
	_, m.err = s.Value(ctx, key, &m.values, func(ctx context.Context) (any, error) { return compute(ctx) })
	return m
}

// RerankOptions configure EvaluateReranker. Zero values take the defaults.
type RerankOptions struct {
	EvalOptions
	// Depth is how many first-stage passages the reranker rescores and returns (default 20); as in
	// sentence-transformers' CrossEncoderRerankingEvaluator, passages below it are not ranked at all.
	Depth int
	// Dim is the first stage's Matryoshka dimension (0 = full).
	Dim int
	// Label prefixes the keys (default "reranked": "reranked_ndcg@10").
	Label string
}

// EvaluateReranker measures a two-stage retriever: the first stage (a bi-encoder, or BM25 when first is nil)
// retrieves, the cross-encoder reranks its top Depth, and the metrics are those of the final order — the
// same numbers a pipeline with this reranker would see. Memoised like Evaluate.
func EvaluateReranker(first, reranker *Model, test *Dataset, opts RerankOptions) *Metrics {
	o := opts.EvalOptions.withDefaults()
	if opts.Depth == 0 {
		opts.Depth = 20
	}
	if opts.Label == "" {
		opts.Label = "reranked"
	}
	firstName, firstID := "bm25", "bm25"
	if first != nil {
		firstName, firstID = first.Name(), first.ID()
	}
	chain := fmt.Sprintf("EvaluateReranker(%s, %s, %s)", firstName, reranker.Chain(), test.Chain())
	name := o.Name
	if name == "" {
		name = firstName + " → " + reranker.Name()
	}
	fail := func(err error) *Metrics { return &Metrics{name: name, chain: chain, err: err} }
	for _, m := range []*Model{first, reranker} {
		if m != nil && m.Err() != nil {
			return fail(m.Err())
		}
	}
	task, err := newIRTask(test, o)
	if err != nil {
		return fail(err)
	}
	params := o.evalParams()
	params["depth"], params["dim"], params["label"] = opts.Depth, opts.Dim, opts.Label
	key := cache.Key{Step: "evaluate-reranker", Version: 1, Inputs: append([]string{firstID, reranker.ID()}, task.inputs...),
		Params: params}
	return memoMetrics(name, chain, key, func(ctx context.Context) (map[string]float64, error) {
		e, err := evaluate.NewIR(task.ds, evaluate.Options{})
		if err != nil {
			return nil, err
		}
		defer e.Close()
		run, err := firstStage(ctx, e, first, opts.Dim)
		if err != nil {
			return nil, err
		}
		ce, err := reranker.CrossEncoder()
		if err != nil {
			return nil, err
		}
		r, _, err := e.EvaluateReranker(ctx, ce, run, evaluate.RerankOptions{Depth: opts.Depth}, opts.Label, display.Progress())
		if err != nil {
			return nil, err
		}
		return r.Flat(), nil
	})
}

// embedEvalSet embeds the evaluator's queries (with the model's query prompt) and its corpus.
func embedEvalSet(m *Model, e *evaluate.IR) (queries, corpus *vector.Matrix, err error) {
	if queries, err = m.Embed(e.QueryTexts(), true); err != nil {
		return nil, nil, err
	}
	if corpus, err = m.Embed(e.CorpusTexts(), false); err != nil {
		return nil, nil, err
	}
	return queries, corpus, nil
}

// firstStage is the run a reranker starts from: BM25 when m is nil, else m's embeddings searched at dim (0 =
// full).
func firstStage(ctx context.Context, e *evaluate.IR, m *Model, dim int) (ir.Run, error) {
	if m == nil {
		return e.BM25Run(ctx, bm25.DefaultParams(), display.Progress())
	}
	q, c, err := embedEvalSet(m, e)
	if err != nil {
		return nil, err
	}
	if dim == 0 {
		dim = q.Dim
	}
	return e.DenseRun(ctx, q, c, dim, search.Cosine, display.Progress())
}
