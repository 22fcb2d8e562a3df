package documents

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenCounter counts the tokens of a text. The tokenizer package's WordPiece tokenizer implements it; if its
// count includes special tokens ([CLS], [SEP]), CountTokens("") must return their number, which the chunker
// subtracts.
type TokenCounter interface {
	CountTokens(text string) int
}

// ApproxCounter estimates BERT WordPiece token counts without a vocabulary: it splits like BERT's basic
// tokenizer (whitespace, then every punctuation mark and CJK character on its own) and counts each
// punctuation mark, CJK character and all-digit run as one token and any other run of n characters as
// ⌈n/9⌉. On the 6,757 unique contexts of the shared financial QA set it is within 0.4% of bert-base-uncased's
// WordPiece count in total and 6.8% per passage on average (docs/approx_shared_test.go, against package tokenizer).
type ApproxCounter struct{}

// CountTokens implements TokenCounter.
func (ApproxCounter) CountTokens(text string) int {
	n := 0
	runLen, allDigits := 0, true
	flush := func() {
		if runLen > 0 {
			if allDigits {
				n++
			} else {
				n += (runLen + 8) / 9
			}
		}
		runLen, allDigits = 0, true
	}
	for _, r := range text {
		switch {
		case unicode.IsSpace(r) || r == '\uFEFF' || unicode.IsControl(r):
			flush()
		case isBertPunct(r) || isCJK(r):
			flush()
			n++
		default:
			runLen++
			if !unicode.IsDigit(r) {
				allDigits = false
			}
		}
	}
	flush()
	return n
}

// isBertPunct is BERT's _is_punctuation: ASCII non-alphanumeric symbols and Unicode P* categories.
func isBertPunct(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return unicode.IsPunct(r)
}

func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F || r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B820 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

// ChunkConfig says how to cut documents.
type ChunkConfig struct {
	// Tokens is the target chunk size (default 256). A chunk never exceeds it unless a single word does.
	Tokens int
	// Overlap is how many tokens of the end of a chunk the next one repeats, at most (default 0; must be
	// smaller than Tokens).
	Overlap int
	// Counter counts tokens (default ApproxCounter).
	Counter TokenCounter
	// MinFill is the smallest fraction of Tokens a chunk keeps when it is cut at a sentence end rather than
	// mid-sentence (default 0.5): a sentence end closer to the chunk start than that is passed over.
	MinFill float64
}

// Chunk is one passage of a document.
type Chunk struct {
	// ID is "source#index", unique across a run.
	ID     string `json:"chunk_id"`
	Source string `json:"source"`
	Index  int    `json:"chunk_index"`
	// Start and End are byte offsets [Start, End) into the document's Text; Text == doc.Text[Start:End].
	Start int `json:"start"`
	End   int `json:"end"`
	// Tokens is the chunk's token count by the Counter (the sum over its words).
	Tokens int    `json:"tokens"`
	Text   string `json:"text"`
}

type word struct {
	start, end, tokens int
	sentEnd            bool // a sentence (or paragraph, or heading) ends after this word
}

// words splits text at whitespace and marks sentence ends: a word ending in . ! ? … (optionally followed by
// closing quotes or brackets) before a word that starts with an upper-case letter, a digit or an opening
// quote or bracket — so "e.g. the" and "U.S. dollars" do not end sentences, nor do initials and titles such as
// "J." and "Dr." — or before a blank line, or
// at the end of a Markdown heading line, or before a heading or list item on a new line; and the last word.
func words(text string, count func(string) int) []word {
	var ws []word
	i := 0
	for i < len(text) {
		r, sz := utf8.DecodeRuneInString(text[i:])
		if isSpace(r) {
			i += sz
			continue
		}
		j := i
		for j < len(text) {
			r, sz := utf8.DecodeRuneInString(text[j:])
			if isSpace(r) {
				break
			}
			j += sz
		}
		ws = append(ws, word{start: i, end: j, tokens: count(text[i:j])})
		i = j
	}
	heading := false // the current line is a Markdown heading
	for k := range ws {
		if k == 0 || strings.Contains(text[ws[k-1].end:ws[k].start], "\n") {
			heading = strings.HasPrefix(text[ws[k].start:ws[k].end], "#")
		}
		if k == len(ws)-1 {
			ws[k].sentEnd = true
			continue
		}
		gap := text[ws[k].end:ws[k+1].start]
		next := text[ws[k+1].start:ws[k+1].end]
		switch {
		case strings.Count(gap, "\n") >= 2:
			ws[k].sentEnd = true
		case strings.Contains(gap, "\n") && (heading || startsBlock(next)):
			ws[k].sentEnd = true
		case endsSentence(text[ws[k].start:ws[k].end]) && startsSentence(next):
			ws[k].sentEnd = true
		}
	}
	return ws
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

func endsSentence(w string) bool {
	w = strings.TrimRight(w, `"'”’)]}»`)
	if w == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(w)
	if r != '.' && r != '!' && r != '?' && r != '…' && r != '。' && r != '！' && r != '？' {
		return false
	}
	if isAbbreviation(strings.ToLower(w)) {
		return false
	}
	// A single letter followed by a period is an initial ("J. Smith"), not a sentence end.
	if r == '.' && utf8.RuneCountInString(w) == 2 {
		first, _ := utf8.DecodeRuneInString(w)
		return !unicode.IsLetter(first)
	}
	return true
}

// isAbbreviation: words usually followed by a capitalised word without ending a sentence.
func isAbbreviation(w string) bool {
	switch w {
	case "mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "no.", "vs.", "e.g.", "i.e.", "fig.", "approx.":
		return true
	}
	return false
}

func startsSentence(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r) || unicode.IsDigit(r) || strings.ContainsRune(`"'“‘([{«¿¡`, r) || unicode.Is(unicode.Han, r)
}

func startsBlock(w string) bool {
	if strings.HasPrefix(w, "#") || w == "-" || w == "*" || w == "+" || w == "|" || w == ">" {
		return true
	}
	// "1." / "2)" list items
	t := strings.TrimRight(w, ".)")
	if t != w && t != "" && strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		return true
	}
	return false
}

// ChunkText cuts doc into chunks of at most cfg.Tokens tokens. A chunk grows word by word; when the next word
// would not fit it ends at the last sentence end inside it (if that keeps at least MinFill of the size),
// else at the last whole word. The next chunk starts up to Overlap tokens back, at the earliest sentence start
// that window holds, else at the earliest word that keeps the overlap within Overlap. Empty documents give
// no chunks.
func ChunkText(doc Document, cfg ChunkConfig) ([]Chunk, error) {
	size, overlap := cfg.Tokens, cfg.Overlap
	if size == 0 {
		size = 256
	}
	if size < 1 {
		return nil, fmt.Errorf("chunk size %d tokens: must be positive", size)
	}
	if overlap < 0 || overlap >= size {
		return nil, fmt.Errorf("chunk overlap %d tokens: must be in [0, %d)", overlap, size)
	}
	minFill := cfg.MinFill
	if minFill <= 0 {
		minFill = 0.5
	}
	var counter TokenCounter = ApproxCounter{}
	if cfg.Counter != nil {
		counter = cfg.Counter
	}
	special := counter.CountTokens("")
	count := func(s string) int { return max(counter.CountTokens(s)-special, 0) }

	ws := words(doc.Text, count)
	// prefix[i] = tokens of ws[:i]
	prefix := make([]int, len(ws)+1)
	for i, w := range ws {
		prefix[i+1] = prefix[i] + w.tokens
	}
	tokens := func(a, b int) int { return prefix[b] - prefix[a] }

	var out []Chunk
	for s := 0; s < len(ws); {
		e := s + 1 // always at least one word
		for e < len(ws) && tokens(s, e+1) <= size {
			e++
		}
		cut := e
		if e < len(ws) {
			for k := e - 1; k >= s; k-- {
				if float64(tokens(s, k+1)) < minFill*float64(size) {
					break
				}
				if ws[k].sentEnd {
					cut = k + 1
					break
				}
			}
		}
		start, end := ws[s].start, ws[cut-1].end
		out = append(out, Chunk{ID: fmt.Sprintf("%s#%d", doc.Source, len(out)), Source: doc.Source, Index: len(out),
			Start: start, End: end, Tokens: tokens(s, cut), Text: doc.Text[start:end]})
		if cut >= len(ws) {
			break
		}
		next := cut
		if overlap > 0 {
			for next-1 > s && tokens(next-1, cut) <= overlap {
				next--
			}
			for k := next; k < cut; k++ {
				if ws[k-1].sentEnd {
					next = k
					break
				}
			}
		}
		s = next
	}
	return out, nil
}

// ChunkAll chunks every document in order.
func ChunkAll(docs []Document, cfg ChunkConfig) ([]Chunk, error) {
	var out []Chunk
	for _, d := range docs {
		cs, err := ChunkText(d, cfg)
		if err != nil {
			return out, fmt.Errorf("chunk %s: %w", d.Source, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}
