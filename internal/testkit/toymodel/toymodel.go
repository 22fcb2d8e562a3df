// Package toymodel holds stand-ins for trained models in tests and benchmarks: a bag-of-words Embedder whose
// cosine similarity follows shared words (each token is a fixed pseudo-random Gaussian vector, optionally
// weighted by IDF — the untrained static-embedding recipe of the design notes), and a word-overlap Scorer
// standing in for a cross-encoder. Both count their calls so tests can check what was (re-)embedded.
package toymodel

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/vector"
)

// Embedder embeds a text as the normalised sum of its tokens' vectors (bm25.Tokenize, stop words removed).
type Embedder struct {
	// Dim is the embedding size.
	Dim int
	// Seed changes every token's vector: two seeds are two different "models".
	Seed uint64
	// IDF weights tokens when set (see FitIDF); unknown tokens weigh the largest IDF.
	IDF map[string]float64
	// QueryPrefix is prepended to queries, like a model's query prompt.
	QueryPrefix string
	// Delay is slept per call, to stand in for model latency.
	Delay time.Duration
	// Fail makes every call fail with this error.
	Fail error

	mu     sync.Mutex
	tokens map[string][]float32

	// Queries and Documents count the texts embedded by each method; Calls counts calls.
	Queries, Documents, Calls atomic.Int64
}

// FitIDF sets IDF from docs: ln(1 + (N − df + 0.5)/(df + 0.5)), BM25's IDF.
func (e *Embedder) FitIDF(docs []string) {
	df := map[string]int{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, t := range bm25.Tokenize(d, true) {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	e.IDF = make(map[string]float64, len(df))
	n := float64(len(docs))
	for t, c := range df {
		e.IDF[t] = math.Log(1 + (n-float64(c)+0.5)/(float64(c)+0.5))
	}
}

func (e *Embedder) tokenVec(t string) []float32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.tokens[t]; ok {
		return v
	}
	if e.tokens == nil {
		e.tokens = map[string][]float32{}
	}
	h := fnv.New64a()
	h.Write([]byte(t))
	rng := rand.New(rand.NewPCG(h.Sum64(), e.Seed))
	v := make([]float32, e.Dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	e.tokens[t] = v
	return v
}

func (e *Embedder) embed(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	e.Calls.Add(1)
	if e.Fail != nil {
		return nil, e.Fail
	}
	if e.Dim < 1 {
		return nil, errors.New("toymodel: Dim not set")
	}
	if e.Delay > 0 {
		select {
		case <-time.After(e.Delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	maxIDF := 0.0
	for _, w := range e.IDF {
		maxIDF = max(maxIDF, w)
	}
	tr := progress.Start(report, "embed", len(texts), "texts")
	m := vector.New(len(texts), e.Dim)
	for i, text := range texts {
		row := m.Row(i)
		for _, t := range bm25.Tokenize(text, true) {
			w := float32(1)
			if e.IDF != nil {
				if x, ok := e.IDF[t]; ok {
					w = float32(x)
				} else {
					w = float32(maxIDF)
				}
			}
			for j, x := range e.tokenVec(t) {
				row[j] += w * x
			}
		}
		tr.Add(1)
	}
	m.Normalize()
	return m, nil
}

// EmbedQueries embeds texts with QueryPrefix prepended.
func (e *Embedder) EmbedQueries(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	e.Queries.Add(int64(len(texts)))
	if e.QueryPrefix != "" {
		p := make([]string, len(texts))
		for i, t := range texts {
			p[i] = e.QueryPrefix + t
		}
		texts = p
	}
	return e.embed(ctx, texts, report)
}

// EmbedDocuments embeds texts as they are.
func (e *Embedder) EmbedDocuments(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	e.Documents.Add(int64(len(texts)))
	return e.embed(ctx, texts, report)
}

// OverlapScorer scores a pair by the fraction of the query's distinct tokens (stop words removed) found in
// the passage, less 0.001·n/(1+n) for a passage of n tokens, so that among equal overlaps the shorter, more
// focused passage wins. Scores lie in (−0.001, 1].
type OverlapScorer struct {
	// Fail makes every call fail with this error.
	Fail error
	// Pairs counts the pairs scored.
	Pairs atomic.Int64
}

// ScorePairs implements relevance.Scorer.
func (s *OverlapScorer) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	if s.Fail != nil {
		return nil, s.Fail
	}
	s.Pairs.Add(int64(len(pairs)))
	out := make([]float64, len(pairs))
	for i, p := range pairs {
		out[i] = Overlap(p.Query, p.Passage)
	}
	return out, nil
}

// Overlap is OverlapScorer's score of one pair.
func Overlap(query, passage string) float64 {
	q := map[string]bool{}
	for _, t := range bm25.Tokenize(query, true) {
		q[t] = true
	}
	ptoks := bm25.Tokenize(passage, true)
	found := map[string]bool{}
	for _, t := range ptoks {
		if q[t] {
			found[t] = true
		}
	}
	if len(q) == 0 {
		return -1e-3 * float64(len(ptoks)) / (1 + float64(len(ptoks)))
	}
	return float64(len(found))/float64(len(q)) - 1e-3*float64(len(ptoks))/(1+float64(len(ptoks)))
}
