package mining

import (
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/cache"
)

// Set is the deduplicated view of the input pairs that mining works on.
//
// Passages are compared by exact text, as ir.FromPairs does: a passage that occurs several times (as the
// positive of several rows, or in the extra corpus too) is one corpus entry, so a copy of a positive can never
// be chosen as a negative. Rows with the very same anchor text are one query whose positives are the union of
// those rows' positives, so the positive of one row is never mined as a negative for the same question asked
// again (sentence-transformers does the same).
type Set struct {
	// Queries are the distinct anchors, in order of first appearance.
	Queries []string
	// Corpus is the distinct non-empty passages of the extra corpus followed by the positives, in order of
	// first appearance.
	Corpus []string
	// Positives lists, per query, the corpus indices of its positives in order of first appearance.
	Positives [][]int
	// Rows are the input rows kept, in input order.
	Rows []Row
	// Skipped are the indices of input rows left out: an empty anchor or an empty positive.
	Skipped []int
}

// Row is one input row: its index in the input and its query and positive in the Set.
type Row struct {
	Input, Query, Positive int
}

// NewSet deduplicates (anchor, positive) rows and the extra corpus (nil: the positives alone are the
// corpus). Rows with an empty anchor or positive are skipped (Set.Skipped); empty corpus strings are ignored.
func NewSet(anchors, positives, corpus []string) (*Set, error) {
	if len(anchors) != len(positives) {
		return nil, fmt.Errorf("mine: %d anchors but %d positives", len(anchors), len(positives))
	}
	s := &Set{}
	docs := map[string]int{}
	add := func(p string) int {
		if i, ok := docs[p]; ok {
			return i
		}
		docs[p] = len(s.Corpus)
		s.Corpus = append(s.Corpus, p)
		return len(s.Corpus) - 1
	}
	for _, p := range corpus {
		if p != "" {
			add(p)
		}
	}
	queries := map[string]int{}
	for i, a := range anchors {
		p := positives[i]
		if a == "" || p == "" {
			s.Skipped = append(s.Skipped, i)
			continue
		}
		q, ok := queries[a]
		if !ok {
			q = len(s.Queries)
			queries[a] = q
			s.Queries = append(s.Queries, a)
			s.Positives = append(s.Positives, nil)
		}
		d := add(p)
		if !slices.Contains(s.Positives[q], d) {
			s.Positives[q] = append(s.Positives[q], d)
		}
		s.Rows = append(s.Rows, Row{Input: i, Query: q, Positive: d})
	}
	if len(s.Queries) == 0 {
		return nil, fmt.Errorf("mine: no row has both an anchor and a positive (%d rows)", len(anchors))
	}
	return s, nil
}

// QueriesHash and CorpusHash identify the texts that get embedded, for cache keys.
func (s *Set) QueriesHash() string { return cache.HashStrings(s.Queries...) }

// CorpusHash: see QueriesHash.
func (s *Set) CorpusHash() string { return cache.HashStrings(s.Corpus...) }
