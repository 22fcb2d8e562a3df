package train

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/autocast"
	"github.com/ragnb/ragnb/model/weights"
	"github.com/ragnb/ragnb/train/optim"
)

// stateScope holds the trainer's own variables in the model's Store (moments, gradient accumulators); they
// are removed when training ends.
const stateScope = "/ragnb_train"

// forwardFn is a model's differentiable forward for one input column: [batch] token tensors → [batch, d]
// (bi-encoder embeddings) or [batch] (cross-encoder logits).
type forwardFn func(scope *model.Scope, ids, types, mask, poolMask *graph.Node) *graph.Node

// lossFn turns the per-column outputs, the row mask and the labels (nil without labels) into a scalar loss.
type lossFn func(outs []*graph.Node, valid, labels *graph.Node) *graph.Node

// param is one trainable model weight and its optimizer state.
type param struct {
	name       string // HF tensor name
	v          *model.Variable
	m, s, grad *model.Variable // exp_avg, exp_avg_sq, accumulated gradient
	decay      bool
	// usedInForward is set when a gradient program finds the forward reads the weight; torch's AdamW skips
	// weights without a gradient (no moment update, no weight decay), and so does apply.
	usedInForward bool
}

// engine runs the compiled training programs over one model Store:
//
//   - fused: forward, loss, gradients, clipping and the AdamW update in one program (one micro-batch per
//     optimizer step, no gradient cache);
//   - accumulate + apply: gradients added to accumulators over several micro-batches, then one update;
//   - GradCache (bi-encoders): embed mini-batches without gradients, loss and its gradient with respect to
//     the embeddings over the whole batch, then per mini-batch the gradient of Σ emb ⊙ stop_gradient(g)
//     added to the accumulators, then one update.
//
// Every update is skipped inside the program when the loss or the gradient norm is not finite, so the
// weights stay those of the last good step.
type engine struct {
	backend compute.Backend
	store   *model.Store
	params  []*param
	byPath  map[string]*param
	forward forwardFn
	loss    lossFn
	numCols int
	labels  bool
	adam    optim.AdamW
	maxNorm float64
	seed    uint64
	// compute is the dtype of the forward's matrix products in the graphs that differentiate it (autocast).
	compute dtypes.DType

	fused, accumulate, apply, embed, lossGrad, surrogate *model.Exec
}

func newEngine(backend compute.Backend, store *model.Store, fwd forwardFn, loss lossFn, numCols int, labels bool,
	adam optim.AdamW, maxNorm float64, seed uint64, computeDType dtypes.DType) (*engine, error) {
	e := &engine{backend: backend, store: store, forward: fwd, loss: loss, numCols: numCols, labels: labels,
		adam: adam, maxNorm: maxNorm, seed: seed, compute: computeDType, byPath: map[string]*param{}}
	var vars []*model.Variable
	for v := range store.IterVariables() {
		vars = append(vars, v)
	}
	for _, v := range vars {
		if strings.HasPrefix(v.Path(), stateScope+"/") || strings.HasPrefix(v.Name(), "#") || !v.Trainable {
			continue
		}
		if v.DType() != dtypes.Float32 {
			continue
		}
		name, ok := weights.Name("/", v.Path())
		if !ok {
			continue
		}
		p := &param{name: name, v: v, decay: !optim.NoDecay(name)}
		zeros := func(kind string) *model.Variable {
			path := stateScope + "/" + kind + v.Path()
			nv := store.GetVariable(path)
			if nv == nil {
				nv = store.VariableWithValue(path, tensors.FromShape(v.Shape()))
			}
			nv.Trainable = false
			return nv
		}
		p.m, p.s, p.grad = zeros("exp_avg"), zeros("exp_avg_sq"), zeros("grad")
		e.params = append(e.params, p)
		e.byPath[v.Path()] = p
	}
	if len(e.params) == 0 {
		return nil, fmt.Errorf("train: the model has no float32 weights to train")
	}
	var err error
	mk := func(fn func(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node) *model.Exec {
		if err != nil {
			return nil
		}
		var x *model.Exec
		x, err = model.NewExecCanonical(backend, store, fn, -1, -1, true, true, true)
		if x != nil {
			x.SetMaxCache(-1)
		}
		return x
	}
	e.fused = mk(e.fusedGraph)
	e.accumulate = mk(e.accumulateGraph)
	e.apply = mk(e.applyGraph)
	e.embed = mk(e.embedGraph)
	e.lossGrad = mk(e.lossGradGraph)
	e.surrogate = mk(e.surrogateGraph)
	return e, err
}

// close removes the trainer's variables from the Store and releases the compiled programs.
func (e *engine) close() {
	for _, x := range []*model.Exec{e.fused, e.accumulate, e.apply, e.embed, e.lossGrad, e.surrogate} {
		if x != nil {
			x.Finalize()
		}
	}
	_ = e.store.DeleteVariablesInScope(stateScope)
}

// inputs per column: ids, types, mask, poolMask; then valid; then labels when the task has them.
const perColumn = 4

// unpack runs the forward over every column of a batch program's inputs and returns the outputs, the row
// mask, the labels and the remaining inputs.
func (e *engine) unpack(scope *model.Scope, in []*graph.Node) (outs []*graph.Node, valid, labels *graph.Node, rest []*graph.Node) {
	for c := range e.numCols {
		x := in[c*perColumn : (c+1)*perColumn]
		outs = append(outs, e.forward(scope, x[0], x[1], x[2], x[3]))
	}
	i := e.numCols * perColumn
	valid = in[i]
	i++
	if e.labels {
		labels = in[i]
		i++
	}
	return outs, valid, labels, in[i:]
}

// used lists the parameters the graph reads (a BERT bi-encoder does not read its pooler), in a fixed order.
func (e *engine) used(g *graph.Graph) []*param {
	var out []*param
	for _, p := range e.params {
		if p.v.InUseByGraph(g) {
			p.usedInForward = true
			out = append(out, p)
		}
	}
	return out
}

func values(g *graph.Graph, ps []*param, pick func(*param) *model.Variable) []*graph.Node {
	out := make([]*graph.Node, len(ps))
	for i, p := range ps {
		out[i] = pick(p).NodeValue(g)
	}
	return out
}

// update applies clipping and AdamW to ps with grads (the weights stay where ok is false); scalars is
// optim.Scalars.Vector. It returns the gradient norm before clipping.
func (e *engine) update(ps []*param, grads []*graph.Node, scalars, ok *graph.Node) *graph.Node {
	g := scalars.Graph()
	decay := make([]bool, len(ps))
	for i, p := range ps {
		decay[i] = p.decay
	}
	newP, newM, newV, norm := e.adam.Step(values(g, ps, func(p *param) *model.Variable { return p.v }), grads,
		values(g, ps, func(p *param) *model.Variable { return p.m }), values(g, ps, func(p *param) *model.Variable { return p.s }),
		decay, scalars, e.maxNorm, ok)
	for i, p := range ps {
		p.v.SetNodeValue(newP[i])
		p.m.SetNodeValue(newM[i])
		p.s.SetNodeValue(newV[i])
	}
	return norm
}

// training marks g as a training graph (dropout, the plain formulas autodiff takes) under the run's autocast.
func (e *engine) training(g *graph.Graph) {
	e.store.SetTraining(g, true)
	autocast.Set(g, e.compute)
}

func (e *engine) fusedGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	e.training(g)
	outs, valid, labels, rest := e.unpack(scope, in)
	loss := e.loss(outs, valid, labels)
	ps := e.used(g)
	grads := graph.Gradient(loss, values(g, ps, func(p *param) *model.Variable { return p.v })...)
	norm := e.update(ps, grads, rest[0], graph.IsFinite(loss))
	return []*graph.Node{loss, norm}
}

func (e *engine) accumulateGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	e.training(g)
	outs, valid, labels, rest := e.unpack(scope, in)
	loss := e.loss(outs, valid, labels)
	ps := e.used(g)
	grads := graph.Gradient(loss, values(g, ps, func(p *param) *model.Variable { return p.v })...)
	weight := rest[0]
	for i, p := range ps {
		p.grad.SetNodeValue(graph.Add(p.grad.NodeValue(g), graph.Mul(grads[i], weight)))
	}
	return []*graph.Node{loss}
}

// applyGraph updates the parameters the forward reads from the accumulators and zeroes the accumulators.
// Its only input is the scalars vector.
func (e *engine) applyGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	ps := e.applyUsed()
	grads := values(g, ps, func(p *param) *model.Variable { return p.grad })
	norm := e.update(ps, grads, in[0], graph.Const(g, true))
	for _, p := range ps {
		p.grad.SetNodeValue(graph.ZerosLike(p.grad.NodeValue(g)))
	}
	return []*graph.Node{norm}
}

func (e *engine) embedGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	e.training(g)
	return []*graph.Node{graph.StopGradient(e.forward(scope, in[0], in[1], in[2], in[3]))}
}

// lossGradGraph takes the whole batch's outputs (one [batch, d] per column), the row mask and labels, and
// returns the loss and its gradient with respect to each column's outputs.
func (e *engine) lossGradGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	outs := in[:e.numCols]
	valid := in[e.numCols]
	var labels *graph.Node
	if e.labels {
		labels = in[e.numCols+1]
	}
	loss := e.loss(outs, valid, labels)
	return append([]*graph.Node{loss}, graph.Gradient(loss, outs...)...)
}

// surrogateGraph re-runs one mini-batch's forward with gradients and adds weight × ∂(Σ out ⊙ g)/∂θ to the
// accumulators, where g is the cached gradient of the loss with respect to out.
func (e *engine) surrogateGraph(scope *model.Scope, g *graph.Graph, in []*graph.Node) []*graph.Node {
	e.training(g)
	out := e.forward(scope, in[0], in[1], in[2], in[3])
	cached, weight := graph.StopGradient(in[4]), in[5]
	sur := graph.ReduceAllSum(graph.Mul(out, cached))
	ps := e.used(g)
	grads := graph.Gradient(sur, values(g, ps, func(p *param) *model.Variable { return p.v })...)
	for i, p := range ps {
		p.grad.SetNodeValue(graph.Add(p.grad.NodeValue(g), graph.Mul(grads[i], weight)))
	}
	return []*graph.Node{sur}
}

// applyUsed lists the parameters a gradient program has found the forward to read (a gradient program is
// always built before the first apply).
func (e *engine) applyUsed() []*param {
	var out []*param
	for _, p := range e.params {
		if p.usedInForward {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		panic(fmt.Errorf("train: apply before any gradient program was built"))
	}
	return out
}

// dropoutSeed derives the RNG seed of one forward from the run seed and its position, so that dropout masks
// are a pure function of (seed, step, micro-batch, column, chunk): the same after a resume, and the same in
// GradCache's embedding and gradient passes over one chunk.
func dropoutSeed(seed uint64, parts ...int) int64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(x uint64) {
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		h.Write(b[:])
	}
	put(seed)
	for _, p := range parts {
		put(uint64(p))
	}
	return int64(h.Sum64() & math.MaxInt64)
}
