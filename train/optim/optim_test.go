package optim

import (
	"math"
	"testing"
)

func TestScheduleFactors(t *testing.T) {
	// transformers' lambdas, by hand: warmup 2 of 10 steps.
	lin := Schedule{Kind: Linear, Warmup: 2, Total: 10}
	for step, want := range map[int]float64{0: 0, 1: 0.5, 2: 1, 6: 0.5, 9: 0.125, 10: 0, 12: 0} {
		if got := lin.Factor(step); math.Abs(got-want) > 1e-15 {
			t.Errorf("linear step %d: %v, want %v", step, got, want)
		}
	}
	cos := Schedule{Kind: Cosine, Warmup: 2, Total: 10}
	for step, want := range map[int]float64{1: 0.5, 2: 1, 6: 0.5, 10: 0} {
		if got := cos.Factor(step); math.Abs(got-want) > 1e-15 {
			t.Errorf("cosine step %d: %v, want %v", step, got, want)
		}
	}
	if got := cos.Factor(4); math.Abs(got-(0.5*(1+math.Cos(math.Pi*0.25)))) > 1e-15 {
		t.Errorf("cosine step 4: %v", got)
	}
	con := Schedule{Kind: Constant, Warmup: 4, Total: 10}
	if con.Factor(1) != 0.25 || con.Factor(4) != 1 || con.Factor(9) != 1 {
		t.Errorf("constant: %v %v %v", con.Factor(1), con.Factor(4), con.Factor(9))
	}
	if (Schedule{Kind: Linear, Total: 4}).Factor(0) != 1 {
		t.Error("no warmup: the first step must run at the full rate")
	}
	if WarmupSteps(0.1, 95) != 10 || WarmupSteps(0, 95) != 0 {
		t.Errorf("warmup steps: %d %d", WarmupSteps(0.1, 95), WarmupSteps(0, 95))
	}
	if (Schedule{Kind: "step"}).Validate() == nil {
		t.Error("unknown schedule accepted")
	}
}

func TestNoDecay(t *testing.T) {
	for name, want := range map[string]bool{
		"encoder.layer.0.attention.self.query.bias":         true,
		"encoder.layer.0.attention.output.LayerNorm.weight": true,
		"embeddings.LayerNorm.weight":                       true,
		"bert.pooler.dense.bias":                            true,
		"model.norm.weight":                                 true,
		"layers.0.input_norm.weight":                        true,
		"encoder.layer.0.attention.self.query.weight":       false,
		"embeddings.word_embeddings.weight":                 false,
		"embedding.weight":                                  false,
		"classifier.weight":                                 false,
		"normalizer.weight":                                 false,
	} {
		if got := NoDecay(name); got != want {
			t.Errorf("NoDecay(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestStepScalars(t *testing.T) {
	a := AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	s := a.StepScalars(2, 0.1)
	if math.Abs(s.DecayFactor-0.999) > 1e-15 || math.Abs(s.StepSize-0.1/(1-0.81)) > 1e-12 ||
		math.Abs(s.BiasCorrection2Sqrt-math.Sqrt(1-0.999*0.999)) > 1e-15 {
		t.Errorf("scalars %+v", s)
	}
}
