package autocast

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/gpu"
)

// bf16 rounds x to bfloat16 (round to nearest even), the reference the products' operands are held to.
func bf16(x float32) float64 { return float64(bfloat16.FromFloat32(x).Float32()) }

func TestDotGeneralRoundsOperandsToBFloat16AndAccumulatesInFloat32(t *testing.T) {
	b, err := gpu.Select()
	if err != nil {
		t.Fatal(err)
	}
	// Values whose bfloat16 roundings differ from them (bfloat16 keeps 8 significant bits).
	lhs := [][]float32{{1.001, 2.0031, -0.3337}, {3.14159, -4.0002, 0.5001}}
	rhs := [][]float32{{0.1234, 1.0009}, {-2.7183, 0.33333}, {1.4142, -0.0077}}
	for _, cast := range []bool{false, true} {
		exec, err := graph.NewExec(b, func(x, y *graph.Node) []*graph.Node {
			if cast {
				Set(x.Graph(), dtypes.BFloat16)
			}
			out := DotGeneral(x, []int{1}, nil, y, []int{0}, nil)
			loss := graph.ReduceAllSum(out)
			return []*graph.Node{out, graph.Gradient(loss, x)[0]}
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Call(tensors.FromValue(lhs), tensors.FromValue(rhs))
		if err != nil {
			t.Fatal(err)
		}
		if res[0].DType() != dtypes.Float32 || res[1].DType() != dtypes.Float32 {
			t.Fatalf("cast %v: product %s, gradient %s; both must be float32", cast, res[0].DType(), res[1].DType())
		}
		got := res[0].Value().([][]float32)
		for i := range lhs {
			for j := range rhs[0] {
				var exact, rounded float64
				for k := range rhs {
					exact += float64(lhs[i][k]) * float64(rhs[k][j])
					rounded += bf16(lhs[i][k]) * bf16(rhs[k][j])
				}
				want := exact
				if cast {
					want = rounded
				}
				if d := math.Abs(float64(got[i][j]) - want); d > 1e-5 {
					t.Errorf("cast %v: [%d,%d] = %v, want %v (exact %v, bf16 operands %v)", cast, i, j, got[i][j], want, exact, rounded)
				}
				if cast && math.Abs(exact-rounded) < 1e-4 {
					t.Fatalf("test values too kind: [%d,%d] rounds to the same product", i, j)
				}
			}
		}
		// d(Σ out)/d lhs[i][k] = Σ_j rhs[k][j]: rounded to bfloat16 under autocast, exact without.
		grad := res[1].Value().([][]float32)
		for k := range rhs {
			var want float64
			for j := range rhs[k] {
				if cast {
					want += bf16(rhs[k][j])
				} else {
					want += float64(rhs[k][j])
				}
			}
			if d := math.Abs(float64(grad[0][k]) - want); d > 2e-2*math.Max(1, math.Abs(want)) {
				t.Errorf("cast %v: gradient [0,%d] = %v, want ≈ %v", cast, k, grad[0][k], want)
			}
		}
	}
}

func TestOfIsFloat32UnlessSet(t *testing.T) {
	b, err := gpu.Select()
	if err != nil {
		t.Fatal(err)
	}
	g := graph.NewGraph(b, "plain")
	if got := Of(g); got != dtypes.Float32 {
		t.Errorf("a graph nobody set computes in %s, want float32", got)
	}
	Set(g, dtypes.BFloat16)
	if got := Of(g); got != dtypes.BFloat16 {
		t.Errorf("after Set(bf16): %s", got)
	}
	if other := graph.NewGraph(b, "other"); Of(other) != dtypes.Float32 {
		t.Error("Set on one graph leaked into another")
	}
	defer func() {
		if recover() == nil {
			t.Error("Set(float16) did not refuse: float16 needs loss scaling, which nothing does")
		}
	}()
	Set(g, dtypes.Float16)
}
