// Package bm25 is an Okapi BM25 index over a fixed corpus: the lexical baseline every retrieval evaluation is
// compared against, and a first stage for reranking, hybrid search and hard-negative mining.
//
// It owns tokenisation (Tokenize), the index and its search. Corpus loading and evaluation live elsewhere
// (packages ir and evaluate); hits use search.Hit so lexical and dense results mix.
//
// Scoring, for a query with terms t (repeated terms count once per occurrence, as in Lucene and rank_bm25):
//
//	score(q, d) = Σ_t idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//	idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))          (Lucene's IDF, always > 0)
//
// with |d| the document's token count (exact, unlike Lucene's one-byte length encoding) and avgdl the mean
// over the corpus. The (k1+1) factor, which Lucene ≥ 8 drops, scales every score alike and never changes a
// ranking.
package bm25

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/search"
)

// Params configure an index.
type Params struct {
	// K1 controls term-frequency saturation (≥ 0; 0 makes tf binary).
	K1 float64
	// B controls document-length normalisation, in [0, 1] (0 ignores length).
	B float64
	// Stopwords drops the English stop words of Lucene's EnglishAnalyzer (Stopwords()) from documents and
	// queries.
	Stopwords bool
}

// DefaultParams are Lucene's defaults, k1 = 1.2 and b = 0.75, with English stop words removed.
func DefaultParams() Params { return Params{K1: 1.2, B: 0.75, Stopwords: true} }

func (p Params) validate() error {
	if p.K1 < 0 || math.IsNaN(p.K1) || math.IsInf(p.K1, 0) {
		return fmt.Errorf("bm25: k1=%v, want a finite value ≥ 0", p.K1)
	}
	if !(p.B >= 0 && p.B <= 1) {
		return fmt.Errorf("bm25: b=%v, want a value in [0, 1]", p.B)
	}
	return nil
}

// englishStopwords is Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (33 words).
var englishStopwords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "but": true, "by": true,
	"for": true, "if": true, "in": true, "into": true, "is": true, "it": true, "no": true, "not": true, "of": true,
	"on": true, "or": true, "such": true, "that": true, "the": true, "their": true, "then": true, "there": true,
	"these": true, "they": true, "this": true, "to": true, "was": true, "will": true, "with": true,
}

// Stopwords returns the English stop word list used when Params.Stopwords is set, sorted.
func Stopwords() []string {
	out := make([]string, 0, len(englishStopwords))
	for w := range englishStopwords {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// Tokenize lowercases text (Unicode case folding to lower case) and splits it into maximal runs of Unicode
// letters and digits; every other character separates tokens ("Q3's 10-K" → q3, s, 10, k). With stopwords
// set, English stop words are dropped. There is no stemming.
func Tokenize(text string, stopwords bool) []string {
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			tok := strings.ToLower(text[start:end])
			if !stopwords || !englishStopwords[tok] {
				out = append(out, tok)
			}
			start = -1
		}
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
	}
	flush(len(text))
	return out
}

type posting struct {
	doc, tf int32
}

// Index is an immutable BM25 index; Search is safe for concurrent use.
type Index struct {
	params   Params
	terms    map[string]int32
	postings [][]posting // by term id, documents ascending
	idf      []float64   // by term id
	norm     []float64   // by document: k1·(1 − b + b·|d|/avgdl)
	avgLen   float64
}

// New indexes docs (document i is search hit index i).
func New(docs []string, p Params) (*Index, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	ix := &Index{params: p, terms: map[string]int32{}, norm: make([]float64, len(docs))}
	lengths := make([]int, len(docs))
	total := 0
	counts := map[int32]int32{}
	for d, text := range docs {
		toks := Tokenize(text, p.Stopwords)
		lengths[d] = len(toks)
		total += len(toks)
		clear(counts)
		for _, t := range toks {
			id, ok := ix.terms[t]
			if !ok {
				id = int32(len(ix.postings))
				ix.terms[t] = id
				ix.postings = append(ix.postings, nil)
			}
			counts[id]++
		}
		for id, tf := range counts {
			ix.postings[id] = append(ix.postings[id], posting{int32(d), tf})
		}
	}
	if len(docs) > 0 {
		ix.avgLen = float64(total) / float64(len(docs))
	}
	for d, l := range lengths {
		lenRatio := 0.0
		if ix.avgLen > 0 {
			lenRatio = float64(l) / ix.avgLen
		}
		ix.norm[d] = p.K1 * (1 - p.B + p.B*lenRatio)
	}
	n := float64(len(docs))
	ix.idf = make([]float64, len(ix.postings))
	for id, ps := range ix.postings {
		df := float64(len(ps))
		ix.idf[id] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	return ix, nil
}

// Len is the number of indexed documents.
func (ix *Index) Len() int { return len(ix.norm) }

// Params returns the index's parameters.
func (ix *Index) Params() Params { return ix.params }

// AvgLen is the mean document length in tokens.
func (ix *Index) AvgLen() float64 { return ix.avgLen }

// IDF returns a token's inverse document frequency (0 for a token not in the corpus).
func (ix *Index) IDF(token string) float64 {
	if id, ok := ix.terms[token]; ok {
		return ix.idf[id]
	}
	return 0
}

// scratch is one searcher's accumulator.
type scratch struct {
	acc     []float64
	touched []int32
}

func (ix *Index) newScratch() *scratch { return &scratch{acc: make([]float64, ix.Len())} }

// Scores returns every document's BM25 score for query (0 for documents sharing no term with it).
func (ix *Index) Scores(query string) []float64 {
	s := ix.newScratch()
	ix.accumulate(query, s)
	return s.acc
}

func (ix *Index) accumulate(query string, s *scratch) {
	k1p1 := ix.params.K1 + 1
	for _, t := range Tokenize(query, ix.params.Stopwords) {
		id, ok := ix.terms[t]
		if !ok {
			continue
		}
		idf := ix.idf[id]
		for _, p := range ix.postings[id] {
			tf := float64(p.tf)
			if s.acc[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			s.acc[p.doc] += idf * tf * k1p1 / (tf + ix.norm[p.doc])
		}
	}
}

// Search returns the k best documents for query, highest score first, equal scores by lower index. Only
// documents sharing at least one term with the query are returned, so there may be fewer than k hits (none
// for a query of unknown or stop words only).
func (ix *Index) Search(query string, k int) []search.Hit {
	return ix.search(query, k, ix.newScratch())
}

func (ix *Index) search(query string, k int, s *scratch) []search.Hit {
	ix.accumulate(query, s)
	hits := make([]search.Hit, 0, len(s.touched))
	for _, d := range s.touched {
		hits = append(hits, search.Hit{Index: int(d), Score: s.acc[d]})
		s.acc[d] = 0
	}
	s.touched = s.touched[:0]
	if k < len(hits) {
		hits = bestK(hits, k)
	}
	sort.Slice(hits, func(i, j int) bool { return better(hits[i], hits[j]) })
	return hits
}

func better(a, b search.Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Index < b.Index
}

// bestK returns the k best hits (unordered), keeping a min-heap of the best so far whose root is the worst.
func bestK(hits []search.Hit, k int) []search.Hit {
	h := append(make([]search.Hit, 0, k), hits[:k]...)
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= k {
				return
			}
			m := l
			if r := l + 1; r < k && better(h[l], h[r]) {
				m = r
			}
			if !better(h[i], h[m]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range hits[k:] {
		if better(x, h[0]) {
			h[0] = x
			down(0)
		}
	}
	return h
}

// SearchMany searches every query on all CPUs; results are in query order.
func (ix *Index) SearchMany(ctx context.Context, queries []string, k int, report progress.Func) ([][]search.Hit, error) {
	if k < 1 {
		return nil, fmt.Errorf("bm25: k=%d, want at least 1", k)
	}
	out := make([][]search.Hit, len(queries))
	tracker := progress.Start(report, "bm25 search", len(queries), "queries")
	var next, done atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(len(queries), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := ix.newScratch()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(queries) {
					return
				}
				out[i] = ix.search(queries[i], k, s)
				if n := done.Add(1); n%256 == 0 {
					mu.Lock()
					tracker.Set(int(n), nil)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bm25 search: %w", err)
	}
	tracker.Finish()
	return out, nil
}
