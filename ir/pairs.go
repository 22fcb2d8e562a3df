package ir

import (
	"fmt"
	"strconv"
)

// FromPairs turns (anchor, positive) rows into an evaluation set: every row becomes a query ("q<row>", in row
// order, the anchor as its text) and every distinct passage a document ("d<n>", numbered in order of first
// appearance).
//
// corpus lists the passages to search; nil means the distinct positives of the rows. A typical split evaluation
// passes the test split's rows and the positives of the whole table as corpus, so test questions are searched
// against every passage. Each row's positive must be in the corpus.
//
// Identical passages are deduplicated (exact string equality): a passage that occurs in several rows is one
// document, so retrieving it counts as a hit for every one of those rows, never as a miss against a duplicate
// copy. Rows with the very same anchor text cannot be told apart by any retriever, so each such query's
// relevant set is the union of those rows' positives. Empty anchors are kept (and evaluated); an empty
// positive is an error naming its row.
func FromPairs(anchors, positives, corpus []string) (*Dataset, error) {
	if len(anchors) != len(positives) {
		return nil, fmt.Errorf("pairs: %d anchors but %d positives", len(anchors), len(positives))
	}
	ds := &Dataset{Qrels: Qrels{}}
	docID := map[string]string{}
	addDoc := func(text string) string {
		if id, ok := docID[text]; ok {
			return id
		}
		id := "d" + strconv.Itoa(len(ds.Corpus))
		docID[text] = id
		ds.Corpus = append(ds.Corpus, Document{ID: id, Text: text})
		return id
	}
	if corpus == nil {
		corpus = positives
	}
	for _, p := range corpus {
		addDoc(p)
	}
	byAnchor := map[string][]string{} // anchor text → doc ids of its positives
	for i, p := range positives {
		if p == "" {
			return nil, fmt.Errorf("pairs row %d: empty positive", i)
		}
		id, ok := docID[p]
		if !ok {
			return nil, fmt.Errorf("pairs row %d: positive passage is not in the corpus (%.60q)", i, p)
		}
		byAnchor[anchors[i]] = append(byAnchor[anchors[i]], id)
	}
	for i, a := range anchors {
		qid := "q" + strconv.Itoa(i)
		ds.Queries = append(ds.Queries, Query{ID: qid, Text: a})
		for _, d := range byAnchor[a] {
			ds.Qrels.Add(qid, d, 1)
		}
	}
	return ds, nil
}
