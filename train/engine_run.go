package train

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/train/optim"
)

// shape fixes the programs' shapes: every batch is padded to rows rows (and GradCache chunks have miniRows
// rows; 0 = no GradCache); sequences are bucketed up to maxLen tokens (0 = no cap) and padded with padID.
type shape struct {
	rows, miniRows, maxLen int
	padID                  int32
}

func scalar(t *tensors.Tensor) (float64, error) {
	v, err := tensors.CopyFlatData[float32](t)
	t.FinalizeAll()
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("expected a scalar, got %d values", len(v))
	}
	return float64(v[0]), nil
}

func (e *engine) seedDropout(parts ...int) error {
	return e.store.SetRNGStateFromSeed(dropoutSeed(e.seed, parts...))
}

// step runs optimizer step number step (0-based) over micros (gradient accumulation: each micro-batch's loss
// weighs 1/len(micros)) at learning rate lr. It returns the mean micro-batch loss and the gradient norm
// before clipping. A non-finite loss or norm leaves the weights and moments unchanged (the caller stops).
func (e *engine) step(micros []Batch, step int, lr float64, sh shape) (loss, norm float64, err error) {
	for i, b := range micros {
		if err := b.check(e.numCols, e.labels); err != nil {
			return 0, 0, fmt.Errorf("micro-batch %d: %w", i, err)
		}
		if b.Rows() > sh.rows {
			return 0, 0, fmt.Errorf("micro-batch %d has %d rows, the batch size is %d", i, b.Rows(), sh.rows)
		}
	}
	scalars := tensors.FromValue(e.adam.StepScalars(step+1, lr).Vector())
	if len(micros) == 1 && sh.miniRows == 0 {
		in, err := e.batchInputs(micros[0], 0, micros[0].Rows(), sh.rows, sh.maxLen, sh.padID)
		if err != nil {
			return 0, 0, err
		}
		if err := e.seedDropout(step, 0); err != nil {
			return 0, 0, err
		}
		outs, err := e.fused.Exec(append(in, scalars)...)
		if err != nil {
			return 0, 0, fmt.Errorf("training step: %w", err)
		}
		if loss, err = scalar(outs[0]); err != nil {
			return 0, 0, err
		}
		norm, err = scalar(outs[1])
		return loss, norm, err
	}
	weight := 1 / float64(len(micros))
	for i, b := range micros {
		var l float64
		if sh.miniRows > 0 {
			l, err = e.gradCache(b, step, i, weight, sh)
		} else {
			l, err = e.accumulateMicro(b, step, i, weight, sh)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("micro-batch %d: %w", i, err)
		}
		loss += l * weight
	}
	outs, err := e.apply.Exec(scalars)
	if err != nil {
		return 0, 0, fmt.Errorf("optimizer update: %w", err)
	}
	norm, err = scalar(outs[0])
	return loss, norm, err
}

func (e *engine) accumulateMicro(b Batch, step, micro int, weight float64, sh shape) (float64, error) {
	in, err := e.batchInputs(b, 0, b.Rows(), sh.rows, sh.maxLen, sh.padID)
	if err != nil {
		return 0, err
	}
	if err := e.seedDropout(step, micro); err != nil {
		return 0, err
	}
	outs, err := e.accumulate.Exec(append(in, tensors.FromScalar(float32(weight)))...)
	if err != nil {
		return 0, err
	}
	return scalar(outs[0])
}

// gradCache adds weight × the gradient of b's loss to the accumulators, GradCache-style (Gao et al. 2021,
// "Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup", arXiv:2101.06983): memory is
// bounded by one chunk of sh.miniRows rows, whatever the batch size.
func (e *engine) gradCache(b Batch, step, micro int, weight float64, sh shape) (float64, error) {
	n := b.Rows()
	chunks := (sh.rows + sh.miniRows - 1) / sh.miniRows
	rows := chunks * sh.miniRows
	var dim int
	embs := make([][]float32, e.numCols)
	// (1) Embed every chunk without gradients.
	for c, col := range b.Columns {
		for k := range chunks {
			lo := k * sh.miniRows
			if lo >= n {
				break // all-padding chunks: zero embeddings, masked out of the loss
			}
			hi := min(lo+sh.miniRows, n)
			ts, err := padColumn(col, lo, hi, sh.miniRows, sh.maxLen, sh.padID)
			if err != nil {
				return 0, fmt.Errorf("column %d: %w", c, err)
			}
			if err := e.seedDropout(step, micro, c, k); err != nil {
				return 0, err
			}
			outs, err := e.embed.Exec(ts[0], ts[1], ts[2], ts[3])
			if err != nil {
				return 0, fmt.Errorf("column %d rows %d–%d: embed: %w", c, lo, hi, err)
			}
			if embs[c] == nil {
				dim = outs[0].Shape().Dimensions[1]
				embs[c] = make([]float32, rows*dim)
			}
			flat, err := tensors.CopyFlatData[float32](outs[0])
			outs[0].FinalizeAll()
			if err != nil {
				return 0, err
			}
			copy(embs[c][lo*dim:], flat)
		}
	}
	// (2) The loss over the whole batch and its gradient with respect to the embeddings.
	in := make([]any, 0, e.numCols+2)
	for c := range e.numCols {
		in = append(in, tensors.FromFlatDataAndDimensions(embs[c], rows, dim))
	}
	in = append(in, validTensor(n, rows))
	if e.labels {
		in = append(in, labelsTensor(b.Labels, rows, max(1, len(b.Labels)/max(1, b.Rows()))))
	}
	outs, err := e.lossGrad.Exec(in...)
	if err != nil {
		return 0, fmt.Errorf("loss over %d embedded rows: %w", n, err)
	}
	loss, err := scalar(outs[0])
	if err != nil {
		return 0, err
	}
	// (3) Per chunk, the forward again with gradients, chained to the cached embedding gradients.
	w := tensors.FromScalar(float32(weight))
	for c, col := range b.Columns {
		grad, err := tensors.CopyFlatData[float32](outs[1+c])
		outs[1+c].FinalizeAll()
		if err != nil {
			return 0, err
		}
		for k := range chunks {
			lo := k * sh.miniRows
			if lo >= n {
				break
			}
			hi := min(lo+sh.miniRows, n)
			ts, err := padColumn(col, lo, hi, sh.miniRows, sh.maxLen, sh.padID)
			if err != nil {
				return 0, fmt.Errorf("column %d: %w", c, err)
			}
			g := tensors.FromFlatDataAndDimensions(grad[lo*dim:(lo+sh.miniRows)*dim], sh.miniRows, dim)
			if err := e.seedDropout(step, micro, c, k); err != nil {
				return 0, err
			}
			if _, err := e.surrogate.Exec(ts[0], ts[1], ts[2], ts[3], g, w); err != nil {
				return 0, fmt.Errorf("column %d rows %d–%d: gradient: %w", c, lo, hi, err)
			}
		}
	}
	return loss, nil
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

var _ = optim.Linear
