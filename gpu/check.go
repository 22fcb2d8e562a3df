package gpu

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MatMulCheck is the result of CheckMatMul.
type MatMulCheck struct {
	N       int
	Elapsed time.Duration // one execution after compilation
	GFLOPs  float64
	MaxDiff float64 // against a float64 reference computed in Go
}

// CheckMatMul multiplies two n×n float32 matrices on the backend and compares the result with a float64
// reference, proving the backend really computes (doctor's smoke test on CPU or CUDA).
func CheckMatMul(b compute.Backend, n int) (MatMulCheck, error) {
	a := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		// Deterministic values in [-1, 1) whose products are exact enough in float32 to compare.
		a[i] = float32((i*7919)%2000)/1000 - 1
		c[i] = float32((i*104729)%2000)/1000 - 1
	}
	exec, err := graph.NewExec(b, func(x, y *graph.Node) *graph.Node { return graph.MatMul(x, y) })
	if err != nil {
		return MatMulCheck{}, fmt.Errorf("matmul check: build: %w", err)
	}
	ta := tensors.FromFlatDataAndDimensions(a, n, n)
	tc := tensors.FromFlatDataAndDimensions(c, n, n)
	if _, err := exec.Call1(ta, tc); err != nil { // compiles; the timing below excludes compilation
		return MatMulCheck{}, fmt.Errorf("matmul check: run: %w", err)
	}
	start := time.Now()
	out, err := exec.Call1(ta, tc)
	if err != nil {
		return MatMulCheck{}, fmt.Errorf("matmul check: run: %w", err)
	}
	elapsed := time.Since(start)
	got, ok := out.Value().([][]float32)
	if !ok {
		return MatMulCheck{}, fmt.Errorf("matmul check: unexpected result %T", out.Value())
	}
	var maxDiff float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var want float64
			for k := 0; k < n; k++ {
				want += float64(a[i*n+k]) * float64(c[k*n+j])
			}
			maxDiff = math.Max(maxDiff, math.Abs(want-float64(got[i][j])))
		}
	}
	res := MatMulCheck{N: n, Elapsed: elapsed, MaxDiff: maxDiff,
		GFLOPs: 2 * float64(n) * float64(n) * float64(n) / elapsed.Seconds() / 1e9}
	// n products of magnitude ≤ 1: TF32 (GPUs' default for f32 matmul, 10-bit mantissa) stays within n·2⁻¹⁰;
	// garbage results (wrong layout, uninitialised memory) are off by O(1) or more.
	if tol := float64(n) / 1024; maxDiff > tol {
		return res, fmt.Errorf("matmul check: result differs from the reference by %.3g (tolerance %.3g)", maxDiff, tol)
	}
	return res, nil
}
