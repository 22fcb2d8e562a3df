package train

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// memChildEnv selects the one-step child run of BenchmarkMNRLPeakMemory1024: "plain" or "cached".
const memChildEnv = "RAGNB_TRAIN_MEM_CHILD"

// TestMain lets the test binary serve as BenchmarkMNRLPeakMemory1024's child process: peak RSS is a
// per-process figure, so each loss runs its step in a fresh process.
func TestMain(m *testing.M) {
	if mode := os.Getenv(memChildEnv); mode != "" {
		if err := memChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// memChild runs one MNRL step at global batch 1024 on a 2-layer, hidden-128 BERT with 32-token pairs, plain
// (the whole batch in one graph) or cached (GradCache, 32-row chunks), and prints its time and peak RSS. (At 4
// layers, hidden 256 and 64 tokens the plain step was killed for memory on a 24 GiB machine.)
func memChild(mode string) error {
	files, err := readTokFiles()
	if err != nil {
		return err
	}
	m, err := encoder.NewBERTBiEncoder(idTokenizer{30522}, files, encoder.BERTSpec{Layers: 2, Hidden: 128,
		Heads: 2, Intermediate: 512, MaxLength: 32, Seed: 1}, encoder.Options{})
	if err != nil {
		return err
	}
	// Dropout off: the two ways draw different masks, and their losses must agree.
	m.Layout().Config.HiddenDropoutProb, m.Layout().Config.AttentionProbsDropoutProb = 0, 0
	e, err := newBiEngine(m, losses.MultipleNegativesRanking(20), 2, optim.DefaultAdamW(), 1)
	if err != nil {
		return err
	}
	defer e.close()
	rng := rand.New(rand.NewPCG(1, 1))
	batch := Batch{Columns: [][]encoder.Sequence{fixedSeqs(rng, 1024, 32), fixedSeqs(rng, 1024, 32)}}
	sh := shape{rows: 1024, maxLen: 32}
	if mode == "cached" {
		sh.miniRows = 32
	}
	start := time.Now()
	loss, _, err := e.step([]Batch{batch}, 0, 5e-5, sh)
	if err != nil {
		return err
	}
	fmt.Printf("loss %.6f seconds %.2f peak_rss_kib %d\n", loss, time.Since(start).Seconds(), peakRSSKiB())
	return nil
}

// peakRSSKiB is this process's VmHWM from /proc/self/status (0 where there is none).
func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// BenchmarkMNRLPeakMemory1024 compares the peak memory of one training step at a global batch of 1024
// (anchor, positive) pairs: plain MNRL holds the whole batch's activations, cached MNRL (GradCache) one
// 32-row chunk's. Each runs in its own process (the test binary re-executed); both losses must agree.
func BenchmarkMNRLPeakMemory1024(b *testing.B) {
	figures := map[string][3]float64{}
	for range b.N {
		for _, mode := range []string{"cached", "plain"} {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), memChildEnv+"="+mode)
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("%s child: %v\n%s", mode, err, out)
			}
			var loss, secs float64
			var kib int
			if _, err := fmt.Sscanf(string(out), "loss %f seconds %f peak_rss_kib %d", &loss, &secs, &kib); err != nil {
				b.Fatalf("%s child output %q: %v", mode, out, err)
			}
			figures[mode] = [3]float64{loss, secs, float64(kib) / 1024}
		}
	}
	p, c := figures["plain"], figures["cached"]
	if d := p[0] - c[0]; d > 1e-4 || d < -1e-4 {
		b.Errorf("plain loss %v, cached loss %v", p[0], c[0])
	}
	b.ReportMetric(p[2], "plain-peak-MiB")
	b.ReportMetric(c[2], "cached-peak-MiB")
	b.ReportMetric(p[1], "plain-s/step")
	b.ReportMetric(c[1], "cached-s/step")
}
