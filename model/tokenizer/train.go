package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// TrainOptions configures TrainWordPiece.
type TrainOptions struct {
	// VocabSize bounds the vocabulary, special tokens and characters included (default 16000).
	VocabSize int
	// MinFrequency is how often a word must occur to get an entry of its own (default 2); rarer words are
	// spelled with the character pieces.
	MinFrequency int
	// Cased keeps case and accents; the default lowercases and strips accents like bert-base-uncased.
	Cased bool
	// MaxLength is the model_max_length written to tokenizer_config.json (default 512).
	MaxLength int
}

// The special tokens of a trained vocabulary, with ids 0–4.
var trainedSpecials = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

// TrainWordPiece builds a BERT-style WordPiece tokenizer (tokenizer.json bytes) from texts, so a model can be
// made with no downloaded vocabulary. Texts are normalized and pre-tokenized exactly as the resulting
// tokenizer will do it (BertNormalizer, BertPreTokenizer). The vocabulary is: the special tokens; every
// character seen and printable ASCII, both as a word start and as a "##" continuation, so only characters
// never seen can become [UNK]; then whole
// words by descending frequency (ties in byte order) while they occur at least MinFrequency times and the
// vocabulary has room. A word outside the vocabulary therefore splits into its longest known prefix and
// then pieces, as WordPiece does. The same texts and options always give the same bytes.
func TrainWordPiece(texts []string, opts TrainOptions) ([]byte, error) {
	if opts.VocabSize == 0 {
		opts.VocabSize = 16000
	}
	if opts.MinFrequency == 0 {
		opts.MinFrequency = 2
	}
	specials := map[string]int{}
	for i, s := range trainedSpecials {
		specials[s] = i
	}
	// A tokenizer with the final normalizer and pre-tokenizer but no words yet splits texts into words.
	boot, err := parseTokenizerJSON(trainedJSON(opts, specials))
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	seq := &seqEnc{words: counts}
	var nt normText
	for _, text := range texts {
		boot.encodeSeq(text, 0, false, seq, &nt)
	}
	if len(counts) == 0 {
		return nil, errors.New("train tokenizer: the texts contain no words")
	}

	vocab := map[string]int{}
	add := func(tok string) {
		if _, ok := vocab[tok]; !ok {
			vocab[tok] = len(vocab)
		}
	}
	for _, s := range trainedSpecials {
		add(s)
	}
	// Printable ASCII is always in, so digits, punctuation and Latin letters never become [UNK] in texts the
	// training set did not show; other characters get pieces when the training texts contain them.
	chars := map[string]int{}
	for c := '!'; c <= '~'; c++ {
		if !opts.Cased && c >= 'A' && c <= 'Z' {
			continue // lowercased away by the normalizer
		}
		chars[string(c)] = 0
	}
	for w, n := range counts {
		for _, r := range w {
			chars[string(r)] += n
		}
	}
	for _, c := range byFrequency(chars, 0) {
		add(c)
		add("##" + c)
	}
	if len(vocab) > opts.VocabSize {
		return nil, fmt.Errorf("train tokenizer: %d special tokens and character pieces exceed the vocabulary size %d",
			len(vocab), opts.VocabSize)
	}
	for _, w := range byFrequency(counts, opts.MinFrequency) {
		if len(vocab) >= opts.VocabSize {
			break
		}
		if utf8.RuneCountInString(w) > 1 {
			add(w)
		}
	}
	return trainedJSON(opts, vocab), nil
}

// byFrequency lists keys with count ≥ min, most frequent first, ties in byte order (deterministic).
func byFrequency(counts map[string]int, min int) []string {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n >= min {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// trainedJSON writes a tokenizer.json in the layout Hugging Face tokenizers saves for BERT, with the
// vocabulary in id order.
func trainedJSON(opts TrainOptions, vocab map[string]int) []byte {
	type special struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var added []special
	for _, s := range trainedSpecials {
		if id, ok := vocab[s]; ok {
			added = append(added, special{ID: id, Content: s, Special: true})
		}
	}
	var stripAccents any // null: follow lowercase, as BertNormalizer does
	if opts.Cased {
		stripAccents = false
	}
	tmpl := func(seq string, typeID int) map[string]any {
		if seq == "A" || seq == "B" {
			return map[string]any{"Sequence": map[string]any{"id": seq, "type_id": typeID}}
		}
		return map[string]any{"SpecialToken": map[string]any{"id": seq, "type_id": typeID}}
	}
	specialIDs := map[string]any{}
	for _, s := range []string{"[CLS]", "[SEP]"} {
		if id, ok := vocab[s]; ok {
			specialIDs[s] = map[string]any{"id": s, "ids": []int{id}, "tokens": []string{s}}
		}
	}
	head := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": stripAccents, "lowercase": !opts.Cased},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single":         []any{tmpl("[CLS]", 0), tmpl("A", 0), tmpl("[SEP]", 0)},
			"pair":           []any{tmpl("[CLS]", 0), tmpl("A", 0), tmpl("[SEP]", 0), tmpl("B", 1), tmpl("[SEP]", 1)},
			"special_tokens": specialIDs},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(head) // plain maps and slices: cannot fail
	// Append the model with its vocabulary in id order (a map would be written in key order).
	out := bytes.TrimSuffix(bytes.TrimSpace(buf.Bytes()), []byte("}"))
	out = bytes.TrimRight(out, " \n")
	toks := make([]string, len(vocab))
	for tok, id := range vocab {
		toks[id] = tok
	}
	var m bytes.Buffer
	m.WriteString(",\n  \"model\": {\n    \"type\": \"WordPiece\",\n    \"unk_token\": \"[UNK]\",\n" +
		"    \"continuing_subword_prefix\": \"##\",\n    \"max_input_chars_per_word\": 100,\n    \"vocab\": {")
	for id, tok := range toks {
		if id > 0 {
			m.WriteByte(',')
		}
		k, _ := json.Marshal(tok)
		fmt.Fprintf(&m, "\n      %s: %d", k, id)
	}
	m.WriteString("\n    }\n  }\n}\n")
	return append(out, m.Bytes()...)
}

// WriteTrained trains a WordPiece tokenizer on texts and writes tokenizer.json and tokenizer_config.json into
// dir, the files a model directory needs.
func WriteTrained(dir string, texts []string, opts TrainOptions) error {
	data, err := TrainWordPiece(texts, opts)
	if err != nil {
		return err
	}
	maxLen := opts.MaxLength
	if maxLen == 0 {
		maxLen = 512
	}
	cfg, _ := json.MarshalIndent(map[string]any{
		"tokenizer_class": "BertTokenizer", "do_lower_case": !opts.Cased, "model_max_length": maxLen,
		"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
		"clean_up_tokenization_spaces": true, "strip_accents": nil, "tokenize_chinese_chars": true,
	}, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"tokenizer.json": data, "tokenizer_config.json": append(cfg, '\n')} {
		if err := atomicfile.WriteBytes(filepath.Join(dir, name), b); err != nil {
			return err
		}
	}
	return nil
}
