package encoder

import (
	"os"
	"runtime"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// The pure-Go backend splits a matrix product over the cores but runs every other op on one core, and it runs
// independent ops side by side. A transformer layer is a chain of ops, so a batch encoded whole keeps only its
// matrix products busy on every core, and its elementwise work (GELU, softmax, layer norm, the residual adds:
// about a third of the forward) on one. Encoding the batch as independent row chunks in the same graph gives the
// backend one chain per core to run at once; every row's math is unchanged. On 2 cores, MiniLM shape, 32 × 128
// tokens, whole and chunked alternating in one session: 4.8–18% more texts/s with 2 chunks, median 11%, and 4
// chunks were slower than 2 (docs/benchmarks.md). XLA parallelises inside each op and fuses across them, so
// there the batch stays whole.

// minChunkTokens keeps chunks large enough for the matrix products' kernels to stay efficient: 1,024 tokens
// is 8 rows of 128 or 2 of 512.
const minChunkTokens = 1024

// maxChunks bounds the chunks on machines with many cores, where the products already use every core.
const maxChunks = 8

// rowChunks is how many row chunks a batch of rows × seq tokens is encoded as on graph g's backend. Training
// graphs keep the batch whole: a bi-encoder's step already encodes two columns side by side, and the backward
// pass's memory and its parity with torch were measured on whole batches. RAGNB_NOCHUNK=1 in the environment
// encodes whole batches, for measuring the difference (docs/benchmarks.md).
func rowChunks(scope *model.Scope, g *graph.Graph, rows, seq int) int {
	if g.Backend().String() != gobackend.BackendName || scope.IsTraining(g) || os.Getenv("RAGNB_NOCHUNK") != "" {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), maxChunks, rows, rows*seq/minChunkTokens))
}

// byRowChunks is f over the batch's rows, computed per chunk (rowChunks) and concatenated along axis 0. inputs
// are [batch, seq, …] (nil ones stay nil); f's result must be [rows, …] for the rows it is given.
func byRowChunks(scope *model.Scope, f func(in ...*graph.Node) *graph.Node, inputs ...*graph.Node) *graph.Node {
	var first *graph.Node
	for _, x := range inputs {
		if x != nil {
			first = x
			break
		}
	}
	n, seq := first.Shape().Dimensions[0], 1
	if first.Rank() > 1 {
		seq = first.Shape().Dimensions[1]
	}
	k := rowChunks(scope, first.Graph(), n, seq)
	if k == 1 {
		return f(inputs...)
	}
	parts := make([]*graph.Node, k)
	for i := range k {
		lo, hi := i*n/k, (i+1)*n/k
		in := make([]*graph.Node, len(inputs))
		for j, x := range inputs {
			if x != nil {
				in[j] = graph.Slice(x, graph.AxisRange(lo, hi))
			}
		}
		parts[i] = f(in...)
	}
	return graph.Concatenate(parts, 0)
}
