package ir

import (
	"fmt"
	"strconv"
)

// FromPairs turns (anchor, positive) rows into an evaluation set: every row becomes a query ("q<row>", in row
// order, the anchor as its text) and every distinct passage a document ("d<n>", numbered in order of first
// appearance). Numbers are zero-padded to a common width (d0007), so id order is corpus order.
//
// corpus lists the passages to search; nil means the distinct positives of the rows. A typical split evaluation
// passes the test split's rows and the positives of the whole table as corpus, so test questions are searched
// against every passage. Each row's positive must be in the corpus.
//
// Identical passages are deduplicated (exact string equality): a passage that occurs in several rows is one
// document, so retrieving it counts as a hit for every one of those rows, never as a miss against a duplicate
// copy. Rows with the very same anchor text cannot be told apart by any retriever, so each such query's
// relevant set is the union of those rows' positives. Empty anchors are kept (and evaluated). A row whose
// positive is empty has nothing to judge against: it is left out, and its index is returned in skipped so the
// caller can say so; empty strings in corpus are not documents.
func FromPairs(anchors, positives, corpus []string) (ds *Dataset, skipped []int, err error) {
	if len(anchors) != len(positives) {
		return nil, nil, fmt.Errorf("pairs: %d anchors but %d positives", len(anchors), len(positives))
	}
	ds = &Dataset{Qrels: Qrels{}}
	if corpus == nil {
		corpus = positives
	}
	var unique []string
	seen := map[string]bool{}
	for _, p := range corpus {
		if p != "" && !seen[p] {
			seen[p] = true
			unique = append(unique, p)
		}
	}
	docID := make(map[string]string, len(unique))
	width := len(strconv.Itoa(max(len(unique)-1, 0)))
	for i, p := range unique {
		id := fmt.Sprintf("d%0*d", width, i)
		docID[p] = id
		ds.Corpus = append(ds.Corpus, Document{ID: id, Text: p})
	}
	byAnchor := map[string][]string{} // anchor text → doc ids of its positives
	for i, p := range positives {
		if p == "" {
			skipped = append(skipped, i)
			continue
		}
		id, ok := docID[p]
		if !ok {
			return nil, nil, fmt.Errorf("pairs row %d: positive passage is not in the corpus (%.60q)", i, p)
		}
		byAnchor[anchors[i]] = append(byAnchor[anchors[i]], id)
	}
	qWidth := len(strconv.Itoa(max(len(anchors)-1, 0)))
	for i, a := range anchors {
		if positives[i] == "" {
			continue
		}
		qid := fmt.Sprintf("q%0*d", qWidth, i)
		ds.Queries = append(ds.Queries, Query{ID: qid, Text: a})
		for _, d := range byAnchor[a] {
			ds.Qrels.Add(qid, d, 1)
		}
	}
	return ds, skipped, nil
}
