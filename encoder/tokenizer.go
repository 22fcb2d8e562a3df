package encoder

import (
	"errors"
)

// Tokenizer is what the encoder needs from a tokenizer: text to token ids the way Hugging Face tokenizers
// does for the model ([CLS] a [SEP] (b [SEP]) with token types, truncated to maxLen tokens; 0 = no limit).
type Tokenizer interface {
	Encode(text string, maxLen int) Sequence
	EncodePair(a, b string, maxLen int) Sequence
	EncodeNoSpecial(text string, maxLen int) Sequence
	VocabSize() int
	PadID() int32
}

// loadTokenizer loads dir/tokenizer.json (with dir's tokenizer_config.json).
func loadTokenizer(dir string) (Tokenizer, error) {
	return nil, errors.New("encoder: text tokenization arrives with package tokenizer (not merged into this branch yet)")
}

// LoadTokenizer loads a tokenizer.json file (or a directory holding one) for a new model, and the tokenizer
// files found beside it, to be saved with the model.
func LoadTokenizer(path string) (Tokenizer, map[string][]byte, error) {
	return nil, nil, errors.New("encoder: text tokenization arrives with package tokenizer (not merged into this branch yet)")
}
