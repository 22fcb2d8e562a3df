package encoder

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// A trainer builds its own graph on the model's Store with EmbedGraph / LogitGraph and Pad: the same numbers
// as the inference path, and both calls in one graph share the weights.
func TestTrainerGraphPath(t *testing.T) {
	ctx := context.Background()
	b, err := (Options{}).backend()
	if err != nil {
		t.Fatal(err)
	}
	anchors := []Sequence{{IDs: []int32{2, 50, 60, 3}}, {IDs: []int32{2, 9, 10, 11, 12, 3}}}
	positives := []Sequence{{IDs: []int32{2, 70, 3}}, {IDs: []int32{2, 80, 81, 82, 3}}}
	for _, name := range []string{"tiny-bert-mean", "tiny-static"} {
		m, _ := loadWithoutTokenizer(t, filepath.Join("..", "..", "testdata", "models", name))
		a, p := anchors, positives
		if m.IsStatic() {
			a, p = []Sequence{{IDs: []int32{50, 60}}, {IDs: []int32{9}}}, []Sequence{{IDs: []int32{70}}, {IDs: []int32{80, 81}}}
		}
		exec, err := model.NewExec(b, m.Store(), func(scope *model.Scope, aIDs, aTypes, aMask, pIDs, pTypes, pMask *graph.Node) *graph.Node {
			ea := m.EmbedGraph(scope, aIDs, aTypes, aMask)
			ep := m.EmbedGraph(scope, pIDs, pTypes, pMask)
			return graph.ReduceSum(graph.Mul(ea, ep), -1) // per-pair dot products
		})
		if err != nil {
			t.Fatal(err)
		}
		ai, at, am := Pad(a, 0, m.MaxLength(), m.PadID())
		pi, pt, pm := Pad(p, 0, m.MaxLength(), m.PadID())
		out, err := exec.Exec(ai, at, am, pi, pt, pm)
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](out[0])
		ea, _ := m.EmbedSequences(ctx, a, nil)
		ep, _ := m.EmbedSequences(ctx, p, nil)
		for i := range a {
			var want float64
			for j := range ea.Row(i) {
				want += float64(ea.Row(i)[j]) * float64(ep.Row(i)[j])
			}
			if math.Abs(float64(got[i])-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Errorf("%s pair %d: graph %v, inference %v", name, i, got[i], want)
			}
		}
	}
}
