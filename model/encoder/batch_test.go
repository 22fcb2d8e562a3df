package encoder

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ragnb/ragnb/progress"
)

func TestBucketLength(t *testing.T) {
	for _, c := range []struct{ n, maxLen, want int }{
		{0, 512, 16}, {1, 512, 16}, {16, 512, 16}, {17, 512, 32}, {128, 512, 128}, {129, 512, 160},
		{257, 512, 320}, {500, 512, 512}, {513, 0, 640}, {100, 100, 100}, {97, 100, 100}, {60, 64, 64},
	} {
		if got := BucketLength(c.n, c.maxLen); got != c.want {
			t.Errorf("BucketLength(%d, %d) = %d, want %d", c.n, c.maxLen, got, c.want)
		}
	}
}

func TestPlanBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := make([]int, 203)
	for i := range lengths {
		lengths[i] = 1 + rng.IntN(300)
	}
	plans := planBatches(lengths, 32, 4096, 512)
	seen := make([]bool, len(lengths))
	shapes := map[[2]int]bool{}
	for i, p := range plans {
		shapes[[2]int{p.rows, p.len}] = true
		if p.rows&(p.rows-1) != 0 || p.rows > 32 || len(p.index) > p.rows {
			t.Errorf("batch %d: %d rows for %d texts", i, p.rows, len(p.index))
		}
		if p.rows*p.len > 4096 && p.rows > 1 {
			t.Errorf("batch %d: %d×%d exceeds the token budget", i, p.rows, p.len)
		}
		for _, si := range p.index {
			if seen[si] {
				t.Fatalf("text %d in two batches", si)
			}
			seen[si] = true
			if lengths[si] > p.len {
				t.Errorf("text %d of length %d in a batch of length %d", si, lengths[si], p.len)
			}
		}
		if i > 0 && p.len > plans[i-1].len {
			t.Errorf("batches not longest first")
		}
	}
	if slices.Contains(seen, false) {
		t.Error("a text is in no batch")
	}
	t.Logf("%d texts in %d batches of %d distinct shapes", len(lengths), len(plans), len(shapes))
	if len(shapes) > 16 {
		t.Errorf("%d distinct shapes: bucketing should keep compilations to a handful", len(shapes))
	}
}

// Embedding texts in a batch (length-sorted, bucketed, padded) gives each text the embedding it gets alone,
// in input order, and progress counts every text.
func TestBatchingKeepsOrderAndValues(t *testing.T) {
	m, _ := loadWithoutTokenizer(t, filepath.Join("..", "..", "testdata", "models", "tiny-bert-mean"))
	rng := rand.New(rand.NewPCG(3, 4))
	var seqs []Sequence
	for range 37 {
		n := 2 + rng.IntN(60)
		ids := make([]int32, n)
		for j := range ids {
			ids[j] = int32(5 + rng.IntN(100))
		}
		seqs = append(seqs, Sequence{IDs: ids})
	}
	var last progress.Report
	batched, err := m.EmbedSequences(context.Background(), seqs, func(r progress.Report) { last = r })
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != len(seqs) || last.Total != len(seqs) {
		t.Errorf("last progress %+v", last)
	}
	for i, s := range seqs {
		alone, err := m.EmbedSequences(context.Background(), []Sequence{s}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j, x := range alone.Row(0) {
			if d := math.Abs(float64(x - batched.Row(i)[j])); d > 1e-6 {
				t.Fatalf("text %d: batched embedding differs from the text alone by %g", i, d)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.EmbedSequences(ctx, seqs, nil); err == nil {
		t.Error("cancelled context: want an error")
	}
	if _, err := m.EmbedSequences(context.Background(), []Sequence{{IDs: make([]int32, 65)}}, nil); err == nil {
		t.Error("a sequence longer than the model's 64 positions: want an error")
	}
}
