package train

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// BenchmarkStaticStep is one optimizer step of the financial static recipe: a bert-base-uncased-vocabulary
// static model (30,522 × 256), batch 64, questions of ~16 tokens and passages of ~64, MNRL inside Matryoshka
// 256/128/64, AdamW (dense over the whole table, as torch's).
func BenchmarkStaticStep(b *testing.B) {
	m, err := encoder.NewStatic(context.Background(), idTokenizer{30522}, tokFiles(b), encoder.StaticSpec{Dim: 256, Seed: 1}, encoder.Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	loss, _ := losses.Matryoshka(losses.MultipleNegativesRanking(20), []int{256, 128, 64}, nil)
	e := biEngine(b, m, loss, 2, optim.DefaultAdamW(), 1)
	rng := rand.New(rand.NewPCG(1, 1))
	batch := Batch{Columns: [][]encoder.Sequence{randomSeqs(rng, 64, 16, 30522), randomSeqs(rng, 64, 64, 30522)}}
	sh := shape{rows: 64}
	if _, _, err := e.step([]Batch{batch}, 0, 0.05, sh); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := e.step([]Batch{batch}, i+1, 0.05, sh); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// BenchmarkMiniLMTrainStep is one optimizer step of a MiniLM-shape BERT (6 layers, hidden 384, 12 heads,
// FF 1536, 30,522 ids; dropout 0.1 as configured), batch 32 (anchor, positive) pairs of 128 tokens each, MNRL
// inside Matryoshka 384/256/128/64, AdamW: forward, backward and update. `python3 tools/train_reference.py
// bench` runs the same step in PyTorch.
func BenchmarkMiniLMTrainStep(b *testing.B) {
	m, err := encoder.NewBERTBiEncoder(idTokenizer{30522}, tokFiles(b), encoder.BERTSpec{MaxLength: 512, Seed: 1}, encoder.Options{})
	if err != nil {
		b.Fatal(err)
	}
	loss, _ := losses.Matryoshka(losses.MultipleNegativesRanking(20), []int{384, 256, 128, 64}, nil)
	e := biEngine(b, m, loss, 2, optim.DefaultAdamW(), 1)
	rng := rand.New(rand.NewPCG(1, 1))
	batch := Batch{Columns: [][]encoder.Sequence{fixedSeqs(rng, 32, 128), fixedSeqs(rng, 32, 128)}}
	sh := shape{rows: 32, maxLen: 512}
	if _, _, err := e.step([]Batch{batch}, 0, 5e-5, sh); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := e.step([]Batch{batch}, i+1, 5e-5, sh); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
	// CPU time per step is less sensitive than wall time to other processes on a shared machine.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/step")
}

// cpuSeconds is the process's user + system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
