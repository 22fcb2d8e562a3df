// Package optim is the optimisation arithmetic of Hugging Face's Trainer, which sentence-transformers
// trains with: torch.optim.AdamW (decoupled weight decay, bias-corrected moments), the weight-decay
// exclusion of biases and normalisation layers, global-norm gradient clipping (torch.nn.utils.
// clip_grad_norm_) and the learning-rate schedules of transformers.get_scheduler (linear, cosine, constant,
// each with linear warmup). The schedule and the per-step scalars are computed on the host in float64; the
// update itself is a graph function over GoMLX nodes. It does not own variables, checkpoints or the loop.
package optim

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
)

// Schedule kinds (transformers' lr_scheduler_type names).
const (
	Linear   = "linear"
	Cosine   = "cosine"
	Constant = "constant" // constant after warmup (transformers' constant_with_warmup; constant when no warmup)
)

// Schedules lists the schedule kinds.
func Schedules() []string { return []string{Linear, Cosine, Constant} }

// Schedule is a learning-rate multiplier over optimizer steps: linear warmup from 0 over Warmup steps, then
// Kind's decay to 0 at Total steps.
type Schedule struct {
	Kind          string
	Warmup, Total int
}

// WarmupSteps is transformers' warmup from a ratio: ceil(ratio × total).
func WarmupSteps(ratio float64, total int) int {
	return int(math.Ceil(ratio * float64(total)))
}

// Validate checks the kind and step counts.
func (s Schedule) Validate() error {
	switch s.Kind {
	case Linear, Cosine, Constant:
	default:
		return fmt.Errorf("schedule %q: want one of %v", s.Kind, Schedules())
	}
	if s.Warmup < 0 || s.Total < 0 {
		return fmt.Errorf("schedule: negative steps (warmup %d, total %d)", s.Warmup, s.Total)
	}
	return nil
}

// Factor is the multiplier of the base learning rate for the optimizer step with 0-based index step — the
// value torch's LambdaLR holds while that step runs (the first step uses Factor(0), which is 0 with warmup).
func (s Schedule) Factor(step int) float64 {
	if step < s.Warmup {
		return float64(step) / float64(max(1, s.Warmup))
	}
	switch s.Kind {
	case Linear:
		return math.Max(0, float64(s.Total-step)/float64(max(1, s.Total-s.Warmup)))
	case Cosine:
		progress := float64(step-s.Warmup) / float64(max(1, s.Total-s.Warmup))
		return math.Max(0, 0.5*(1+math.Cos(math.Pi*0.5*2*progress)))
	}
	return 1
}

// AdamW holds torch.optim.AdamW's hyperparameters (the learning rate comes per step).
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
}

// DefaultAdamW is torch's default: betas (0.9, 0.999), eps 1e-8, and transformers' default weight decay 0.
func DefaultAdamW() AdamW { return AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// Scalars are the per-step numbers of torch's AdamW step t (1-based) at learning rate lr, computed in
// float64 as torch does in Python: DecayFactor = 1 − lr·weight_decay, StepSize = lr / (1 − β1^t),
// BiasCorrection2Sqrt = √(1 − β2^t).
type Scalars struct {
	DecayFactor, StepSize, BiasCorrection2Sqrt float64
}

// StepScalars computes the scalars of step t ≥ 1 at learning rate lr.
func (a AdamW) StepScalars(t int, lr float64) Scalars {
	return Scalars{
		DecayFactor:         1 - lr*a.WeightDecay,
		StepSize:            lr / (1 - math.Pow(a.Beta1, float64(t))),
		BiasCorrection2Sqrt: math.Sqrt(1 - math.Pow(a.Beta2, float64(t))),
	}
}

// Vector packs the scalars as the float32 vector that Update reads: [decay factor, step size, √bc2].
func (s Scalars) Vector() []float32 {
	return []float32{float32(s.DecayFactor), float32(s.StepSize), float32(s.BiasCorrection2Sqrt)}
}

// Update is one torch AdamW step for one parameter p with gradient g and moments m (exp_avg) and v
// (exp_avg_sq), given scalars = Scalars.Vector() as a [3] node:
//
//	p ← p·(1 − lr·wd)            (only when decay)
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	p ← p − step_size · m / (√v / √bc2 + eps)
func (a AdamW) Update(p, g, m, v, scalars *Node, decay bool) (newP, newM, newV *Node) {
	dt := p.DType()
	at := func(i int) *Node { return ConvertDType(Reshape(Slice(scalars, AxisElem(i))), dt) }
	if decay && a.WeightDecay != 0 {
		p = Mul(p, at(0))
	}
	newM = Add(MulScalar(m, a.Beta1), MulScalar(g, 1-a.Beta1))
	newV = Add(MulScalar(v, a.Beta2), MulScalar(Square(g), 1-a.Beta2))
	denom := AddScalar(Div(Sqrt(newV), at(2)), a.Eps)
	newP = Sub(p, Mul(at(1), Div(newM, denom)))
	return newP, newM, newV
}

// GlobalNorm is the 2-norm of all gradients together (torch.nn.utils.clip_grad_norm_'s total_norm), as a
// float32 scalar.
func GlobalNorm(grads []*Node) *Node {
	var sum *Node
	for _, g := range grads {
		s := ReduceAllSum(Square(ConvertDType(g, grads[0].DType())))
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	return Sqrt(sum)
}

// ClipByGlobalNorm scales every gradient by min(1, maxNorm / (norm + 1e-6)), as clip_grad_norm_ does; norm
// is GlobalNorm(grads). maxNorm ≤ 0 returns grads unchanged.
func ClipByGlobalNorm(grads []*Node, norm *Node, maxNorm float64) []*Node {
	if maxNorm <= 0 {
		return grads
	}
	coef := MinScalar(Div(Scalar(norm.Graph(), norm.DType(), maxNorm), AddScalar(norm, 1e-6)), 1)
	out := make([]*Node, len(grads))
	for i, g := range grads {
		out[i] = Mul(g, ConvertDType(coef, g.DType()))
	}
	return out
}

var noDecayPatterns = regexp.MustCompile(`bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)`)

// NoDecay reports whether transformers' Trainer leaves the parameter (an HF tensor name) out of weight
// decay: biases and normalisation-layer weights (names matching bias, layernorm, rmsnorm, norm, *_norm,
// case-insensitively), as Trainer.get_decay_parameter_names does.
func NoDecay(name string) bool {
	return noDecayPatterns.MatchString(strings.ToLower(name))
}
