// Package adapter trains and applies an adapter on frozen embeddings, as LlamaIndex's
// EmbeddingAdapterFinetuneEngine and AdapterEmbeddingModel do: a small network over the base model's query
// embeddings, trained with MultipleNegativesRankingLoss against the (unchanged) passage embeddings, then
// applied to queries only. It is the cheap option on a CPU for a transformer base: the base model embeds the
// training pairs once and never runs backwards.
//
// Two adapters, LlamaIndex's LinearLayer and TwoLayerNN:
//
//	linear:    y = W·q (+ b)                      W seeded with the identity, b with 0; bias off by default
//	two-layer: y = W₂·act(W₁·q + b₁) + b₂        both biases always on (LlamaIndex ignores its bias flag here);
//	           with add_residual: y = r·(…) + q   r, a learnt scalar, starts at 0 (the adapter starts as identity)
//
// Training follows LlamaIndex's train_model: batches in data order (no shuffle), loss
// CrossEntropy(20 · cos(adapter(q_i), p_j), i) over the batch, torch AdamW (lr 2e-5, weight decay 0.01 on every
// parameter), a linear schedule with int(0.1 × steps) warmup steps, gradients clipped to norm 1, a checkpoint
// every CheckpointEvery steps. The arithmetic is float64 on the host (the adapter's matrices are at most a few
// million numbers); it is checked against PyTorch in the tests.
//
// A saved adapter is LlamaIndex's layout with safetensors for the weights: config.json (get_config_dict's
// keys) and model.safetensors with the state_dict's names (linear.weight, linear.bias; linear1.*, linear2.*,
// residual_weight). LlamaIndex reads pytorch_model.bin; load ours there with safetensors.torch.load_file and
// load_state_dict.
package adapter

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/internal/atomicfile"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/optim"
	"github.com/ragnb/ragnb/vector"
)

// Kinds of adapter.
const (
	Linear   = "linear"
	TwoLayer = "two-layer"
)

// Config describes an adapter (LlamaIndex's get_config_dict, plus Kind).
type Config struct {
	Kind string `json:"kind"`
	// In and Out are the embedding dimensions (equal for the linear adapter's identity seed and for a
	// residual); Hidden is the two-layer adapter's hidden width.
	In     int `json:"in_features"`
	Hidden int `json:"hidden_features,omitempty"`
	Out    int `json:"out_features"`
	// Bias adds the linear adapter's bias (the two-layer adapter always has both).
	Bias bool `json:"bias"`
	// Activation of the two-layer adapter: relu (default), tanh, sigmoid or leaky_relu.
	Activation string `json:"activation_fn_str,omitempty"`
	// AddResidual makes the two-layer adapter r·f(q) + q, r learnt from 0.
	AddResidual bool `json:"add_residual,omitempty"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Kind == "" {
		c.Kind = Linear
	}
	if c.Out == 0 {
		c.Out = c.In
	}
	if c.Kind == TwoLayer && c.Activation == "" {
		c.Activation = "relu"
	}
	switch {
	case c.In < 1 || c.Out < 1:
		return c, fmt.Errorf("adapter: dimensions %d → %d", c.In, c.Out)
	case c.Kind == Linear && c.In != c.Out:
		return c, fmt.Errorf("adapter: a linear adapter is seeded with the identity: in %d must equal out %d", c.In, c.Out)
	case c.Kind == TwoLayer && c.Hidden < 1:
		return c, fmt.Errorf("adapter: two-layer hidden width %d", c.Hidden)
	case c.Kind == TwoLayer && c.AddResidual && c.In != c.Out:
		return c, fmt.Errorf("adapter: a residual needs in %d = out %d", c.In, c.Out)
	case c.Kind != Linear && c.Kind != TwoLayer:
		return c, fmt.Errorf("adapter: kind %q, want %s or %s", c.Kind, Linear, TwoLayer)
	}
	if c.Kind == TwoLayer {
		if _, _, err := activation(c.Activation); err != nil {
			return c, err
		}
	}
	return c, nil
}

// activation returns f and f' (as a function of the pre-activation).
func activation(name string) (func(float64) float64, func(float64) float64, error) {
	switch name {
	case "relu":
		return func(x float64) float64 { return math.Max(0, x) },
			func(x float64) float64 {
				if x > 0 {
					return 1
				}
				return 0
			}, nil
	case "leaky_relu": // torch's default negative slope
		return func(x float64) float64 {
				if x > 0 {
					return x
				}
				return 0.01 * x
			}, func(x float64) float64 {
				if x > 0 {
					return 1
				}
				return 0.01
			}, nil
	case "tanh":
		return math.Tanh, func(x float64) float64 { t := math.Tanh(x); return 1 - t*t }, nil
	case "sigmoid":
		s := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
		return s, func(x float64) float64 { v := s(x); return v * (1 - v) }, nil
	}
	return nil, nil, fmt.Errorf("adapter: unknown activation %q (relu, tanh, sigmoid, leaky_relu)", name)
}

// param is one named tensor of the adapter, row-major like torch's (Linear weights are [out, in]).
type param struct {
	name  string
	shape []int
	v     []float64
}

// Adapter is a linear or two-layer adapter with its weights.
type Adapter struct {
	cfg    Config
	params []*param // in state_dict order
	act    func(float64) float64
	dact   func(float64) float64
}

// New creates an adapter: the linear one as the identity, the two-layer one with torch's nn.Linear init
// (weights and biases uniform in ±1/√fan_in) drawn from seed, and its residual weight 0.
func New(cfg Config, seed uint64) (*Adapter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Adapter{cfg: cfg}
	rng := rand.New(rand.NewPCG(seed, 0x616461707465))
	uniform := func(n, fanIn int) []float64 {
		v := make([]float64, n)
		b := 1 / math.Sqrt(float64(fanIn))
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * b
		}
		return v
	}
	switch cfg.Kind {
	case Linear:
		w := make([]float64, cfg.Out*cfg.In)
		for i := 0; i < cfg.In; i++ {
			w[i*cfg.In+i] = 1
		}
		a.params = append(a.params, &param{"linear.weight", []int{cfg.Out, cfg.In}, w})
		if cfg.Bias {
			a.params = append(a.params, &param{"linear.bias", []int{cfg.Out}, make([]float64, cfg.Out)})
		}
	case TwoLayer:
		a.params = append(a.params,
			&param{"linear1.weight", []int{cfg.Hidden, cfg.In}, uniform(cfg.Hidden*cfg.In, cfg.In)},
			&param{"linear1.bias", []int{cfg.Hidden}, uniform(cfg.Hidden, cfg.In)},
			&param{"linear2.weight", []int{cfg.Out, cfg.Hidden}, uniform(cfg.Out*cfg.Hidden, cfg.Hidden)},
			&param{"linear2.bias", []int{cfg.Out}, uniform(cfg.Out, cfg.Hidden)},
			&param{"residual_weight", []int{1}, []float64{0}})
		a.act, a.dact, _ = activation(cfg.Activation)
	}
	return a, nil
}

// Config is the adapter's configuration, defaults filled in.
func (a *Adapter) Config() Config { return a.cfg }

func (a *Adapter) get(name string) []float64 {
	for _, p := range a.params {
		if p.name == name {
			return p.v
		}
	}
	return nil
}

// forward computes y for one input q, keeping what backward needs.
type trace struct {
	q, h, hAct, o, y []float64
}

func (a *Adapter) forward(q []float64) *trace {
	c := a.cfg
	t := &trace{q: q}
	linear := func(w, b, x []float64, out int) []float64 {
		y := make([]float64, out)
		in := len(x)
		for i := range y {
			s := 0.0
			row := w[i*in : (i+1)*in]
			for j, xv := range x {
				s += row[j] * xv
			}
			if b != nil {
				s += b[i]
			}
			y[i] = s
		}
		return y
	}
	if c.Kind == Linear {
		t.y = linear(a.get("linear.weight"), a.get("linear.bias"), q, c.Out)
		return t
	}
	t.h = linear(a.get("linear1.weight"), a.get("linear1.bias"), q, c.Hidden)
	t.hAct = make([]float64, len(t.h))
	for i, v := range t.h {
		t.hAct[i] = a.act(v)
	}
	t.o = linear(a.get("linear2.weight"), a.get("linear2.bias"), t.hAct, c.Out)
	t.y = t.o
	if c.AddResidual {
		r := a.get("residual_weight")[0]
		t.y = make([]float64, c.Out)
		for i := range t.y {
			t.y[i] = r*t.o[i] + q[i]
		}
	}
	return t
}

// backward adds the gradients for dL/dy = dy at trace t into grads (one slice per param, same order).
func (a *Adapter) backward(t *trace, dy []float64, grads [][]float64) {
	c := a.cfg
	outer := func(g, d, x []float64) {
		in := len(x)
		for i, dv := range d {
			if dv == 0 {
				continue
			}
			row := g[i*in : (i+1)*in]
			for j, xv := range x {
				row[j] += dv * xv
			}
		}
	}
	add := func(g, d []float64) {
		for i, v := range d {
			g[i] += v
		}
	}
	if c.Kind == Linear {
		outer(grads[0], dy, t.q)
		if c.Bias {
			add(grads[1], dy)
		}
		return
	}
	dO := dy
	if c.AddResidual {
		r := a.get("residual_weight")[0]
		dO = make([]float64, len(dy))
		dr := 0.0
		for i, v := range dy {
			dO[i] = r * v
			dr += v * t.o[i]
		}
		grads[4][0] += dr
	}
	outer(grads[2], dO, t.hAct)
	add(grads[3], dO)
	w2 := a.get("linear2.weight")
	dh := make([]float64, c.Hidden)
	for i, dv := range dO {
		if dv == 0 {
			continue
		}
		row := w2[i*c.Hidden : (i+1)*c.Hidden]
		for j := range dh {
			dh[j] += row[j] * dv
		}
	}
	for j := range dh {
		dh[j] *= a.dact(t.h[j])
	}
	outer(grads[0], dh, t.q)
	add(grads[1], dh)
}

// Apply transforms query embeddings (one per row); passages are never transformed.
func (a *Adapter) Apply(m *vector.Matrix) (*vector.Matrix, error) {
	if m.Dim != a.cfg.In {
		return nil, fmt.Errorf("adapter: embeddings of dimension %d, the adapter takes %d", m.Dim, a.cfg.In)
	}
	rows := make([][]float32, m.Rows)
	q := make([]float64, m.Dim)
	for i := range rows {
		for j, v := range m.Row(i) {
			q[j] = float64(v)
		}
		y := a.forward(q).y
		rows[i] = make([]float32, len(y))
		for j, v := range y {
			rows[i][j] = float32(v)
		}
	}
	return vector.FromRows(rows)
}

// loss is MNRL over a batch: mean_i CE(scale · cos(y_i, p_j), i), and dL/dy_i when grad is set.
func loss(ys, ps [][]float64, scale float64, grad bool) (float64, [][]float64) {
	n := len(ys)
	norm := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x * x
		}
		return math.Max(math.Sqrt(s), 1e-12) // cos_sim normalises with F.normalize, whose eps is 1e-12
	}
	yn, pn := make([]float64, n), make([]float64, n)
	for i := range ys {
		yn[i], pn[i] = norm(ys[i]), norm(ps[i])
	}
	cos := make([][]float64, n)
	total := 0.0
	var dys [][]float64
	if grad {
		dys = make([][]float64, n)
	}
	for i := range ys {
		cos[i] = make([]float64, n)
		mx := math.Inf(-1)
		for j := range ps {
			d := 0.0
			for k, v := range ys[i] {
				d += v * ps[j][k]
			}
			cos[i][j] = d / (yn[i] * pn[j])
			mx = math.Max(mx, scale*cos[i][j])
		}
		sum := 0.0
		for j := range ps {
			sum += math.Exp(scale*cos[i][j] - mx)
		}
		lse := mx + math.Log(sum)
		total += lse - scale*cos[i][i]
		if !grad {
			continue
		}
		dy := make([]float64, len(ys[i]))
		for j := range ps {
			ds := math.Exp(scale*cos[i][j]-lse) / float64(n) // softmax − onehot, averaged over the batch
			if j == i {
				ds -= 1 / float64(n)
			}
			// d cos(y, p) / dy = p / (|y||p|) − cos · y / |y|²
			for k := range dy {
				dy[k] += scale * ds * (ps[j][k]/(yn[i]*pn[j]) - cos[i][j]*ys[i][k]/(yn[i]*yn[i]))
			}
		}
		dys[i] = dy
	}
	return total / float64(n), dys
}

// TrainOptions configure Train; zero fields take LlamaIndex's defaults (DefaultTrainOptions).
type TrainOptions struct {
	Epochs      int     `json:"epochs"`
	BatchSize   int     `json:"batch_size"`
	LR          float64 `json:"learning_rate"`
	WeightDecay float64 `json:"weight_decay"`
	// WarmupRatio: int(ratio × steps) warmup steps of a linear schedule.
	WarmupRatio float64 `json:"warmup_ratio"`
	MaxGradNorm float64 `json:"max_grad_norm"`
	// Scale multiplies the cosines (MNRL's scale, 1 / temperature).
	Scale float64 `json:"scale"`
	// CheckpointDir, when set, receives step_<N> every CheckpointEvery steps (LlamaIndex's 500 by default).
	CheckpointDir   string `json:"-"`
	CheckpointEvery int    `json:"checkpoint_every"`
}

// DefaultTrainOptions are LlamaIndex's: 1 epoch, batches of 10, lr 2e-5, torch's AdamW weight decay 0.01,
// warmup 10%, gradients clipped to 1, scale 20, checkpoints every 500 steps.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Epochs: 1, BatchSize: 10, LR: 2e-5, WeightDecay: 0.01, WarmupRatio: 0.1, MaxGradNorm: 1,
		Scale: 20, CheckpointEvery: 500}
}

// Train fits the adapter on (query, passage) embedding pairs, row i of queries with row i of passages; the
// other passages of a batch are its in-batch negatives. It returns the loss of every step.
func Train(ctx context.Context, a *Adapter, queries, passages *vector.Matrix, o TrainOptions, report progress.Func) ([]float64, error) {
	d := DefaultTrainOptions()
	if o.Epochs == 0 {
		o.Epochs = d.Epochs
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.LR == 0 {
		o.LR = d.LR
	}
	if o.Scale == 0 {
		o.Scale = d.Scale
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = d.CheckpointEvery
	}
	switch {
	case queries.Rows != passages.Rows:
		return nil, fmt.Errorf("adapter: %d queries but %d passages", queries.Rows, passages.Rows)
	case queries.Rows < 2:
		return nil, fmt.Errorf("adapter: %d pairs: MNRL needs at least 2", queries.Rows)
	case queries.Dim != a.cfg.In || passages.Dim != a.cfg.Out:
		return nil, fmt.Errorf("adapter: embeddings %d / %d wide, the adapter maps %d → %d", queries.Dim, passages.Dim, a.cfg.In, a.cfg.Out)
	case o.Epochs < 0 || o.BatchSize < 1 || o.LR < 0 || o.WeightDecay < 0 || o.WarmupRatio < 0 || o.WarmupRatio > 1:
		return nil, fmt.Errorf("adapter: training options out of range: %+v", o)
	}
	row := func(m *vector.Matrix, i int) []float64 {
		out := make([]float64, m.Dim)
		for j, v := range m.Row(i) {
			out[j] = float64(v)
		}
		return out
	}
	perEpoch := (queries.Rows + o.BatchSize - 1) / o.BatchSize
	total := perEpoch * o.Epochs
	sched := optim.Schedule{Kind: optim.Linear, Warmup: int(float64(total) * o.WarmupRatio), Total: total}
	adam := optim.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: o.WeightDecay}
	m1, m2 := make([][]float64, len(a.params)), make([][]float64, len(a.params))
	for i, p := range a.params {
		m1[i], m2[i] = make([]float64, len(p.v)), make([]float64, len(p.v))
	}
	tr := progress.Start(report, "train adapter", total, "steps")
	var losses []float64
	for step := 0; step < total; step++ {
		if err := ctx.Err(); err != nil {
			return losses, err
		}
		lo := (step % perEpoch) * o.BatchSize
		hi := min(lo+o.BatchSize, queries.Rows)
		traces := make([]*trace, hi-lo)
		ys, ps := make([][]float64, hi-lo), make([][]float64, hi-lo)
		for i := lo; i < hi; i++ {
			traces[i-lo] = a.forward(row(queries, i))
			ys[i-lo], ps[i-lo] = traces[i-lo].y, row(passages, i)
		}
		l, dys := loss(ys, ps, o.Scale, true)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return losses, fmt.Errorf("adapter: step %d: loss %v (try a lower learning rate)", step+1, l)
		}
		losses = append(losses, l)
		grads := make([][]float64, len(a.params))
		for i, p := range a.params {
			grads[i] = make([]float64, len(p.v))
		}
		for i, t := range traces {
			a.backward(t, dys[i], grads)
		}
		// clip_grad_norm_: one norm over every gradient.
		gn := 0.0
		for _, g := range grads {
			for _, v := range g {
				gn += v * v
			}
		}
		gn = math.Sqrt(gn)
		clip := 1.0
		if o.MaxGradNorm > 0 && gn > o.MaxGradNorm {
			clip = o.MaxGradNorm / (gn + 1e-6)
		}
		lr := o.LR * sched.Factor(step)
		s := adam.StepScalars(step+1, lr)
		for i, p := range a.params {
			for j := range p.v {
				g := grads[i][j] * clip
				m1[i][j] = adam.Beta1*m1[i][j] + (1-adam.Beta1)*g
				m2[i][j] = adam.Beta2*m2[i][j] + (1-adam.Beta2)*g*g
				p.v[j] = p.v[j]*s.DecayFactor - s.StepSize*m1[i][j]/(math.Sqrt(m2[i][j])/s.BiasCorrection2Sqrt+adam.Eps)
			}
		}
		tr.Set(step+1, map[string]float64{"loss": l})
		if o.CheckpointDir != "" && (step+1)%o.CheckpointEvery == 0 {
			if err := a.Save(filepath.Join(o.CheckpointDir, fmt.Sprintf("step_%d", step+1))); err != nil {
				return losses, err
			}
		}
	}
	tr.Finish()
	return losses, nil
}

// Save writes config.json and model.safetensors (float32, the state_dict's names) into dir.
func (a *Adapter) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(a.cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "config.json"), append(b, '\n')); err != nil {
		return err
	}
	var ts []safetensors.Float32Tensor
	for _, p := range a.params {
		f := make([]float32, len(p.v))
		for i, v := range p.v {
			f[i] = float32(v)
		}
		ts = append(ts, safetensors.Float32Tensor{Name: p.name, Shape: p.shape, Data: f})
	}
	return safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, safetensors.WriteOptions{Metadata: map[string]string{"format": "pt"}})
}

// Load reads an adapter Save wrote.
func Load(dir string) (*Adapter, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("adapter %s: config.json: %w", dir, err)
	}
	a, err := New(cfg, 0)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, err)
	}
	file := filepath.Join(dir, "model.safetensors")
	st, err := safetensors.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for _, p := range a.params {
		f, err := st.Float32Shape(p.name, p.shape...)
		if err != nil {
			return nil, fmt.Errorf("adapter %s: %w", dir, err)
		}
		for i, v := range f {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("adapter %s: tensor %s holds a non-finite value", file, p.name)
			}
			p.v[i] = float64(v)
		}
	}
	return a, nil
}
