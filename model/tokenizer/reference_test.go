package tokenizer

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// readFinancial returns the question and context columns of the shared financial QA CSV.
func readFinancial(tb testing.TB) (questions, contexts []string) {
	tb.Helper()
	f, err := os.Open(sharedtest.FinancialQA(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	qi, ci := -1, -1
	for i, h := range rows[0] {
		switch h {
		case "question":
			qi = i
		case "context":
			ci = i
		}
	}
	if qi < 0 || ci < 0 {
		tb.Fatalf("financial CSV header %v lacks question/context", rows[0])
	}
	for _, r := range rows[1:] {
		questions = append(questions, r[qi])
		contexts = append(contexts, r[ci])
	}
	return questions, contexts
}

type digest struct {
	Rows   int      `json:"rows"`
	Tokens int      `json:"tokens"`
	Blocks []string `json:"blocks"`
}

// TestFinancialQAMatchesReference tokenizes every row of the financial QA set (7,000 contexts and
// questions) in five ways and compares block digests of the ids with the reference's.
func TestFinancialQAMatchesReference(t *testing.T) {
	var g struct {
		BlockSize  int                          `json:"block_size"`
		Tokenizers map[string]map[string]digest `json:"tokenizers"`
	}
	data, err := os.ReadFile("testdata/financial_digest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	questions, contexts := readFinancial(t)
	for name, variants := range g.Tokenizers {
		tok := loadShared(t, name)
		runs := map[string]func(i int) Encoding{
			"context":                     func(i int) Encoding { return tok.Encode(contexts[i], 0) },
			"context_max256":              func(i int) Encoding { return tok.Encode(contexts[i], 256) },
			"question_nospecial":          func(i int) Encoding { return tok.EncodeNoSpecial(questions[i], 0) },
			"pair_max128":                 func(i int) Encoding { return tok.EncodePair(questions[i], contexts[i], 128) },
			"pair_context_question_max64": func(i int) Encoding { return tok.EncodePair(contexts[i], questions[i], 64) },
		}
		if len(runs) != len(variants) {
			t.Fatalf("%s: golden has %d variants, test runs %d", name, len(variants), len(runs))
		}
		for variant, want := range variants {
			run := runs[variant]
			if run == nil {
				t.Fatalf("golden variant %q unknown to the test", variant)
			}
			checkDigest(t, name+" "+variant, want, g.BlockSize, len(contexts), run)
		}
	}
}

// checkDigest compares block digests of the ids of run(0..rows-1) with the reference's.
func checkDigest(t *testing.T, what string, want digest, blockSize, rows int, run func(i int) Encoding) {
	t.Helper()
	if want.Rows != rows {
		t.Fatalf("%s: golden has %d rows, CSV %d", what, want.Rows, rows)
	}
	tokens := 0
	for b := 0; b*blockSize < rows; b++ {
		h := sha256.New()
		for i := b * blockSize; i < min((b+1)*blockSize, rows); i++ {
			ids := run(i).IDs
			tokens += len(ids)
			var sb strings.Builder
			for j, id := range ids {
				if j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(strconv.Itoa(int(id)))
			}
			sb.WriteByte('\n')
			h.Write([]byte(sb.String()))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.Blocks[b] {
			t.Errorf("%s: rows %d–%d differ from the reference", what, b*blockSize, (b+1)*blockSize-1)
		}
	}
	if tokens != want.Tokens {
		t.Errorf("%s: %d tokens in all, reference %d", what, tokens, want.Tokens)
	}
}

// TestFinancialQAAllKindsMatchReference tokenizes every financial QA row with the BPE, Unigram and
// bert-base-chinese files (contexts, and question/context pairs at 128 tokens) and compares block digests.
func TestFinancialQAAllKindsMatchReference(t *testing.T) {
	var g struct {
		BlockSize  int                          `json:"block_size"`
		Tokenizers map[string]map[string]digest `json:"tokenizers"`
	}
	data, err := os.ReadFile("testdata/financial_digest_all.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Tokenizers) != 6 {
		t.Fatalf("golden has %d tokenizers, want 6", len(g.Tokenizers))
	}
	questions, contexts := readFinancial(t)
	for name, variants := range g.Tokenizers {
		tok, err := Load(filepath.Join(sharedtest.Dir(t), "data", "tokenizers", name, "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		runs := map[string]func(i int) Encoding{
			"context":     func(i int) Encoding { return tok.Encode(contexts[i], 0) },
			"pair_max128": func(i int) Encoding { return tok.EncodePair(questions[i], contexts[i], 128) },
		}
		if len(variants) != len(runs) {
			t.Fatalf("%s: golden has %d variants, test runs %d", name, len(variants), len(runs))
		}
		for variant, want := range variants {
			run := runs[variant]
			if run == nil {
				t.Fatalf("golden variant %q unknown to the test", variant)
			}
			checkDigest(t, name+" "+variant, want, g.BlockSize, len(contexts), run)
		}
	}
}

type unicodeGolden struct {
	CleanRemoved     [][2]rune         `json:"clean_removed"`
	CleanToSpace     [][2]rune         `json:"clean_to_space"`
	Chinese          [][2]rune         `json:"chinese"`
	PreWhitespace    [][2]rune         `json:"pretokenizer_whitespace"`
	PrePunctuation   [][2]rune         `json:"pretokenizer_punctuation"`
	StripToEmpty     [][2]rune         `json:"strip_to_empty"`
	StripSHA256      string            `json:"strip_sha256"`
	Lowercase        map[string]string `json:"lowercase"`
	GeneratorVersion string            `json:"generator"`
}

func toRanges(rs [][2]rune) []runeRange {
	out := make([]runeRange, len(rs))
	for i, r := range rs {
		out[i] = runeRange{r[0], r[1]}
	}
	return out
}

// TestUnicodeClassesMatchReference checks, for every Unicode code point, what each BertNormalizer step and
// BertPreTokenizer do with it against the reference probe (tools/tokgolden writes testdata/bert_unicode.json).
func TestUnicodeClassesMatchReference(t *testing.T) {
	data, err := os.ReadFile("testdata/bert_unicode.json")
	if err != nil {
		t.Fatal(err)
	}
	var g unicodeGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	removed, space, cjk := toRanges(g.CleanRemoved), toRanges(g.CleanToSpace), toRanges(g.Chinese)
	preSpace, prePunct, stripEmpty := toRanges(g.PreWhitespace), toRanges(g.PrePunctuation), toRanges(g.StripToEmpty)
	clean := newNormalizer([]normStep{stepClean})
	chinese := newNormalizer([]normStep{stepChinese})
	strip := newNormalizer([]normStep{stepNFDStrip})
	lower := newNormalizer([]normStep{stepLower})
	var nt normText
	apply := func(n *normalizer, s string) string {
		nt.reset()
		n.normalize(s, 0, &nt)
		return string(nt.b)
	}
	stripHash := sha256.New()
	bad := map[string]int{}
	report := func(kind string, c rune, got, want any) {
		if bad[kind] < 5 {
			t.Errorf("%s U+%04X: got %q, reference %q", kind, c, got, want)
		}
		bad[kind]++
	}
	for c := rune(0); c <= utf8.MaxRune; c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue
		}
		s := string(c)
		want := s
		switch {
		case inRanges(removed, c):
			want = ""
		case inRanges(space, c):
			want = " "
		}
		if got := apply(clean, s); got != want {
			report("clean_text", c, got, want)
		}
		want = s
		if inRanges(cjk, c) {
			want = " " + s + " "
		}
		if got := apply(chinese, s); got != want {
			report("handle_chinese_chars", c, got, want)
		}
		got := apply(strip, s)
		if (got == "") != inRanges(stripEmpty, c) {
			report("strip_accents", c, got, "(empty: "+strconv.FormatBool(inRanges(stripEmpty, c))+")")
		}
		if got != s {
			fmt.Fprintf(stripHash, "%d:%s\n", c, got)
		}
		want = s
		if l, ok := g.Lowercase[strconv.Itoa(int(c))]; ok {
			want = l
		}
		if got := apply(lower, s); got != want {
			report("lowercase", c, got, want)
		}
		if got, want := isWhitespace(c), inRanges(preSpace, c); got != want {
			report("pre-tokenizer whitespace", c, got, want)
		}
		if got, want := isBertPunct(c), inRanges(prePunct, c); got != want {
			report("pre-tokenizer punctuation", c, got, want)
		}
	}
	if got := hex.EncodeToString(stripHash.Sum(nil)); got != g.StripSHA256 {
		t.Errorf("accent stripping output differs from the reference for some code points (digest %s, want %s)", got, g.StripSHA256)
	}
	for k, n := range bad {
		t.Errorf("%s: %d code points differ", k, n)
	}
}
