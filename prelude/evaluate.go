package prelude

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/hybrid"
	"github.com/ragnb/ragnb/workflow"
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
	// Hybrid makes Evaluate show three systems side by side at every dimension: the model (dim_<d>_cosine_…),
	// BM25 (bm25_…) and BM25 fused with the model (hybrid_dim_<d>_…, workflow.EvaluateHybrid). With Dev (a dev
	// split, e.g. from SplitDevTest, searched against the same Corpus) the convex weight is chosen on Dev at
	// each dimension and reported on the test set; without it, or with HybridAlpha set, the weight is fixed
	// (HybridAlpha, default workflow.DefaultHybridOptions' 0.5). HybridRRF fuses by reciprocal rank instead.
	Hybrid      bool
	Dev         *Dataset
	HybridAlpha float64
	HybridRRF   bool
	// Weaviate makes Evaluate also search that collection (pushed with the model, Model.PushIndex) and score
	// its run beside the in-process one: keys weaviate_cosine_<metric>@k, and weaviate_agreement@k, the share
	// of the exact search's top k the collection returns at its stored dimension (workflow.EvaluateWeaviate).
	// The Corpus's passages must all be in the collection. Not with Hybrid.
	Weaviate *Weaviate
}

// hybrid is the workflow's hybrid options for these: workflow.DefaultHybridOptions with the prelude's weight
// or method.
func (o EvalOptions) hybrid() workflow.HybridOptions {
	h := workflow.DefaultHybridOptions()
	if o.HybridAlpha != 0 {
		h.Fusion.Alpha, h.Tune = o.HybridAlpha, false
	}
	if o.HybridRRF {
		h.Fusion.Method = hybrid.RRF
	}
	return h
}

// withDefaults fills the zero column names from workflow.DefaultEvalOptions (CorpusColumn: Positive).
func (o EvalOptions) withDefaults() EvalOptions {
	def := workflow.DefaultEvalOptions()
	if o.Anchor == "" {
		o.Anchor = def.Anchor
	}
	if o.Positive == "" {
		o.Positive = def.Positive
	}
	if o.CorpusColumn == "" {
		o.CorpusColumn = o.Positive
	}
	return o
}

// workflow is the workflow's options for these: workflow.DefaultEvalOptions with the prelude's dimensions and
// columns.
func (o EvalOptions) workflow() workflow.EvalOptions {
	o = o.withDefaults()
	w := workflow.DefaultEvalOptions()
	w.Dims, w.Anchor, w.Positive = o.Dims, o.Anchor, o.Positive
	return w
}

// evalSet is the test set turned into queries, corpus and relevance judgements (ir.FromPairs: identical
// passages are one document, so a duplicate context counts as relevant).
func evalSet(test *Dataset, o EvalOptions) (*workflow.EvalSet, error) {
	o = o.withDefaults()
	if test.Err() != nil {
		return nil, test.Err()
	}
	p := workflow.EvalPairs{TestID: test.Hash(), Anchor: o.Anchor, Positive: o.Positive, CorpusColumn: o.CorpusColumn}
	var err error
	if p.Anchors, err = test.Strings(o.Anchor); err != nil {
		return nil, err
	}
	if p.Positives, err = test.Strings(o.Positive); err != nil {
		return nil, err
	}
	if o.Corpus != nil {
		if o.Corpus.Err() != nil {
			return nil, o.Corpus.Err()
		}
		if p.Corpus, err = o.Corpus.Strings(o.CorpusColumn); err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		p.CorpusID = o.Corpus.Hash()
	}
	return p.Set()
}

// Evaluate measures how well model m retrieves each test anchor's positive, with sentence-transformers'
// InformationRetrievalEvaluator metrics (accuracy, precision, recall @1/3/5/10, MRR@10, NDCG@10, MAP@100) at
// every Matryoshka dimension in opts.Dims, keys as "dim_256_cosine_ndcg@10" (workflow.EvaluateModel, as
// `ragnb eval --model DIR`). Embeddings and metrics are memoised: a re-run replays them from the cache.
func Evaluate(m *Model, test *Dataset, opts EvalOptions) *Metrics {
	chain := fmt.Sprintf("Evaluate(%s, %s)", m.Chain(), test.Chain())
	name := opts.Name
	if name == "" {
		name = m.Name()
	}
	if opts.Weaviate != nil {
		var note string
		out := evalStep(name, chain, []*Model{m}, test, opts, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
			if opts.Hybrid {
				return nil, fmt.Errorf("EvalOptions.Weaviate and Hybrid: evaluate one at a time")
			}
			src, err := opts.Weaviate.source(m)
			if err != nil {
				return nil, err
			}
			local, err := workflow.EvaluateModel(ctx, env, set, m.handle(), opts.workflow())
			if err != nil {
				return nil, err
			}
			w, err := workflow.EvaluateWeaviate(ctx, env, set, m.handle(), opts.workflow(), *src)
			if err != nil {
				return nil, err
			}
			note = "weaviate: " + w.Describe()
			return &workflow.Evaluated{Report: evaluate.Merge(local.Report, w.Report)}, nil
		})
		if note != "" {
			out.notes = append(out.notes, note)
		}
		return out
	}
	if !opts.Hybrid {
		return evalStep(name, chain, []*Model{m}, test, opts, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
			return workflow.EvaluateModel(ctx, env, set, m.handle(), opts.workflow())
		})
	}
	var choice *workflow.HybridEvaluated
	out := evalStep(name, chain, []*Model{m}, test, opts, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
		w := opts.workflow()
		var dev *workflow.EvalSet
		if opts.Dev != nil {
			var err error
			if dev, err = evalSet(opts.Dev, opts); err != nil {
				return nil, fmt.Errorf("dev: %w", err)
			}
		}
		dense, err := workflow.EvaluateModel(ctx, env, set, m.handle(), w)
		if err != nil {
			return nil, err
		}
		lexical, err := workflow.EvaluateBM25(ctx, env, set, w)
		if err != nil {
			return nil, err
		}
		if choice, err = workflow.EvaluateHybrid(ctx, env, set, dev, m.handle(), w, opts.hybrid()); err != nil {
			return nil, err
		}
		return &workflow.Evaluated{Report: evaluate.Merge(dense.Report, lexical.Report, choice.Report)}, nil
	})
	if choice != nil {
		out.hybrid = choice.Choices
		out.notes = append(out.notes, "hybrid: "+choice.Describe(opts.hybrid().Metric))
	}
	return out
}

// EvaluateBM25 is the lexical baseline on the same task (workflow.EvaluateBM25: Okapi BM25 with
// workflow.DefaultEvalOptions' k1 1.2, b 0.75 and stop words, as `ragnb eval --model bm25`), keys as
// "bm25_ndcg@10".
func EvaluateBM25(test *Dataset, opts EvalOptions) *Metrics {
	chain := fmt.Sprintf("EvaluateBM25(%s)", test.Chain())
	name := opts.Name
	if name == "" {
		name = "bm25"
	}
	return evalStep(name, chain, nil, test, opts, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
		return workflow.EvaluateBM25(ctx, env, set, opts.workflow())
	})
}

// evalStep runs an evaluation step on test in the notebook's Env.
func evalStep(name, chain string, models []*Model, test *Dataset, opts EvalOptions, run func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error)) *Metrics {
	out := &Metrics{name: name, chain: chain}
	for _, m := range models {
		if m != nil && m.Err() != nil {
			out.err = m.Err()
			return out
		}
	}
	set, err := evalSet(test, opts)
	if err != nil {
		out.err = err
		return out
	}
	return evalOnSet(out, set, run)
}

// evalOnSet runs an evaluation step on set in the notebook's Env, into out.
func evalOnSet(out *Metrics, set *workflow.EvalSet, run func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error)) *Metrics {
	env, err := stepEnv()
	if err != nil {
		out.err = err
		return out
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, err := run(ctx, env, set)
	if err != nil {
		out.err = err
		return out
	}
	out.values = r.Flat()
	return out
}

// RerankOptions configure EvaluateReranker. Zero values take workflow.DefaultEvalOptions.
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
// same numbers a pipeline with this reranker would see (workflow.EvaluateReranker). Memoised like Evaluate.
func EvaluateReranker(first, reranker *Model, test *Dataset, opts RerankOptions) *Metrics {
	if reranker == nil {
		// A nil model is a cell's mistake, not a crash of the kernel's program: say it where the chain shows.
		return &Metrics{name: "reranker", chain: "EvaluateReranker(…)", err: fmt.Errorf("no reranker (a nil *Model)")}
	}
	w := opts.EvalOptions.workflow()
	if opts.Depth != 0 {
		w.RerankDepth = opts.Depth
	}
	if opts.Label != "" {
		w.RerankLabel = opts.Label
	}
	w.RerankDim = opts.Dim
	firstName := "bm25"
	var firstH *workflow.Model
	if first != nil {
		firstName = first.Name()
		if first.Err() == nil {
			firstH = first.handle()
		}
	}
	chain := fmt.Sprintf("EvaluateReranker(%s, %s, %s)", firstName, reranker.Chain(), test.Chain())
	name := opts.Name
	if name == "" {
		name = firstName + " → " + reranker.Name()
	}
	return evalStep(name, chain, []*Model{first, reranker}, test, opts.EvalOptions, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
		return workflow.EvaluateReranker(ctx, env, set, firstH, reranker.handle(), w)
	})
}
