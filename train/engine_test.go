package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// maxRelDiff is max |a−b| / max(max |b|, 1e-3) over the tensors of two parameter maps, and the tensor it is in.
func maxRelDiff(a, b map[string][]float32) (float64, string) {
	worst, where := 0.0, ""
	for name, bv := range b {
		av := a[name]
		scale := 1e-3
		for _, x := range bv {
			scale = math.Max(scale, math.Abs(float64(x)))
		}
		for i := range bv {
			if d := math.Abs(float64(av[i])-float64(bv[i])) / scale; d > worst || math.IsNaN(d) {
				worst, where = d, name
			}
		}
	}
	return worst, where
}

// GradCache must give the gradients of plain MNRL on the same batch (dropout off): with hard negatives,
// Matryoshka, a partial batch (padding rows) and a batch that is not a multiple of the chunk size.
func TestGradCacheMatchesPlainGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mnrl, err := losses.Matryoshka(losses.MultipleNegativesRanking(20), []int{16, 32, 8}, []float64{1, 0.5, 2})
	if err != nil {
		t.Fatal(err)
	}
	m := tinyBERT(t, 3)
	e := biEngine(t, m, mnrl, 3, optim.DefaultAdamW(), 1)
	for _, n := range []int{12, 9} { // full batch of 12; 9 real rows padded to 12
		b := Batch{Columns: [][]encoder.Sequence{randomSeqs(rng, n, 20, 100), randomSeqs(rng, n, 40, 100), randomSeqs(rng, n, 40, 100)}}
		zeroAccumulators(t, e)
		plainLoss, err := e.accumulateMicro(b, 0, 0, 0.5, shape{rows: 12, maxLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		plain := accumulators(t, e)
		zeroAccumulators(t, e)
		cachedLoss, err := e.gradCache(b, 0, 0, 0.5, shape{rows: 12, miniRows: 5, maxLen: 64})
		if err != nil {
			t.Fatal(err)
		}
		cached := accumulators(t, e)
		if math.Abs(plainLoss-cachedLoss) > 1e-5*math.Abs(plainLoss) {
			t.Errorf("%d rows: loss plain %v, cached %v", n, plainLoss, cachedLoss)
		}
		d, where := maxRelDiff(cached, plain)
		if d > 1e-4 {
			t.Errorf("%d rows: gradients differ by %.2g (relative) in %s", n, d, where)
		}
		t.Logf("%d rows: loss %.6f, cached vs plain gradients: max relative difference %.2g", n, plainLoss, d)
		var norm float64
		for _, g := range plain["encoder.layer.0.attention.self.query.weight"] {
			norm += float64(g) * float64(g)
		}
		if norm == 0 {
			t.Errorf("%d rows: zero gradient", n)
		}
		if g := plain["pooler.dense.weight"]; g[0] != 0 {
			t.Errorf("the unused pooler got a gradient")
		}
	}
}

// One fused step and one accumulate+apply step over the same batch give the same weights.
func TestFusedStepMatchesAccumulateApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := Batch{Columns: [][]encoder.Sequence{randomSeqs(rng, 6, 20, 100), randomSeqs(rng, 6, 30, 100)}}
	adam := optim.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}
	run := func(split bool) map[string][]float32 {
		e := biEngine(t, tinyBERT(t, 9), losses.MultipleNegativesRanking(20), 2, adam, 0.5)
		sh := shape{rows: 8, maxLen: 64}
		for step := range 3 {
			var err error
			if split {
				// The same batch twice at weight 1/2 each: the same gradient as once.
				_, _, err = e.step([]Batch{b, b}, step, 1e-3, sh)
			} else {
				_, _, err = e.step([]Batch{b}, step, 1e-3, sh)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return paramValues(t, e)
	}
	fused, split := run(false), run(true)
	d, where := maxRelDiff(split, fused)
	if d > 1e-5 {
		t.Errorf("fused and accumulated steps differ by %.2g in %s", d, where)
	}
	t.Logf("fused vs accumulated: max relative difference %.2g", d)
}
