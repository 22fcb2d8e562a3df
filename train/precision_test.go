package train

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
)

// BF16 autocast trains the same model to nearly the same losses as float32 — not exactly the same, which would
// mean the products never ran in bfloat16 — and leaves every weight a float32 variable (the master copy).
func TestBF16TrainsWithFloat32MasterWeights(t *testing.T) {
	ctx := context.Background()
	ex := topicPairs(40)
	losses := map[bool][]float64{}
	top := map[bool][2]float64{}
	for _, bf := range []bool{false, true} {
		m := tinyBERT(t, 11)
		cfg := Config{Epochs: 3, BatchSize: 16, LearningRate: 3e-3, WarmupRatio: 0.2, Seed: 4, MatryoshkaDims: []int{16, 32},
			Evaluator: top1Evaluator(m, ex), BF16: bf}
		res, err := TrainBiEncoder(ctx, m, ex, cfg, nil)
		if err != nil {
			t.Fatalf("bf16 %v: %v", bf, err)
		}
		for _, r := range res.History.Records[1:] {
			losses[bf] = append(losses[bf], r.Loss)
		}
		top[bf] = [2]float64{res.History.Records[0].Eval["top1"], res.Final["top1"]}
		for v := range m.Store().IterVariables() {
			if !strings.HasPrefix(v.Name(), "#") && v.DType() != dtypes.Float32 { // "#rngState" is the RNG's
				t.Errorf("bf16 %v: weight %s is %s after training, want float32", bf, v.Path(), v.DType())
			}
		}
		if bf && !strings.Contains(strings.Join(flat(nonDefault(cfg.withDefaults("bert", false))), " "), "bf16 true") {
			t.Errorf("the model card's hyperparameters do not record bf16: %v", nonDefault(cfg))
		}
	}
	if len(losses[true]) != len(losses[false]) || len(losses[true]) == 0 {
		t.Fatalf("%d bf16 steps, %d float32 steps", len(losses[true]), len(losses[false]))
	}
	var maxRel, sumDiff float64
	for i := range losses[true] {
		d := math.Abs(losses[true][i] - losses[false][i])
		sumDiff += d
		maxRel = math.Max(maxRel, d/losses[false][i])
	}
	if sumDiff == 0 {
		t.Error("bf16 losses equal float32's to the last bit: autocast never reached the products")
	}
	// bfloat16 keeps 8 significant bits: a few per mille per product, a few per cent after 9 steps of training.
	if maxRel > 0.05 {
		t.Errorf("bf16 losses drift up to %.1f%% from float32's:\n bf16 %v\n fp32 %v", 100*maxRel, losses[true], losses[false])
	}
	if b := top[true]; !(b[1] > b[0]) || b[1] < 0.5 {
		t.Errorf("bf16 top-1 %.2f → %.2f: no learning", b[0], b[1])
	}
	t.Logf("losses bf16 %.4f…%.4f, fp32 %.4f…%.4f (max rel diff %.2g); top-1 bf16 %v fp32 %v",
		losses[true][0], losses[true][len(losses[true])-1], losses[false][0], losses[false][len(losses[false])-1], maxRel, top[true], top[false])
}

func flat(rows [][2]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0]+" "+r[1])
	}
	return out
}

// TF32 exists only on XLA's CUDA backend; asking for it elsewhere is an error before anything trains, as
// transformers makes --tf32 one without a GPU.
func TestTF32WithoutCUDAIsAnError(t *testing.T) {
	m := tinyBERT(t, 3)
	_, err := TrainBiEncoder(context.Background(), m, topicPairs(8), Config{BatchSize: 4, TF32: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "TF32 needs XLA on a CUDA GPU") {
		t.Fatalf("TF32 on the pure-Go backend: %v", err)
	}
}

func TestMedianStepTimeSkipsTheCompilingStep(t *testing.T) {
	r := &Result{StepTimes: []time.Duration{9 * time.Second, time.Second, 3 * time.Second, 2 * time.Second}}
	if got := r.MedianStepTime(); got != 2500*time.Millisecond {
		t.Errorf("median of 9, 1, 3, 2 s = %v, want 2.5s", got)
	}
	r.StepTimes = r.StepTimes[:3]
	if got := r.MedianStepTime(); got != 3*time.Second {
		t.Errorf("median of 9, 1, 3 s = %v, want 3s", got)
	}
	if got := (&Result{}).MedianStepTime(); got != 0 {
		t.Errorf("no steps: %v", got)
	}
}
