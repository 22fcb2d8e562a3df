// Package autocast is mixed-precision training's switch inside a graph. With BFloat16 set on a training graph,
// the encoders' matrix products (dense layers and both attention products) take bfloat16 operands and
// accumulate and return float32 — what torch.autocast(dtype=torch.bfloat16) does to matmuls, and what lets a
// GPU use its bfloat16 tensor cores — while everything else stays float32: the weights remain float32
// variables (the optimizer's master copy; the gradient through the conversion comes back float32), and the
// elementwise ops, layer norms, softmax, the loss's similarity matrix and the optimizer update are computed in
// float32 as they are without autocast.
//
// One difference from torch, on purpose: torch's autocast returns a bfloat16 product and lets the bias add and
// activation that follow run in bfloat16; here the product is returned in float32 (the accumulator's dtype), so
// the only rounding is that of the products' operands. It costs the activations' memory in float32, not the
// arithmetic: the products are where the time goes.
//
// The switch is a graph parameter, set by the trainer on the graphs it differentiates (train.Config.BF16), so
// inference graphs, the evaluator's included, are never affected.
package autocast

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// param is the graph parameter's path: at the root, so that every scope of the model sees it.
const param = "/ragnb_autocast_dtype"

// Set makes dtype the compute dtype of g's matrix products (Float32: autocast off). Only BFloat16 and Float32
// are accepted: float16 would need loss scaling, which nothing here does.
func Set(g *graph.Graph, dtype dtypes.DType) {
	if dtype != dtypes.Float32 && dtype != dtypes.BFloat16 {
		panic(fmt.Errorf("autocast: %s is not supported (float32 or bfloat16)", dtype))
	}
	model.SetGraphParam(g, param, dtype)
}

// Of is g's compute dtype for matrix products: Float32 unless Set said otherwise.
func Of(g *graph.Graph) dtypes.DType {
	v, ok := model.GetGraphParam(g, param)
	if !ok {
		return dtypes.Float32
	}
	if dt, ok := v.(dtypes.DType); ok {
		return dt
	}
	return dtypes.Float32
}

// DotGeneral is graph.DotGeneral under g's autocast: with BFloat16 set and float32 operands, both operands are
// converted to bfloat16 and the product accumulates and is returned in float32. Otherwise it is
// graph.DotGeneral unchanged.
func DotGeneral(lhs *graph.Node, lhsContracting, lhsBatch []int, rhs *graph.Node, rhsContracting, rhsBatch []int) *graph.Node {
	if Of(lhs.Graph()) != dtypes.BFloat16 || lhs.DType() != dtypes.Float32 || rhs.DType() != dtypes.Float32 {
		return graph.DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	}
	l := graph.ConvertDType(lhs, dtypes.BFloat16)
	r := graph.ConvertDType(rhs, dtypes.BFloat16)
	return graph.Dot(l, r).WithAccumulatorDType(dtypes.Float32).WithOutputDType(dtypes.Float32).
		General(lhsContracting, lhsBatch, rhsContracting, rhsBatch)
}
