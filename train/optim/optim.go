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

// Step is one torch AdamW step over all parameters, after clip_grad_norm_ with maxNorm (≤ 0: no clipping),
// given scalars = Scalars.Vector() as a [3] node. For each parameter p with gradient g, moments m (exp_avg)
// and v (exp_avg_sq), and c the clipping coefficient min(1, maxNorm / (‖g‖ + 1e-6)) over all gradients:
//
//	m ← β1·m + (1 − β1)·c·g
//	v ← β2·v + (1 − β2)·c²·g²
//	p ← p·(1 − lr·wd) − (step_size·√bc2) · m / (√v + eps·√bc2)     (the decay factor only where decay[i])
//
// which is torch's p − step_size · m / (√v/√bc2 + eps) rearranged so that the clipping and the bias
// correction fold into scalars: the pure-Go backend does not fuse element-wise operations, and each one
// over an embedding table costs a pass over memory. The new weights are the old ones where ok is false (a
// non-finite loss or gradient norm); the moments are not guarded (a run stops at the first such step).
// It returns the new weights and moments and the global gradient norm before clipping.
func (a AdamW) Step(params, grads, ms, vs []*Node, decay []bool, scalars *Node, maxNorm float64, ok *Node) (newP, newM, newV []*Node, norm *Node) {
	at := func(i int) *Node { return Reshape(Slice(scalars, AxisElem(i))) }
	squares := make([]*Node, len(grads))
	var sum *Node
	for i, g := range grads {
		squares[i] = Square(g)
		s := ConvertDType(ReduceAllSum(squares[i]), scalars.DType())
		if sum == nil {
			sum = s
		} else {
			sum = Add(sum, s)
		}
	}
	norm = Sqrt(sum)
	coef := ScalarOne(norm.Graph(), norm.DType())
	if maxNorm > 0 {
		coef = MinScalar(Div(Scalar(norm.Graph(), norm.DType(), maxNorm), AddScalar(norm, 1e-6)), 1)
	}
	ok = LogicalAnd(ok, IsFinite(norm))
	mScale := MulScalar(coef, 1-a.Beta1)
	vScale := MulScalar(Square(coef), 1-a.Beta2)
	bc2 := at(2)
	epsScaled := MulScalar(bc2, a.Eps)
	stepScaled := Mul(at(1), bc2)
	for i, p := range params {
		dt := p.DType()
		conv := func(x *Node) *Node { return ConvertDType(x, dt) }
		m := Add(MulScalar(ms[i], a.Beta1), Mul(grads[i], conv(mScale)))
		v := Add(MulScalar(vs[i], a.Beta2), Mul(squares[i], conv(vScale)))
		upd := Mul(Div(m, Add(Sqrt(v), conv(epsScaled))), conv(stepScaled))
		base := p
		if decay[i] && a.WeightDecay != 0 {
			base = Mul(p, conv(at(0)))
		}
		newP = append(newP, Where(ok, Sub(base, upd), p))
		newM = append(newM, m)
		newV = append(newV, v)
	}
	return newP, newM, newV, norm
}

var noDecayPatterns = regexp.MustCompile(`bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)`)

// NoDecay reports whether transformers' Trainer leaves the parameter (an HF tensor name) out of weight
// decay: biases and normalisation-layer weights (names matching bias, layernorm, rmsnorm, norm, *_norm,
// case-insensitively), as Trainer.get_decay_parameter_names does.
func NoDecay(name string) bool {
	return noDecayPatterns.MatchString(strings.ToLower(name))
}
