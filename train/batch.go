package train

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/model/encoder"
)

// Batch is one training batch, tokenized: Columns[c][r] is row r's sequence in input column c (anchor,
// positive, negatives…; or the single query–passage pair column of a cross-encoder), Labels[r] the row's
// label or teacher score (cross-encoders; nil otherwise), or Labels[r·G+j] the teacher's score of row r's
// j-th group passage (bi-encoders distilled from FlagEmbedding scores).
type Batch struct {
	Columns [][]encoder.Sequence
	Labels  []float32
}

// Rows is the number of rows in the batch.
func (b Batch) Rows() int {
	if len(b.Columns) == 0 {
		return 0
	}
	return len(b.Columns[0])
}

func (b Batch) check(numCols int, labels bool) error {
	if len(b.Columns) != numCols {
		return fmt.Errorf("batch has %d columns, the loss takes %d", len(b.Columns), numCols)
	}
	for c, col := range b.Columns {
		if len(col) != b.Rows() {
			return fmt.Errorf("batch column %d has %d rows, column 0 has %d", c, len(col), b.Rows())
		}
	}
	if b.Rows() == 0 {
		return fmt.Errorf("empty batch")
	}
	if labels && (len(b.Labels) == 0 || len(b.Labels)%b.Rows() != 0) {
		return fmt.Errorf("batch has %d labels for %d rows", len(b.Labels), b.Rows())
	}
	return nil
}

// padColumn pads rows lo..hi-1 of seqs into [rows, L] tensors (ids, type ids, attention mask, pooling mask).
// Rows past the data repeat row lo (they are masked out of the loss by the valid mask, and a real sequence
// keeps every intermediate finite). L is encoder.BucketLength of the longest sequence, capped at maxLen.
func padColumn(seqs []encoder.Sequence, lo, hi, rows, maxLen int, padID int32) ([]*tensors.Tensor, error) {
	longest := 1
	for i := lo; i < hi; i++ {
		n := len(seqs[i].IDs)
		if maxLen > 0 && n > maxLen {
			return nil, fmt.Errorf("sequence of %d tokens, the model takes at most %d", n, maxLen)
		}
		if len(seqs[i].TypeIDs) != 0 && len(seqs[i].TypeIDs) != n {
			return nil, fmt.Errorf("sequence with %d ids and %d type ids", n, len(seqs[i].TypeIDs))
		}
		longest = max(longest, n)
	}
	l := max(encoder.BucketLength(longest, maxLen), longest)
	ids, types, mask, pool := make([]int32, rows*l), make([]int32, rows*l), make([]int32, rows*l), make([]int32, rows*l)
	for i := range ids {
		ids[i] = padID
	}
	for r := range rows {
		s := seqs[lo]
		if lo+r < hi {
			s = seqs[lo+r]
		}
		off := r * l
		copy(ids[off:], s.IDs)
		copy(types[off:], s.TypeIDs)
		for j := range s.IDs {
			mask[off+j] = 1
			if j >= s.SkipPool {
				pool[off+j] = 1
			}
		}
	}
	out := make([]*tensors.Tensor, perColumn)
	for i, d := range [][]int32{ids, types, mask, pool} {
		out[i] = tensors.FromFlatDataAndDimensions(d, rows, l)
	}
	return out, nil
}

// validTensor is the [rows] row mask with n real rows.
func validTensor(n, rows int) *tensors.Tensor {
	v := make([]float32, rows)
	for i := range min(n, rows) {
		v[i] = 1
	}
	return tensors.FromFlatDataAndDimensions(v, rows)
}

// labelsTensor pads labels to rows (padding rows get 0; they are masked out): [rows], or [rows, width] when
// each row has width labels (a group's teacher scores).
func labelsTensor(labels []float32, rows, width int) *tensors.Tensor {
	v := make([]float32, rows*width)
	copy(v, labels)
	if width == 1 {
		return tensors.FromFlatDataAndDimensions(v, rows)
	}
	return tensors.FromFlatDataAndDimensions(v, rows, width)
}

// batchInputs lays out a batch program's inputs for rows lo..hi-1 padded to rows: per column ids, types,
// mask, pool mask; valid; labels.
func (e *engine) batchInputs(b Batch, lo, hi, rows, maxLen int, padID int32) ([]any, error) {
	var in []any
	for c, col := range b.Columns {
		ts, err := padColumn(col, lo, hi, rows, maxLen, padID)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", c, err)
		}
		for _, t := range ts {
			in = append(in, t)
		}
	}
	in = append(in, validTensor(hi-lo, rows))
	if e.labels {
		w := max(1, len(b.Labels)/max(1, b.Rows()))
		in = append(in, labelsTensor(b.Labels[lo*w:hi*w], rows, w))
	}
	return in, nil
}
