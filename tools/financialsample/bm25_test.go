package main

import (
	"encoding/csv"
	"math"
	"sort"
	"strings"
	"unicode"
)

// A small Okapi BM25 (k1 = 1.5, b = 0.75, the rank_bm25 defaults; idf = ln((N − n + 0.5)/(n + 0.5) + 1) as in
// Lucene) used only to check that the sample is neither trivial nor hopeless for a lexical retriever. It is
// independent of the project's bm25 package on purpose.

var stop = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an and are as at be by did do does for from has have how in is it its of on or our s the to was we what when where which who with year fiscal 2023") {
		stop[w] = true
	}
}

func tokens(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !stop[t] {
			out = append(out, t)
		}
	}
	return out
}

// bm25NDCG10 returns the mean NDCG@10 of the questions against the distinct contexts (one relevant each).
func bm25NDCG10(qaCSV []byte) (float64, int, int, error) {
	recs, err := csv.NewReader(strings.NewReader(string(qaCSV))).ReadAll()
	if err != nil {
		return 0, 0, 0, err
	}
	recs = recs[1:]
	docID := map[string]int{}
	var docs [][]string
	for _, r := range recs {
		if _, ok := docID[r[2]]; !ok {
			docID[r[2]] = len(docs)
			docs = append(docs, tokens(r[2]))
		}
	}
	df := map[string]int{}
	tf := make([]map[string]int, len(docs))
	var total float64
	for i, d := range docs {
		tf[i] = map[string]int{}
		for _, t := range d {
			if tf[i][t] == 0 {
				df[t]++
			}
			tf[i][t]++
		}
		total += float64(len(d))
	}
	avg := total / float64(len(docs))
	n := float64(len(docs))
	var sum float64
	for _, r := range recs {
		type hit struct {
			id    int
			score float64
		}
		hits := make([]hit, len(docs))
		for i := range docs {
			var s float64
			for _, t := range tokens(r[0]) {
				f := float64(tf[i][t])
				if f == 0 {
					continue
				}
				idf := math.Log((n-float64(df[t])+0.5)/(float64(df[t])+0.5) + 1)
				s += idf * f * 2.5 / (f + 1.5*(0.25+0.75*float64(len(docs[i]))/avg))
			}
			hits[i] = hit{i, s}
		}
		sort.Slice(hits, func(a, b int) bool {
			if hits[a].score != hits[b].score {
				return hits[a].score > hits[b].score
			}
			return hits[a].id < hits[b].id
		})
		want := docID[r[2]]
		for rank := 0; rank < 10; rank++ {
			if hits[rank].id == want {
				sum += 1 / math.Log2(float64(rank)+2)
				break
			}
		}
	}
	return sum / float64(len(recs)), len(recs), len(docs), nil
}
