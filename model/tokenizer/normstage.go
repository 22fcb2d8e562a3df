package tokenizer

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The normalizers that are not character-wise (Unicode composition, Strip, Replace, Prepend, SentencePiece's
// Precompiled charsmap) run as a chain of stages, each rewriting a normText into another. Every output byte
// keeps the input span of the text it came from, so offsets stay meaningful (they follow the input character
// or grapheme a replacement came from; ids never depend on them).

// normStage rewrites in into out (out is empty on entry).
type normStage interface {
	apply(in, out *normText)
}

// stageNormalizer is a normalizer made of stages; character-wise steps are grouped into one charStage.
type stageNormalizer struct {
	stages []normStage
}

// normalize appends the normalization of text (starting at byte base of the input) to out.
func (g *stageNormalizer) normalize(text string, base int, out *normText) {
	var a, b normText
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		a.appendRune(r, int32(base+i), int32(base+i+size))
		i += size
	}
	cur, next := &a, &b
	for _, st := range g.stages {
		next.reset()
		st.apply(cur, next)
		cur, next = next, cur
	}
	out.b = append(out.b, cur.b...)
	out.start = append(out.start, cur.start...)
	out.end = append(out.end, cur.end...)
}

func (g *stageNormalizer) normalizeString(s string) string {
	var t normText
	g.normalize(s, 0, &t)
	return string(t.b)
}

// appendSpan appends s with every byte spanning [st, en) of the input.
func (t *normText) appendSpan(s string, st, en int32) {
	t.b = append(t.b, s...)
	for range len(s) {
		t.start = append(t.start, st)
		t.end = append(t.end, en)
	}
}

// copyRange appends bytes [i, j) of in with their spans.
func (t *normText) copyRange(in *normText, i, j int) {
	t.b = append(t.b, in.b[i:j]...)
	t.start = append(t.start, in.start[i:j]...)
	t.end = append(t.end, in.end[i:j]...)
}

// spanOf is the input span of bytes [i, j) of t; an empty range takes the span of its neighbour.
func (t *normText) spanOf(i, j int) (int32, int32) {
	switch {
	case len(t.b) == 0:
		return 0, 0
	case i >= j && i < len(t.b):
		return t.start[i], t.start[i]
	case i >= j:
		return t.end[len(t.b)-1], t.end[len(t.b)-1]
	}
	return t.start[i], t.end[j-1]
}

// charStage applies character-wise steps (BertNormalizer parts, Lowercase, StripAccents, NFD of one char).
type charStage struct{ n *normalizer }

func (c charStage) apply(in, out *normText) {
	var a, b [16]rune
	for i := 0; i < len(in.b); {
		ch := in.b[i]
		if ch < utf8.RuneSelf {
			if m := c.n.ascii[ch]; m >= 0 {
				out.b = append(out.b, byte(m))
				out.start = append(out.start, in.start[i])
				out.end = append(out.end, in.end[i])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(in.b[i:])
		s, e := in.spanOf(i, i+size)
		for _, x := range c.n.applyRune(r, a[:0], b[:0]) {
			out.appendRune(x, s, e)
		}
		i += size
	}
}

// unicodeStage is the NFC, NFD, NFKC or NFKD normalizer, applied segment by segment (a starter and the
// combining marks that follow it).
type unicodeStage struct{ form norm.Form }

func (u unicodeStage) apply(in, out *normText) {
	var it norm.Iter
	it.Init(u.form, in.b)
	for !it.Done() {
		p := it.Pos()
		seg := it.Next()
		s, e := in.spanOf(p, it.Pos())
		out.b = append(out.b, seg...)
		for range seg {
			out.start = append(out.start, s)
			out.end = append(out.end, e)
		}
	}
}

// stripStage is the Strip normalizer: whitespace removed on the left and/or right.
type stripStage struct{ left, right bool }

func (s stripStage) apply(in, out *normText) {
	lo, hi := 0, len(in.b)
	if s.left {
		lo = len(in.b) - len(strings.TrimLeftFunc(string(in.b), isWhitespace))
	}
	if s.right && hi > lo {
		hi = lo + len(strings.TrimRightFunc(string(in.b[lo:]), isWhitespace))
	}
	out.copyRange(in, lo, hi)
}

// prependStage is the Prepend normalizer: s before any non-empty text.
type prependStage struct{ s string }

func (p prependStage) apply(in, out *normText) {
	if len(in.b) > 0 {
		st, en := in.spanOf(0, 1)
		out.appendSpan(p.s, st, en)
	}
	out.copyRange(in, 0, len(in.b))
}

// replaceStage is the Replace normalizer: every match of a literal string or a regular expression becomes
// content.
type replaceStage struct {
	literal string
	re      *regexp.Regexp
	content string
}

func (r replaceStage) apply(in, out *normText) {
	var matches [][]int
	if r.re != nil {
		matches = r.re.FindAllIndex(in.b, -1)
	} else if r.literal != "" {
		s := string(in.b)
		for i := 0; ; {
			k := strings.Index(s[i:], r.literal)
			if k < 0 {
				break
			}
			matches = append(matches, []int{i + k, i + k + len(r.literal)})
			i += k + len(r.literal)
		}
	}
	prev := 0
	for _, m := range matches {
		if m[0] == m[1] {
			continue
		}
		out.copyRange(in, prev, m[0])
		st, en := in.spanOf(m[0], m[1])
		out.appendSpan(r.content, st, en)
		prev = m[1]
	}
	out.copyRange(in, prev, len(in.b))
}

// byteLevelStage is the ByteLevel normalizer: every byte becomes its GPT-2 printable character.
type byteLevelStage struct{}

func (byteLevelStage) apply(in, out *normText) {
	for i, c := range in.b {
		out.appendSpan(byteChars[c], in.start[i], in.end[i])
	}
}
