package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Encoding is one tokenized text (or pair of texts), unpadded.
type Encoding struct {
	IDs     []int32
	TypeIDs []int32
	// Mask is 1 for every token (encodings are unpadded; Pad adds the zeros).
	Mask []int32
	// Offsets are the byte offsets [start, end) into the input of each token; [0, 0] for special tokens.
	// For pairs, offsets of the second segment refer to the second text. A WordPiece token of a word whose
	// characters were expanded by normalization (a Hangul syllable decomposed into jamo, İ lowercased to
	// i + U+0307) spans the whole original character, as in tokenizers. (With sentence_bert_config.json's
	// do_lower_case the offsets refer to the lowercased text, which can differ in length for a few
	// characters such as İ.)
	Offsets [][2]int
}

// Len is the number of tokens.
func (e Encoding) Len() int { return len(e.IDs) }

// seqEnc is the tokens of one text before post-processing.
type seqEnc struct {
	ids  []int32
	offs [][2]int
	// limit > 0 stops tokenizing after the first word that brings the count to limit or more, as
	// tokenizers ≥ 0.23 does when truncation is on (see encodeSeq); done records that it happened.
	limit int
	done  bool
	// words, when set, receives every pre-tokenized word instead of WordPiece ids (vocabulary training).
	words map[string]int
	// track records where each split (word or added token) starts, for left truncation's early exit.
	track  bool
	splits []splitMark
}

// splitMark is where a split's tokens start in ids, and whether it is an added token.
type splitMark struct {
	start int32
	added bool
}

func (s *seqEnc) beginSplit(added bool) {
	if s.track {
		s.splits = append(s.splits, splitMark{int32(len(s.ids)), added})
	}
}

// keepTail keeps the last n tokens.
func (s *seqEnc) keepTail(n int) {
	if d := len(s.ids) - n; d > 0 {
		s.ids, s.offs = s.ids[d:], s.offs[d:]
	}
}

// cut truncates to n tokens from the right, or from the left when left is set.
func (s *seqEnc) cut(n int, left bool) {
	if left {
		s.keepTail(n)
	} else {
		s.truncate(n)
	}
}

// leftEarlyExit drops the splits tokenizers (≥ 0.23) would not tokenize when truncating from the left
// to limit tokens: it tokenizes splits from the last one back and stops after the first word that brings
// the count to limit or more.
func (s *seqEnc) leftEarlyExit(limit int) {
	if limit <= 0 || len(s.splits) == 0 {
		return
	}
	first := len(s.splits) - 1
	for ; first >= 0; first-- {
		if total := len(s.ids) - int(s.splits[first].start); !s.splits[first].added && total >= limit {
			break
		}
	}
	if first > 0 {
		s.keepTail(len(s.ids) - int(s.splits[first].start))
	}
}

// wordDone is called after each word: it ends tokenization once the limit is reached.
func (s *seqEnc) wordDone() {
	if s.limit > 0 && len(s.ids) >= s.limit {
		s.done = true
	}
}

func (s *seqEnc) add(id int32, start, end int) {
	s.ids = append(s.ids, id)
	s.offs = append(s.offs, [2]int{start, end})
}

func (s *seqEnc) truncate(n int) {
	if n < len(s.ids) {
		s.ids, s.offs = s.ids[:n], s.offs[:n]
	}
}

// Encode tokenizes text and adds the special tokens of the post-processor ([CLS] text [SEP] for BERT),
// truncating the text so that the total is at most maxLen tokens (0: no limit). When maxLen is smaller
// than the number of special tokens, the text is dropped and the special tokens alone are returned.
// Truncation keeps the start of the text, or its end when tokenizer.json's truncation direction is Left.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	s := t.scratch()
	defer t.release(s)
	left := t.truncLeft()
	t.encodeSeq(text, maxLen, left, &s.a, &s.nt)
	if maxLen > 0 {
		s.a.cut(max(0, maxLen-t.SpecialTokens(false)), left)
	}
	return t.assemble(t.single, &s.a, nil)
}

// EncodePair tokenizes a pair as [CLS] a [SEP] b [SEP] (the post-processor's pair template) with token type
// ids 0 for a and its special tokens and 1 for b and the final [SEP]. With maxLen > 0 the texts are cut
// longest-first exactly as tokenizers 0.23 does: the shorter text keeps its length when the longer one can
// absorb the cut; otherwise both get half of the budget and the longer one the odd token. As in tokenizers
// ≥ 0.23, "longer" compares lengths after each text was tokenized only up to the first word reaching maxLen
// tokens, so when both texts exceed maxLen the odd token goes to the second text (tokenizers ≤ 0.22
// compared full lengths; the results differ only in that case, by one token). tokenizer.json's truncation
// strategy (only_first, only_second) and direction apply; when the text it names is too short to absorb
// the cut (tokenizers reports an error), longest-first is used instead.
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	s := t.scratch()
	defer t.release(s)
	left := t.truncLeft()
	strategy := LongestFirst
	if t.truncation != nil {
		strategy = t.truncation.Strategy
	}
	limitA := maxLen
	if strategy == OnlySecond {
		limitA = 0 // tokenizers does not stop early on the first text then
	}
	t.encodeSeq(a, limitA, left, &s.a, &s.nt)
	t.encodeSeq(b, maxLen, left, &s.b, &s.nt)
	if maxLen > 0 {
		budget := max(0, maxLen-t.SpecialTokens(true))
		switch remove := len(s.a.ids) + len(s.b.ids) - budget; {
		case remove <= 0:
		case strategy == OnlyFirst && len(s.a.ids) > remove:
			s.a.cut(len(s.a.ids)-remove, left)
		case strategy == OnlySecond && len(s.b.ids) > remove:
			s.b.cut(len(s.b.ids)-remove, left)
		default:
			truncatePair(&s.a, &s.b, budget, left)
		}
	}
	return t.assemble(t.pair, &s.a, &s.b)
}

// EncodeNoSpecial tokenizes text without special tokens (how sentence-transformers' StaticEmbedding
// tokenizes), keeping at most maxLen tokens (0: no limit). Type ids are 0.
func (t *Tokenizer) EncodeNoSpecial(text string, maxLen int) Encoding {
	s := t.scratch()
	defer t.release(s)
	left := t.truncLeft()
	t.encodeSeq(text, maxLen, left, &s.a, &s.nt)
	if maxLen > 0 {
		s.a.cut(maxLen, left)
	}
	return t.assemble(noSpecial, &s.a, nil)
}

func (t *Tokenizer) truncLeft() bool { return t.truncation != nil && t.truncation.Left }

// CountTokens is the number of tokens of text without special tokens and without truncation (for sizing
// chunks to a model's window: add SpecialTokens(false)).
func (t *Tokenizer) CountTokens(text string) int {
	s := t.scratch()
	defer t.release(s)
	t.encodeSeq(text, 0, false, &s.a, &s.nt)
	return len(s.a.ids)
}

// truncatePair is tokenizers' LongestFirst truncation of two sequences to budget tokens in total.
func truncatePair(a, b *seqEnc, budget int, left bool) {
	n1, n2 := len(a.ids), len(b.ids)
	if n1+n2 <= budget {
		return
	}
	swap := n1 > n2
	if swap {
		n1, n2 = n2, n1
	}
	if n1 > budget {
		n2 = n1
	} else {
		n2 = max(n1, budget-n1)
	}
	if n1+n2 > budget {
		n1 = budget / 2
		n2 = n1 + budget%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	a.cut(n1, left)
	b.cut(n2, left)
}

var noSpecial = []templateItem{{seq: 0}}

// scratchBufs are the per-call buffers of an encoding, reused through the Tokenizer's pool.
type scratchBufs struct {
	a, b seqEnc
	nt   normText
}

func (t *Tokenizer) scratch() *scratchBufs {
	if v := t.pool.Get(); v != nil {
		return v.(*scratchBufs)
	}
	return &scratchBufs{}
}

func (t *Tokenizer) release(s *scratchBufs) {
	if cap(s.nt.b) > 1<<20 || cap(s.a.ids) > 1<<18 || cap(s.b.ids) > 1<<18 {
		return // do not keep the buffers of a huge text alive
	}
	t.pool.Put(s)
}

// assemble lays out the template with the sequences' tokens (b is nil for single texts).
func (t *Tokenizer) assemble(items []templateItem, a, b *seqEnc) Encoding {
	n := 0
	for _, it := range items {
		switch it.seq {
		case -1:
			n += len(it.ids)
		case 0:
			n += len(a.ids)
		case 1:
			if b != nil {
				n += len(b.ids)
			}
		}
	}
	buf := make([]int32, 3*n)
	e := Encoding{
		IDs:     buf[0:0:n],
		TypeIDs: buf[n : n : 2*n],
		Mask:    buf[2*n : 3*n : 3*n],
		Offsets: make([][2]int, 0, n),
	}
	for _, it := range items {
		var s *seqEnc
		switch it.seq {
		case -1:
			for _, id := range it.ids {
				e.IDs = append(e.IDs, id)
				e.TypeIDs = append(e.TypeIDs, it.typeID)
				e.Offsets = append(e.Offsets, [2]int{})
			}
			continue
		case 0:
			s = a
		default:
			s = b
			if s == nil {
				continue
			}
		}
		e.IDs = append(e.IDs, s.ids...)
		e.Offsets = append(e.Offsets, s.offs...)
		for range s.ids {
			e.TypeIDs = append(e.TypeIDs, it.typeID)
		}
	}
	for i := range e.Mask {
		e.Mask[i] = 1
	}
	return e
}

// encodeSeq runs added-token extraction, normalization, pre-tokenization and the model on one text. With
// limit > 0 it stops after the first word that brings the token count to limit or more (tokenizers' early
// exit when truncation is on; callers then cut to their budget); with left, the early exit runs from the
// end of the text.
func (t *Tokenizer) encodeSeq(text string, limit int, left bool, out *seqEnc, nt *normText) {
	if t.lowerText {
		text = lowerString(text)
	}
	out.ids, out.offs, out.limit, out.done = out.ids[:0], out.offs[:0], limit, false
	out.track, out.splits = left && limit > 0, out.splits[:0]
	if out.track {
		out.limit = 0
		defer out.leftEarlyExit(limit)
	}
	prev := 0
	for _, m := range t.added.find(text, false) {
		t.encodeText(text[prev:m.start], prev, nt, out)
		if out.done {
			return
		}
		out.beginSplit(true)
		out.add(m.id, m.start, m.end)
		prev = m.end
	}
	t.encodeText(text[prev:], prev, nt, out)
}

// encodeText handles a stretch of input with no raw added tokens in it; base is its offset in the input.
func (t *Tokenizer) encodeText(text string, base int, nt *normText, out *seqEnc) {
	if text == "" {
		return
	}
	nt.reset()
	if t.gnorm != nil {
		t.gnorm.normalize(text, base, nt)
	} else {
		t.norm.normalize(text, base, nt)
	}
	if len(nt.b) == 0 {
		return
	}
	pre := t.preTokenize
	if t.general {
		pre = t.preTokenizeGeneral
	}
	if len(t.added.normed) == 0 {
		pre(nt, 0, len(nt.b), out)
		return
	}
	prev := 0
	for _, m := range t.added.find(string(nt.b), true) {
		pre(nt, prev, m.start, out)
		if out.done {
			return
		}
		out.beginSplit(true)
		out.add(m.id, int(nt.start[m.start]), int(nt.end[m.end-1]))
		prev = m.end
	}
	pre(nt, prev, len(nt.b), out)
}

// preTokenizeGeneral runs the pre-tokenizer stages on nt.b[lo:hi] and the model on each piece.
func (t *Tokenizer) preTokenizeGeneral(nt *normText, lo, hi int, out *seqEnc) {
	if out.done || lo >= hi {
		return
	}
	pieces := []normText{nt.slice(lo, hi)}
	var next []normText
	for _, st := range t.pres {
		next = next[:0]
		for _, p := range pieces {
			next = st.split(p, next)
		}
		pieces, next = next, pieces
	}
	for i := range pieces {
		if out.done {
			return
		}
		t.modelWord(&pieces[i], out)
	}
}

// modelWord runs the model on one pre-tokenized word.
func (t *Tokenizer) modelWord(p *normText, out *seqEnc) {
	if t.kind == kindWordPiece {
		t.wordPiece(p, 0, len(p.b), out)
		return
	}
	if out.words != nil {
		out.words[string(p.b)]++
		return
	}
	out.beginSplit(false)
	defer out.wordDone()
	var toks []bpeToken
	switch t.kind {
	case kindBPE:
		toks = t.bpe.tokenize(p.b)
	case kindUnigram:
		toks = t.uni.tokenize(p.b)
	case kindWordLevel:
		if id, ok := t.vocab[string(p.b)]; ok {
			out.add(id, int(p.start[0]), int(p.end[len(p.b)-1]))
		} else if t.unkID >= 0 {
			out.add(t.unkID, int(p.start[0]), int(p.end[len(p.b)-1]))
		}
		return
	}
	for _, tk := range toks {
		out.add(tk.id, int(p.start[tk.lo]), int(p.end[tk.hi-1]))
	}
}

// preTokenize splits nt.b[lo:hi] into words (on whitespace; punctuation characters become words of their
// own with BertPreTokenizer) and tokenizes each.
func (t *Tokenizer) preTokenize(nt *normText, lo, hi int, out *seqEnc) {
	if out.done {
		return
	}
	if !t.pretok {
		if lo < hi {
			t.wordPiece(nt, lo, hi, out)
		}
		return
	}
	b := nt.b
	ws := -1 // start of the current word, -1 when none
	for i := lo; i < hi && !out.done; {
		c := rune(b[i])
		size := 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRune(b[i:hi])
		}
		switch {
		case isWhitespace(c):
			if ws >= 0 {
				t.wordPiece(nt, ws, i, out)
				ws = -1
			}
		case t.splitPunc && isBertPunct(c):
			if ws >= 0 {
				t.wordPiece(nt, ws, i, out)
				ws = -1
				if out.done {
					return
				}
			}
			t.wordPiece(nt, i, i+size, out)
		default:
			if ws < 0 {
				ws = i
			}
		}
		i += size
	}
	if ws >= 0 && !out.done {
		t.wordPiece(nt, ws, hi, out)
	}
}

// wordPiece tokenizes the word nt.b[ws:we] greedily, longest vocabulary match first; a word with more than
// max_input_chars_per_word characters, or with a part no vocabulary entry matches, becomes [UNK].
func (t *Tokenizer) wordPiece(nt *normText, ws, we int, out *seqEnc) {
	w := nt.b[ws:we]
	if out.words != nil {
		out.words[string(w)]++
		return
	}
	out.beginSplit(false)
	defer out.wordDone()
	if t.maxChars > 0 && len(w) > t.maxChars && utf8.RuneCount(w) > t.maxChars {
		out.add(t.unkID, int(nt.start[ws]), int(nt.end[we-1]))
		return
	}
	mark := len(out.ids)
	var keyBuf [64]byte
	key := keyBuf[:0]
	for start := 0; start < len(w); {
		limit := t.maxTokLen
		if start > 0 {
			limit -= len(t.prefix)
		}
		end := min(len(w), start+limit)
		for end < len(w) && end > start && !utf8.RuneStart(w[end]) {
			end--
		}
		found := false
		for end > start {
			var id int32
			var ok bool
			if start == 0 {
				id, ok = t.vocab[string(w[:end])]
			} else {
				key = append(append(key[:0], t.prefix...), w[start:end]...)
				id, ok = t.vocab[string(key)]
			}
			if ok {
				out.add(id, int(nt.start[ws+start]), int(nt.end[ws+end-1]))
				found = true
				break
			}
			_, size := utf8.DecodeLastRune(w[start:end])
			end -= size
		}
		if !found {
			out.ids, out.offs = out.ids[:mark], out.offs[:mark]
			out.add(t.unkID, int(nt.start[ws]), int(nt.end[we-1]))
			return
		}
		start = end
	}
}

// lowerString lowercases s character by character (sentence_bert_config.json do_lower_case).
func lowerString(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	var buf [2]rune
	for _, r := range s {
		for _, l := range appendLower(buf[:0], r) {
			sb.WriteRune(l)
		}
	}
	return sb.String()
}

// addedMatch is an added token found in a text: bytes [start, end) (including spaces it strips).
type addedMatch struct {
	start, end int
	id         int32
}

// find returns the added tokens in s (raw tokens, or normed ones when normalized is true), leftmost-longest,
// non-overlapping, honouring single_word, lstrip and rstrip as tokenizers' AddedVocabulary does.
func (v *addedVocab) find(s string, normalized bool) []addedMatch {
	toks, by := v.raw, &v.rawBy
	if normalized {
		toks, by = v.normed, &v.normedBy
	}
	if len(toks) == 0 {
		return nil
	}
	var out []addedMatch
	startOffset := 0
	for pos := 0; pos < len(s); {
		cands := by[s[pos]]
		if len(cands) == 0 {
			pos++
			continue
		}
		var tok *addedToken
		for _, i := range cands {
			if strings.HasPrefix(s[pos:], toks[i].pattern) {
				tok = &toks[i]
				break
			}
		}
		if tok == nil {
			pos++
			continue
		}
		start, stop := pos, pos+len(tok.pattern)
		pos = stop
		if start < startOffset {
			continue // inside spaces a previous rstrip token took
		}
		if tok.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], isWhitespace)), startOffset)
		}
		if tok.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], isWhitespace))
		}
		out = append(out, addedMatch{start: start, end: stop, id: tok.id})
		startOffset = stop
	}
	return out
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordChar(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordChar(r)
}
