package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pre-tokenizers other than the BERT fast path: each stage splits every piece of normalized text into
// smaller pieces (and may rewrite them, as ByteLevel and Metaspace do), following tokenizers'
// NormalizedString::split semantics.

// preStage splits p, appending the pieces to dst.
type preStage interface {
	split(p normText, dst []normText) []normText
}

// splitBehavior is tokenizers' SplitDelimiterBehavior.
type splitBehavior uint8

const (
	behRemoved splitBehavior = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "removed":
		return behRemoved, nil
	case "isolated", "":
		return behIsolated, nil
	case "merged_with_previous", "mergedwithprevious":
		return behMergedWithPrevious, nil
	case "merged_with_next", "mergedwithnext":
		return behMergedWithNext, nil
	case "contiguous":
		return behContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// matchSpan is a stretch of a piece: a match of the pattern or the text between two matches.
type matchSpan struct {
	lo, hi  int
	isMatch bool
}

// coverMatches turns ordered, non-overlapping matches into spans covering [0, n), as tokenizers'
// Pattern::find_matches does (empty matches are kept).
func coverMatches(n int, matches [][2]int, dst []matchSpan) []matchSpan {
	if n == 0 {
		return append(dst, matchSpan{0, 0, false})
	}
	prev := 0
	for _, m := range matches {
		if prev != m[0] {
			dst = append(dst, matchSpan{prev, m[0], false})
		}
		dst = append(dst, matchSpan{m[0], m[1], true})
		prev = m[1]
	}
	if prev != n {
		dst = append(dst, matchSpan{prev, n, false})
	}
	return dst
}

// splitSpans applies a split behavior to covering spans and appends the non-empty pieces of p.
func splitSpans(p normText, spans []matchSpan, beh splitBehavior, invert bool, dst []normText) []normText {
	if invert {
		for i := range spans {
			spans[i].isMatch = !spans[i].isMatch
		}
	}
	type keep struct {
		lo, hi int
		remove bool
	}
	var ks []keep
	switch beh {
	case behIsolated:
		for _, s := range spans {
			ks = append(ks, keep{s.lo, s.hi, false})
		}
	case behRemoved:
		for _, s := range spans {
			ks = append(ks, keep{s.lo, s.hi, s.isMatch})
		}
	case behContiguous:
		prevMatch := false
		for _, s := range spans {
			if s.isMatch == prevMatch && len(ks) > 0 {
				ks[len(ks)-1].hi = s.hi
			} else {
				ks = append(ks, keep{s.lo, s.hi, false})
			}
			prevMatch = s.isMatch
		}
	case behMergedWithPrevious:
		prevMatch := false
		for _, s := range spans {
			if s.isMatch && !prevMatch && len(ks) > 0 {
				ks[len(ks)-1].hi = s.hi
			} else {
				ks = append(ks, keep{s.lo, s.hi, false})
			}
			prevMatch = s.isMatch
		}
	case behMergedWithNext:
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.isMatch && !prevMatch && len(ks) > 0 {
				ks[len(ks)-1].lo = s.lo
			} else {
				ks = append(ks, keep{s.lo, s.hi, false})
			}
			prevMatch = s.isMatch
		}
		for i, j := 0, len(ks)-1; i < j; i, j = i+1, j-1 {
			ks[i], ks[j] = ks[j], ks[i]
		}
	}
	for _, k := range ks {
		if !k.remove && k.hi > k.lo {
			dst = append(dst, p.slice(k.lo, k.hi))
		}
	}
	return dst
}

// slice is bytes [lo, hi) of t, sharing its arrays.
func (t normText) slice(lo, hi int) normText {
	return normText{b: t.b[lo:hi:hi], start: t.start[lo:hi:hi], end: t.end[lo:hi:hi]}
}

// runeMatches returns every character of b for which pred holds as a match of its own.
func runeMatches(b []byte, pred func(rune) bool) [][2]int {
	var out [][2]int
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if pred(r) {
			out = append(out, [2]int{i, i + size})
		}
		i += size
	}
	return out
}

// patternSplit splits on a pattern's matches with a behavior (Split, Digits, Punctuation, WhitespaceSplit,
// CharDelimiterSplit and BertPreTokenizer are all this).
type patternSplit struct {
	find     func(b []byte) [][2]int
	behavior splitBehavior
	invert   bool
}

func (s patternSplit) split(p normText, dst []normText) []normText {
	spans := coverMatches(len(p.b), s.find(p.b), nil)
	return splitSpans(p, spans, s.behavior, s.invert, dst)
}

func charPattern(pred func(rune) bool) func([]byte) [][2]int {
	return func(b []byte) [][2]int { return runeMatches(b, pred) }
}

func literalPattern(lit string) func([]byte) [][2]int {
	return func(b []byte) [][2]int {
		var out [][2]int
		if lit == "" {
			return nil
		}
		s := string(b)
		for i := 0; ; {
			k := strings.Index(s[i:], lit)
			if k < 0 {
				return out
			}
			out = append(out, [2]int{i + k, i + k + len(lit)})
			i += k + len(lit)
		}
	}
}

func regexpPattern(re *regexp.Regexp) func([]byte) [][2]int {
	return func(b []byte) [][2]int {
		ms := re.FindAllIndex(b, -1)
		out := make([][2]int, len(ms))
		for i, m := range ms {
			out[i] = [2]int{m[0], m[1]}
		}
		return out
	}
}

// The GPT-2 pre-tokenization pattern (ByteLevel's, and the usual Split pattern of GPT-2 style files).
// Its \s+(?!\S) needs a lookahead Go's regexp lacks, so gpt2Matches scans for it by hand.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

type charClass uint8

const (
	classOther charClass = iota
	classLetter
	classNumber
	classSpace
)

func classOf(r rune) charClass {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			return classLetter
		case r >= '0' && r <= '9':
			return classNumber
		case r == ' ' || r >= '\t' && r <= '\r':
			return classSpace
		}
		return classOther
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// gpt2Matches returns the matches of gpt2Pattern in b (they cover b).
func gpt2Matches(b []byte) [][2]int {
	out := make([][2]int, 0, len(b)/4+1)
	for i := 0; i < len(b); {
		j := gpt2Next(b, i)
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// gpt2Next is the end of the leftmost-first match of gpt2Pattern starting at i.
func gpt2Next(b []byte, i int) int {
	if b[i] == '\'' && i+1 < len(b) {
		switch b[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(b) && b[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(b) && b[i+2] == 'l' {
				return i + 3
			}
		}
	}
	// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
	j := i
	if b[i] == ' ' {
		j = i + 1
	}
	if j < len(b) {
		r, size := utf8.DecodeRune(b[j:])
		if cls := classOf(r); cls != classSpace {
			k := j + size
			for k < len(b) {
				r, size := utf8.DecodeRune(b[k:])
				if classOf(r) != cls {
					break
				}
				k += size
			}
			return k
		}
	}
	// `\s+(?!\S)` then `\s+`: a whitespace run, less its last character when a non-space follows it
	k, last, n := i, i, 0
	for k < len(b) {
		r, size := utf8.DecodeRune(b[k:])
		if classOf(r) != classSpace {
			break
		}
		last, k, n = k, k+size, n+1
	}
	if k < len(b) && n > 1 {
		return last
	}
	return k
}

// byteLevelPre is the ByteLevel pre-tokenizer: an optional leading space, the GPT-2 split, then every byte
// mapped to its printable character.
type byteLevelPre struct {
	addPrefixSpace, useRegex bool
}

func (bl byteLevelPre) split(p normText, dst []normText) []normText {
	if bl.addPrefixSpace && (len(p.b) == 0 || p.b[0] != ' ') {
		var q normText
		st, en := p.spanOf(0, 1)
		q.appendSpan(" ", st, en)
		q.copyRange(&p, 0, len(p.b))
		p = q
	}
	n := len(dst)
	if bl.useRegex {
		dst = splitSpans(p, coverMatches(len(p.b), gpt2Matches(p.b), nil), behIsolated, false, dst)
	} else if len(p.b) > 0 {
		dst = append(dst, p)
	}
	for i := n; i < len(dst); i++ {
		var q normText
		byteLevelStage{}.apply(&dst[i], &q)
		dst[i] = q
	}
	return dst
}

// prependScheme is Metaspace's prepend_scheme.
type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

// metaspacePre is the Metaspace pre-tokenizer: spaces become the replacement character (▁), which is
// prepended to a piece that lacks it (every piece, or only the one at the start of the text), and the piece
// is split before every replacement character.
type metaspacePre struct {
	repl       string
	scheme     prependScheme
	splitWords bool
}

func (m metaspacePre) split(p normText, dst []normText) []normText {
	var q normText
	// the test is on the text with spaces already replaced, as in tokenizers
	startsRepl := len(p.b) > 0 && p.b[0] == ' ' || strings.HasPrefix(string(p.b), m.repl)
	prepend := !startsRepl && len(p.b) > 0 &&
		(m.scheme == prependAlways || m.scheme == prependFirst && p.start[0] == 0)
	if prepend {
		st, en := p.spanOf(0, 1)
		q.appendSpan(m.repl, st, en)
	}
	for i, c := range p.b {
		if c == ' ' {
			q.appendSpan(m.repl, p.start[i], p.end[i])
		} else {
			q.b = append(q.b, c)
			q.start = append(q.start, p.start[i])
			q.end = append(q.end, p.end[i])
		}
	}
	if !m.splitWords {
		if len(q.b) > 0 {
			dst = append(dst, q)
		}
		return dst
	}
	return splitSpans(q, coverMatches(len(q.b), literalPattern(m.repl)(q.b), nil), behMergedWithNext, false, dst)
}

// whitespaceMatches is the Whitespace pre-tokenizer's \w+|[^\w\s]+.
func whitespaceMatches(b []byte) [][2]int {
	var out [][2]int
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if isWhitespace(r) {
			i += size
			continue
		}
		w := isWordChar(r)
		j := i + size
		for j < len(b) {
			r, size := utf8.DecodeRune(b[j:])
			if isWhitespace(r) || isWordChar(r) != w {
				break
			}
			j += size
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// bertPre is BertPreTokenizer in the general path: split on whitespace (removed), then punctuation
// (isolated).
type bertPre struct{}

func (bertPre) split(p normText, dst []normText) []normText {
	var tmp []normText
	tmp = patternSplit{find: charPattern(isWhitespace), behavior: behRemoved}.split(p, tmp)
	for _, q := range tmp {
		dst = patternSplit{find: charPattern(isBertPunct), behavior: behIsolated}.split(q, dst)
	}
	return dst
}

// byteChars is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other bytes for
// the characters from U+0100 on, in byte order.
var byteChars = func() (t [256]string) {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			t[b] = string(rune(b))
		} else {
			t[b] = string(next)
			next++
		}
	}
	return t
}()
