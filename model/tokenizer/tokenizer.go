// Package tokenizer turns text into token ids exactly as Hugging Face tokenizers (the Rust library behind
// transformers' fast tokenizers and sentence-transformers) does, from a tokenizer.json file. Supported
// components:
//
//   - models: WordPiece; BPE (byte-level or not; merges as "a b" strings or [a, b] pairs; a model without
//     "type" is inferred from its fields; continuing_subword_prefix, end_of_word_suffix, ignore_merges,
//     fuse_unk, byte_fallback; dropout is ignored, as at inference); Unigram (SentencePiece: Viterbi over
//     scored pieces, unk_id with the minimum score − 10, unknowns fused, byte_fallback); WordLevel.
//   - normalizers: BertNormalizer, Lowercase, StripAccents, NFC, NFD, NFKC, NFKD, Strip, Replace (String
//     or Regex), Prepend, ByteLevel, Precompiled (SentencePiece's compiled charsmap: a darts-clone double
//     array plus replacement pool, applied per grapheme cluster as tokenizers does) and Sequence.
//   - pre-tokenizers: BertPreTokenizer, WhitespaceSplit, Whitespace, ByteLevel (add_prefix_space,
//     use_regex: the GPT-2 pattern, its \s+(?!\S) lookahead scanned by hand), Metaspace (replacement,
//     prepend_scheme always/first/never or the older add_prefix_space, split), Split (String or Regex, the
//     five behaviors, invert), Digits, Punctuation, CharDelimiterSplit and Sequence.
//   - post-processors: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel (no change to ids)
//     and Sequence.
//   - added and special tokens (single_word, lstrip, rstrip, normalized), split out before normalization;
//     truncation (longest_first, only_first, only_second; right or left, with tokenizers 0.23's early
//     exit) and padding (fixed or batch-longest, pad_to_multiple_of, right or left) from the file.
//
// Regex patterns are compiled with Go's regexp (RE2) after \s, \d and \w are given Oniguruma's Unicode
// meaning, so a Split or Replace pattern that needs lookaround or backreferences is refused on loading
// (except the GPT-2 pattern); decoders are not read (ids → text is not provided beyond IDToken). The BERT family (WordPiece with a character-wise normalizer) keeps a
// dedicated fast path. It also reads the model directory's tokenizer_config.json, special_tokens_map.json,
// sentence_bert_config.json and config.json for the maximum length, lowercasing and the padding token, and
// builds a BERT tokenizer from vocab.txt when a directory has no tokenizer.json.
//
// It owns text → ids (and ids → tokens); it does not download files (package hub) and does not run
// models. Goldens from the reference (tools/tokgolden) cover every tokenizer.json in the shared data.
//
// A Tokenizer is read-only after loading and safe for concurrent use (the BPE and Unigram word caches are
// guarded).
package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Tokenizer encodes text into token ids. Create it with Load or LoadDir.
type Tokenizer struct {
	source string // file or directory it was loaded from, for errors

	vocab     map[string]int32 // model vocabulary plus added tokens
	idToToken []string         // "" for ids that have no token
	unkID     int32
	prefix    string // WordPiece continuing subword prefix ("##")
	maxChars  int    // WordPiece max_input_chars_per_word
	maxTokLen int    // longest vocabulary entry in bytes (bounds the WordPiece search)

	kind modelKind
	bpe  *bpeModel     // kind BPE
	uni  *unigramModel // kind Unigram

	norm      *normalizer      // character-wise normalizer (fast path); nil: none or gnorm
	gnorm     *stageNormalizer // any other normalizer
	bert      *bertFlags       // the BertNormalizer settings, nil for other normalizers
	pres      []preStage       // the pre-tokenizers, for the general path
	general   bool             // false: WordPiece on the fast path (norm, pretok, splitPunc)
	splitPunc bool             // BertPreTokenizer (whitespace + punctuation) vs WhitespaceSplit
	pretok    bool             // false: no pre-tokenizer, the whole normalized text is one word

	added     *addedVocab
	addedJSON []addedTokenJSON

	single, pair []templateItem

	padID      int32
	maxLength  int
	truncation *Truncation // tokenizer.json's truncation section, nil when absent
	padding    *Padding    // tokenizer.json's padding section, nil when absent
	lowerText  bool        // sentence_bert_config.json do_lower_case: lowercase the text before tokenizing

	pool sync.Pool // *scratchBufs
}

// MaxLength is the model's maximum sequence length in tokens (special tokens included), 0 when unknown.
// In order: sentence_bert_config.json max_seq_length; the smaller of tokenizer_config.json
// model_max_length and config.json max_position_embeddings (what sentence-transformers does); the
// truncation max_length stored in tokenizer.json.
func (t *Tokenizer) MaxLength() int { return t.maxLength }

// VocabSize is the number of token ids (the largest id + 1), the size of the embedding matrix.
func (t *Tokenizer) VocabSize() int { return len(t.idToToken) }

// PadID is the id used for padding.
func (t *Tokenizer) PadID() int32 { return t.padID }

// UnknownID is the id of the unknown token ([UNK]).
func (t *Tokenizer) UnknownID() int32 { return t.unkID }

// TokenID returns the id of a vocabulary or added token.
func (t *Tokenizer) TokenID(token string) (int32, bool) {
	id, ok := t.vocab[token]
	return id, ok
}

// IDToken returns the token of id, or "" when id is out of range.
func (t *Tokenizer) IDToken(id int32) string {
	if id < 0 || int(id) >= len(t.idToToken) {
		return ""
	}
	return t.idToToken[id]
}

// Tokens returns the tokens of ids (IDToken of each).
func (t *Tokenizer) Tokens(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = t.IDToken(id)
	}
	return out
}

// SpecialTokens is how many tokens the post-processor adds to a single text (pair false) or a pair.
func (t *Tokenizer) SpecialTokens(pair bool) int {
	items := t.single
	if pair {
		items = t.pair
	}
	n := 0
	for _, it := range items {
		if it.seq < 0 {
			n += len(it.ids)
		}
	}
	return n
}

// String describes the tokenizer briefly.
func (t *Tokenizer) String() string {
	return fmt.Sprintf("%s tokenizer (%d ids, max length %d) from %s", t.kind, t.VocabSize(), t.maxLength, t.source)
}

// Load reads a tokenizer.json file. A directory is passed to LoadDir.
func Load(path string) (*Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return LoadDir(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := parseTokenizerJSON(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	t.source = path
	return t, nil
}

// Parse reads tokenizer.json content held in memory (e.g. TrainWordPiece's output).
func Parse(data []byte) (*Tokenizer, error) {
	t, err := parseTokenizerJSON(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t.source = "tokenizer.json"
	return t, nil
}

// LoadDir reads a model directory in the Hugging Face layout: tokenizer.json (or, failing that, a BERT
// vocab.txt), plus the optional tokenizer_config.json (model_max_length, do_lower_case, strip_accents,
// tokenize_chinese_chars, pad_token), special_tokens_map.json (pad_token), sentence_bert_config.json
// (max_seq_length, which wins, and do_lower_case) and config.json (max_position_embeddings).
func LoadDir(dir string) (*Tokenizer, error) {
	cfg, err := readDirConfig(dir)
	if err != nil {
		return nil, err
	}
	var t *Tokenizer
	tj := filepath.Join(dir, "tokenizer.json")
	if data, err := os.ReadFile(tj); err == nil {
		if t, err = parseTokenizerJSON(data); err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", tj, err)
		}
		t.source = tj
		if err := t.applyBertOverrides(cfg); err != nil {
			return nil, fmt.Errorf("tokenizer %s: %w", filepath.Join(dir, "tokenizer_config.json"), err)
		}
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	} else {
		vt := filepath.Join(dir, "vocab.txt")
		if _, err := os.Stat(vt); err != nil {
			return nil, fmt.Errorf("tokenizer: %s has neither tokenizer.json nor vocab.txt", dir)
		}
		if t, err = newFromVocabTxt(vt, cfg); err != nil {
			return nil, err
		}
	}
	t.applyDirConfig(cfg)
	return t, nil
}
