package hybrid

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/vector"
)

// Teacher scores (query, passage) pairs with hybrid retrieval's fused score: BM25 over Corpus fused with the
// cosine of Embedder's query and passage embeddings by the convex combination Fuse computes (Fusion.Alpha on
// the dense side). It is a teacher stronger than the bi-encoder alone wherever the hybrid beats it (on the
// financial set BM25 does, and the fusion beats both), for distilling a reranker or labelling pairs.
//
// A fused score is only defined relative to a query's candidates, because each run is normalised over them:
// the dense scores min-max over the query's dense candidates, BM25 from 0 over its lexical candidates. The
// teacher's candidates for a query q are precisely
//
//	dense:   the Fusion.Depth passages of Corpus nearest q (cosine)  ∪  every passage scored for q
//	lexical: the Fusion.Depth passages of Corpus BM25 ranks first     ∪  every passage scored for q
//
// each with its exact score (cosine; BM25 over Corpus with the scored passages not in it added), and a
// pair's score is its fused score among them. So the scores order a query's passages exactly as Fuse ranks
// those two candidate lists; when every scored passage is among both top-Depth lists (the usual case for a
// positive and its mined negatives) the lists are the retrieval's own, and the scores are the fused scores
// hybrid retrieval ranks by. A scored passage outside the dense top-Depth lowers that query's dense minimum
// to its own score instead of counting 0, which keeps the scores graded (a distilled reranker learns from the
// differences between negatives) where retrieval would tie them all at the bottom.
type Teacher struct {
	// Embedder is the bi-encoder (queries through EmbedQueries, passages through EmbedDocuments).
	Embedder vector.Embedder
	// Corpus is the collection hybrid retrieval searches (BM25's statistics and both runs' candidates); a
	// passage repeated counts once, as in an evaluation's corpus of distinct passages.
	Corpus []string
	// Fusion is the convex combination (Method Convex or ""; RRF scores ranks, not passages, and is
	// refused); Depth 0 takes DefaultOptions' 100.
	Fusion Options
	// BM25 are BM25's parameters (zero: bm25.DefaultParams, evaluation's).
	BM25 bm25.Params

	mu       sync.Mutex
	distinct []string       // Corpus without repeats
	corpus   *vector.Matrix // distinct embedded and normalised, once
}

// ScorePairs implements ir.Scorer; scores are fused scores in [0, 1].
func (t *Teacher) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	fusion, err := t.Fusion.withDefaults()
	if err != nil {
		return nil, err
	}
	if fusion.Method != Convex {
		return nil, fmt.Errorf("hybrid teacher: method %q: a teacher scores passages, so it takes the convex combination", fusion.Method)
	}
	if t.Embedder == nil || len(t.Corpus) == 0 {
		return nil, fmt.Errorf("hybrid teacher: needs a bi-encoder and a corpus")
	}
	p := t.BM25
	if p == (bm25.Params{}) {
		p = bm25.DefaultParams()
	}
	// The documents are the distinct corpus and then the scored passages it lacks.
	emb, err := t.embeddings(ctx, nil, report)
	if err != nil {
		return nil, err
	}
	docs := slices.Clone(t.distinct)
	docIndex := make(map[string]int, len(docs))
	for i, d := range docs {
		docIndex[d] = i
	}
	var extra []string
	queryIndex := map[string]int{}
	var queries []string
	for _, pr := range pairs {
		if _, ok := docIndex[pr.Passage]; !ok {
			docIndex[pr.Passage] = len(docs)
			docs = append(docs, pr.Passage)
			extra = append(extra, pr.Passage)
		}
		if _, ok := queryIndex[pr.Query]; !ok {
			queryIndex[pr.Query] = len(queries)
			queries = append(queries, pr.Query)
		}
	}
	lex, err := bm25.New(docs, p)
	if err != nil {
		return nil, fmt.Errorf("hybrid teacher: %w", err)
	}
	if emb, err = t.embeddings(ctx, extra, report); err != nil {
		return nil, err
	}
	qm, err := t.Embedder.EmbedQueries(ctx, queries, report)
	if err != nil {
		return nil, fmt.Errorf("hybrid teacher: embed %d queries: %w", len(queries), err)
	}
	if qm.Rows != len(queries) || qm.Dim != emb.Dim {
		return nil, fmt.Errorf("hybrid teacher: got %dx%d query embeddings for %d queries of a %d-d corpus", qm.Rows, qm.Dim, len(queries), emb.Dim)
	}
	qm.Normalize()

	// Each query's passages, then its fused scores.
	scored := make([][]int, len(queries))
	for _, pr := range pairs {
		q := queryIndex[pr.Query]
		scored[q] = append(scored[q], docIndex[pr.Passage])
	}
	fused := make([]map[int]float64, len(queries))
	done := 0
	for q, query := range queries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dense := make([]float64, emb.Rows)
		for d := range dense {
			dense[d] = vector.Dot(qm.Row(q), emb.Row(d))
		}
		fused[q] = fusePool(dense, lex.Scores(query), scored[q], fusion)
		if done++; report != nil && (done%256 == 0 || done == len(queries)) {
			report(progress.Report{Stage: "hybrid teacher", Done: done, Total: len(queries), Unit: "queries"})
		}
	}
	out := make([]float64, len(pairs))
	for i, pr := range pairs {
		out[i] = fused[queryIndex[pr.Query]][docIndex[pr.Passage]]
	}
	return out, nil
}

// fusePool is one query's fused scores of the scored documents: each run's top Depth plus the scored ones,
// fused by fuseQuery with no cut.
func fusePool(dense, lexical []float64, scored []int, o Options) map[int]float64 {
	pool := func(s []float64, positiveOnly bool) []ir.Hit {
		top := topK(s, o.Depth, positiveOnly)
		seen := make(map[int]bool, len(top)+len(scored))
		for _, d := range top {
			seen[d] = true
		}
		for _, d := range scored {
			if !seen[d] {
				seen[d] = true
				top = append(top, d)
			}
		}
		hits := make([]ir.Hit, len(top))
		for i, d := range top {
			hits[i] = ir.Hit{DocID: strconv.Itoa(d), Score: s[d]}
		}
		ir.SortHits(hits)
		return hits
	}
	// BM25's candidates are the documents sharing a term with the query (bm25.Index.Search).
	dh, lh := pool(dense, false), pool(lexical, true)
	o.Depth = max(len(dh), len(lh))
	out := make(map[int]float64, len(scored))
	for _, h := range fuseQuery(dh, lh, o) {
		d, _ := strconv.Atoi(h.DocID)
		out[d] = h.Score
	}
	return out
}

// topK is the indexes of the k highest scores (ties by lower index), those above 0 only when positiveOnly.
func topK(s []float64, k int, positiveOnly bool) []int {
	idx := make([]int, 0, len(s))
	for i, v := range s {
		if !positiveOnly || v > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case s[a] > s[b]:
			return -1
		case s[a] < s[b]:
			return 1
		}
		return a - b
	})
	return idx[:min(k, len(idx))]
}

// embeddings are the corpus's normalised embeddings (computed once) followed by extra's.
func (t *Teacher) embeddings(ctx context.Context, extra []string, report progress.Func) (*vector.Matrix, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.corpus == nil {
		seen := make(map[string]bool, len(t.Corpus))
		t.distinct = nil
		for _, c := range t.Corpus {
			if !seen[c] {
				seen[c] = true
				t.distinct = append(t.distinct, c)
			}
		}
		m, err := t.Embedder.EmbedDocuments(ctx, t.distinct, report)
		if err != nil {
			return nil, fmt.Errorf("hybrid teacher: embed the %d-passage corpus: %w", len(t.distinct), err)
		}
		if m.Rows != len(t.distinct) {
			return nil, fmt.Errorf("hybrid teacher: got %d embeddings for %d corpus passages", m.Rows, len(t.distinct))
		}
		m.Normalize()
		t.corpus = m
	}
	if len(extra) == 0 {
		return t.corpus, nil
	}
	m, err := t.Embedder.EmbedDocuments(ctx, extra, report)
	if err != nil {
		return nil, fmt.Errorf("hybrid teacher: embed %d passages: %w", len(extra), err)
	}
	if m.Rows != len(extra) || m.Dim != t.corpus.Dim {
		return nil, fmt.Errorf("hybrid teacher: got %dx%d embeddings for %d passages of a %d-d corpus", m.Rows, m.Dim, len(extra), t.corpus.Dim)
	}
	m.Normalize()
	all := vector.New(t.corpus.Rows+m.Rows, m.Dim)
	copy(all.Data, t.corpus.Data)
	copy(all.Data[len(t.corpus.Data):], m.Data)
	return all, nil
}
