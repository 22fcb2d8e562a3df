package workflow

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/hybrid"
)

// HybridOptions configure hybrid retrieval, BM25 fused with a bi-encoder: its evaluation (EvaluateHybrid,
// `ragnb eval --model hybrid:DIR`, the prelude's EvalOptions.Hybrid) and its serving (PipelineOptions.Hybrid,
// `ragnb ask|serve --hybrid`).
type HybridOptions struct {
	// Fusion is the fusion (package hybrid): a convex combination with weight Alpha on the dense scores, or
	// RRF.
	Fusion hybrid.Options `json:"fusion"`
	// Tune chooses the convex weight on a dev set, when one is given, at every dimension (Fusion.Alpha is then
	// only the weight used without a dev set); false keeps Fusion.Alpha.
	Tune bool `json:"tune"`
	// Metric is what tuning maximises on dev (e.g. ndcg@10).
	Metric string `json:"metric"`
}

// DefaultHybridOptions are the hybrid defaults of both faces: a convex combination (Bruch et al. found it
// better than RRF once its weight is tuned) whose weight is chosen on the dev set by NDCG@10 when there is
// one, else α = 0.5 (hybrid.DefaultOptions), over each run's top 100.
func DefaultHybridOptions() HybridOptions {
	return HybridOptions{Fusion: hybrid.DefaultOptions(), Tune: true, Metric: "ndcg@10"}
}

// HybridChoice is the fusion used at one dimension and where it came from.
type HybridChoice struct {
	Dim    int
	Fusion hybrid.Options
	// Tuned says Fusion.Alpha was chosen on the dev set; Trials are the dev scores of every weight tried, and
	// DevScore the chosen one's.
	Tuned    bool
	DevScore float64
	Trials   []hybrid.Trial
}

// HybridEvaluated is EvaluateHybrid's outcome: the test metrics (keys hybrid_dim_<d>_<metric>@<k>) and the
// fusion chosen at each dimension.
type HybridEvaluated struct {
	*Evaluated
	Choices []HybridChoice
	// DevQueries is how many dev queries the weights were chosen on (0: not tuned).
	DevQueries int
}

// Describe says which fusion was used at each dimension and where its weight was chosen, for a report.
func (h *HybridEvaluated) Describe(metric string) string {
	s := ""
	for i, c := range h.Choices {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%d-d %s", c.Dim, c.Fusion)
		if c.Tuned {
			s += fmt.Sprintf(" (dev %s %.4f)", metric, c.DevScore)
		}
	}
	switch {
	case h.DevQueries > 0:
		s += fmt.Sprintf(" — weights chosen on %d dev queries, metrics on the test queries", h.DevQueries)
	case len(h.Choices) > 0 && h.Choices[0].Fusion.Method == hybrid.Convex:
		s += " — fixed weight (no dev set to choose it on)"
	}
	return s
}

// EvaluateHybrid measures BM25 fused with bi-encoder m on set at every dimension in o.Dims (keys
// hybrid_dim_<d>_<metric>@<k>). With a dev set and h.Tune, the convex weight is chosen on dev at each
// dimension (never on set, whose figures are reported). The tuning (step "tune-hybrid") and the metrics
// (step "evaluate-hybrid") are memoised when the sets have inputs and the env a cache.
func EvaluateHybrid(ctx context.Context, env Env, set, dev *EvalSet, m *Model, o EvalOptions, h HybridOptions) (*HybridEvaluated, error) {
	if m == nil {
		return nil, fmt.Errorf("hybrid: no bi-encoder")
	}
	dims, err := m.evalDims(o.Dims)
	if err != nil {
		return nil, err
	}
	tune := h.Tune && dev != nil && h.Fusion.Method != hybrid.RRF
	out := &HybridEvaluated{}
	for _, d := range dims {
		c := HybridChoice{Dim: d, Fusion: h.Fusion}
		if tune {
			if c, err = tuneHybrid(ctx, env, dev, m, d, o, h); err != nil {
				return nil, fmt.Errorf("hybrid: tune on dev at %d-d: %w", d, err)
			}
		}
		out.Choices = append(out.Choices, c)
	}
	if tune {
		out.DevQueries = dev.queriesJudged()
	}
	inputs := append([]string{m.EmbedID()}, set.Inputs...)
	fusions := make([]hybrid.Options, len(out.Choices))
	for i, c := range out.Choices {
		fusions[i] = c.Fusion
	}
	params := o.keyParams(set)
	params["dims"], params["fusions"] = dims, fusions
	key := cache.Key{Step: "evaluate-hybrid", Version: 1, Inputs: inputs, Params: params}
	out.Evaluated, err = memoMetrics(ctx, env, set, key, func(ctx context.Context) (*Evaluated, error) {
		e, q, c, err := m.embeddedEvaluator(ctx, env, set, o, nil)
		if err != nil {
			return nil, err
		}
		defer e.Close()
		r := &evaluate.Report{}
		for _, ch := range out.Choices {
			run, err := e.HybridRun(ctx, q, c, ch.Dim, o.BM25, ch.Fusion, env.Progress)
			if err != nil {
				return nil, err
			}
			one, err := e.EvaluateRun(run, fmt.Sprintf("hybrid_dim_%d", ch.Dim))
			if err != nil {
				return nil, err
			}
			r = evaluate.Merge(r, one)
		}
		return &Evaluated{Report: r}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tuneHybrid chooses the convex weight on dev at dimension d (memoised as step "tune-hybrid").
func tuneHybrid(ctx context.Context, env Env, dev *EvalSet, m *Model, d int, o EvalOptions, h HybridOptions) (HybridChoice, error) {
	compute := func(ctx context.Context) (HybridChoice, error) {
		e, q, c, err := m.embeddedEvaluator(ctx, env, dev, o, nil)
		if err != nil {
			return HybridChoice{}, err
		}
		defer e.Close()
		f, trials, err := e.TuneHybrid(ctx, q, c, d, o.BM25, h.Metric, h.Fusion, env.Progress)
		if err != nil {
			return HybridChoice{}, err
		}
		ch := HybridChoice{Dim: d, Fusion: f, Tuned: true, Trials: trials}
		for _, t := range trials {
			if t.Alpha == f.Alpha {
				ch.DevScore = t.Score
			}
		}
		return ch, nil
	}
	if env.Cache == nil || len(dev.Inputs) == 0 {
		return compute(ctx)
	}
	params := o.keyParams(dev)
	params["dim"], params["metric"], params["fusion"] = d, h.Metric, h.Fusion
	key := cache.Key{Step: "tune-hybrid", Version: 1, Inputs: append([]string{m.EmbedID()}, dev.Inputs...), Params: params}
	var ch HybridChoice
	_, err := env.Cache.Value(ctx, key, &ch, func(ctx context.Context) (any, error) {
		return compute(ctx)
	})
	return ch, err
}

// evalDims are the dimensions to evaluate at: dims, or the model's full dimension.
func (m *Model) evalDims(dims []int) ([]int, error) {
	if len(dims) > 0 {
		return slices.Clone(dims), nil
	}
	bi, err := m.BiEncoder()
	if err != nil {
		return nil, err
	}
	return []int{bi.Dim()}, nil
}

// queriesJudged counts the set's queries with a relevant document (those an evaluation scores).
func (s *EvalSet) queriesJudged() int {
	n := 0
	for _, q := range s.Queries {
		if len(s.Qrels[q.ID]) > 0 {
			n++
		}
	}
	return n
}
