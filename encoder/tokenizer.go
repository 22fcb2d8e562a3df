package encoder

import (
	"errors"
	"runtime"
	"sync"
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

// parallel runs fn(0..n-1) on GOMAXPROCS goroutines (tokenizers are safe for concurrent use).
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
