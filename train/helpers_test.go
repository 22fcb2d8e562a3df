package train

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/encoder"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/losses"
	"github.com/ragnb/ragnb/optim"
)

// idTokenizer is a stand-in tokenizer for tests that feed token ids directly.
type idTokenizer struct{ vocab int }

func (t idTokenizer) Encode(string, int) encoder.Sequence             { panic("idTokenizer: no text") }
func (t idTokenizer) EncodePair(string, string, int) encoder.Sequence { panic("idTokenizer: no text") }
func (t idTokenizer) EncodeNoSpecial(string, int) encoder.Sequence    { panic("idTokenizer: no text") }
func (t idTokenizer) VocabSize() int                                  { return t.vocab }
func (t idTokenizer) PadID() int32                                    { return 0 }

// tinyBERT is a 2-layer, hidden-32 BERT bi-encoder over 100 ids with dropout off.
func tinyBERT(t testing.TB, seed uint64) *encoder.BiEncoder {
	t.Helper()
	m, err := encoder.NewBERTBiEncoder(idTokenizer{100}, nil, encoder.BERTSpec{Layers: 2, Hidden: 32, Heads: 4,
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

func biEngine(t testing.TB, m *encoder.BiEncoder, loss losses.EmbeddingLoss, cols int, adam optim.AdamW, maxNorm float64) *engine {
	t.Helper()
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	fwd := func(scope *model.Scope, ids, types, mask, pool *graph.Node) *graph.Node {
		return m.EmbedGraphPoolMask(scope, ids, types, mask, pool)
	}
	lf := func(outs []*graph.Node, valid, _ *graph.Node) *graph.Node { return loss(outs, valid) }
	e, err := newEngine(b.Backend, m.Store(), fwd, lf, cols, false, adam, maxNorm, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
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
