// Package sampler orders training rows into batches the way sentence-transformers' samplers do, as pure
// functions of (seed, epoch): the same seed gives the same batches on every machine and after a resume. It
// owns the seeded permutation, plain batching and the no-duplicates rule (no text twice in a batch); it does
// not tokenize, pad or read data.
package sampler

import (
	"fmt"
	"math/rand/v2"
)

// Permutation is a seeded random order of 0..n-1 for one epoch: a pure function of (n, seed, epoch).
// (sentence-transformers reseeds torch's generator with seed+epoch; the order here is ragnb's own PCG draw,
// so it is reproducible but not the same order as torch's.)
func Permutation(n int, seed uint64, epoch int) []int {
	rng := rand.New(rand.NewPCG(seed, 0x73616d706c6572^uint64(epoch))) // "sampler"
	return rng.Perm(n)
}

// Batches cuts order into consecutive batches of size rows; the last, smaller batch is kept unless dropLast.
func Batches(order []int, size int, dropLast bool) ([][]int, error) {
	if size < 1 {
		return nil, fmt.Errorf("sampler: batch size %d, want at least 1", size)
	}
	var out [][]int
	for lo := 0; lo < len(order); lo += size {
		hi := min(lo+size, len(order))
		if hi-lo < size && dropLast {
			break
		}
		out = append(out, order[lo:hi:hi])
	}
	return out, nil
}

// NoDuplicates is sentence-transformers' NoDuplicatesBatchSampler over a given order: it walks the rows not
// yet batched in order and adds a row to the current batch unless one of its values (the texts of all its
// columns, labels excluded) is already in the batch; rows that clash wait, in order, for a later batch. A
// batch is closed when it has size rows; when a pass over the remaining rows cannot fill it, the smaller
// batch is kept (or dropped with dropLast) and the next batch starts again from the first remaining row.
// values(i) are row i's values, as comparable ids (e.g. interned texts).
func NoDuplicates(order []int, values func(row int) []int32, size int, dropLast bool) ([][]int, error) {
	if size < 1 {
		return nil, fmt.Errorf("sampler: batch size %d, want at least 1", size)
	}
	n := len(order)
	// A singly linked list over positions in order; -1 ends it.
	next := make([]int, n)
	for i := range next {
		next[i] = i + 1
	}
	if n > 0 {
		next[n-1] = -1
	}
	head := 0
	if n == 0 {
		head = -1
	}
	var out [][]int
	seen := map[int32]struct{}{}
	for head != -1 {
		clear(seen)
		batch := make([]int, 0, size)
		cur, prev := head, -1
		full := false
		for cur != -1 {
			nxt := next[cur]
			row := order[cur]
			vals := values(row)
			clash := false
			for _, v := range vals {
				if _, ok := seen[v]; ok {
					clash = true
					break
				}
			}
			if clash {
				prev, cur = cur, nxt
				continue
			}
			batch = append(batch, row)
			if prev == -1 {
				head = nxt
			} else {
				next[prev] = nxt
			}
			if len(batch) == size {
				full = true
				break
			}
			for _, v := range vals {
				seen[v] = struct{}{}
			}
			cur = nxt
		}
		if full || !dropLast {
			out = append(out, batch)
		}
	}
	return out, nil
}

// Interner gives each distinct string a small id, so rows' texts compare as integers.
type Interner struct {
	ids map[string]int32
}

// NewInterner returns an empty interner.
func NewInterner() *Interner { return &Interner{ids: map[string]int32{}} }

// ID returns s's id, assigning the next one the first time s is seen.
func (in *Interner) ID(s string) int32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	id := int32(len(in.ids))
	in.ids[s] = id
	return id
}

// Len is the number of distinct strings seen.
func (in *Interner) Len() int { return len(in.ids) }
