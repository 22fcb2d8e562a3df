package adapter

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragnb/ragnb/vector"
)

type golden struct {
	Tool  string `json:"tool"`
	Cases []struct {
		Name        string               `json:"name"`
		Config      Config               `json:"config"`
		Queries     [][]float32          `json:"queries"`
		Passages    [][]float32          `json:"passages"`
		Epochs      int                  `json:"epochs"`
		BatchSize   int                  `json:"batch_size"`
		LR          float64              `json:"learning_rate"`
		WeightDecay float64              `json:"weight_decay"`
		WarmupRatio float64              `json:"warmup_ratio"`
		MaxGradNorm float64              `json:"max_grad_norm"`
		Initial     map[string][]float64 `json:"initial"`
		Losses      []float64            `json:"losses"`
		Trained     map[string][]float64 `json:"trained"`
	} `json:"cases"`
}

// TestTrainingMatchesTorch: from the reference's initial weights, every step's loss and the trained weights
// match tools/adapter_reference.py (torch, float64) — warmup from 0, clipping, weight decay, a short last batch.
// The inputs are float32 here (as embeddings are), the reference's float64 values rounded, hence 1e-6.
func TestTrainingMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "train", "adapter.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 3 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a, err := New(c.Config, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range a.params {
				if p.name == "residual_weight" && !c.Config.AddResidual {
					continue // the reference keeps an unused residual weight too; it stays at its init
				}
				init, ok := c.Initial[p.name]
				if !ok || len(init) != len(p.v) {
					t.Fatalf("initial %s: %d values, want %d", p.name, len(init), len(p.v))
				}
				copy(p.v, init)
			}
			q, _ := vector.FromRows(c.Queries)
			ps, _ := vector.FromRows(c.Passages)
			losses, err := Train(context.Background(), a, q, ps, TrainOptions{Epochs: c.Epochs, BatchSize: c.BatchSize,
				LR: c.LR, WeightDecay: c.WeightDecay, WarmupRatio: c.WarmupRatio, MaxGradNorm: c.MaxGradNorm}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != len(c.Losses) {
				t.Fatalf("%d steps, reference %d", len(losses), len(c.Losses))
			}
			for i := range losses {
				if math.Abs(losses[i]-c.Losses[i]) > 1e-6*math.Max(1, math.Abs(c.Losses[i])) {
					t.Errorf("step %d: loss %.9f, reference %.9f", i+1, losses[i], c.Losses[i])
				}
			}
			for _, p := range a.params {
				want := c.Trained[p.name]
				worst := 0.0
				for i := range p.v {
					worst = math.Max(worst, math.Abs(p.v[i]-want[i]))
				}
				if worst > 1e-6 {
					t.Errorf("%s: max |Δ| %.3g from the reference", p.name, worst)
				}
			}
		})
	}
}

// TestGradientsMatchFiniteDifferences checks backward against central differences of the loss, for both
// adapters (a residual two-layer one with tanh, so every path is smooth).
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, cfg := range []Config{{Kind: Linear, In: 4, Bias: true}, {Kind: TwoLayer, In: 4, Hidden: 3, Activation: "tanh", AddResidual: true}} {
		a, _ := New(cfg, 3)
		if cfg.Kind == TwoLayer {
			a.get("residual_weight")[0] = 0.7
		}
		qs := [][]float64{{1, 0.2, -0.3, 0.5}, {-0.4, 1, 0.1, 0.2}, {0.3, -0.2, 0.9, -1}}
		ps := [][]float64{{0.8, 0.1, 0, 0.4}, {-0.2, 0.9, 0.3, 0}, {0.1, 0, 1, -0.7}}
		lossAt := func() float64 {
			ys := make([][]float64, len(qs))
			for i, q := range qs {
				ys[i] = a.forward(q).y
			}
			l, _ := loss(ys, ps, 20, false)
			return l
		}
		grads := make([][]float64, len(a.params))
		for i, p := range a.params {
			grads[i] = make([]float64, len(p.v))
		}
		ys, traces := make([][]float64, len(qs)), make([]*trace, len(qs))
		for i, q := range qs {
			traces[i] = a.forward(q)
			ys[i] = traces[i].y
		}
		_, dys := loss(ys, ps, 20, true)
		for i := range traces {
			a.backward(traces[i], dys[i], grads)
		}
		for i, p := range a.params {
			for j := range p.v {
				old := p.v[j]
				p.v[j] = old + 1e-6
				up := lossAt()
				p.v[j] = old - 1e-6
				down := lossAt()
				p.v[j] = old
				num := (up - down) / 2e-6
				if math.Abs(num-grads[i][j]) > 1e-5*math.Max(1, math.Abs(num)) {
					t.Errorf("%s %s[%d]: backward %.8f, finite differences %.8f", cfg.Kind, p.name, j, grads[i][j], num)
				}
			}
		}
	}
}

// TestAdapterLearnsSavesAndApplies: a linear adapter learns a rotation hidden between queries and passages
// (MNRL loss falls, the adapted queries find their passages), saves, loads identically and is applied to
// queries only.
func TestAdapterLearnsSavesAndApplies(t *testing.T) {
	const n, d = 40, 8
	q := vector.New(n, d)
	p := vector.New(n, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := float32(math.Sin(float64(i*d+j)*1.7) + 0.1*math.Cos(float64(i+j)))
			q.Row(i)[j] = v
			p.Row(i)[(j+1)%d] = v // the passage is the query with its coordinates rotated by one
		}
	}
	a, _ := New(Config{In: d}, 1)
	dir := t.TempDir()
	losses, err := Train(context.Background(), a, q, p, TrainOptions{Epochs: 100, LR: 0.2, CheckpointDir: filepath.Join(dir, "ckpt"), CheckpointEvery: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := losses[0], losses[len(losses)-1]; !(last < first/4) {
		t.Errorf("loss %.3f → %.3f", first, last)
	}
	found := func(m *vector.Matrix) int {
		hits := 0
		for i := 0; i < n; i++ {
			best, bi := math.Inf(-1), -1
			for j := 0; j < n; j++ {
				if c := vector.Cosine(m.Row(i), p.Row(j)); c > best {
					best, bi = c, j
				}
			}
			if bi == i {
				hits++
			}
		}
		return hits
	}
	adapted, err := a.Apply(q)
	if err != nil {
		t.Fatal(err)
	}
	if base, tuned := found(q), found(adapted); tuned < n/2 || tuned <= base {
		t.Errorf("top-1 %d of %d before, %d after", base, n, tuned)
	}
	if err := a.Save(filepath.Join(dir, "adapter")); err != nil {
		t.Fatal(err)
	}
	b, err := Load(filepath.Join(dir, "adapter"))
	if err != nil {
		t.Fatal(err)
	}
	// The file holds float32 weights (as safetensors checkpoints do); the adapter trains in float64.
	again, _ := b.Apply(q)
	for i := range adapted.Data {
		if math.Abs(float64(adapted.Data[i]-again.Data[i])) > 1e-5 {
			t.Fatalf("a reloaded adapter differs at %d: %v vs %v", i, adapted.Data[i], again.Data[i])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ckpt", "step_200", "model.safetensors")); err != nil {
		t.Errorf("checkpoint by step: %v", err)
	}
	if _, err := a.Apply(vector.New(2, d+1)); err == nil {
		t.Error("embeddings of the wrong width applied")
	}
}
