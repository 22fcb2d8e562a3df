package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// tinyVocab is the vocabulary of the hand-made tokenizer the tests below reason about.
var tinyVocab = []string{
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", // 0-4
	"hello", "world", "##s", "un", "##aff", // 5-9
	"##able", ",", "!", "new-york", "ab", // 10-14
	"c", "##ab", "rocks", "e", // 15-18
}

type tinyOpts struct {
	lowercase  bool
	maxChars   int
	added      []map[string]any // extra added tokens
	noTemplate bool
	extra      map[string]any // extra top-level keys
}

func tinyJSON(t *testing.T, o tinyOpts) []byte {
	t.Helper()
	vocab := map[string]int{}
	for i, tok := range tinyVocab {
		vocab[tok] = i
	}
	added := []map[string]any{}
	for i, tok := range tinyVocab[:5] {
		added = append(added, map[string]any{"id": i, "content": tok, "special": true, "normalized": false,
			"single_word": false, "lstrip": false, "rstrip": false})
	}
	added = append(added, o.added...)
	doc := map[string]any{
		"version":      "1.0",
		"added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": o.lowercase},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": o.maxChars, "vocab": vocab},
	}
	if !o.noTemplate {
		doc["post_processor"] = map[string]any{"type": "BertProcessing", "sep": []any{"[SEP]", 3}, "cls": []any{"[CLS]", 2}}
	}
	for k, v := range o.extra {
		doc[k] = v
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func tiny(t *testing.T, o tinyOpts) *Tokenizer {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	writeFile(t, p, tinyJSON(t, o))
	tok, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEncodeByHand(t *testing.T) {
	tok := tiny(t, tinyOpts{lowercase: true, maxChars: 8})
	for _, tc := range []struct {
		text    string
		maxLen  int
		ids     []int32
		offsets [][2]int
	}{
		// hello , world ##s ! — punctuation split off, "worlds" = world + ##s.
		{"Hello, WORLDS!", 0, []int32{2, 5, 11, 6, 7, 12, 3}, [][2]int{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {13, 14}, {0, 0}}},
		{"Hello, WORLDS!", 4, []int32{2, 5, 11, 3}, nil},
		{"Hello, WORLDS!", 2, []int32{2, 3}, nil}, // budget 0: specials only
		{"Hello, WORLDS!", 1, []int32{2, 3}, nil}, // smaller than the specials: specials only
		// "unaff": un ##aff; in "unaffx" nothing matches "##x" after "##aff", so the whole word is [UNK].
		{"unaff unaffx", 0, []int32{2, 8, 9, 1, 3}, [][2]int{{0, 0}, {0, 2}, {2, 5}, {6, 12}, {0, 0}}},
		// 9 characters > max_input_chars_per_word 8 → [UNK] although hello + ##s... would not match anyway.
		{"helloooooo", 0, []int32{2, 1, 3}, nil},
		// Accents are stripped with lowercase (strip_accents null): "hèllo" → hello, offsets span the bytes of è.
		{"hèllo", 0, []int32{2, 5, 3}, [][2]int{{0, 0}, {0, 6}, {0, 0}}},
		// An invalid byte reads as U+FFFD, which clean_text drops: "hell\xffo" → hello.
		{"hell\xffo", 0, []int32{2, 5, 3}, [][2]int{{0, 0}, {0, 6}, {0, 0}}},
		// Special tokens are found in raw text, case-sensitively.
		{"hello[SEP]world [sep]", 0, []int32{2, 5, 3, 6, 1, 1, 1, 3}, nil},
		{"", 0, []int32{2, 3}, nil},
		{" \t\n", 0, []int32{2, 3}, nil},
	} {
		e := tok.Encode(tc.text, tc.maxLen)
		if !reflect.DeepEqual(e.IDs, tc.ids) {
			t.Errorf("Encode(%q, %d) = %v %q, want %v", tc.text, tc.maxLen, e.IDs, tok.Tokens(e.IDs), tc.ids)
			continue
		}
		if tc.offsets != nil && !reflect.DeepEqual(e.Offsets, tc.offsets) {
			t.Errorf("Encode(%q) offsets %v, want %v", tc.text, e.Offsets, tc.offsets)
		}
		if len(e.TypeIDs) != len(e.IDs) || len(e.Mask) != len(e.IDs) {
			t.Errorf("Encode(%q): %d type ids, %d mask for %d ids", tc.text, len(e.TypeIDs), len(e.Mask), len(e.IDs))
		}
	}
	if n := tok.CountTokens("Hello, WORLDS! [SEP]"); n != 6 {
		t.Errorf("CountTokens = %d, want 6", n)
	}
	if got := tok.EncodeNoSpecial("Hello, WORLDS!", 3).IDs; !reflect.DeepEqual(got, []int32{5, 11, 6}) {
		t.Errorf("EncodeNoSpecial = %v", got)
	}
}

func TestEncodePairByHand(t *testing.T) {
	tok := tiny(t, tinyOpts{lowercase: true, maxChars: 100})
	e := tok.EncodePair("hello world", "rocks!", 0)
	want := Encoding{
		IDs:     []int32{2, 5, 6, 3, 17, 12, 3},
		TypeIDs: []int32{0, 0, 0, 0, 1, 1, 1},
		Mask:    []int32{1, 1, 1, 1, 1, 1, 1},
		Offsets: [][2]int{{0, 0}, {0, 5}, {6, 11}, {0, 0}, {0, 5}, {5, 6}, {0, 0}},
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("EncodePair = %+v, want %+v", e, want)
	}
	// 5 + 3 tokens, max 7 → budget 4: the shorter (3) would leave 1 < 3 for the longer, so 2 + 2.
	e = tok.EncodePair("hello world hello world hello", "rocks rocks rocks", 7)
	if want := []int32{2, 5, 6, 3, 17, 17, 3}; !reflect.DeepEqual(e.IDs, want) {
		t.Errorf("truncated pair = %q, want %q", tok.Tokens(e.IDs), tok.Tokens(want))
	}
	// 5 + 1 tokens, max 6 → budget 3: the short one keeps its token, the long one gets 2.
	e = tok.EncodePair("hello world hello world hello", "rocks", 6)
	if want := []int32{2, 5, 6, 3, 17, 3}; !reflect.DeepEqual(e.IDs, want) {
		t.Errorf("truncated pair = %q, want %q", tok.Tokens(e.IDs), tok.Tokens(want))
	}
}

func TestTruncatePair(t *testing.T) {
	for _, tc := range []struct{ n1, n2, budget, w1, w2 int }{
		{3, 4, 10, 3, 4},  // fits
		{3, 10, 8, 3, 5},  // the shorter keeps all
		{10, 3, 8, 5, 3},  // same, swapped
		{10, 10, 7, 3, 4}, // both cut: half each, the odd token to the longer (ties: the second)
		{12, 10, 7, 4, 3}, // the longer first gets the odd token
		{6, 6, 0, 0, 0},
		{0, 9, 4, 0, 4},
	} {
		a := seqEnc{ids: make([]int32, tc.n1), offs: make([][2]int, tc.n1)}
		b := seqEnc{ids: make([]int32, tc.n2), offs: make([][2]int, tc.n2)}
		truncatePair(&a, &b, tc.budget, false)
		if len(a.ids) != tc.w1 || len(b.ids) != tc.w2 {
			t.Errorf("truncatePair(%d, %d, %d) = %d, %d; want %d, %d", tc.n1, tc.n2, tc.budget, len(a.ids), len(b.ids), tc.w1, tc.w2)
		}
	}
}

func TestAddedTokenOptions(t *testing.T) {
	tok := tiny(t, tinyOpts{lowercase: true, maxChars: 100, added: []map[string]any{
		// <x> (an id past the vocabulary) strips the spaces on both sides.
		{"id": 19, "content": "<x>", "special": true, "normalized": false, "single_word": false, "lstrip": true, "rstrip": true},
		// "ab" only as a whole word.
		{"id": 14, "content": "ab", "special": false, "normalized": false, "single_word": true, "lstrip": false, "rstrip": false},
		// matched on the normalized (lowercased) text.
		{"id": 13, "content": "NEW-YORK", "special": false, "normalized": true, "single_word": false, "lstrip": false, "rstrip": false},
	}})
	for _, tc := range []struct {
		text    string
		ids     []int32
		offsets [][2]int
	}{
		{"hello  <x>  world", []int32{5, 19, 6}, [][2]int{{0, 5}, {5, 12}, {12, 17}}},
		// "ab" inside "cab" is not a single word: c ##ab from WordPiece; the free-standing one is the added token.
		{"cab ab", []int32{15, 16, 14}, [][2]int{{0, 1}, {1, 3}, {4, 6}}},
		// New-York matches after lowercasing (normalized=true), as one token although "-" is punctuation.
		{"New-York rocks", []int32{13, 17}, [][2]int{{0, 8}, {9, 14}}},
	} {
		e := tok.EncodeNoSpecial(tc.text, 0)
		if !reflect.DeepEqual(e.IDs, tc.ids) || !reflect.DeepEqual(e.Offsets, tc.offsets) {
			t.Errorf("EncodeNoSpecial(%q) = %q %v, want %q %v", tc.text, tok.Tokens(e.IDs), e.Offsets, tok.Tokens(tc.ids), tc.offsets)
		}
	}
}

func TestPad(t *testing.T) {
	tok := tiny(t, tinyOpts{lowercase: true, maxChars: 100})
	encs := []Encoding{tok.Encode("hello", 0), tok.EncodePair("hello", "world rocks", 0)}
	for _, tc := range []struct{ toLen, want int }{{0, 6}, {2, 6}, {8, 8}} {
		b := tok.Pad(encs, tc.toLen)
		if b.N != 2 || b.Len != tc.want || len(b.IDs) != 2*tc.want || len(b.TypeIDs) != 2*tc.want || len(b.Mask) != 2*tc.want {
			t.Fatalf("Pad(toLen %d) = N %d Len %d (%d ids), want Len %d", tc.toLen, b.N, b.Len, len(b.IDs), tc.want)
		}
		ids, typ, mask := b.Row(0)
		wantIDs := append([]int32{2, 5, 3}, make([]int32, tc.want-3)...) // [PAD] is 0
		if !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(typ, make([]int32, tc.want)) {
			t.Errorf("row 0 = %v %v", ids, typ)
		}
		wantMask := append([]int32{1, 1, 1}, make([]int32, tc.want-3)...)
		if !reflect.DeepEqual(mask, wantMask) {
			t.Errorf("row 0 mask = %v, want %v", mask, wantMask)
		}
		ids, typ, mask = b.Row(1)
		if !reflect.DeepEqual(ids[:6], []int32{2, 5, 3, 6, 17, 3}) || !reflect.DeepEqual(typ[:6], []int32{0, 0, 0, 1, 1, 1}) || mask[5] != 1 {
			t.Errorf("row 1 = %v %v %v", ids, typ, mask)
		}
		for j := 6; j < tc.want; j++ {
			if ids[j] != tok.PadID() || typ[j] != 0 || mask[j] != 0 {
				t.Errorf("row 1 padding at %d = %d %d %d", j, ids[j], typ[j], mask[j])
			}
		}
	}
	if b := tok.Pad(nil, 4); b.N != 0 || b.Len != 4 || len(b.IDs) != 0 {
		t.Errorf("Pad(nil, 4) = %+v", b)
	}
}

func TestSharedTokenizerBasics(t *testing.T) {
	for name, want := range map[string]int{"bert-base-uncased": 0, "all-minilm-l6-v2": 256} {
		tok := loadShared(t, name)
		if tok.VocabSize() != 30522 || tok.PadID() != 0 || tok.UnknownID() != 100 || tok.MaxLength() != want {
			t.Errorf("%s: vocab %d pad %d unk %d max %d", name, tok.VocabSize(), tok.PadID(), tok.UnknownID(), tok.MaxLength())
		}
		if id, ok := tok.TokenID("[CLS]"); !ok || id != 101 || tok.IDToken(102) != "[SEP]" || tok.IDToken(-1) != "" || tok.IDToken(30522) != "" {
			t.Errorf("%s: [CLS] = %d %v, 102 = %q", name, id, ok, tok.IDToken(102))
		}
		if tok.SpecialTokens(false) != 2 || tok.SpecialTokens(true) != 3 {
			t.Errorf("%s: special tokens %d / %d", name, tok.SpecialTokens(false), tok.SpecialTokens(true))
		}
	}
}

func TestBatchEqualsSequential(t *testing.T) {
	tok := loadShared(t, "bert-base-uncased")
	g := readGolden(t)
	texts := g.Texts
	encs := tok.EncodeBatch(texts, 64)
	rev := append([]string(nil), texts...)
	sort.Sort(sort.Reverse(sort.StringSlice(rev)))
	pairs := tok.EncodePairBatch(texts, rev, 48)
	ns := tok.EncodeNoSpecialBatch(texts, 0)
	for i, s := range texts {
		if !reflect.DeepEqual(encs[i], tok.Encode(s, 64)) || !reflect.DeepEqual(pairs[i], tok.EncodePair(s, rev[i], 48)) ||
			!reflect.DeepEqual(ns[i], tok.EncodeNoSpecial(s, 0)) {
			t.Errorf("batch result %d differs from the sequential one", i)
		}
	}
}

func TestLoadDirConfig(t *testing.T) {
	mk := func(files map[string]string, o tinyOpts) string {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "tokenizer.json"), tinyJSON(t, o))
		for name, body := range files {
			writeFile(t, filepath.Join(dir, name), []byte(body))
		}
		return dir
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		max   int
		text  string
		ids   []int32
		pad   int32
	}{
		{"sentence_bert_config wins", map[string]string{
			"tokenizer_config.json":     `{"model_max_length": 512}`,
			"sentence_bert_config.json": `{"max_seq_length": 128, "do_lower_case": false}`,
			"config.json":               `{"max_position_embeddings": 512}`,
		}, 128, "Hello", []int32{2, 5, 3}, 0},
		{"min of model_max_length and positions", map[string]string{
			"tokenizer_config.json": `{"model_max_length": 512}`,
			"config.json":           `{"max_position_embeddings": 256}`,
		}, 256, "Hello", []int32{2, 5, 3}, 0},
		{"no-limit sentinel", map[string]string{
			"tokenizer_config.json": `{"model_max_length": 1000000000000000019884624838656}`,
		}, 0, "Hello", []int32{2, 5, 3}, 0},
		{"do_lower_case false overrides the normalizer", map[string]string{
			"tokenizer_config.json": `{"do_lower_case": false}`,
		}, 0, "Hello hello", []int32{2, 1, 5, 3}, 0},
		{"pad token from special_tokens_map", map[string]string{
			"special_tokens_map.json": `{"pad_token": {"content": "[MASK]", "lstrip": false}}`,
		}, 0, "hello", []int32{2, 5, 3}, 4},
	} {
		tok, err := LoadDir(mk(tc.files, tinyOpts{lowercase: true, maxChars: 100}))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tok.MaxLength() != tc.max || tok.PadID() != tc.pad {
			t.Errorf("%s: MaxLength %d PadID %d, want %d %d", tc.name, tok.MaxLength(), tok.PadID(), tc.max, tc.pad)
		}
		if got := tok.Encode(tc.text, 0).IDs; !reflect.DeepEqual(got, tc.ids) {
			t.Errorf("%s: Encode(%q) = %v, want %v", tc.name, tc.text, got, tc.ids)
		}
	}
	// sentence-transformers' do_lower_case lowercases the text before a case-sensitive tokenizer sees it.
	tok, err := LoadDir(mk(map[string]string{"sentence_bert_config.json": `{"max_seq_length": 64, "do_lower_case": true}`}, tinyOpts{lowercase: false, maxChars: 100}))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("HELLO World", 0).IDs; !reflect.DeepEqual(got, []int32{2, 5, 6, 3}) {
		t.Errorf("sbert do_lower_case: %v", got)
	}
	// Load on a directory is LoadDir.
	if tok2, err := Load(mk(nil, tinyOpts{lowercase: true, maxChars: 100})); err != nil || tok2.Encode("hello", 0).IDs[1] != 5 {
		t.Errorf("Load(dir): %v", err)
	}
}

// TestVocabTxtMatchesTokenizerJSON builds bert-base-uncased from a vocab.txt (as transformers converts a
// slow BertTokenizer) and checks it encodes every golden text like the tokenizer.json does.
func TestVocabTxtMatchesTokenizerJSON(t *testing.T) {
	ref := loadShared(t, "bert-base-uncased")
	dir := t.TempDir()
	var sb strings.Builder
	for i := 0; i < ref.VocabSize(); i++ {
		sb.WriteString(ref.IDToken(int32(i)) + "\n")
	}
	writeFile(t, filepath.Join(dir, "vocab.txt"), []byte(sb.String()))
	writeFile(t, filepath.Join(dir, "tokenizer_config.json"), []byte(`{"do_lower_case": true, "model_max_length": 512}`))
	tok, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLength() != 512 || tok.VocabSize() != 30522 || tok.PadID() != 0 {
		t.Errorf("vocab.txt tokenizer: max %d vocab %d pad %d", tok.MaxLength(), tok.VocabSize(), tok.PadID())
	}
	for _, s := range readGolden(t).Texts {
		if !reflect.DeepEqual(tok.EncodePair(s, "a [SEP] b", 0), ref.EncodePair(s, "a [SEP] b", 0)) {
			t.Errorf("vocab.txt tokenizer differs on %.40q", s)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bpe := filepath.Join(dir, "bpe.json")
	writeFile(t, bpe, []byte(`{"model": {"vocab": {"a": 0}, "merges": ["a b"]}}`))
	model := filepath.Join(dir, "model.json")
	writeFile(t, model, []byte(`{"model": {"type": "Wordy", "vocab": {"a": 0}}}`))
	badNorm := filepath.Join(dir, "nmt.json")
	writeFile(t, badNorm, []byte(`{"normalizer": {"type": "Nmt"}, "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}}`))
	lookahead := filepath.Join(dir, "split.json")
	writeFile(t, lookahead, []byte(`{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a(?=b)"}, "behavior": "Isolated"}, `+
		`"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}}`))
	noUnk := filepath.Join(dir, "nounk.json")
	writeFile(t, noUnk, []byte(`{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}}`))
	for _, tc := range []struct{ path, want string }{
		{bpe, `BPE merge 1 ("a" "b") uses a token missing from the vocabulary`},
		{model, `unsupported tokenizer model "Wordy"`},
		{badNorm, `unsupported normalizer "Nmt"`},
		{lookahead, `not supported by Go's regexp`},
		{noUnk, `unk_token "[UNK]" is not in the vocabulary`},
		{filepath.Join(dir, "missing.json"), "no such file"},
	} {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error %v, want it to mention %q", filepath.Base(tc.path), err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), filepath.Base(tc.path)) {
			t.Errorf("error %q does not name the file", err)
		}
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "neither tokenizer.json nor vocab.txt") {
		t.Errorf("LoadDir without tokenizer files: %v", err)
	}
}
