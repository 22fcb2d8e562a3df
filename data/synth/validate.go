package synth

import (
	"strings"
	"unicode"
)

// Filter reasons, the keys of Summary.Filtered.
const (
	FilterEmpty         = "empty"                 // no question text
	FilterNotAnswerable = "not answerable"        // too few of its content words occur in the passage
	FilterJudged        = "judged not answerable" // the AnswerCheck scorer scored it below AnswerCheckMin
	FilterDuplicate     = "duplicate"             // the same question (case, punctuation, spacing aside) came earlier
)

// ContentWords are the words of s that carry meaning: lower-cased runs of letters and digits, minus English
// function words and question words, and minus words shorter than 3 characters unless they hold a digit; a
// final "s" is dropped from words longer than 3 characters so plurals match.
func ContentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		hasDigit := strings.IndexFunc(w, unicode.IsDigit) >= 0
		if (len(w) < 3 && !hasDigit) || isStopword(w) {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	return out
}

// Overlap is the fraction of the question's distinct content words that occur among the passage's: the
// default answerability check. A question without content words ("What is it?") has overlap 0.
func Overlap(question, passage string) float64 {
	return OverlapOf(ContentWords(question), ContentWords(passage))
}

// OverlapOf is the fraction of the distinct terms of q that occur among those of p (0 when q has none), for
// callers that split text their own way.
func OverlapOf(q, p []string) float64 {
	qs := map[string]bool{}
	for _, w := range q {
		qs[w] = true
	}
	if len(qs) == 0 {
		return 0
	}
	ps := map[string]bool{}
	for _, w := range p {
		ps[w] = true
	}
	n := 0
	for w := range qs {
		if ps[w] {
			n++
		}
	}
	return float64(n) / float64(len(qs))
}

// NormalizeQuestion is a question's duplicate key: lower case, letters and digits only, single spaces; two
// questions are duplicates when their keys are equal (generation's dedupe and package review use it).
func NormalizeQuestion(q string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

func isStopword(w string) bool {
	switch w {
	case "the", "and", "for", "are", "was", "were", "with", "that", "this", "these", "those", "from", "what",
		"which", "who", "whom", "whose", "when", "where", "why", "how", "does", "did", "has", "have", "had",
		"its", "their", "there", "they", "them", "his", "her", "she", "him", "our", "you", "your", "can",
		"could", "would", "should", "will", "shall", "may", "might", "must", "not", "any", "all", "some",
		"such", "than", "then", "into", "onto", "upon", "about", "over", "under", "between", "during", "after",
		"before", "also", "been", "being", "both", "each", "other", "only", "own", "same", "very", "just",
		"but", "nor", "out", "off", "per", "via", "according", "mentioned", "described", "stated", "passage",
		"text", "document", "context", "based", "given", "provided", "specific", "kind", "type", "main":
		return true
	}
	return false
}
