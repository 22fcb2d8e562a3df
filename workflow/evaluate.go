package workflow

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/vector"
)

// EvalOptions configure the evaluation steps (EvaluateModel, EvaluateBM25, EvaluateReranker) and the
// evaluators that training runs (TrainOptions reads BM25 from here). The metrics are exactly
// sentence-transformers' InformationRetrievalEvaluator's; the keys are contracts: dim_<d>_cosine_<metric>@<k>
// for a model, bm25_<metric>@<k> for BM25, <label>_<metric>@<k> for a reranked run.
type EvalOptions struct {
	// Anchor and Positive name a pairs table's query and passage columns (keyed through the EvalSet built
	// from them).
	Anchor   string `json:"-"`
	Positive string `json:"-"`
	// Dims are the Matryoshka dimensions a model is evaluated at (nil: its full dimension).
	Dims []int `json:"dims"`
	// Similarities are a model's score functions (cosine, dot).
	Similarities []search.Similarity `json:"similarities"`
	// Metrics are the cut-offs: accuracy@1/3/5/10, precision and recall@1/3/5/10, MRR@10, NDCG@10, MAP@100.
	Metrics ir.Config `json:"metrics"`
	// BM25 are the lexical baseline's parameters, also the first stage of a BM25 → reranker evaluation.
	BM25 bm25.Params `json:"bm25"`
	// RerankDepth is how many first-stage hits EvaluateReranker rescores (and returns); RerankDim the first
	// stage's Matryoshka dimension (0: full); RerankLabel prefixes the reranked run's keys.
	RerankDepth int    `json:"depth"`
	RerankDim   int    `json:"dim"`
	RerankLabel string `json:"label"`
}

// DefaultEvalOptions are the evaluation defaults on the command line (`ragnb eval`) and in the prelude
// (Evaluate, EvaluateBM25, EvaluateReranker, and the evaluators of training): columns anchor and positive, cosine at the model's full
// dimension, sentence-transformers' cut-offs, Okapi BM25 with k1 1.2, b 0.75 and Lucene's English stop words,
// and a reranker rescoring the first stage's top 20 (what a RAG prompt holds) under the label "reranked".
func DefaultEvalOptions() EvalOptions {
	return EvalOptions{Anchor: "anchor", Positive: "positive", Similarities: []search.Similarity{search.Cosine}, Metrics: ir.DefaultConfig(),
		BM25: bm25.DefaultParams(), RerankDepth: 20, RerankLabel: "reranked"}
}

// evaluator is the IR evaluator of set under the options.
func (o EvalOptions) evaluator(set *EvalSet, dims []int) (*evaluate.IR, error) {
	return evaluate.NewIR(set.Dataset, evaluate.Options{Config: o.Metrics, Dims: dims, Similarities: o.Similarities})
}

// keyParams are set's params with the options that decide a metric set; the options whose values are the
// defaults are left out, so the keys the prelude used before they existed stay valid.
func (o EvalOptions) keyParams(set *EvalSet, fields ...string) map[string]any {
	p := map[string]any{}
	for k, v := range set.Params {
		p[k] = v
	}
	def := DefaultEvalOptions()
	for _, f := range fields {
		switch f {
		case "dims":
			p["dims"] = o.Dims
		case "depth":
			p["depth"], p["dim"], p["label"] = o.RerankDepth, o.RerankDim, o.RerankLabel
		}
	}
	if !reflect.DeepEqual(o.Metrics, def.Metrics) {
		p["metrics"] = o.Metrics
	}
	if o.BM25 != def.BM25 {
		p["bm25"] = o.BM25
	}
	if !reflect.DeepEqual(o.Similarities, def.Similarities) && len(o.Similarities) > 0 {
		p["similarities"] = o.Similarities
	}
	return p
}

// EvalSet is an IR task (queries, corpus, judgements) with its identity for cache keys.
type EvalSet struct {
	*ir.Dataset
	// Skipped counts the rows left out for an empty positive.
	Skipped int
	// Inputs are the content identities of the tables the set was built from and Params how it was built;
	// every evaluation on the set keys on them. A set with no Inputs is not memoised.
	Inputs []string
	Params map[string]any
	// Name describes the set in a trained model's card ("held-out 10% of qa.csv (seed 42): 700 queries, …");
	// "" lets the card say only how many queries and passages it has.
	Name string `json:"-"`
}

// EvalPairs is a test table of (anchor, positive) pairs: its anchors are the queries, each relevant to its
// positive, searched against Corpus (nil: the test positives themselves). Identical passages are one
// document, so a duplicated context counts as relevant (ir.FromPairs).
type EvalPairs struct {
	Anchors, Positives, Corpus []string
	// TestID and CorpusID are the tables' content identities (datasets.Hash); CorpusID "" means no corpus
	// table. Anchor, Positive and CorpusColumn are the columns read, keyed as the prelude keys them.
	TestID, CorpusID               string
	Anchor, Positive, CorpusColumn string
}

// Set builds the evaluation set.
func (p EvalPairs) Set() (*EvalSet, error) {
	ds, skipped, err := ir.FromPairs(p.Anchors, p.Positives, p.Corpus)
	if err != nil {
		return nil, err
	}
	set := &EvalSet{Dataset: ds, Skipped: len(skipped)}
	if p.TestID != "" {
		set.Inputs = []string{p.TestID}
		if p.CorpusID != "" {
			set.Inputs = append(set.Inputs, p.CorpusID)
		}
		set.Params = map[string]any{"anchor": p.Anchor, "positive": p.Positive, "corpus_column": p.CorpusColumn,
			"corpus": p.CorpusID != ""}
	}
	return set, nil
}

// Evaluated is an evaluation's outcome.
type Evaluated struct {
	// Report holds the metrics (from the cache: one column, its keys as stored).
	Report *evaluate.Report
	// Run is the ranked run evaluated (nil when the metrics came from the cache).
	Run    ir.Run
	Cached bool
}

// Flat is the metrics by key.
func (e *Evaluated) Flat() map[string]float64 { return e.Report.Flat() }

// memoMetrics computes a metric set once per key (the prelude's JSON value entries) or, without a cache or
// inputs, every time.
func memoMetrics(ctx context.Context, env Env, set *EvalSet, key cache.Key, compute func(ctx context.Context) (*Evaluated, error)) (*Evaluated, error) {
	if env.Cache == nil || len(set.Inputs) == 0 {
		return compute(ctx)
	}
	var out *Evaluated
	var values map[string]float64
	hit, err := env.Cache.Value(ctx, key, &values, func(ctx context.Context) (any, error) {
		var err error
		if out, err = compute(ctx); err != nil {
			return nil, err
		}
		return out.Flat(), nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		names := make([]string, 0, len(values))
		for k := range values {
			names = append(names, k)
		}
		sort.Strings(names)
		out = &Evaluated{Report: &evaluate.Report{Columns: []evaluate.Column{{Metrics: ir.Metrics{Names: names, Values: values}}}}}
	}
	out.Cached = hit
	return out, nil
}

// EvaluateModel measures how well bi-encoder m retrieves each query's relevant passages at every dimension
// in o.Dims (keys dim_<d>_cosine_<metric>@<k>). The embeddings (step "embed", shared with mining) and the
// metrics (step "evaluate") are memoised.
func EvaluateModel(ctx context.Context, env Env, set *EvalSet, m *Model, o EvalOptions) (*Evaluated, error) {
	key := cache.Key{Step: "evaluate", Version: 1, Inputs: append([]string{m.EmbedID()}, set.Inputs...), Params: o.keyParams(set, "dims")}
	return memoMetrics(ctx, env, set, key, func(ctx context.Context) (*Evaluated, error) {
		e, q, c, err := m.embeddedEvaluator(ctx, env, set, o, o.Dims)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		r, err := e.EvaluateEmbeddings(ctx, q, c, env.Progress)
		if err != nil {
			return nil, err
		}
		return &Evaluated{Report: r}, nil
	})
}

// EvaluateBM25 is the lexical baseline on the same set (keys bm25_<metric>@<k>), memoised as step
// "evaluate-bm25".
func EvaluateBM25(ctx context.Context, env Env, set *EvalSet, o EvalOptions) (*Evaluated, error) {
	key := cache.Key{Step: "evaluate-bm25", Version: 1, Inputs: set.Inputs, Params: o.keyParams(set)}
	return memoMetrics(ctx, env, set, key, func(ctx context.Context) (*Evaluated, error) {
		e, err := o.evaluator(set, nil)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		run, err := e.BM25Run(ctx, o.BM25, env.Progress)
		if err != nil {
			return nil, err
		}
		r, err := e.EvaluateRun(run, "bm25")
		if err != nil {
			return nil, err
		}
		return &Evaluated{Report: r, Run: run}, nil
	})
}

// EvaluateReranker measures a two-stage retriever: first (a bi-encoder, or BM25 with o.BM25 when nil)
// retrieves, the cross-encoder reranks its top o.RerankDepth, and the metrics are those of the final order
// (keys <RerankLabel>_<metric>@<k>), the numbers a pipeline with this reranker would see. Memoised as step
// "evaluate-reranker".
func EvaluateReranker(ctx context.Context, env Env, set *EvalSet, first, reranker *Model, o EvalOptions) (*Evaluated, error) {
	firstID := "bm25"
	if first != nil {
		firstID = first.EmbedID()
	}
	key := cache.Key{Step: "evaluate-reranker", Version: 1, Inputs: append([]string{firstID, reranker.ID}, set.Inputs...),
		Params: o.keyParams(set, "dims", "depth")}
	return memoMetrics(ctx, env, set, key, func(ctx context.Context) (*Evaluated, error) {
		e, err := o.evaluator(set, nil)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		var run ir.Run
		if first == nil {
			run, err = e.BM25Run(ctx, o.BM25, env.Progress)
		} else {
			run, err = first.denseRun(ctx, env, e, o.RerankDim)
		}
		if err != nil {
			return nil, err
		}
		ce, err := reranker.CrossEncoder()
		if err != nil {
			return nil, err
		}
		r, reranked, err := e.EvaluateReranker(ctx, ce, run, evaluate.RerankOptions{Depth: o.RerankDepth}, o.RerankLabel, env.Progress)
		if err != nil {
			return nil, err
		}
		return &Evaluated{Report: r, Run: reranked}, nil
	})
}

// BM25RerankEvaluator is the evaluator of a reranker in training: it reranks the top depth of the BM25 run
// (o.BM25) over e's set with ce, keys bm25_rerank_<metric>@<k>. The BM25 run is computed once.
func BM25RerankEvaluator(ctx context.Context, e *evaluate.IR, ce *encoder.CrossEncoder, depth int, o EvalOptions) (train.Evaluator, error) {
	first, err := e.BM25Run(ctx, o.BM25, nil)
	if err != nil {
		return nil, err
	}
	return train.RerankEvaluator(e, ce, first, evaluate.RerankOptions{Depth: depth}, "bm25_rerank"), nil
}

// Embed embeds texts as queries (with the model's query prompt) or as documents through the Embed step
// (memoised under mining.EmbedKey): the same model and texts are embedded once, whichever step asks first.
func (m *Model) Embed(ctx context.Context, env Env, texts []string, queries bool) (*vector.Matrix, error) {
	e, err := Embed(ctx, env, EmbedInput{Texts: texts, Model: m}, EmbedOptions{Queries: queries})
	if err != nil {
		return nil, err
	}
	return e.Vectors, nil
}

// embedEvalSet embeds the evaluator's queries and corpus.
func (m *Model) embedEvalSet(ctx context.Context, env Env, e *evaluate.IR) (queries, corpus *vector.Matrix, err error) {
	if queries, err = m.Embed(ctx, env, e.QueryTexts(), true); err != nil {
		return nil, nil, fmt.Errorf("embed %d queries: %w", len(e.Queries()), err)
	}
	if corpus, err = m.Embed(ctx, env, e.CorpusTexts(), false); err != nil {
		return nil, nil, fmt.Errorf("embed %d documents: %w", len(e.Corpus()), err)
	}
	return queries, corpus, nil
}

// embeddedEvaluator is the evaluator of set at dims with m's embeddings of its queries and corpus; the caller
// closes it.
func (m *Model) embeddedEvaluator(ctx context.Context, env Env, set *EvalSet, o EvalOptions, dims []int) (*evaluate.IR, *vector.Matrix, *vector.Matrix, error) {
	e, err := o.evaluator(set, dims)
	if err != nil {
		return nil, nil, nil, err
	}
	q, c, err := m.embedEvalSet(ctx, env, e)
	if err != nil {
		e.Close()
		return nil, nil, nil, err
	}
	return e, q, c, nil
}

// denseRun is m's cosine run over e's set at dim (0: full).
func (m *Model) denseRun(ctx context.Context, env Env, e *evaluate.IR, dim int) (ir.Run, error) {
	q, c, err := m.embedEvalSet(ctx, env, e)
	if err != nil {
		return nil, err
	}
	if dim == 0 {
		dim = q.Dim
	}
	return e.DenseRun(ctx, q, c, dim, search.Cosine, env.Progress)
}
