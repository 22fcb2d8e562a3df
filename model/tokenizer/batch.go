package tokenizer

import (
	"runtime"
	"sync"
)

// Batch is encodings padded to one length, row-major N×Len, ready to become int32 tensors.
type Batch struct {
	N, Len int
	// IDs are right-padded with PadID; TypeIDs with 0; Mask is 1 on tokens and 0 on padding.
	IDs, TypeIDs, Mask []int32
}

// Row returns row i of ids, type ids and mask (slices into the batch).
func (b Batch) Row(i int) (ids, typeIDs, mask []int32) {
	lo, hi := i*b.Len, (i+1)*b.Len
	return b.IDs[lo:hi], b.TypeIDs[lo:hi], b.Mask[lo:hi]
}

// Pad right-pads encs into a Batch of length max(toLen, longest encoding). toLen lets callers round
// lengths up to a few bucket sizes (GoMLX compiles one program per tensor shape); it never truncates.
func (t *Tokenizer) Pad(encs []Encoding, toLen int) Batch {
	n := toLen
	for _, e := range encs {
		n = max(n, len(e.IDs))
	}
	b := Batch{N: len(encs), Len: n,
		IDs:     make([]int32, len(encs)*n),
		TypeIDs: make([]int32, len(encs)*n),
		Mask:    make([]int32, len(encs)*n),
	}
	for i, e := range encs {
		ids, typ, mask := b.Row(i)
		copy(ids, e.IDs)
		copy(typ, e.TypeIDs)
		for j := range e.IDs {
			if j < len(e.Mask) {
				mask[j] = e.Mask[j]
			} else {
				mask[j] = 1
			}
		}
		for j := len(e.IDs); j < n; j++ {
			ids[j] = t.padID
		}
	}
	return b
}

// EncodeBatch encodes texts in parallel (one worker per CPU); result i is Encode(texts[i], maxLen).
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) []Encoding {
	out := make([]Encoding, len(texts))
	parallel(len(texts), func(i int) { out[i] = t.Encode(texts[i], maxLen) })
	return out
}

// EncodePairBatch encodes pairs (a[i], b[i]) in parallel; a and b must have the same length.
func (t *Tokenizer) EncodePairBatch(a, b []string, maxLen int) []Encoding {
	if len(a) != len(b) {
		panic("tokenizer: EncodePairBatch needs as many second texts as first texts")
	}
	out := make([]Encoding, len(a))
	parallel(len(a), func(i int) { out[i] = t.EncodePair(a[i], b[i], maxLen) })
	return out
}

// EncodeNoSpecialBatch encodes texts without special tokens in parallel.
func (t *Tokenizer) EncodeNoSpecialBatch(texts []string, maxLen int) []Encoding {
	out := make([]Encoding, len(texts))
	parallel(len(texts), func(i int) { out[i] = t.EncodeNoSpecial(texts[i], maxLen) })
	return out
}

func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	const chunk = 16
	next := make(chan int, workers)
	go func() {
		for i := 0; i < n; i += chunk {
			next <- i
		}
		close(next)
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				for i := lo; i < min(lo+chunk, n); i++ {
					f(i)
				}
			}
		}()
	}
	wg.Wait()
}
