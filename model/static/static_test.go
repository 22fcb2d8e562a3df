package static

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/weights"
)

func TestIDFByHand(t *testing.T) {
	// 3 documents; token 1 in all, token 2 in one (twice), token 3 in none.
	idf, err := IDF(4, [][]int32{{1, 2, 2}, {1}, {1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{
		math.Log(4.0/2) + 1, // token 0: df 1
		math.Log(4.0/4) + 1, // token 1: df 3 → 1
		math.Log(4.0/2) + 1, // token 2: df 1 (repeats in a document count once)
		math.Log(4.0/1) + 1, // token 3: unseen
	}
	for i := range want {
		if math.Abs(idf[i]-want[i]) > 1e-12 {
			t.Errorf("idf[%d] = %v, want %v", i, idf[i], want[i])
		}
	}
	if _, err := IDF(4, [][]int32{{1}, {9}}); err == nil || !strings.Contains(err.Error(), "document 1") {
		t.Errorf("out-of-vocabulary id: %v", err)
	}
}

func TestInitIDFScalesRandomRows(t *testing.T) {
	docs := [][]int32{{1, 2}, {1}}
	r := InitRandom(4, 8, 9)
	x, err := InitIDF(4, 8, 9, docs)
	if err != nil {
		t.Fatal(err)
	}
	idf, _ := IDF(4, docs)
	for tok := range 4 {
		for i := range 8 {
			want := float32(float64(r.Data[tok*8+i]) * idf[tok])
			if x.Data[tok*8+i] != want {
				t.Fatalf("token %d value %d: %v, want %v", tok, i, x.Data[tok*8+i], want)
			}
		}
	}
	if x.Name != WeightName || !slices.Equal(x.Shape, []int{4, 8}) {
		t.Errorf("%s %v", x.Name, x.Shape)
	}
}

// Embed is the mean of the unmasked rows, computed here by hand; an empty bag gives zeros.
func TestEmbedMeanByHand(t *testing.T) {
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	table := safetensors.Float32Tensor{Name: WeightName, Shape: []int{4, 2}, Data: []float32{0, 0, 1, 2, 3, 4, 10, 20}}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", []safetensors.Float32Tensor{table}); err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, ids, mask *graph.Node) *graph.Node {
		return Embed(scope, ids, mask)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromValue([][]int32{{1, 2, 3}, {3, 3, 0}, {0, 0, 0}}), tensors.FromValue([][]int32{{1, 1, 1}, {1, 1, 0}, {0, 0, 0}}))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	want := []float32{14.0 / 3, 26.0 / 3, 10, 20, 0, 0}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("got %v, want %v", got, want)
			break
		}
	}
}
