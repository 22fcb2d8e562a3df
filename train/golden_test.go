package train

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/weights"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/train/optim"
)

// Goldens written by tools/train_reference.py (PyTorch, float64, from sentence-transformers' and
// transformers' definitions): `python3 tools/train_reference.py` regenerates testdata/train.

type lossCase struct {
	Name   string          `json:"name"`
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
	Inputs [][]any         `json:"inputs"`
	Labels []float64       `json:"labels"`
	Rows   *int            `json:"rows"`
	Loss   float64         `json:"loss"`
	Grads  [][]any         `json:"grads"`
}

// flatten turns a JSON matrix or vector into float32 data and dimensions.
func flatten(x []any) ([]float32, []int) {
	if len(x) > 0 {
		if _, ok := x[0].([]any); ok {
			var out []float32
			for _, row := range x {
				for _, v := range row.([]any) {
					out = append(out, float32(v.(float64)))
				}
			}
			return out, []int{len(x), len(x[0].([]any))}
		}
	}
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v.(float64))
	}
	return out, []int{len(x)}
}

func TestLossesMatchTorch(t *testing.T) {
	var golden struct {
		Cases []lossCase `json:"cases"`
	}
	// losses.json from tools/train_reference.py, distill.json (GroupKLDivergence) from tools/distill_reference.py.
	for _, file := range []string{"losses.json", "distill.json"} {
		var g struct {
			Cases []lossCase `json:"cases"`
		}
		b, err := os.ReadFile(filepath.Join("..", "testdata", "train", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		golden.Cases = append(golden.Cases, g.Cases...)
	}
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		var p struct {
			Scale      float64   `json:"scale"`
			Dims       []int     `json:"dims"`
			Weights    []float64 `json:"weights"`
			Metric     string    `json:"metric"`
			Margin     float64   `json:"margin"`
			PosWeight  float64   `json:"pos_weight"`
			Activation string    `json:"activation"`
		}
		if err := json.Unmarshal(c.Params, &p); err != nil {
			t.Fatal(err)
		}
		var in []*tensors.Tensor
		for _, x := range c.Inputs {
			data, dims := flatten(x)
			in = append(in, tensors.FromFlatDataAndDimensions(data, dims...))
		}
		n := in[0].Shape().Dimensions[0]
		valid := make([]float32, n)
		for i := range valid {
			if c.Rows == nil || i < *c.Rows {
				valid[i] = 1
			}
		}
		var lossFn func(inputs []*graph.Node, valid *graph.Node) *graph.Node
		switch c.Kind {
		case "mnrl":
			l := losses.MultipleNegativesRanking(p.Scale)
			lossFn = func(x []*graph.Node, v *graph.Node) *graph.Node { return l(x, v) }
		case "matryoshka", "matryoshka_triplet":
			inner := losses.MultipleNegativesRanking(p.Scale)
			if c.Kind == "matryoshka_triplet" {
				inner, _ = losses.Triplet(p.Metric, p.Margin)
			}
			l, err := losses.Matryoshka(inner, p.Dims, p.Weights)
			if err != nil {
				t.Fatal(err)
			}
			lossFn = func(x []*graph.Node, v *graph.Node) *graph.Node { return l(x, v) }
		case "triplet":
			l, err := losses.Triplet(p.Metric, p.Margin)
			if err != nil {
				t.Fatal(err)
			}
			lossFn = func(x []*graph.Node, v *graph.Node) *graph.Node { return l(x, v) }
		case "group_kl":
			ys := make([]float32, len(c.Labels))
			for i, y := range c.Labels {
				ys[i] = float32(y)
			}
			in = append(in, tensors.FromFlatDataAndDimensions(ys, n, len(ys)/n))
			lossFn = func(x []*graph.Node, v *graph.Node) *graph.Node {
				return losses.GroupKLDivergence(x[:len(x)-1], x[len(x)-1], v, p.Scale)
			}
		case "bce", "mse":
			ys := make([]float32, len(c.Labels))
			for i, y := range c.Labels {
				ys[i] = float32(y)
			}
			in = append(in, tensors.FromFlatDataAndDimensions(ys, len(ys)))
			kind := c.Kind
			lossFn = func(x []*graph.Node, v *graph.Node) *graph.Node {
				if kind == "bce" {
					return losses.BinaryCrossEntropy(x[0], x[1], v, p.PosWeight)
				}
				return losses.MSE(x[0], x[1], v, p.Activation)
			}
		}
		numGrads := len(c.Grads)
		args := []any{tensors.FromFlatDataAndDimensions(valid, n)}
		for _, x := range in {
			args = append(args, x)
		}
		exec, err := graph.NewExec(backend.Backend, func(nodes []*graph.Node) []*graph.Node {
			v, x := nodes[0], nodes[1:]
			loss := lossFn(x, v)
			return append([]*graph.Node{loss}, graph.Gradient(loss, x[:numGrads]...)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Exec(args...)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got := float64(tensors.MustCopyFlatData[float32](outs[0])[0])
		if math.Abs(got-c.Loss) > 1e-5*math.Max(1, math.Abs(c.Loss)) {
			t.Errorf("%s: loss %.7g, torch %.7g", c.Name, got, c.Loss)
		}
		for i, g := range c.Grads {
			want, _ := flatten(g)
			have := tensors.MustCopyFlatData[float32](outs[1+i])
			for j := range want {
				if math.Abs(float64(have[j]-want[j])) > 2e-5*math.Max(1, math.Abs(float64(want[j]))) {
					t.Errorf("%s: gradient of input %d [%d] = %.7g, torch %.7g", c.Name, i, j, have[j], want[j])
					break
				}
			}
		}
	}
}

type stepCase struct {
	Name      string `json:"name"`
	Model     string `json:"model"`
	Loss      string `json:"loss"`
	BatchSize int    `json:"batch_size"`
	Config    struct {
		LR          float64   `json:"lr"`
		WeightDecay float64   `json:"weight_decay"`
		WarmupRatio float64   `json:"warmup_ratio"`
		Schedule    string    `json:"schedule"`
		MaxGradNorm float64   `json:"max_grad_norm"`
		Scale       float64   `json:"scale"`
		Dims        []int     `json:"dims"`
		Weights     []float64 `json:"weights"`
	} `json:"config"`
	Steps [][]struct {
		Columns [][]struct {
			IDs   []int32 `json:"ids"`
			Types []int32 `json:"types"`
		} `json:"columns"`
		Labels []float32 `json:"labels"`
	} `json:"steps"`
	Expected []struct {
		Loss     float64 `json:"loss"`
		GradNorm float64 `json:"grad_norm"`
	} `json:"expected"`
	Trained []string `json:"trained"`
}

// readTensors reads every tensor of a safetensors file as float32.
func readTensors(t *testing.T, path string) []safetensors.Float32Tensor {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []safetensors.Float32Tensor
	for _, name := range f.Names() {
		data, shape, err := f.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, safetensors.Float32Tensor{Name: name, Shape: shape, Data: data})
	}
	return out
}

// goldenModel builds the test model c.Model with its checkpoint's weights and dropout off, and the
// engine's forward over it.
func goldenModel(t *testing.T, c stepCase) (*model.Store, forwardFn, int32) {
	dir := filepath.Join("..", "testdata", "models", c.Model)
	tok := idTokenizer{143}
	spec := encoder.BERTSpec{Layers: 2, Hidden: 32, Heads: 4, Intermediate: 64, MaxLength: 64, Normalize: true}
	switch c.Model {
	case "tiny-static":
		m, err := encoder.NewStatic(context.Background(), tok, tokFiles(t), encoder.StaticSpec{Dim: 16}, encoder.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := weights.ToStore(m.Store(), "/", readTensors(t, filepath.Join(dir, "0_StaticEmbedding", "model.safetensors"))); err != nil {
			t.Fatal(err)
		}
		return m.Store(), func(scope *model.Scope, ids, types, mask, pool *graph.Node) *graph.Node {
			return m.EmbedGraphPoolMask(scope, ids, types, mask, pool)
		}, 0
	case "tiny-bert-mean":
		m, err := encoder.NewBERTBiEncoder(tok, tokFiles(t), spec, encoder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m.Layout().Config.HiddenDropoutProb, m.Layout().Config.AttentionProbsDropoutProb = 0, 0
		if err := weights.ToStore(m.Store(), "/", readTensors(t, filepath.Join(dir, "model.safetensors"))); err != nil {
			t.Fatal(err)
		}
		return m.Store(), func(scope *model.Scope, ids, types, mask, pool *graph.Node) *graph.Node {
			return m.EmbedGraphPoolMask(scope, ids, types, mask, pool)
		}, 0
	default:
		m, err := encoder.NewBERTCrossEncoder(tok, tokFiles(t), spec, encoder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m.Layout().Config.HiddenDropoutProb, m.Layout().Config.AttentionProbsDropoutProb = 0, 0
		if err := weights.ToStore(m.Store(), "/", readTensors(t, filepath.Join(dir, "model.safetensors"))); err != nil {
			t.Fatal(err)
		}
		return m.Store(), func(scope *model.Scope, ids, types, mask, _ *graph.Node) *graph.Node {
			return m.LogitGraph(scope, ids, types, mask)
		}, 0
	}
}

// Whole optimizer steps against PyTorch: forward, loss, backward, gradient accumulation (with a smaller
// micro-batch), global-norm clipping, AdamW with weight decay off for biases and LayerNorm, and the
// schedule; the final weights and every step's loss and gradient norm.
func TestTrainingStepsMatchTorch(t *testing.T) {
	var golden struct {
		Cases []stepCase `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join("..", "testdata", "train", "steps.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		store, fwd, pad := goldenModel(t, c)
		cfg := Config{Loss: c.Loss, Scale: c.Config.Scale, MatryoshkaDims: c.Config.Dims, MatryoshkaWeights: c.Config.Weights}
		var lf lossFn
		labels := false
		switch c.Loss {
		case "bce":
			labels = true
			lf = func(outs []*graph.Node, valid, y *graph.Node) *graph.Node {
				return losses.BinaryCrossEntropy(outs[0], y, valid, 0)
			}
		case "mse":
			labels = true
			lf = func(outs []*graph.Node, valid, y *graph.Node) *graph.Node {
				return losses.MSE(outs[0], y, valid, losses.ActivationSigmoid)
			}
		default:
			cfg.Loss = LossMNRL
			el, err := embeddingLoss(cfg)
			if err != nil {
				t.Fatal(err)
			}
			lf = func(outs []*graph.Node, valid, _ *graph.Node) *graph.Node { return el(outs, valid) }
		}
		numCols := len(c.Steps[0][0].Columns)
		adam := optim.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: c.Config.WeightDecay}
		e, err := newEngine(backend.Backend, store, fwd, lf, numCols, labels, adam, c.Config.MaxGradNorm, 1, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		total := len(c.Steps)
		sched := optim.Schedule{Kind: c.Config.Schedule, Warmup: optim.WarmupSteps(c.Config.WarmupRatio, total), Total: total}
		sh := shape{rows: c.BatchSize, maxLen: 64, padID: pad}
		for s, micros := range c.Steps {
			var batches []Batch
			for _, mb := range micros {
				var bt Batch
				for _, col := range mb.Columns {
					var seqs []encoder.Sequence
					for _, x := range col {
						seqs = append(seqs, encoder.Sequence{IDs: x.IDs, TypeIDs: x.Types})
					}
					bt.Columns = append(bt.Columns, seqs)
				}
				bt.Labels = mb.Labels
				batches = append(batches, bt)
			}
			loss, norm, err := e.step(batches, s, c.Config.LR*sched.Factor(s), sh)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.Name, s, err)
			}
			want := c.Expected[s]
			if math.Abs(loss-want.Loss) > 1e-4*math.Abs(want.Loss) || math.Abs(norm-want.GradNorm) > 1e-3*want.GradNorm {
				t.Errorf("%s step %d: loss %.6g grad norm %.6g; torch %.6g, %.6g", c.Name, s+1, loss, norm, want.Loss, want.GradNorm)
			}
		}
		got := map[string][]float32{}
		for _, p := range e.params {
			v, _ := p.v.Value()
			got[p.name] = tensors.MustCopyFlatData[float32](v)
		}
		want := map[string][]float32{}
		for _, x := range readTensors(t, filepath.Join("..", "testdata", "train", c.Name+".safetensors")) {
			want[x.Name] = x.Data
		}
		worst, where := 0.0, ""
		for name, w := range want {
			if strings.HasSuffix(name, "attention.self.key.bias") {
				// Its true gradient is 0 (a key bias adds the same q·b to every score of a softmax row): both
				// sides see rounding noise, which Adam's normalisation turns into steps of up to lr.
				continue
			}
			g := got[name]
			for i := range w {
				// Adam moves every weight by at most about lr per step; compare on that scale.
				if d := math.Abs(float64(g[i]-w[i])) / c.Config.LR; d > worst {
					worst, where = d, name
				}
			}
		}
		if worst > 1e-2 {
			t.Errorf("%s: final weights differ from torch's by %.3g × lr in %s", c.Name, worst, where)
		}
		t.Logf("%s: %d steps, final weights within %.2g × lr of torch", c.Name, total, worst)
		e.close()
	}
}
