// Package hybrid fuses a dense (bi-encoder) run with a lexical (BM25) run into one ranking: a convex
// combination of min-max normalised scores (the default; its weight is chosen on a dev split with Tune) or
// reciprocal rank fusion. It owns the fusion and the choice of its weight; retrieving the two runs is the
// concern of retrieval/evaluate (evaluation) and pipeline (serving).
//
// Convex combination, per query over the union of both runs' candidates:
//
//	score(d) = α · (s_dense(d) − min_dense) / (max_dense − min_dense) + (1 − α) · s_bm25(d) / max_bm25
//
// with min and max over that query's candidates in each run, and BM25 normalised from its theoretical minimum
// 0 (Bruch et al.'s TMM): a document missing from a run counts 0 there, and every document BM25 did find stays
// above those it did not, so α = 0 ranks exactly as BM25. Bruch et al. (2023, "An Analysis of Fusion Functions for Hybrid Retrieval") found
// this tuned convex combination better than RRF and robust to the choice of normalisation, and that α learnt
// on a small dev set transfers. RRF scores Σ 1 / (K + rank) over the runs (rank from 1; K = 60 as Cormack
// et al.); it needs no weight but ignores the scores' magnitudes.
package hybrid

import (
	"fmt"
	"math"
	"slices"

	"github.com/ragnb/ragnb/ir"
)

// Methods of fusion.
const (
	// Convex is the normalised convex combination (weight Alpha on the dense scores).
	Convex = "convex"
	// RRF is reciprocal rank fusion (constant K).
	RRF = "rrf"
)

// Options configure Fuse.
type Options struct {
	// Method is Convex (default) or RRF.
	Method string `json:"method"`
	// Alpha is the dense run's weight in a convex combination, in [0, 1] (1: dense only, 0: BM25 only).
	Alpha float64 `json:"alpha"`
	// K is RRF's constant (default 60).
	K int `json:"k,omitempty"`
	// Depth is how many of each run's best hits per query are fused (default 100); the fused run has at most
	// 2·Depth hits per query.
	Depth int `json:"depth"`
}

// DefaultOptions: a convex combination with α = 0.5 over each run's top 100 — the weight to use when there is
// no dev split to tune it on.
func DefaultOptions() Options { return Options{Method: Convex, Alpha: 0.5, K: 60, Depth: 100} }

// withDefaults fills zero fields and validates.
func (o Options) withDefaults() (Options, error) {
	if o.Method == "" {
		o.Method = Convex
	}
	if o.K == 0 {
		o.K = 60
	}
	if o.Depth == 0 {
		o.Depth = 100
	}
	switch {
	case o.Method != Convex && o.Method != RRF:
		return o, fmt.Errorf("hybrid: method %q, want %s or %s", o.Method, Convex, RRF)
	case o.Method == Convex && (o.Alpha < 0 || o.Alpha > 1 || math.IsNaN(o.Alpha)):
		return o, fmt.Errorf("hybrid: alpha %v, want a weight in [0, 1]", o.Alpha)
	case o.K < 1:
		return o, fmt.Errorf("hybrid: rrf k %d, want at least 1", o.K)
	case o.Depth < 1:
		return o, fmt.Errorf("hybrid: depth %d, want at least 1", o.Depth)
	}
	return o, nil
}

// String names the fusion the way reports label it: "convex α=0.35" or "rrf k=60".
func (o Options) String() string {
	if o.Method == RRF {
		return fmt.Sprintf("rrf k=%d", o.K)
	}
	return fmt.Sprintf("convex α=%.2f", o.Alpha)
}

// Fuse combines the dense and the lexical run query by query (the queries of either run).
func Fuse(dense, lexical ir.Run, o Options) (ir.Run, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	out := make(ir.Run, max(len(dense), len(lexical)))
	for q := range dense {
		out[q] = fuseQuery(dense.Sorted(q), lexical.Sorted(q), o)
	}
	for q := range lexical {
		if _, done := out[q]; !done {
			out[q] = fuseQuery(nil, lexical.Sorted(q), o)
		}
	}
	return out, nil
}

// fuseQuery fuses one query's hits, each list sorted best first.
func fuseQuery(dense, lexical []ir.Hit, o Options) []ir.Hit {
	dense, lexical = dense[:min(len(dense), o.Depth)], lexical[:min(len(lexical), o.Depth)]
	scores := map[string]float64{}
	var order []string // first-seen order, so the output does not depend on map iteration
	add := func(id string, v float64) {
		if _, ok := scores[id]; !ok {
			order = append(order, id)
		}
		scores[id] += v
	}
	switch o.Method {
	case RRF:
		for _, hits := range [][]ir.Hit{dense, lexical} {
			for i, h := range hits {
				add(h.DocID, 1/float64(o.K+i+1))
			}
		}
	default:
		for _, part := range []struct {
			hits    []ir.Hit
			weight  float64
			fromMin bool // normalise from the list's minimum (dense) rather than from 0 (BM25)
		}{{dense, o.Alpha, true}, {lexical, 1 - o.Alpha, false}} {
			if len(part.hits) == 0 {
				continue
			}
			hi, lo := part.hits[0].Score, 0.0
			if part.fromMin {
				lo = part.hits[len(part.hits)-1].Score
			}
			for _, h := range part.hits {
				v := 0.0
				switch {
				case hi > lo:
					v = (h.Score - lo) / (hi - lo)
				case part.fromMin:
					v = 1 // a single dense score (or all equal): each candidate is as good as the best
				}
				add(h.DocID, part.weight*v)
			}
		}
	}
	hits := make([]ir.Hit, len(order))
	for i, id := range order {
		hits[i] = ir.Hit{DocID: id, Score: scores[id]}
	}
	ir.SortHits(hits)
	return hits
}

// Trial is one candidate weight's score on the dev queries.
type Trial struct {
	Alpha float64
	Score float64
}

// Tune chooses the convex weight on a dev split: it fuses the dev queries' runs with each α of grid (default
// 0, 0.05, …, 1) and keeps the one with the best metric (e.g. "ndcg@10", which cfg must compute); ties go to
// the α closest to 0.5, so an uninformative dev set does not push the weight to an extreme. It returns the
// chosen options (o with Method Convex and Alpha set) and every trial, for a chart.
func Tune(dense, lexical ir.Run, dev ir.Qrels, cfg ir.Config, metric string, grid []float64, o Options) (Options, []Trial, error) {
	if len(grid) == 0 {
		for i := 0; i <= 20; i++ {
			grid = append(grid, float64(i)/20)
		}
	}
	if len(dev) == 0 {
		return o, nil, fmt.Errorf("hybrid: tune: no dev queries")
	}
	o.Method = Convex
	var trials []Trial
	best := -1
	for _, a := range grid {
		o.Alpha = a
		run, err := Fuse(dense, lexical, o)
		if err != nil {
			return o, nil, err
		}
		m, err := ir.Evaluate(run, dev, cfg)
		if err != nil {
			return o, nil, fmt.Errorf("hybrid: tune: %w", err)
		}
		v, ok := m.Get(metric)
		if !ok {
			return o, nil, fmt.Errorf("hybrid: tune: the evaluation computes no %q (it has %v)", metric, m.Names)
		}
		trials = append(trials, Trial{Alpha: a, Score: v})
		if i := len(trials) - 1; best < 0 || v > trials[best].Score ||
			v == trials[best].Score && math.Abs(a-0.5) < math.Abs(trials[best].Alpha-0.5) {
			best = i
		}
	}
	o.Alpha = trials[best].Alpha
	return o, slices.Clip(trials), nil
}
