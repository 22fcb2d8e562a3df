package review

import (
	"unicode"

	"github.com/ragnb/ragnb/data/synth"
)

// terms are the text's content words (synth.ContentWords) with every word of a script written without spaces
// (Han, Hiragana, Katakana, Hangul) cut into character bigrams, so a Japanese or Chinese question is compared
// by its pieces rather than as one long "word" that never occurs in the passage.
func terms(s string) []string {
	var out []string
	for _, w := range synth.ContentWords(s) {
		r := []rune(w)
		if !hasUnspaced(r) {
			out = append(out, w)
			continue
		}
		if len(r) == 1 {
			out = append(out, w)
			continue
		}
		for i := 0; i+1 < len(r); i++ {
			out = append(out, string(r[i:i+2]))
		}
	}
	return out
}

func hasUnspaced(r []rune) bool {
	for _, c := range r {
		if unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return true
		}
	}
	return false
}

// overlap is the share of a's distinct terms found among b's (0 when a has none).
func overlap(a, b string) float64 { return synth.OverlapOf(terms(a), terms(b)) }
