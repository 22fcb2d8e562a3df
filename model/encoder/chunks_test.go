package encoder

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/bert"
)

// Encoding a batch as row chunks (the pure-Go backend's way of using every core) gives every row the
// embedding the whole batch gives it, with unequal chunks too; training graphs keep the batch whole.
func TestRowChunksEmbedAsTheWholeBatch(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	cfg := bert.Defaults(200)
	cfg.NumHiddenLayers, cfg.HiddenSize, cfg.NumAttentionHeads, cfg.IntermediateSize, cfg.MaxPositionEmbeddings = 2, 32, 4, 64, 128
	m, err := RandomBERT(cfg, bert.PoolMean, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	const rows, seq = 19, 128 // 2,432 tokens: chunks of 9 and 10 rows on two cores
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([][]int32, rows)
	mask := make([][]int32, rows)
	for i := range ids {
		ids[i], mask[i] = make([]int32, seq), make([]int32, seq)
		n := 3 + rng.IntN(seq-3)
		for j := range n {
			ids[i][j], mask[i][j] = int32(1+rng.IntN(199)), 1
		}
	}
	var chunks [2]int
	exec, err := model.NewExec(b, m.Store(), func(scope *model.Scope, ids, mask *graph.Node) []*graph.Node {
		g := ids.Graph()
		chunks[0] = rowChunks(scope, g, rows, seq)
		whole := bert.Pool(encodeGraph(m.layout, scope, ids, nil, mask), mask, m.layout.Pooling)
		return []*graph.Node{whole, m.EmbedGraph(scope, ids, nil, mask)}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromValue(ids), tensors.FromValue(mask))
	if err != nil {
		t.Fatal(err)
	}
	if chunks[0] != 2 {
		t.Fatalf("a %d-row batch on %d cores is encoded as %d chunks, want 2", rows, runtime.GOMAXPROCS(0), chunks[0])
	}
	whole := tensors.MustCopyFlatData[float32](out[0])
	chunked := tensors.MustCopyFlatData[float32](out[1])
	// EmbedGraph normalises; compare directions.
	for i := range rows {
		w, c := whole[i*32:(i+1)*32], chunked[i*32:(i+1)*32]
		var n2 float64
		for _, x := range w {
			n2 += float64(x) * float64(x)
		}
		for j := range w {
			if d := math.Abs(float64(w[j])/math.Sqrt(n2) - float64(c[j])); d > 1e-6 {
				t.Fatalf("row %d, dim %d: chunked %v, whole batch %v", i, j, c[j], float64(w[j])/math.Sqrt(n2))
			}
		}
	}
	train, err := model.NewExec(b, m.Store(), func(scope *model.Scope, ids *graph.Node) *graph.Node {
		m.Store().SetTraining(ids.Graph(), true)
		chunks[1] = rowChunks(scope, ids.Graph(), rows, seq)
		return graph.ReduceAllSum(ids)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Exec(tensors.FromValue(ids)); err != nil {
		t.Fatal(err)
	}
	if chunks[1] != 1 {
		t.Errorf("a training graph is split into %d chunks", chunks[1])
	}
}
