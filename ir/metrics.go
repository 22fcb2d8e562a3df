package ir

import (
	"fmt"
	"math"
	"strconv"
)

// Config lists the cut-offs each metric is computed at. The zero value is not useful: start from DefaultConfig.
type Config struct {
	AccuracyAtK        []int // accuracy@k: any relevant document in the top k
	PrecisionRecallAtK []int // precision@k and recall@k
	MRRAtK             []int // mrr@k
	NDCGAtK            []int // ndcg@k
	MAPAtK             []int // map@k
	// HitRate adds LlamaIndex's hit_rate@k beside every accuracy@k (the same value under LlamaIndex's name:
	// whether any relevant document is in the top k). Omitted from JSON when off, so cache keys that hold a
	// Config do not change.
	HitRate bool `json:",omitempty"`
}

// DefaultConfig is sentence-transformers' default: accuracy, precision and recall at 1, 3, 5, 10; MRR@10;
// NDCG@10; MAP@100.
func DefaultConfig() Config {
	return Config{
		AccuracyAtK:        []int{1, 3, 5, 10},
		PrecisionRecallAtK: []int{1, 3, 5, 10},
		MRRAtK:             []int{10},
		NDCGAtK:            []int{10},
		MAPAtK:             []int{100},
	}
}

// MaxK is the deepest cut-off: how many hits per query a retriever must return for these metrics.
func (c Config) MaxK() int {
	m := 0
	for _, ks := range [][]int{c.AccuracyAtK, c.PrecisionRecallAtK, c.MRRAtK, c.NDCGAtK, c.MAPAtK} {
		for _, k := range ks {
			m = max(m, k)
		}
	}
	return m
}

// Validate checks that every cut-off is at least 1 and that there is at least one.
func (c Config) Validate() error {
	for _, ks := range [][]int{c.AccuracyAtK, c.PrecisionRecallAtK, c.MRRAtK, c.NDCGAtK, c.MAPAtK} {
		for _, k := range ks {
			if k < 1 {
				return fmt.Errorf("metric cut-off k=%d: must be at least 1", k)
			}
		}
	}
	if c.MaxK() == 0 {
		return fmt.Errorf("no metric cut-offs configured")
	}
	return nil
}

// Names lists the metric names in report order, sentence-transformers' order: accuracy@k (then hit_rate@k
// when HitRate is set), precision@k, recall@k, ndcg@k, mrr@k, map@k.
func (c Config) Names() []string {
	var names []string
	add := func(metric string, ks []int) {
		for _, k := range ks {
			names = append(names, metric+"@"+strconv.Itoa(k))
		}
	}
	add("accuracy", c.AccuracyAtK)
	if c.HitRate {
		add("hit_rate", c.AccuracyAtK)
	}
	add("precision", c.PrecisionRecallAtK)
	add("recall", c.PrecisionRecallAtK)
	add("ndcg", c.NDCGAtK)
	add("mrr", c.MRRAtK)
	add("map", c.MAPAtK)
	return names
}

// Metrics are one run's scores averaged over the evaluated queries.
type Metrics struct {
	// Queries is how many queries were averaged over.
	Queries int
	// Names lists the metrics in report order (Config.Names).
	Names []string
	// Values maps a metric name ("ndcg@10") to its mean over the queries.
	Values map[string]float64
}

// Get returns a metric's value and false when it was not computed.
func (m Metrics) Get(name string) (float64, bool) {
	v, ok := m.Values[name]
	return v, ok
}

// Evaluate scores a run against qrels, over every query that has at least one relevant document in the qrels.
// A query with judgements but no hits in the run scores 0 on every metric (it is not skipped).
// See EvaluateQueries for the definitions.
func Evaluate(run Run, qrels Qrels, cfg Config) (Metrics, error) {
	return EvaluateQueries(run, qrels, qrels.QueryIDs(), cfg)
}

// EvaluateQueries scores a run over the given queries, exactly as sentence-transformers'
// InformationRetrievalEvaluator does:
//
//   - relevance is binary (grade > 0); a query with no relevant document is skipped (not averaged);
//   - hits are ranked by score descending, ties by document id ascending, and only the first Config.MaxK()
//     are looked at;
//   - accuracy@k = 1 if a relevant document is in the top k; precision@k = relevant in top k / k (k, not the
//     number of hits returned, so a corpus smaller than k caps precision); recall@k = relevant in top k /
//     number relevant; mrr@k = 1 / rank of the first relevant document in the top k, 0 if none;
//     ndcg@k = Σ over the top k of rel/log2(rank+1), divided by the same sum for min(relevant, k) relevant
//     documents at the top; map@k = Σ over relevant documents in the top k of precision at their rank,
//     divided by min(k, number relevant);
//   - every metric is the mean over the evaluated queries.
//
// Relevant documents that are missing from the corpus still count in the denominators, as in the reference.
// A run listing the same document twice for a query is an error, and so is a NaN score.
func EvaluateQueries(run Run, qrels Qrels, queryIDs []string, cfg Config) (Metrics, error) {
	if err := cfg.Validate(); err != nil {
		return Metrics{}, err
	}
	maxK := cfg.MaxK()
	sums := map[string]float64{}
	n := 0
	for _, qid := range queryIDs {
		rel := qrels.Relevant(qid)
		if len(rel) == 0 {
			continue
		}
		hits := run[qid]
		seen := make(map[string]bool, len(hits))
		for _, h := range hits {
			if seen[h.DocID] {
				return Metrics{}, fmt.Errorf("query %q: document %q is ranked twice", qid, h.DocID)
			}
			if math.IsNaN(h.Score) {
				return Metrics{}, fmt.Errorf("query %q: document %q has a NaN score", qid, h.DocID)
			}
			seen[h.DocID] = true
		}
		hits = run.Sorted(qid)
		if len(hits) > maxK {
			hits = hits[:maxK]
		}
		isRel := make([]bool, len(hits))
		for i, h := range hits {
			isRel[i] = rel[h.DocID]
		}
		for name, v := range queryMetrics(isRel, len(rel), cfg) {
			sums[name] += v
		}
		n++
	}
	if n == 0 {
		return Metrics{}, fmt.Errorf("no query has a relevant document: nothing to evaluate (%d queries asked for)", len(queryIDs))
	}
	m := Metrics{Queries: n, Names: cfg.Names(), Values: make(map[string]float64, len(sums))}
	for _, name := range m.Names {
		m.Values[name] = sums[name] / float64(n)
	}
	return m, nil
}

// queryMetrics computes one query's metrics from the relevance of its ranked hits (already cut to MaxK) and the
// number of relevant documents.
func queryMetrics(isRel []bool, numRel int, cfg Config) map[string]float64 {
	out := map[string]float64{}
	// correctAt(k) = relevant among the first k hits.
	correctAt := func(k int) int {
		c := 0
		for i := 0; i < k && i < len(isRel); i++ {
			if isRel[i] {
				c++
			}
		}
		return c
	}
	for _, k := range cfg.AccuracyAtK {
		v := 0.0
		if correctAt(k) > 0 {
			v = 1
		}
		out["accuracy@"+strconv.Itoa(k)] = v
		if cfg.HitRate {
			out["hit_rate@"+strconv.Itoa(k)] = v
		}
	}
	for _, k := range cfg.PrecisionRecallAtK {
		c := float64(correctAt(k))
		out["precision@"+strconv.Itoa(k)] = c / float64(k)
		out["recall@"+strconv.Itoa(k)] = c / float64(numRel)
	}
	for _, k := range cfg.MRRAtK {
		v := 0.0
		for i := 0; i < k && i < len(isRel); i++ {
			if isRel[i] {
				v = 1 / float64(i+1)
				break
			}
		}
		out["mrr@"+strconv.Itoa(k)] = v
	}
	for _, k := range cfg.NDCGAtK {
		var dcg, idcg float64
		for i := 0; i < k && i < len(isRel); i++ {
			if isRel[i] {
				dcg += 1 / math.Log2(float64(i+2))
			}
		}
		for i := 0; i < k && i < numRel; i++ {
			idcg += 1 / math.Log2(float64(i+2))
		}
		out["ndcg@"+strconv.Itoa(k)] = dcg / idcg
	}
	for _, k := range cfg.MAPAtK {
		var correct, sumPrec float64
		for i := 0; i < k && i < len(isRel); i++ {
			if isRel[i] {
				correct++
				sumPrec += correct / float64(i+1)
			}
		}
		out["map@"+strconv.Itoa(k)] = sumPrec / float64(min(k, numRel))
	}
	return out
}
