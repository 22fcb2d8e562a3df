package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The subset of the tokenizer.json schema (Hugging Face tokenizers) that ragnb reads.

type fileJSON struct {
	Truncation    *truncationJSON  `json:"truncation"`
	Padding       *paddingJSON     `json:"padding"`
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Model         json.RawMessage  `json:"model"`
}

type truncationJSON struct {
	MaxLength int    `json:"max_length"`
	Strategy  string `json:"strategy"`
	Direction string `json:"direction"`
	Stride    int    `json:"stride"`
}

type paddingJSON struct {
	Strategy      json.RawMessage `json:"strategy"` // "BatchLongest" or {"Fixed": n}
	Direction     string          `json:"direction"`
	PadToMultiple *int            `json:"pad_to_multiple_of"`
	PadID         *int            `json:"pad_id"`
	PadTypeID     int32           `json:"pad_type_id"`
	PadToken      string          `json:"pad_token"`
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
	Type                string            `json:"type"`
	CleanText           *bool             `json:"clean_text"`
	HandleChineseChars  *bool             `json:"handle_chinese_chars"`
	StripAccents        *bool             `json:"strip_accents"`
	Lowercase           *bool             `json:"lowercase"`
	Normalizers         []json.RawMessage `json:"normalizers"`
	PrecompiledCharsmap *string           `json:"precompiled_charsmap"`
	StripLeft           *bool             `json:"strip_left"`
	StripRight          *bool             `json:"strip_right"`
	Pattern             patternJSON       `json:"pattern"`
	Content             string            `json:"content"`
	Prepend             string            `json:"prepend"`
}

// patternJSON is a Replace or Split pattern: {"String": s} or {"Regex": r}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

type preTokenizerJSON struct {
	Type             string            `json:"type"`
	PreTokenizers    []json.RawMessage `json:"pretokenizers"`
	AddPrefixSpace   *bool             `json:"add_prefix_space"`
	UseRegex         *bool             `json:"use_regex"`
	Replacement      *string           `json:"replacement"`
	PrependScheme    *string           `json:"prepend_scheme"`
	Split            *bool             `json:"split"`
	Pattern          patternJSON       `json:"pattern"`
	Behavior         string            `json:"behavior"`
	Invert           bool              `json:"invert"`
	IndividualDigits bool              `json:"individual_digits"`
	Delimiter        string            `json:"delimiter"`
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
	Sep        []json.RawMessage `json:"sep"`
	Cls        []json.RawMessage `json:"cls"`
	Processors []json.RawMessage `json:"processors"`
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
	modelIDs := make(map[string]int32, len(f.AddedTokens))
	for _, at := range f.AddedTokens {
		if id, ok := t.vocab[at.Content]; ok {
			modelIDs[at.Content] = id
		}
	}
	for i, at := range f.AddedTokens {
		if id, ok := modelIDs[at.Content]; ok {
			// as tokenizers re-adds them on loading: a token the model knows keeps the model's id
			f.AddedTokens[i].ID = int(id)
			continue
		}
		if at.ID < 0 {
			return nil, fmt.Errorf("added token %q has negative id %d", at.Content, at.ID)
		}
		t.setToken(at.Content, int32(at.ID))
	}
	items, err := parseNormalizer(f.Normalizer)
	if err != nil {
		return nil, err
	}
	t.setNormalizer(items)
	if t.bert, err = parseBertFlags(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pres, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	t.chooseFastPath()
	t.addedJSON = f.AddedTokens
	t.added = newAddedVocab(f.AddedTokens, t.normalizeString)
	if err := t.parsePostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	t.padID = -1
	if f.Padding != nil {
		p, err := parsePadding(f.Padding)
		if err != nil {
			return nil, err
		}
		t.padding = &p
		if id, ok := t.vocab[f.Padding.PadToken]; ok && f.Padding.PadToken != "" {
			t.padID = id
		} else if f.Padding.PadID != nil {
			t.padID = int32(*f.Padding.PadID)
		}
		p.PadID = max(t.padID, 0)
		t.padding = &p
	}
	if t.padID < 0 {
		t.padID = t.defaultPadID()
	}
	if f.Truncation != nil {
		tr, err := parseTruncation(f.Truncation)
		if err != nil {
			return nil, err
		}
		t.truncation = &tr
		if tr.MaxLength > 0 {
			t.maxLength = tr.MaxLength
		}
	}
	return t, nil
}

func parseTruncation(j *truncationJSON) (Truncation, error) {
	tr := Truncation{MaxLength: j.MaxLength, Stride: j.Stride}
	switch j.Strategy {
	case "", "LongestFirst", "longest_first":
		tr.Strategy = LongestFirst
	case "OnlyFirst", "only_first":
		tr.Strategy = OnlyFirst
	case "OnlySecond", "only_second":
		tr.Strategy = OnlySecond
	default:
		return tr, fmt.Errorf("unsupported truncation strategy %q", j.Strategy)
	}
	switch j.Direction {
	case "", "Right", "right":
	case "Left", "left":
		tr.Left = true
	default:
		return tr, fmt.Errorf("unsupported truncation direction %q", j.Direction)
	}
	if tr.Stride != 0 {
		return tr, fmt.Errorf("truncation stride %d is not supported (overflowing windows are not produced); use stride 0", tr.Stride)
	}
	return tr, nil
}

func parsePadding(j *paddingJSON) (Padding, error) {
	p := Padding{PadTypeID: j.PadTypeID, PadToken: j.PadToken}
	var name string
	var fixed struct {
		Fixed *int `json:"Fixed"`
	}
	switch {
	case isNull(j.Strategy):
	case json.Unmarshal(j.Strategy, &name) == nil:
		if name != "BatchLongest" {
			return p, fmt.Errorf("unsupported padding strategy %q", name)
		}
	case json.Unmarshal(j.Strategy, &fixed) == nil && fixed.Fixed != nil:
		p.Fixed = *fixed.Fixed
	default:
		return p, fmt.Errorf("unsupported padding strategy %s", j.Strategy)
	}
	switch j.Direction {
	case "", "Right", "right":
	case "Left", "left":
		p.Left = true
	default:
		return p, fmt.Errorf("unsupported padding direction %q", j.Direction)
	}
	if j.PadToMultiple != nil {
		p.MultipleOf = *j.PadToMultiple
	}
	return p, nil
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

// modelKind is the tokenizer.json model type.
type modelKind uint8

const (
	kindWordPiece modelKind = iota
	kindBPE
	kindUnigram
	kindWordLevel
)

func (k modelKind) String() string {
	return [...]string{"WordPiece", "BPE", "Unigram", "WordLevel"}[k]
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
	switch kind {
	case "BPE":
		bpe, err := parseBPE(raw)
		if err != nil {
			return err
		}
		t.kind, t.bpe, t.unkID = kindBPE, bpe, bpe.unkID
		t.setModelVocab(bpe.vocab)
		return nil
	case "Unigram":
		uni, err := parseUnigram(raw)
		if err != nil {
			return err
		}
		t.kind, t.uni, t.unkID = kindUnigram, uni, uni.unkID
		t.setModelVocab(uni.ids)
		return nil
	case "WordPiece", "WordLevel":
	default:
		return fmt.Errorf("unsupported tokenizer model %q (supported: WordPiece, BPE, Unigram, WordLevel)", kind)
	}
	var vocab map[string]int
	if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
		return fmt.Errorf("parse %s vocab: %w", kind, err)
	}
	for _, id := range vocab {
		if id < 0 {
			return fmt.Errorf("%s vocab has negative id %d", kind, id)
		}
	}
	v32 := make(map[string]int32, len(vocab))
	for tok, id := range vocab {
		v32[tok] = int32(id)
	}
	t.setModelVocab(v32)
	unk := "[UNK]"
	if kind == "WordLevel" {
		unk = "<unk>"
	}
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	id, ok := t.vocab[unk]
	if !ok {
		if kind == "WordPiece" {
			return fmt.Errorf("WordPiece unk_token %q is not in the vocabulary", unk)
		}
		id = -1
	}
	t.unkID = id
	if kind == "WordLevel" {
		t.kind = kindWordLevel
		return nil
	}
	t.kind = kindWordPiece
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

// setModelVocab fills the token tables from the model's vocabulary (added tokens come on top).
func (t *Tokenizer) setModelVocab(v map[string]int32) {
	t.vocab = make(map[string]int32, len(v)+16)
	maxID := int32(-1)
	for _, id := range v {
		maxID = max(maxID, id)
	}
	t.idToToken = make([]string, maxID+1)
	for tok, id := range v {
		t.setToken(tok, id)
	}
}

// normItem is one normalizer step: a character-wise step, or a stage when stage is set.
type normItem struct {
	step  normStep
	stage normStage
}

func charItems(steps []normStep) []normItem {
	out := make([]normItem, len(steps))
	for i, s := range steps {
		out[i] = normItem{step: s}
	}
	return out
}

func parseNormalizer(raw json.RawMessage) ([]normItem, error) {
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
		return charItems(bertSteps(flag(n.CleanText, true), flag(n.HandleChineseChars, true), flag(n.StripAccents, lower), lower)), nil
	case "Lowercase":
		return charItems([]normStep{stepLower}), nil
	case "StripAccents":
		return charItems([]normStep{stepStripMarks}), nil
	case "NFD":
		return []normItem{{stage: unicodeStage{norm.NFD}}}, nil
	case "NFC":
		return []normItem{{stage: unicodeStage{norm.NFC}}}, nil
	case "NFKD":
		return []normItem{{stage: unicodeStage{norm.NFKD}}}, nil
	case "NFKC":
		return []normItem{{stage: unicodeStage{norm.NFKC}}}, nil
	case "Strip":
		return []normItem{{stage: stripStage{left: flag(n.StripLeft, true), right: flag(n.StripRight, true)}}}, nil
	case "Prepend":
		return []normItem{{stage: prependStage{n.Prepend}}}, nil
	case "ByteLevel":
		return []normItem{{stage: byteLevelStage{}}}, nil
	case "Replace":
		r := replaceStage{content: n.Content}
		switch {
		case n.Pattern.String != nil:
			r.literal = *n.Pattern.String
		case n.Pattern.Regex != nil:
			re, err := compilePattern(*n.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Replace normalizer: %w", err)
			}
			r.re = re
		default:
			return nil, errors.New("Replace normalizer has no String or Regex pattern")
		}
		return []normItem{{stage: r}}, nil
	case "Precompiled":
		if n.PrecompiledCharsmap == nil || *n.PrecompiledCharsmap == "" {
			return nil, nil // an empty charsmap normalizes nothing
		}
		p, err := parsePrecompiled(*n.PrecompiledCharsmap)
		if err != nil {
			return nil, err
		}
		return []normItem{{stage: p}}, nil
	case "Sequence":
		items := []normItem{}
		for _, child := range n.Normalizers {
			s, err := parseNormalizer(child)
			if err != nil {
				return nil, err
			}
			items = append(items, s...)
		}
		return items, nil
	}
	return nil, fmt.Errorf("unsupported normalizer %q (supported: BertNormalizer, Lowercase, StripAccents, NFC, NFD, NFKC, NFKD, "+
		"Strip, Replace, Prepend, Precompiled, ByteLevel, Sequence)", n.Type)
}

// compilePattern compiles a tokenizers (Oniguruma) regular expression with Go's regexp. Oniguruma's \s, \d
// and \w are Unicode classes where RE2's are ASCII, so they are rewritten first (translateOniguruma);
// patterns that need lookaround or backreferences are refused (the GPT-2 pattern has its own scanner).
func compilePattern(p string) (*regexp.Regexp, error) {
	q, err := translateOniguruma(p)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q: %w", p, err)
	}
	re, err := regexp.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("regular expression %q is not supported by Go's regexp: %w", p, err)
	}
	return re, nil
}

// Oniguruma's Unicode classes as RE2 class bodies.
const (
	onigSpace = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	onigDigit = `\p{Nd}`
	onigWord  = `\p{L}\p{M}\p{Nd}\p{Pc}\p{Nl}\x{200C}\x{200D}`
)

// translateOniguruma rewrites \s \S \d \D \w \W into RE2 classes with Oniguruma's Unicode meaning.
func translateOniguruma(p string) (string, error) {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			e := p[i+1]
			i++
			body := ""
			switch e {
			case 's', 'S':
				body = onigSpace
			case 'd', 'D':
				body = onigDigit
			case 'w', 'W':
				body = onigWord
			default:
				sb.WriteByte(c)
				sb.WriteByte(e)
				continue
			}
			negated := e == 'S' || e == 'D' || e == 'W'
			switch {
			case inClass && negated:
				return "", fmt.Errorf("\\%c inside a character class is not supported", e)
			case inClass:
				sb.WriteString(body)
			case negated:
				sb.WriteString("[^" + body + "]")
			default:
				sb.WriteString("[" + body + "]")
			}
		case c == '[' && !inClass:
			inClass = true
			sb.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' { // a leading ] is literal
				sb.WriteString(`\]`)
				i++
			}
		case c == '[' && inClass:
			if i+1 < len(p) && p[i+1] == ':' { // [:alpha:]
				end := strings.Index(p[i:], ":]")
				if end < 0 {
					return "", errors.New("unterminated POSIX class")
				}
				sb.WriteString(p[i : i+end+2])
				i += end + 1
				continue
			}
			return "", errors.New("nested character classes are not supported")
		case c == ']' && inClass:
			inClass = false
			sb.WriteByte(c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

// setNormalizer keeps an all-character-wise normalizer on the fast path and chains the others in stages.
func (t *Tokenizer) setNormalizer(items []normItem) {
	t.norm, t.gnorm = nil, nil
	if len(items) == 0 {
		return
	}
	var steps []normStep
	general := false
	for _, it := range items {
		if it.stage != nil {
			general = true
		} else {
			steps = append(steps, it.step)
		}
	}
	if !general {
		t.norm = newNormalizer(steps)
		return
	}
	g := &stageNormalizer{}
	steps = nil
	flush := func() {
		if len(steps) > 0 {
			g.stages = append(g.stages, charStage{newNormalizer(steps)})
			steps = nil
		}
	}
	for _, it := range items {
		if it.stage == nil {
			steps = append(steps, it.step)
			continue
		}
		flush()
		g.stages = append(g.stages, it.stage)
	}
	flush()
	t.gnorm = g
}

// normalizeString is the normalized form of s (for added tokens with normalized=true).
func (t *Tokenizer) normalizeString(s string) string {
	switch {
	case t.gnorm != nil:
		return t.gnorm.normalizeString(s)
	case t.norm != nil:
		return t.norm.normalizeString(s)
	}
	return s
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

// wsSplitPre is the WhitespaceSplit pre-tokenizer (whitespace removed).
type wsSplitPre struct{}

func (wsSplitPre) split(p normText, dst []normText) []normText {
	return patternSplit{find: charPattern(isWhitespace), behavior: behRemoved}.split(p, dst)
}

func parsePreTokenizer(raw json.RawMessage) ([]preStage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var p preTokenizerJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parse pre_tokenizer: %w", err)
	}
	flag := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	one := func(s preStage) ([]preStage, error) { return []preStage{s}, nil }
	switch p.Type {
	case "BertPreTokenizer":
		return one(bertPre{})
	case "WhitespaceSplit":
		return one(wsSplitPre{})
	case "Whitespace":
		return one(patternSplit{find: whitespaceMatches, behavior: behRemoved, invert: true})
	case "ByteLevel":
		return one(byteLevelPre{addPrefixSpace: flag(p.AddPrefixSpace, true), useRegex: flag(p.UseRegex, true)})
	case "Metaspace":
		m := metaspacePre{repl: "\u2581", splitWords: flag(p.Split, true)}
		if p.Replacement != nil {
			m.repl = *p.Replacement
		}
		if m.repl == "" {
			return nil, errors.New("Metaspace pre-tokenizer with an empty replacement")
		}
		switch {
		case p.PrependScheme != nil:
			switch strings.ToLower(*p.PrependScheme) {
			case "always":
				m.scheme = prependAlways
			case "first":
				m.scheme = prependFirst
			case "never":
				m.scheme = prependNever
			default:
				return nil, fmt.Errorf("Metaspace prepend_scheme %q (want always, first or never)", *p.PrependScheme)
			}
		case !flag(p.AddPrefixSpace, true):
			m.scheme = prependNever
		}
		return one(m)
	case "Split":
		beh, err := parseBehavior(p.Behavior)
		if err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		s := patternSplit{behavior: beh, invert: p.Invert}
		switch {
		case p.Pattern.String != nil:
			s.find = literalPattern(*p.Pattern.String)
		case p.Pattern.Regex != nil && *p.Pattern.Regex == gpt2Pattern:
			s.find = gpt2Matches
		case p.Pattern.Regex != nil:
			re, err := compilePattern(*p.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
			}
			s.find = regexpPattern(re)
		default:
			return nil, errors.New("Split pre-tokenizer has no String or Regex pattern")
		}
		return one(s)
	case "Digits":
		beh := behContiguous
		if p.IndividualDigits {
			beh = behIsolated
		}
		return one(patternSplit{find: charPattern(unicode.IsNumber), behavior: beh})
	case "Punctuation":
		beh, err := parseBehavior(p.Behavior)
		if err != nil {
			return nil, fmt.Errorf("Punctuation pre-tokenizer: %w", err)
		}
		return one(patternSplit{find: charPattern(isBertPunct), behavior: beh})
	case "CharDelimiterSplit":
		d, size := utf8.DecodeRuneInString(p.Delimiter)
		if size == 0 || size != len(p.Delimiter) {
			return nil, fmt.Errorf("CharDelimiterSplit delimiter %q is not one character", p.Delimiter)
		}
		return one(patternSplit{find: charPattern(func(r rune) bool { return r == d }), behavior: behRemoved})
	case "Sequence":
		var out []preStage
		for _, child := range p.PreTokenizers {
			s, err := parsePreTokenizer(child)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer %q (supported: BertPreTokenizer, WhitespaceSplit, Whitespace, ByteLevel, "+
		"Metaspace, Split, Digits, Punctuation, CharDelimiterSplit, Sequence)", p.Type)
}

// chooseFastPath keeps WordPiece with a character-wise normalizer and BERT or whitespace pre-tokenization
// on the hand-tuned path of encode.go; everything else runs through the general stages.
func (t *Tokenizer) chooseFastPath() {
	t.general = t.kind != kindWordPiece || t.gnorm != nil
	t.pretok, t.splitPunc = false, false
	for _, p := range t.pres {
		switch p.(type) {
		case bertPre:
			t.pretok, t.splitPunc = true, true
		case wsSplitPre:
			t.pretok = true
		default:
			t.general = true
		}
	}
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
	case "ByteLevel": // trims offsets only
		return t.parsePostProcessor(nil)
	case "Sequence": // ByteLevel steps change no ids; at most one other processor lays out the tokens
		var layout json.RawMessage
		for _, child := range p.Processors {
			var c postProcessorJSON
			if err := json.Unmarshal(child, &c); err != nil {
				return fmt.Errorf("parse post_processor: %w", err)
			}
			if c.Type == "ByteLevel" {
				continue
			}
			if layout != nil {
				return errors.New("unsupported post_processor: a Sequence with more than one processor besides ByteLevel")
			}
			layout = child
		}
		return t.parsePostProcessor(layout)
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
	return fmt.Errorf("unsupported post_processor %q (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)", p.Type)
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
	raw, normed     []addedToken // each sorted longest first
	rawBy, normedBy [256][]int32 // by first byte: indices of the patterns, longest first
}

type addedToken struct {
	pattern                    string
	id                         int32
	singleWord, lstrip, rstrip bool
}

func newAddedVocab(tokens []addedTokenJSON, normalize func(string) string) *addedVocab {
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
			if normalize != nil {
				tok.pattern = normalize(at.Content)
			}
			if tok.pattern == "" {
				continue
			}
			v.normed = append(v.normed, tok)
		} else {
			v.raw = append(v.raw, tok)
		}
	}
	for _, l := range []struct {
		toks []addedToken
		by   *[256][]int32
	}{{v.raw, &v.rawBy}, {v.normed, &v.normedBy}} {
		sort.SliceStable(l.toks, func(i, j int) bool { return len(l.toks[i].pattern) > len(l.toks[j].pattern) })
		for i, tok := range l.toks {
			l.by[tok.pattern[0]] = append(l.by[tok.pattern[0]], int32(i))
		}
	}
	return v
}
