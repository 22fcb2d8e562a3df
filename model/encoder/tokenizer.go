package encoder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/tokenizer"
)

// Tokenizer is what the encoder needs from a tokenizer: text to token ids the way Hugging Face tokenizers
// does for the model ([CLS] a [SEP] (b [SEP]) with token types, truncated to maxLen tokens; 0 = no limit).
// Package tokenizer provides it (LoadTokenizer, and the loaders of this package).
type Tokenizer interface {
	Encode(text string, maxLen int) Sequence
	EncodePair(a, b string, maxLen int) Sequence
	EncodeNoSpecial(text string, maxLen int) Sequence
	VocabSize() int
	PadID() int32
}

// loadTokenizer loads a model directory's tokenizer: tokenizer.json with the directory's
// tokenizer_config.json, sentence_bert_config.json (do_lower_case, max length) and config.json.
func loadTokenizer(dir string) (Tokenizer, error) {
	t, err := tokenizer.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return hfTokenizer{t}, nil
}

// LoadTokenizer loads a tokenizer.json file (or a model directory holding one) for a new model, and the
// tokenizer files found beside it (TokenizerFileNames), to be saved with the model.
func LoadTokenizer(path string) (Tokenizer, map[string][]byte, error) {
	dir := path
	if st, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("tokenizer: %w", err)
	} else if !st.IsDir() {
		dir = filepath.Dir(path)
	}
	files := map[string][]byte{}
	for _, name := range modeldir.TokenizerFileNames() {
		p := filepath.Join(dir, name)
		if name == "tokenizer.json" && dir != path {
			p = path
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		files[name] = b
	}
	if files["tokenizer.json"] == nil {
		return nil, nil, fmt.Errorf("tokenizer: no tokenizer.json in %s", dir)
	}
	t, err := tokenizer.Load(path)
	if err != nil {
		return nil, nil, err
	}
	return hfTokenizer{t}, files, nil
}

// hfTokenizer adapts package tokenizer to the encoder's interface.
type hfTokenizer struct{ t *tokenizer.Tokenizer }

func seq(e tokenizer.Encoding) Sequence { return Sequence{IDs: e.IDs, TypeIDs: e.TypeIDs} }

func (h hfTokenizer) Encode(text string, maxLen int) Sequence { return seq(h.t.Encode(text, maxLen)) }
func (h hfTokenizer) EncodePair(a, b string, maxLen int) Sequence {
	return seq(h.t.EncodePair(a, b, maxLen))
}
func (h hfTokenizer) EncodeNoSpecial(text string, maxLen int) Sequence {
	return seq(h.t.EncodeNoSpecial(text, maxLen))
}
func (h hfTokenizer) VocabSize() int { return h.t.VocabSize() }
func (h hfTokenizer) PadID() int32   { return h.t.PadID() }

// FromTokenizer adapts a package tokenizer value (e.g. one trained with tokenizer.TrainWordPiece) for
// NewBERTBiEncoder, NewBERTCrossEncoder and NewStatic; pass its tokenizer.json bytes as the tokenizer files.
func FromTokenizer(t *tokenizer.Tokenizer) Tokenizer { return hfTokenizer{t} }

// Unwrap returns the package tokenizer value behind a Tokenizer loaded by this package (nil otherwise),
// for its other methods (IDToken, offsets, batches).
func Unwrap(t Tokenizer) *tokenizer.Tokenizer {
	if h, ok := t.(hfTokenizer); ok {
		return h.t
	}
	return nil
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
