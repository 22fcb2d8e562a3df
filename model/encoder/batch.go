package encoder

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/progress"
)

// Sequence is one tokenized input: token ids and token type ids (nil means all 0). Padding is added by the
// batcher.
type Sequence struct {
	IDs, TypeIDs []int32
	// SkipPool leaves the first SkipPool tokens out of pooling (sentence-transformers' include_prompt=false).
	SkipPool int
}

// BucketLength rounds a sequence length up to the length its batch is padded to, so that a corpus compiles a
// handful of programs rather than one per length: multiples of 16 up to 128, of 32 up to 256, of 64 up to
// 512, then of 128; never more than maxLen when n ≤ maxLen (maxLen ≤ 0: no cap).
func BucketLength(n, maxLen int) int {
	if n < 1 {
		n = 1
	}
	step := 128
	switch {
	case n <= 128:
		step = 16
	case n <= 256:
		step = 32
	case n <= 512:
		step = 64
	}
	b := (n + step - 1) / step * step
	if maxLen > 0 && n <= maxLen && b > maxLen {
		b = maxLen
	}
	return b
}

// batchPlan is one batch: which sequences (indices into the input) and the padded shape.
type batchPlan struct {
	index     []int
	rows, len int
}

// planBatches sorts sequences by length (longest first, ties in input order) and cuts them into batches of
// at most batchSize rows and maxTokens padded tokens; each batch's row count is rounded up to a power of two
// (the extra rows are all padding) so the last, partial batch does not compile a program of its own size.
func planBatches(lengths []int, batchSize, maxTokens, maxLen int) []batchPlan {
	order := make([]int, len(lengths))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lengths[b], lengths[a]) })
	var plans []batchPlan
	for start := 0; start < len(order); {
		l := BucketLength(lengths[order[start]], maxLen)
		rows := batchSize
		if maxTokens > 0 {
			rows = min(rows, max(1, maxTokens/l))
		}
		rows = floorPow2(rows)
		end := min(start+rows, len(order))
		n := end - start
		plans = append(plans, batchPlan{index: order[start:end], rows: min(rows, ceilPow2(n)), len: l})
		start = end
	}
	return plans
}

func floorPow2(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

func ceilPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// padded builds the [rows, len] ids, type ids, attention mask and pooling mask tensors of a batch,
// right-padded with padID.
func padded(seqs []Sequence, plan batchPlan, padID int32) (ids, types, mask, poolMask *tensors.Tensor) {
	n := plan.rows * plan.len
	idData, typeData, maskData, poolData := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	for i := range idData {
		idData[i] = padID
	}
	for r, si := range plan.index {
		s := seqs[si]
		copy(idData[r*plan.len:], s.IDs)
		copy(typeData[r*plan.len:], s.TypeIDs)
		for j := range s.IDs {
			maskData[r*plan.len+j] = 1
			if j >= s.SkipPool {
				poolData[r*plan.len+j] = 1
			}
		}
	}
	dims := []int{plan.rows, plan.len}
	return tensors.FromFlatDataAndDimensions(idData, dims...), tensors.FromFlatDataAndDimensions(typeData, dims...),
		tensors.FromFlatDataAndDimensions(maskData, dims...), tensors.FromFlatDataAndDimensions(poolData, dims...)
}

// runBatches runs fn over length-sorted, bucketed batches and scatters its per-row outputs (width values
// each) back into input order. It checks ctx between batches and reports progress in units of sequences.
func runBatches(ctx context.Context, seqs []Sequence, cfg batchConfig, width int, report progress.Func, stage string,
	fn func(ids, types, mask, poolMask *tensors.Tensor) (*tensors.Tensor, error)) ([]float32, error) {
	lengths := make([]int, len(seqs))
	for i, s := range seqs {
		if len(s.TypeIDs) != 0 && len(s.TypeIDs) != len(s.IDs) {
			return nil, fmt.Errorf("sequence %d: %d type ids for %d ids", i, len(s.TypeIDs), len(s.IDs))
		}
		if cfg.maxLen > 0 && len(s.IDs) > cfg.maxLen {
			return nil, fmt.Errorf("sequence %d: %d tokens, the model takes at most %d", i, len(s.IDs), cfg.maxLen)
		}
		lengths[i] = len(s.IDs)
	}
	out := make([]float32, len(seqs)*width)
	tracker := progress.Start(report, stage, len(seqs), "texts")
	for _, plan := range planBatches(lengths, cfg.batchSize, cfg.maxTokens, cfg.maxLen) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ids, types, mask, poolMask := padded(seqs, plan, cfg.padID)
		res, err := fn(ids, types, mask, poolMask)
		if err != nil {
			return nil, fmt.Errorf("%s: batch of %d×%d: %w", stage, plan.rows, plan.len, err)
		}
		flat, err := tensors.CopyFlatData[float32](res)
		res.FinalizeAll()
		if err != nil {
			return nil, err
		}
		if len(flat) != plan.rows*width {
			return nil, fmt.Errorf("%s: model returned %d values for %d rows of width %d", stage, len(flat), plan.rows, width)
		}
		for r, si := range plan.index {
			copy(out[si*width:(si+1)*width], flat[r*width:(r+1)*width])
		}
		tracker.Add(len(plan.index))
	}
	tracker.Finish()
	return out, nil
}

// batchConfig bounds batches.
type batchConfig struct {
	batchSize, maxTokens, maxLen int
	padID                        int32
}

// Pad right-pads sequences into [len(seqs), L] int32 tensors of ids, type ids and attention mask, where L is
// BucketLength of the longest sequence (capped at maxLen when positive) or toLen if larger: the inputs of
// EmbedGraph / LogitGraph for a training step.
func Pad(seqs []Sequence, toLen, maxLen int, padID int32) (ids, types, mask *tensors.Tensor) {
	longest := 0
	for _, s := range seqs {
		longest = max(longest, len(s.IDs))
	}
	plan := batchPlan{rows: len(seqs), len: max(toLen, BucketLength(longest, maxLen), longest)}
	for i := range seqs {
		plan.index = append(plan.index, i)
	}
	ids, types, mask, _ = padded(seqs, plan, padID)
	return ids, types, mask
}
