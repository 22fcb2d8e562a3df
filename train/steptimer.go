package train

import (
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// StepTimer runs optimizer steps of a bi-encoder on one fixed batch with the engine TrainBiEncoder uses
// (forward, backward, clipping, AdamW), so that `ragnb bench` times the real step and nothing else.
type StepTimer struct {
	e     *engine
	batch Batch
	sh    shape
	lr    float64
	step  int
}

// NewStepTimer prepares steps of m under loss on batch (every column's sequences of one length is the
// benchmark's shape), padding to at most maxLen tokens, at learning rate lr with AdamW and clipping at 1.
func NewStepTimer(m *encoder.BiEncoder, loss losses.EmbeddingLoss, batch Batch, maxLen int, lr float64) (*StepTimer, error) {
	e, err := newBiEncoderEngine(m, loss, len(batch.Columns), optim.DefaultAdamW(), 1)
	if err != nil {
		return nil, err
	}
	return &StepTimer{e: e, batch: batch, sh: shape{rows: batch.Rows(), maxLen: maxLen}, lr: lr}, nil
}

// Step runs one optimizer step and returns its loss; the first call also compiles the programs.
func (s *StepTimer) Step() (float64, error) {
	loss, _, err := s.e.step([]Batch{s.batch}, s.step, s.lr, s.sh)
	s.step++
	return loss, err
}

// Close releases the compiled programs and the optimizer state.
func (s *StepTimer) Close() { s.e.close() }

// newBiEncoderEngine is the engine of a bi-encoder under an embedding loss on the process's backend.
func newBiEncoderEngine(m *encoder.BiEncoder, loss losses.EmbeddingLoss, cols int, adam optim.AdamW, maxNorm float64) (*engine, error) {
	b, err := gpu.Shared()
	if err != nil {
		return nil, err
	}
	fwd := func(scope *model.Scope, ids, types, mask, pool *graph.Node) *graph.Node {
		return m.EmbedGraphPoolMask(scope, ids, types, mask, pool)
	}
	lf := func(outs []*graph.Node, valid, _ *graph.Node) *graph.Node { return loss(outs, valid) }
	return newEngine(b.Backend, m.Store(), fwd, lf, cols, false, adam, maxNorm, 1, dtypes.Float32)
}
