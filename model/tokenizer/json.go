package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// The subset of the tokenizer.json schema (Hugging Face tokenizers) that ragnb reads.

type fileJSON struct {
	Truncation *struct {
		MaxLength int `json:"max_length"`
	} `json:"truncation"`
	Padding *struct {
		PadID    *int   `json:"pad_id"`
		PadToken string `json:"pad_token"`
	} `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Model         json.RawMessage  `json:"model"`
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
	Merges                  json.RawMessage `json:"merges"`
}

type normalizerJSON struct {
	Type               string            `json:"type"`
	CleanText          *bool             `json:"clean_text"`
	HandleChineseChars *bool             `json:"handle_chinese_chars"`
	StripAccents       *bool             `json:"strip_accents"`
	Lowercase          *bool             `json:"lowercase"`
	Normalizers        []json.RawMessage `json:"normalizers"`
}

type preTokenizerJSON struct {
	Type          string            `json:"type"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
}

type templatePieceJSON struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"Sequence"`
}

type postProcessorJSON struct {
	Type          string              `json:"type"`
	Single        []templatePieceJSON `json:"single"`
	Pair          []templatePieceJSON `json:"pair"`
	SpecialTokens map[string]struct {
		IDs []int32 `json:"ids"`
	} `json:"special_tokens"`
	Sep []json.RawMessage `json:"sep"`
	Cls []json.RawMessage `json:"cls"`
}

// templateItem is one piece of a post-processing template: a run of special token ids (seq -1) or the
// first (seq 0) or second (seq 1) sequence, with its token type id.
type templateItem struct {
	seq    int
	ids    []int32
	typeID int32
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func parseTokenizerJSON(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	t := &Tokenizer{}
	if err := t.parseModel(f.Model); err != nil {
		return nil, err
	}
	for _, at := range f.AddedTokens {
		if at.ID < 0 {
			return nil, fmt.Errorf("added token %q has negative id %d", at.Content, at.ID)
		}
		t.setToken(at.Content, int32(at.ID))
	}
	steps, err := parseNormalizer(f.Normalizer)
	if err != nil {
		return nil, err
	}
	if steps != nil {
		t.norm = newNormalizer(steps)
	}
	if t.bert, err = parseBertFlags(f.Normalizer); err != nil {
		return nil, err
	}
	if err := t.parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	t.addedJSON = f.AddedTokens
	t.added = newAddedVocab(f.AddedTokens, t.norm)
	if err := t.parsePostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	t.padID = -1
	if f.Padding != nil {
		if id, ok := t.vocab[f.Padding.PadToken]; ok && f.Padding.PadToken != "" {
			t.padID = id
		} else if f.Padding.PadID != nil {
			t.padID = int32(*f.Padding.PadID)
		}
	}
	if t.padID < 0 {
		t.padID = t.defaultPadID()
	}
	if f.Truncation != nil && f.Truncation.MaxLength > 0 {
		t.maxLength = f.Truncation.MaxLength
	}
	return t, nil
}

// defaultPadID is [PAD] or <pad> when the vocabulary has one, else 0.
func (t *Tokenizer) defaultPadID() int32 {
	for _, tok := range []string{"[PAD]", "<pad>"} {
		if id, ok := t.vocab[tok]; ok {
			return id
		}
	}
	return 0
}

func (t *Tokenizer) setToken(tok string, id int32) {
	if t.vocab == nil {
		t.vocab = make(map[string]int32)
	}
	t.vocab[tok] = id
	for int(id) >= len(t.idToToken) {
		t.idToToken = append(t.idToToken, "")
	}
	t.idToToken[id] = tok
	if len(tok) > t.maxTokLen {
		t.maxTokLen = len(tok)
	}
}

func (t *Tokenizer) parseModel(raw json.RawMessage) error {
	if isNull(raw) {
		return errors.New("tokenizer.json has no model")
	}
	var m modelJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("parse model: %w", err)
	}
	kind := m.Type
	if kind == "" { // older files leave the type out; infer it from the fields as tokenizers does
		switch {
		case !isNull(m.Merges):
			kind = "BPE"
		case bytes.HasPrefix(bytes.TrimSpace(m.Vocab), []byte("[")):
			kind = "Unigram"
		case m.ContinuingSubwordPrefix != nil || m.MaxInputCharsPerWord != nil:
			kind = "WordPiece"
		default:
			kind = "WordLevel"
		}
	}
	if kind != "WordPiece" {
		return fmt.Errorf("unsupported tokenizer model %q: ragnb implements WordPiece (BERT, MiniLM, bge-*-en, e5, gte); "+
			"BPE and Unigram/SentencePiece models (e.g. XLM-RoBERTa as in BAAI/bge-reranker-base) are not supported", kind)
	}
	var vocab map[string]int
	if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
		return fmt.Errorf("parse WordPiece vocab: %w", err)
	}
	t.vocab = make(map[string]int32, len(vocab)+16)
	maxID := -1
	for _, id := range vocab {
		if id < 0 {
			return fmt.Errorf("WordPiece vocab has negative id %d", id)
		}
		maxID = max(maxID, id)
	}
	t.idToToken = make([]string, maxID+1)
	for tok, id := range vocab {
		t.setToken(tok, int32(id))
	}
	unk := "[UNK]"
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	id, ok := t.vocab[unk]
	if !ok {
		return fmt.Errorf("WordPiece unk_token %q is not in the vocabulary", unk)
	}
	t.unkID = id
	t.prefix = "##"
	if m.ContinuingSubwordPrefix != nil {
		t.prefix = *m.ContinuingSubwordPrefix
	}
	t.maxChars = 100
	if m.MaxInputCharsPerWord != nil {
		t.maxChars = *m.MaxInputCharsPerWord
	}
	return nil
}

func parseNormalizer(raw json.RawMessage) ([]normStep, error) {
	if isNull(raw) {
		return nil, nil
	}
	var n normalizerJSON
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("parse normalizer: %w", err)
	}
	flag := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	switch n.Type {
	case "BertNormalizer":
		lower := flag(n.Lowercase, true)
		return bertSteps(flag(n.CleanText, true), flag(n.HandleChineseChars, true), flag(n.StripAccents, lower), lower), nil
	case "Lowercase":
		return []normStep{stepLower}, nil
	case "StripAccents":
		return []normStep{stepStripMarks}, nil
	case "NFD":
		return []normStep{stepNFD}, nil
	case "Sequence":
		steps := []normStep{}
		for _, child := range n.Normalizers {
			s, err := parseNormalizer(child)
			if err != nil {
				return nil, err
			}
			steps = append(steps, s...)
		}
		return steps, nil
	}
	return nil, fmt.Errorf("unsupported normalizer %q (supported: BertNormalizer, Lowercase, StripAccents, NFD, Sequence)", n.Type)
}

// bertFlags are a top-level BertNormalizer's settings (nil strip: follow lowercase).
type bertFlags struct {
	clean, chinese, lower bool
	strip                 *bool
}

func (b bertFlags) steps() []normStep {
	strip := b.lower
	if b.strip != nil {
		strip = *b.strip
	}
	return bertSteps(b.clean, b.chinese, strip, b.lower)
}

// parseBertFlags returns the settings of a top-level BertNormalizer, nil for any other normalizer.
func parseBertFlags(raw json.RawMessage) (*bertFlags, error) {
	if isNull(raw) {
		return nil, nil
	}
	var n normalizerJSON
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("parse normalizer: %w", err)
	}
	if n.Type != "BertNormalizer" {
		return nil, nil
	}
	b := &bertFlags{clean: true, chinese: true, lower: true, strip: n.StripAccents}
	if n.CleanText != nil {
		b.clean = *n.CleanText
	}
	if n.HandleChineseChars != nil {
		b.chinese = *n.HandleChineseChars
	}
	if n.Lowercase != nil {
		b.lower = *n.Lowercase
	}
	return b, nil
}

func bertSteps(clean, chinese, strip, lower bool) []normStep {
	steps := []normStep{}
	if clean {
		steps = append(steps, stepClean)
	}
	if chinese {
		steps = append(steps, stepChinese)
	}
	if strip {
		steps = append(steps, stepNFDStrip)
	}
	if lower {
		steps = append(steps, stepLower)
	}
	return steps
}

func (t *Tokenizer) parsePreTokenizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var p preTokenizerJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("parse pre_tokenizer: %w", err)
	}
	switch p.Type {
	case "BertPreTokenizer":
		t.pretok, t.splitPunc = true, true
		return nil
	case "WhitespaceSplit":
		t.pretok = true
		return nil
	case "Sequence":
		for _, child := range p.PreTokenizers {
			if err := t.parsePreTokenizer(child); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported pre_tokenizer %q (supported: BertPreTokenizer, WhitespaceSplit)", p.Type)
}

func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		t.single = []templateItem{{seq: 0}}
		t.pair = []templateItem{{seq: 0}, {seq: 1, typeID: 1}}
		return nil
	}
	var p postProcessorJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("parse post_processor: %w", err)
	}
	switch p.Type {
	case "TemplateProcessing":
		conv := func(pieces []templatePieceJSON) ([]templateItem, error) {
			var items []templateItem
			for _, pc := range pieces {
				switch {
				case pc.SpecialToken != nil:
					st, ok := p.SpecialTokens[pc.SpecialToken.ID]
					if !ok {
						return nil, fmt.Errorf("post_processor template uses special token %q that it does not define", pc.SpecialToken.ID)
					}
					items = append(items, templateItem{seq: -1, ids: st.IDs, typeID: pc.SpecialToken.TypeID})
				case pc.Sequence != nil:
					seq := 0
					if pc.Sequence.ID == "B" {
						seq = 1
					}
					items = append(items, templateItem{seq: seq, typeID: pc.Sequence.TypeID})
				}
			}
			return items, nil
		}
		var err error
		if t.single, err = conv(p.Single); err != nil {
			return err
		}
		if t.pair, err = conv(p.Pair); err != nil {
			return err
		}
		if len(p.Pair) == 0 { // a template without a pair form: as tokenizers, fall back to the single form + $B
			t.pair = append(append([]templateItem{}, t.single...), templateItem{seq: 1, typeID: 1})
		}
		return nil
	case "BertProcessing":
		cls, err1 := tokenIDPair(p.Cls)
		sep, err2 := tokenIDPair(p.Sep)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("parse BertProcessing: %w", err)
		}
		t.single, t.pair = bertTemplate(cls, sep)
		return nil
	case "RobertaProcessing": // <s> A </s> and <s> A </s> </s> B </s>, every type id 0 (MPNet uses it with WordPiece)
		cls, err1 := tokenIDPair(p.Cls)
		sep, err2 := tokenIDPair(p.Sep)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("parse RobertaProcessing: %w", err)
		}
		c, s := []int32{cls}, []int32{sep}
		t.single = []templateItem{{seq: -1, ids: c}, {seq: 0}, {seq: -1, ids: s}}
		t.pair = []templateItem{{seq: -1, ids: c}, {seq: 0}, {seq: -1, ids: []int32{sep, sep}}, {seq: 1}, {seq: -1, ids: s}}
		return nil
	}
	return fmt.Errorf("unsupported post_processor %q (supported: TemplateProcessing, BertProcessing, RobertaProcessing)", p.Type)
}

// bertTemplate is [CLS] $A [SEP] and [CLS] $A [SEP] $B:1 [SEP]:1.
func bertTemplate(cls, sep int32) (single, pair []templateItem) {
	single = []templateItem{{seq: -1, ids: []int32{cls}}, {seq: 0}, {seq: -1, ids: []int32{sep}}}
	pair = append(append([]templateItem{}, single...), templateItem{seq: 1, typeID: 1}, templateItem{seq: -1, ids: []int32{sep}, typeID: 1})
	return single, pair
}

func tokenIDPair(raw []json.RawMessage) (int32, error) {
	if len(raw) != 2 {
		return 0, fmt.Errorf("want [token, id], got %d elements", len(raw))
	}
	var id int32
	if err := json.Unmarshal(raw[1], &id); err != nil {
		return 0, err
	}
	return id, nil
}

// addedVocab finds added tokens (special tokens such as [CLS], and user-added words) in text, as
// tokenizers' AddedVocabulary does: leftmost-longest matches, tokens with normalized=false matched in the
// raw text first, then those with normalized=true matched in the normalized remainder.
type addedVocab struct {
	raw, normed           []addedToken // each sorted longest first
	rawFirst, normedFirst [256]bool    // first bytes of the patterns
}

type addedToken struct {
	pattern                    string
	id                         int32
	singleWord, lstrip, rstrip bool
}

func newAddedVocab(tokens []addedTokenJSON, n *normalizer) *addedVocab {
	v := &addedVocab{}
	last := map[string]int{} // a content listed twice keeps its last definition, as tokenizers does
	for i, at := range tokens {
		last[at.Content] = i
	}
	for i, at := range tokens {
		if at.Content == "" || last[at.Content] != i {
			continue
		}
		tok := addedToken{pattern: at.Content, id: int32(at.ID), singleWord: at.SingleWord, lstrip: at.Lstrip, rstrip: at.Rstrip}
		if at.Normalized {
			if n != nil {
				tok.pattern = n.normalizeString(at.Content)
			}
			if tok.pattern == "" {
				continue
			}
			v.normed = append(v.normed, tok)
			v.normedFirst[tok.pattern[0]] = true
		} else {
			v.raw = append(v.raw, tok)
			v.rawFirst[tok.pattern[0]] = true
		}
	}
	for _, l := range [][]addedToken{v.raw, v.normed} {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].pattern) > len(l[j].pattern) })
	}
	return v
}
