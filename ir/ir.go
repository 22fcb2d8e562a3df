// Package ir holds information-retrieval evaluation data and the metrics over it: documents, queries,
// relevance judgements (qrels), ranked runs, their file formats (BEIR folders, TREC run files), turning a
// pairs table into queries / corpus / qrels, and the metrics of sentence-transformers'
// InformationRetrievalEvaluator (accuracy, precision, recall, MRR, NDCG, MAP at k).
//
// It does not search: BM25 lives in package bm25, dense search in package search, and evaluating a model
// or a reranker end to end in package evaluate.
package ir

import (
	"fmt"
	"sort"
)

// Document is one corpus passage.
type Document struct {
	ID    string
	Title string
	Text  string
}

// Content is what retrievers see: the title and the text joined by a space (BEIR's convention), or the text
// alone when there is no title.
func (d Document) Content() string {
	if d.Title == "" {
		return d.Text
	}
	return d.Title + " " + d.Text
}

// Query is one search query.
type Query struct {
	ID   string
	Text string
}

// Qrels are relevance judgements: query id → document id → grade. A grade > 0 means relevant; the metrics are
// binary, so grades above 0 are all the same to them (judgements of 0 or below mark a document as judged
// non-relevant and count as not relevant).
type Qrels map[string]map[string]int

// Add records a judgement, replacing an earlier one for the same pair.
func (q Qrels) Add(queryID, docID string, grade int) {
	m := q[queryID]
	if m == nil {
		m = map[string]int{}
		q[queryID] = m
	}
	m[docID] = grade
}

// Relevant returns the set of documents judged relevant (grade > 0) for a query.
func (q Qrels) Relevant(queryID string) map[string]bool {
	rel := map[string]bool{}
	for d, g := range q[queryID] {
		if g > 0 {
			rel[d] = true
		}
	}
	return rel
}

// QueryIDs returns the ids of queries with at least one relevant document, sorted.
func (q Qrels) QueryIDs() []string {
	var ids []string
	for id, docs := range q {
		for _, g := range docs {
			if g > 0 {
				ids = append(ids, id)
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// Hit is one retrieved document with its score; higher is better.
type Hit struct {
	DocID string
	Score float64
}

// Run is a retrieval result: query id → hits. Hits need not be sorted: Sorted orders them.
type Run map[string][]Hit

// Sorted returns a query's hits by score, highest first; equal scores are ordered by document id ascending,
// so a ranking never depends on the order a retriever happened to emit ties in.
func (r Run) Sorted(queryID string) []Hit {
	hits := append([]Hit(nil), r[queryID]...)
	SortHits(hits)
	return hits
}

// SortHits sorts hits in place by score descending, then document id ascending.
func SortHits(hits []Hit) {
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].DocID < hits[j].DocID
	})
}

// Dataset is a retrieval evaluation set: a corpus, queries and the judgements linking them.
type Dataset struct {
	Corpus  []Document
	Queries []Query
	Qrels   Qrels
}

// Validate checks that document and query ids are unique and not empty.
func (ds *Dataset) Validate() error {
	seen := make(map[string]bool, len(ds.Corpus))
	for i, d := range ds.Corpus {
		if d.ID == "" {
			return fmt.Errorf("corpus document %d has an empty id", i)
		}
		if seen[d.ID] {
			return fmt.Errorf("corpus document %d: duplicate id %q", i, d.ID)
		}
		seen[d.ID] = true
	}
	seenQ := make(map[string]bool, len(ds.Queries))
	for i, q := range ds.Queries {
		if q.ID == "" {
			return fmt.Errorf("query %d has an empty id", i)
		}
		if seenQ[q.ID] {
			return fmt.Errorf("query %d: duplicate id %q", i, q.ID)
		}
		seenQ[q.ID] = true
	}
	return nil
}

// Evaluated returns, in the order of ds.Queries, the queries the metrics are computed over: those with at least
// one relevant document in the qrels. This is sentence-transformers' rule; a query without judgements cannot be
// scored and is skipped, while a query whose text is empty is still evaluated.
func (ds *Dataset) Evaluated() []Query {
	var out []Query
	for _, q := range ds.Queries {
		for _, g := range ds.Qrels[q.ID] {
			if g > 0 {
				out = append(out, q)
				break
			}
		}
	}
	return out
}
