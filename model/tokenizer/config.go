package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// dirConfig is what LoadDir reads from a model directory besides tokenizer.json.
type dirConfig struct {
	dir string

	// tokenizer_config.json
	modelMaxLength  int   // 0: absent, or the "no limit" sentinel transformers writes (1e30)
	doLowerCase     *bool // nil: absent
	tokenizeChinese *bool
	stripAccents    *bool
	hasStripAccents bool // strip_accents present (possibly null)
	// pad_token, unk_token, cls_token, sep_token, mask_token: special_tokens_map.json over tokenizer_config.json
	specials map[string]string

	// sentence_bert_config.json
	maxSeqLength int
	sbertLower   bool

	// config.json
	maxPositions int
}

// readJSON decodes path into v; a missing file is not an error (found reports it).
func readJSON(path string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tokenizer: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("tokenizer: parse %s: %w", path, err)
	}
	return true, nil
}

// tokenString reads a special token given as a string or as an AddedToken object {"content": ...}.
func tokenString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

var specialKeys = []string{"pad_token", "unk_token", "cls_token", "sep_token", "mask_token"}

func readDirConfig(dir string) (dirConfig, error) {
	cfg := dirConfig{dir: dir, specials: map[string]string{}}
	if st, err := os.Stat(dir); err != nil {
		return cfg, fmt.Errorf("tokenizer: %w", err)
	} else if !st.IsDir() {
		return cfg, fmt.Errorf("tokenizer: %s is not a directory", dir)
	}

	var tc map[string]json.RawMessage
	if _, err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc); err != nil {
		return cfg, err
	}
	if raw, ok := tc["model_max_length"]; ok {
		var f float64
		if json.Unmarshal(raw, &f) == nil && f > 0 && f < 1<<31 {
			cfg.modelMaxLength = int(f)
		}
	}
	boolKey := func(m map[string]json.RawMessage, key string) *bool {
		var b bool
		if raw, ok := m[key]; ok && json.Unmarshal(raw, &b) == nil && !isNull(raw) {
			return &b
		}
		return nil
	}
	cfg.doLowerCase = boolKey(tc, "do_lower_case")
	cfg.tokenizeChinese = boolKey(tc, "tokenize_chinese_chars")
	if _, ok := tc["strip_accents"]; ok {
		cfg.hasStripAccents = true
		cfg.stripAccents = boolKey(tc, "strip_accents")
	}
	for _, k := range specialKeys {
		if raw, ok := tc[k]; ok && !isNull(raw) {
			if s := tokenString(raw); s != "" {
				cfg.specials[k] = s
			}
		}
	}

	var sm map[string]json.RawMessage
	if _, err := readJSON(filepath.Join(dir, "special_tokens_map.json"), &sm); err != nil {
		return cfg, err
	}
	for _, k := range specialKeys {
		if raw, ok := sm[k]; ok && !isNull(raw) {
			if s := tokenString(raw); s != "" {
				cfg.specials[k] = s
			}
		}
	}

	var sb struct {
		MaxSeqLength *int `json:"max_seq_length"`
		DoLowerCase  bool `json:"do_lower_case"`
	}
	if _, err := readJSON(filepath.Join(dir, "sentence_bert_config.json"), &sb); err != nil {
		return cfg, err
	}
	if sb.MaxSeqLength != nil && *sb.MaxSeqLength > 0 {
		cfg.maxSeqLength = *sb.MaxSeqLength
	}
	cfg.sbertLower = sb.DoLowerCase

	var mc struct {
		MaxPositionEmbeddings int `json:"max_position_embeddings"`
	}
	if _, err := readJSON(filepath.Join(dir, "config.json"), &mc); err != nil {
		return cfg, err
	}
	cfg.maxPositions = mc.MaxPositionEmbeddings
	return cfg, nil
}

// applyBertOverrides does what transformers' BertTokenizerFast does on loading: when tokenizer_config.json
// sets do_lower_case, strip_accents or tokenize_chinese_chars to something other than tokenizer.json's
// BertNormalizer, the normalizer is rebuilt with the config's values (transformers' defaults — lowercase,
// strip_accents null, CJK spacing — for the keys left out). Nothing changes when none of the keys is set.
func (t *Tokenizer) applyBertOverrides(cfg dirConfig) error {
	if t.bert == nil || (cfg.doLowerCase == nil && cfg.tokenizeChinese == nil && !cfg.hasStripAccents) {
		return nil
	}
	want := bertFlags{clean: t.bert.clean, lower: true, chinese: true, strip: cfg.stripAccents}
	if cfg.doLowerCase != nil {
		want.lower = *cfg.doLowerCase
	}
	if cfg.tokenizeChinese != nil {
		want.chinese = *cfg.tokenizeChinese
	}
	same := func(a, b *bool) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	if want.lower == t.bert.lower && want.chinese == t.bert.chinese && same(want.strip, t.bert.strip) {
		return nil
	}
	t.bert = &want
	t.norm = newNormalizer(want.steps())
	t.added = newAddedVocab(t.addedJSON, t.normalizeString)
	return nil
}

// applyDirConfig sets the maximum length, padding token and text lowercasing from the directory's files.
func (t *Tokenizer) applyDirConfig(cfg dirConfig) {
	switch {
	case cfg.maxSeqLength > 0:
		t.maxLength = cfg.maxSeqLength
	case cfg.modelMaxLength > 0 || cfg.maxPositions > 0:
		m := cfg.modelMaxLength
		if cfg.maxPositions > 0 && (m == 0 || cfg.maxPositions < m) {
			m = cfg.maxPositions
		}
		t.maxLength = m
	}
	if pad, ok := cfg.specials["pad_token"]; ok {
		if id, ok := t.vocab[pad]; ok {
			t.padID = id
		}
	}
	t.lowerText = cfg.sbertLower
	t.source = cfg.dir
}

// newFromVocabTxt builds the tokenizer transformers builds for a BERT vocab.txt (BertTokenizerFast
// converted from the slow tokenizer): BertNormalizer from tokenizer_config.json's do_lower_case,
// strip_accents and tokenize_chinese_chars, BertPreTokenizer, WordPiece with "##" and 100 characters
// per word, [CLS] $A [SEP] templates and the special tokens as added tokens.
func newFromVocabTxt(path string, cfg dirConfig) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	t := &Tokenizer{source: path, vocab: map[string]int32{}, prefix: "##", maxChars: 100, pretok: true, splitPunc: true}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	sc.Split(scanLF)
	for id := int32(0); sc.Scan(); id++ {
		t.setToken(sc.Text(), id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", path, err)
	}
	special := func(key, def string) (string, int32, error) {
		tok := def
		if s, ok := cfg.specials[key]; ok {
			tok = s
		}
		id, ok := t.vocab[tok]
		if !ok {
			return tok, 0, fmt.Errorf("tokenizer %s: %s %q is not in the vocabulary", path, key, tok)
		}
		return tok, id, nil
	}
	var added []addedTokenJSON
	ids := map[string]int32{}
	for _, k := range []struct{ key, def string }{{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}, {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}} {
		tok, id, err := special(k.key, k.def)
		if err != nil {
			return nil, err
		}
		ids[k.key] = id
		added = append(added, addedTokenJSON{ID: int(id), Content: tok, Special: true})
	}
	t.unkID, t.padID = ids["unk_token"], ids["pad_token"]
	lower := true
	if cfg.doLowerCase != nil {
		lower = *cfg.doLowerCase
	}
	chinese := true
	if cfg.tokenizeChinese != nil {
		chinese = *cfg.tokenizeChinese
	}
	t.bert = &bertFlags{clean: true, chinese: chinese, lower: lower, strip: cfg.stripAccents}
	t.norm = newNormalizer(t.bert.steps())
	t.addedJSON = added
	t.added = newAddedVocab(added, t.normalizeString)
	t.single, t.pair = bertTemplate(ids["cls_token"], ids["sep_token"])
	return t, nil
}

// scanLF splits lines on "\n" only, keeping any "\r" (transformers' load_vocab strips only "\n").
func scanLF(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
