package train

import (
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// idTokenizer is a stand-in word tokenizer for tests: each space-separated word hashes to an id in
// [3, vocab); [CLS] is 1, [SEP] 2, padding 0.
type idTokenizer struct{ vocab int }

func (t idTokenizer) words(text string) []int32 {
	var ids []int32
	for _, w := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(w))
		ids = append(ids, int32(3+h.Sum32()%uint32(t.vocab-3)))
	}
	return ids
}

func (t idTokenizer) Encode(text string, maxLen int) encoder.Sequence {
	ids := append(append([]int32{1}, t.words(text)...), 2)
	if maxLen > 0 && len(ids) > maxLen {
		ids = append(ids[:maxLen-1], 2)
	}
	return encoder.Sequence{IDs: ids}
}

func (t idTokenizer) EncodePair(a, b string, maxLen int) encoder.Sequence {
	wa, wb := t.words(a), t.words(b)
	ids := append(append(append(append([]int32{1}, wa...), 2), wb...), 2)
	types := make([]int32, len(ids))
	for i := len(wa) + 2; i < len(ids); i++ {
		types[i] = 1
	}
	if maxLen > 0 && len(ids) > maxLen {
		ids, types = append(ids[:maxLen-1], 2), types[:maxLen]
	}
	return encoder.Sequence{IDs: ids, TypeIDs: types}
}

func (t idTokenizer) EncodeNoSpecial(text string, maxLen int) encoder.Sequence {
	ids := t.words(text)
	if maxLen > 0 && len(ids) > maxLen {
		ids = ids[:maxLen]
	}
	return encoder.Sequence{IDs: ids}
}
func (t idTokenizer) VocabSize() int { return t.vocab }
func (t idTokenizer) PadID() int32   { return 0 }

// tokFiles are the tokenizer files saved with test models (the tiny test tokenizer; ids beyond its
// vocabulary never meet it, the files only make the directory complete).
func tokFiles(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := readTokFiles()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readTokFiles() (map[string][]byte, error) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "models", "tiny-bert-mean", "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"tokenizer.json": b}, nil
}

// tinyBERT is a 2-layer, hidden-32 BERT bi-encoder over 100 ids with dropout off.
func tinyBERT(t testing.TB, seed uint64) *encoder.BiEncoder {
	t.Helper()
	m, err := encoder.NewBERTBiEncoder(idTokenizer{100}, tokFiles(t), encoder.BERTSpec{Layers: 2, Hidden: 32, Heads: 4,
		Intermediate: 64, MaxLength: 64, Seed: seed}, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Layout().Config.HiddenDropoutProb, m.Layout().Config.AttentionProbsDropoutProb = 0, 0
	return m
}

// randomSeqs draws n sequences of 3..maxLen ids in [1, vocab) with [CLS]=1 … [SEP]=2 framing.
func randomSeqs(rng *rand.Rand, n, maxLen, vocab int) []encoder.Sequence {
	out := make([]encoder.Sequence, n)
	for i := range out {
		l := 3 + rng.IntN(maxLen-2)
		ids := make([]int32, l)
		for j := range ids {
			ids[j] = int32(3 + rng.IntN(vocab-3))
		}
		ids[0], ids[l-1] = 1, 2
		out[i] = encoder.Sequence{IDs: ids}
	}
	return out
}

// fixedSeqs returns n sequences of exactly length tokens: BERT's [CLS] (101), word-piece ids drawn from
// [1000, 30000), [SEP] (102) — the shape of a full batch in the step benchmarks.
func fixedSeqs(rng *rand.Rand, n, length int) []encoder.Sequence {
	out := make([]encoder.Sequence, n)
	for i := range out {
		ids := make([]int32, length)
		for j := range ids {
			ids[j] = int32(1000 + rng.IntN(29000))
		}
		ids[0], ids[length-1] = 101, 102
		out[i] = encoder.Sequence{IDs: ids}
	}
	return out
}

func biEngine(t testing.TB, m *encoder.BiEncoder, loss losses.EmbeddingLoss, cols int, adam optim.AdamW, maxNorm float64) *engine {
	t.Helper()
	e, err := newBiEngine(m, loss, cols, adam, maxNorm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func newBiEngine(m *encoder.BiEncoder, loss losses.EmbeddingLoss, cols int, adam optim.AdamW, maxNorm float64) (*engine, error) {
	return newBiEncoderEngine(m, loss, cols, adam, maxNorm)
}

// accumulators reads the gradient accumulators by parameter name.
func accumulators(t testing.TB, e *engine) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, p := range e.params {
		v, err := p.grad.Value()
		if err != nil {
			t.Fatal(err)
		}
		out[p.name] = tensors.MustCopyFlatData[float32](v)
	}
	return out
}

func zeroAccumulators(t testing.TB, e *engine) {
	t.Helper()
	for _, p := range e.params {
		if err := p.grad.SetValue(tensors.FromShape(p.grad.Shape())); err != nil {
			t.Fatal(err)
		}
	}
}

func paramValues(t testing.TB, e *engine) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for _, p := range e.params {
		v, err := p.v.Value()
		if err != nil {
			t.Fatal(err)
		}
		out[p.name] = tensors.MustCopyFlatData[float32](v)
	}
	return out
}
