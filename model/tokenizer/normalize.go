package tokenizer

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normStep is one character-wise normalization step. Every normalizer ragnb supports is a sequence of
// these, applied to one input character at a time, so each output character keeps the byte span of the
// input character it came from (the alignment Hugging Face tokenizers keeps for offsets).
type normStep uint8

const (
	stepClean      normStep = iota // BertNormalizer clean_text: drop controls, map whitespace to ' '
	stepChinese                    // BertNormalizer handle_chinese_chars: ' ' c ' ' around CJK ideographs
	stepNFDStrip                   // BertNormalizer strip_accents: NFD, then drop nonspacing marks
	stepStripMarks                 // StripAccents normalizer: drop nonspacing marks (no NFD of its own)
	stepNFD                        // NFD normalizer
	stepLower                      // BertNormalizer lowercase / Lowercase normalizer
)

// normalizer applies steps to text and tracks where each output byte came from.
type normalizer struct {
	steps []normStep
	// ascii maps an ASCII input byte to its single-byte output, or -1 when the steps drop it.
	ascii [128]int16
}

func newNormalizer(steps []normStep) *normalizer {
	n := &normalizer{steps: steps}
	var a, b []rune
	for c := rune(0); c < 128; c++ {
		out := n.applyRune(c, a[:0], b[:0])
		switch {
		case len(out) == 0:
			n.ascii[c] = -1
		case len(out) == 1 && out[0] < 128:
			n.ascii[c] = int16(out[0])
		default:
			panic("tokenizer: normalizer maps an ASCII byte to several characters") // cannot happen with these steps
		}
	}
	return n
}

// applyRune runs every step on c; a and b are scratch buffers. The result aliases one of them.
func (n *normalizer) applyRune(c rune, a, b []rune) []rune {
	cur := append(a, c)
	next := b
	for _, st := range n.steps {
		next = next[:0]
		for _, r := range cur {
			switch st {
			case stepClean:
				if isBertControl(r) {
					continue
				}
				if isWhitespace(r) {
					r = ' '
				}
				next = append(next, r)
			case stepChinese:
				if isChineseChar(r) {
					next = append(next, ' ', r, ' ')
				} else {
					next = append(next, r)
				}
			case stepNFDStrip, stepNFD:
				// U+11938 got its canonical decomposition in Unicode 13, after the tables of the
				// normalization crate tokenizers uses; it is the only such code point up to Unicode 15.
				if r < 0xC0 || r == 0x11938 {
					if st == stepNFD || !isNonspacingMark(r) {
						next = append(next, r)
					}
					continue
				}
				var in [utf8.UTFMax]byte
				var outBuf [4 * utf8.UTFMax * 4]byte
				k := utf8.EncodeRune(in[:], r)
				d := norm.NFD.Append(outBuf[:0], in[:k]...)
				for len(d) > 0 {
					x, size := utf8.DecodeRune(d)
					d = d[size:]
					if st == stepNFD || !isNonspacingMark(x) {
						next = append(next, x)
					}
				}
			case stepStripMarks:
				if !isNonspacingMark(r) {
					next = append(next, r)
				}
			case stepLower:
				next = appendLower(next, r)
			}
		}
		cur, next = next, cur
	}
	return cur
}

// normText is normalized text with, for every byte, the byte span [start, end) of the input character
// it came from (absolute offsets into the caller's input).
type normText struct {
	b          []byte
	start, end []int32
}

func (t *normText) reset() {
	t.b, t.start, t.end = t.b[:0], t.start[:0], t.end[:0]
}

func (t *normText) appendRune(r rune, s, e int32) {
	var buf [utf8.UTFMax]byte
	k := utf8.EncodeRune(buf[:], r)
	t.b = append(t.b, buf[:k]...)
	for i := 0; i < k; i++ {
		t.start = append(t.start, s)
		t.end = append(t.end, e)
	}
}

// normalize appends the normalization of text (which starts at byte base of the original input) to out.
// Invalid UTF-8 bytes read as U+FFFD, which clean_text drops.
func (n *normalizer) normalize(text string, base int, out *normText) {
	if n == nil {
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRuneInString(text[i:])
			out.appendRune(r, int32(base+i), int32(base+i+size))
			i += size
		}
		return
	}
	var a, b [16]rune
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if m := n.ascii[c]; m >= 0 {
				out.b = append(out.b, byte(m))
				out.start = append(out.start, int32(base+i))
				out.end = append(out.end, int32(base+i+1))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		s, e := int32(base+i), int32(base+i+size)
		for _, x := range n.applyRune(r, a[:0], b[:0]) {
			out.appendRune(x, s, e)
		}
		i += size
	}
}

// normalizeString returns the normalized text alone (used for added tokens with normalized=true).
func (n *normalizer) normalizeString(s string) string {
	var t normText
	n.normalize(s, 0, &t)
	return string(t.b)
}
