package encoder

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modernbert"
)

// miniLMShape is all-MiniLM-L6-v2's shape: 6 layers, hidden 384, 12 heads, FF 1536, 30,522 ids.
func miniLMShape() *bert.Config {
	c := bert.Defaults(30522)
	c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize = 6, 384, 12, 1536
	return c
}

// BenchmarkMiniLMForward embeds 32 texts of 128 tokens per iteration with a random MiniLM-shape model
// (forward + mean pooling + normalisation, the texts/s a corpus embeds at). tools/reference.py bench runs
// the same shape in PyTorch.
func BenchmarkMiniLMForward(b *testing.B) {
	m, err := RandomBERT(miniLMShape(), bert.PoolMean, 1, Options{BatchSize: 32})
	if err != nil {
		b.Fatal(err)
	}
	benchEmbed(b, m, 32, 128, 29000, 101, 102, false)
}

// BenchmarkModernBERTForward embeds 4 texts of 512 tokens per iteration with a random ModernBERT-base-shape
// model (22 layers, hidden 768, 12 heads, GeGLU intermediate 1152, global attention every 3 layers, local
// window 128, 50,368 ids; forward + mean pooling + normalisation). tools/bench_modernbert.py times the
// PyTorch reference at the same shape. One iteration (-benchtime 1x) takes tens of seconds on 2 cores.
func BenchmarkModernBERTForward(b *testing.B) {
	m, err := RandomModernBERT(modernbert.Defaults(50368, 50283, 50281, 50282), bert.PoolMean, 1, Options{BatchSize: 4})
	if err != nil {
		b.Fatal(err)
	}
	benchEmbed(b, m, 4, 512, 49000, 50281, 50282, true)
}

// benchEmbed times m embedding n texts of length tokens — ids drawn from [1000, 1000+span), framed by cls
// and sep — per iteration, compiled outside the timing, and reports texts/s and CPU ms per text (and the
// seconds per batch with perBatch).
func benchEmbed(b *testing.B, m *BiEncoder, n, length, span int, cls, sep int32, perBatch bool) {
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := make([]Sequence, n)
	for i := range seqs {
		ids := make([]int32, length)
		for j := range ids {
			ids[j] = int32(1000 + rng.IntN(span))
		}
		ids[0], ids[length-1] = cls, sep
		seqs[i] = Sequence{IDs: ids}
	}
	ctx := context.Background()
	if _, err := m.EmbedSequences(ctx, seqs, nil); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.EmbedSequences(ctx, seqs, nil); err != nil {
			b.Fatal(err)
		}
	}
	texts := float64(len(seqs) * b.N)
	if perBatch {
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/batch")
	}
	b.ReportMetric(texts/b.Elapsed().Seconds(), "texts/s")
	// CPU time per text is less sensitive than wall time to other processes on a shared machine.
	b.ReportMetric(1000*(cpuSeconds()-cpu0)/texts, "cpu-ms/text")
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
