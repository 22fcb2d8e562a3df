package losses

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/gpu"
)

// The losses' agreement with PyTorch (values and gradients) is checked in package train against goldens
// from tools/train_reference.py; these tests cover the edge cases the goldens do not.

func backend(t *testing.T) compute.Backend {
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return b.Backend
}

// An all-zero embedding (an empty text in a static model, or a zero padding row) keeps every gradient finite.
func TestZeroEmbeddingGradientIsFinite(t *testing.T) {
	a := tensors.FromValue([][]float32{{0, 0, 0}, {1, 2, 3}})
	p := tensors.FromValue([][]float32{{1, 0, 0}, {0, 0, 0}})
	for name, l := range map[string]EmbeddingLoss{"mnrl": MultipleNegativesRanking(20)} {
		exec, err := graph.NewExec(backend(t), func(a, p *graph.Node) []*graph.Node {
			loss := l([]*graph.Node{a, p}, nil)
			return append([]*graph.Node{loss}, graph.Gradient(loss, a, p)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Exec(a, p)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outs {
			for _, x := range tensors.MustCopyFlatData[float32](o) {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%s: output %d has %v", name, i, x)
				}
			}
		}
	}
}

// A loss over a batch padded with masked rows equals the loss of the real rows alone; here by hand: two
// anchors, cosine similarities in {1, 0}, scale 1.
func TestMNRLMaskedRowsByHand(t *testing.T) {
	a := tensors.FromValue([][]float32{{1, 0}, {0, 1}, {5, 5}})
	p := tensors.FromValue([][]float32{{1, 0}, {0, 1}, {5, 5}})
	valid := tensors.FromValue([]float32{1, 1, 0})
	exec, err := graph.NewExec(backend(t), func(a, p, v *graph.Node) *graph.Node {
		return MultipleNegativesRanking(1)([]*graph.Node{a, p}, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(a, p, valid)
	if err != nil {
		t.Fatal(err)
	}
	// Each anchor: −log(e¹ / (e¹ + e⁰)).
	want := -math.Log(math.E / (math.E + 1))
	if got := float64(tensors.MustCopyFlatData[float32](out[0])[0]); math.Abs(got-want) > 1e-6 {
		t.Errorf("masked loss %v, want %v", got, want)
	}
}

func TestSortDims(t *testing.T) {
	got, err := SortDims([]int{64, 256, 128}, []float64{3, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []DimWeight{{256, 1}, {128, 2}, {64, 3}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SortDims = %v, want %v", got, want)
		}
	}
	for _, bad := range []struct {
		dims []int
		w    []float64
	}{{nil, nil}, {[]int{0}, nil}, {[]int{8, 8}, nil}, {[]int{8, 4}, []float64{1}}} {
		if _, err := SortDims(bad.dims, bad.w); err == nil {
			t.Errorf("SortDims(%v, %v) accepted", bad.dims, bad.w)
		}
	}
	if _, err := Triplet("hamming", 1); err == nil {
		t.Error("unknown triplet metric accepted")
	}
}
