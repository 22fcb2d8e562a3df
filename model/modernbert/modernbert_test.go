package modernbert

import (
	"bytes"
	"encoding/json"
	"errors"
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

func tiny() *Config {
	c := Defaults(50, 0, 2, 3)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 8, 3, 2, 12
	c.LocalAttention = 4
	c.InitializerRange = 0.5
	return c
}

// Both attention-pattern forms of config.json resolve to the same per-layer pattern and thetas, and each
// round-trips without gaining the other's keys.
func TestConfigFormsAndRoundTrip(t *testing.T) {
	older := `{"architectures":["ModernBertForMaskedLM"],"model_type":"modernbert","vocab_size":50368,"hidden_size":768,
		"num_hidden_layers":22,"num_attention_heads":12,"intermediate_size":1152,"global_attn_every_n_layers":3,
		"global_rope_theta":160000.0,"local_rope_theta":10000.0,"local_attention":128,"transformers_version":"4.48.0"}`
	newer := `{"architectures":["ModernBertModel"],"model_type":"modernbert","vocab_size":50368,"num_hidden_layers":4,
		"layer_types":["full_attention","sliding_attention","sliding_attention","full_attention"],
		"rope_parameters":{"full_attention":{"rope_theta":160000.0,"rope_type":"default"},"sliding_attention":{"rope_theta":10000.0,"rope_type":"default"}}}`
	for _, c := range []struct {
		json    string
		global  []bool
		absent  []string
		present []string
	}{
		{older, []bool{true, false, false, true}, []string{"layer_types", "rope_parameters"}, []string{"global_rope_theta", "transformers_version"}},
		{newer, []bool{true, false, false, true}, []string{"global_rope_theta", "local_rope_theta", "global_attn_every_n_layers"}, []string{"layer_types"}},
	} {
		var cfg Config
		if err := json.Unmarshal([]byte(c.json), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		for i, g := range c.global {
			want := 10000.0
			if g {
				want = 160000
			}
			if cfg.IsGlobal(i) != g || cfg.RopeTheta(i) != want {
				t.Errorf("layer %d: global %v theta %g, want %v %g", i, cfg.IsGlobal(i), cfg.RopeTheta(i), g, want)
			}
		}
		if cfg.HalfWindow() != 64 || cfg.NormEps != 1e-5 || cfg.ClassifierPooling != "cls" {
			t.Errorf("defaults: %+v", cfg)
		}
		out, _ := json.Marshal(cfg)
		var back map[string]any
		json.Unmarshal(out, &back)
		for _, k := range c.absent {
			if _, ok := back[k]; ok {
				t.Errorf("round trip added %s: %s", k, out)
			}
		}
		for _, k := range c.present {
			if _, ok := back[k]; !ok {
				t.Errorf("round trip lost %s: %s", k, out)
			}
		}
	}
	var bad Config
	json.Unmarshal([]byte(`{"model_type":"modernbert","rope_parameters":{"full_attention":{"rope_type":"yarn"}}}`), &bad)
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "yarn") {
		t.Errorf("rope_type yarn: %v", err)
	}
}

func TestParamsFollowTheBiasFlagsAndInitIsTransformers(t *testing.T) {
	c := tiny()
	ps := c.Params(CrossEncoderParts())
	// tok_embeddings, embeddings.norm, 3 layers × (attn_norm except layer 0, Wqkv, Wo, mlp_norm, Wi, Wo), final_norm,
	// head.dense, head.norm, classifier weight and bias.
	if want := 2 + 3*5 + 2 + 1 + 2 + 2; len(ps) != want {
		t.Fatalf("%d params, want %d: %v", len(ps), want, Names(ps))
	}
	if ps[0].Name != "model.embeddings.tok_embeddings.weight" || ps[len(ps)-2].Name != "classifier.weight" {
		t.Errorf("names: %v", Names(ps))
	}
	c.AttentionBias, c.MLPBias, c.NormBias, c.ClassifierBias = true, true, true, true
	if got := len(c.Params(CrossEncoderParts())); got != len(ps)+21 {
		t.Errorf("with every bias: %d params", got)
	}
	c = tiny()
	c.NumHiddenLayers, c.VocabSize = 2, 4000
	ts := InitWeights(c, CrossEncoderParts(), 3)
	std := func(name string) (float64, float64) {
		for _, x := range ts {
			if x.Name == name {
				var ss, mx float64
				for _, v := range x.Data {
					ss += float64(v) * float64(v)
					mx = math.Max(mx, math.Abs(float64(v)))
				}
				return math.Sqrt(ss / float64(len(x.Data))), mx
			}
		}
		t.Fatalf("no %s", name)
		return 0, 0
	}
	// Truncated at 2σ, a normal's deviation shrinks to 0.774σ.
	for name, sigma := range map[string]float64{
		"model.embeddings.tok_embeddings.weight": 0.5,
		"model.layers.1.attn.Wo.weight":          0.5 / 2,
	} {
		s, mx := std(name)
		if math.Abs(s-0.774*sigma) > 0.15*sigma || mx > 2*sigma+1e-6 {
			t.Errorf("%s: std %.3f max %.3f, want ≈ %.3f and ≤ %.3f", name, s, mx, 0.774*sigma, 2*sigma)
		}
	}
	if _, mx := std("classifier.weight"); mx > 2/math.Sqrt(8) { // hidden^-½, 16 values: only the cut is checkable
		t.Errorf("classifier.weight max %.3f beyond 2σ", mx)
	}
	if s, _ := std("model.final_norm.weight"); s != 1 {
		t.Errorf("final_norm weight not 1")
	}
}

func run(t *testing.T, c *Config, ids, mask [][]int32, fn func(scope *model.Scope, ids, mask *graph.Node) *graph.Node) []float32 {
	t.Helper()
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", InitWeights(c, CrossEncoderParts(), 5)); err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(backend, store, fn)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromValue(ids), tensors.FromValue(mask))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out[0])
}

// A padded row computes what the row alone computes, with local attention shorter than the row.
func TestPaddingMatchesUnpadded(t *testing.T) {
	c := tiny()
	enc := func(scope *model.Scope, ids, mask *graph.Node) *graph.Node {
		return Encode(scope.At("model"), c, ids, mask)
	}
	row := []int32{2, 7, 9, 11, 13, 17, 19, 23, 3}
	alone := run(t, c, [][]int32{row}, [][]int32{{1, 1, 1, 1, 1, 1, 1, 1, 1}}, enc)
	pad := append(slices.Clone(row), 0, 0, 0, 0, 0, 0, 0)
	both := run(t, c, [][]int32{pad, pad}, [][]int32{{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}}, enc)
	worst := 0.0
	for i := range alone {
		if math.IsNaN(float64(both[i])) {
			t.Fatal("NaN in a padded batch")
		}
		worst = math.Max(worst, math.Abs(float64(alone[i]-both[i])))
	}
	if worst > 1e-5 {
		t.Errorf("padded vs alone: max |Δ| %.3g", worst)
	}
	for _, x := range both {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatal("padded positions must stay finite")
		}
	}
}

// The classifier is differentiable: autodiff's gradient matches a finite difference, for a local layer's
// fused Wqkv.
func TestGradientMatchesFiniteDifference(t *testing.T) {
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	c := tiny()
	c.ClassifierPooling = "mean"
	c.ID2Label = map[string]string{"0": "LABEL_0"}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", InitWeights(c, CrossEncoderParts(), 5)); err != nil {
		t.Fatal(err)
	}
	const target = "/model/layers/1/attn/Wqkv/weight"
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, ids, mask *graph.Node) (*graph.Node, *graph.Node) {
		logits := SequenceClassification(scope, c, ids, mask)
		loss := graph.ReduceAllSum(graph.Mul(logits, graph.Const(ids.Graph(), [][]float32{{1}, {-2}})))
		v := store.GetVariable(target)
		return loss, graph.Gradient(loss, v.NodeValue(ids.Graph()))[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := tensors.FromValue([][]int32{{2, 7, 9, 11, 5, 8, 30, 3}, {2, 40, 3, 0, 0, 0, 0, 0}})
	mask := tensors.FromValue([][]int32{{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0, 0, 0}})
	out, err := exec.Exec(ids, mask)
	if err != nil {
		t.Fatal(err)
	}
	grad := tensors.MustCopyFlatData[float32](out[1])
	v := store.GetVariable(target)
	base := tensors.MustCopyFlatData[float32](v.MustValue())
	lossAt := func(k int, delta float32) float64 {
		w := slices.Clone(base)
		w[k] += delta
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
		o, err := exec.Exec(ids, mask)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.MustCopyFlatData[float32](o[0])[0])
	}
	// The largest entries of the q, k and v thirds: rotary (q, k) and values (v) are all differentiated.
	h := c.HiddenSize
	for third := range 3 {
		k := third * h * h
		for i := third * h * h; i < (third+1)*h*h; i++ {
			if math.Abs(float64(grad[i])) > math.Abs(float64(grad[k])) {
				k = i
			}
		}
		const eps = 1e-2
		numeric := (lossAt(k, eps) - lossAt(k, -eps)) / (2 * eps)
		t.Logf("Wqkv third %d, w[%d]: autodiff %.5g, finite difference %.5g", third, k, grad[k], numeric)
		if rel := math.Abs(numeric-float64(grad[k])) / math.Abs(numeric); rel > 0.02 || grad[k] == 0 {
			t.Errorf("w[%d]: autodiff %.5g, finite difference %.5g (rel err %.3g)", k, grad[k], numeric, rel)
		}
	}
}

// A ModernBertForMaskedLM checkpoint ("model." prefix, head, decoder, BF16) reads as a bi-encoder; a bare
// ModernBertModel file lacks the classifier a cross-encoder needs, and the error names it.
func TestReadWeightsCheckpointVariants(t *testing.T) {
	c := tiny()
	ts := InitWeights(c, BiEncoderParts(), 1)
	var mlm []safetensors.Float32Tensor
	for _, x := range ts {
		x.Name = "model." + x.Name
		mlm = append(mlm, x)
	}
	mlm = append(mlm, safetensors.Float32Tensor{Name: "head.dense.weight", Shape: []int{8, 8}, Data: make([]float32, 64)},
		safetensors.Float32Tensor{Name: "head.norm.weight", Shape: []int{8}, Data: make([]float32, 8)},
		safetensors.Float32Tensor{Name: "decoder.bias", Shape: []int{50}, Data: make([]float32, 50)})
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, mlm, safetensors.WriteOptions{DType: safetensors.BF16}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes(), "mlm.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadWeights(f, c, BiEncoderParts())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ts) || got[3].Name != ts[3].Name {
		t.Fatalf("read %d tensors (%s), want %d (%s)", len(got), got[3].Name, len(ts), ts[3].Name)
	}
	for j, x := range got[0].Data {
		if math.Abs(float64(x-ts[0].Data[j])) > 1e-2*math.Max(1, math.Abs(float64(ts[0].Data[j]))) {
			t.Fatalf("tok_embeddings[%d] = %v, want %v (BF16)", j, x, ts[0].Data[j])
		}
	}
	_, err = ReadWeights(f, c, CrossEncoderParts())
	if !errors.Is(err, safetensors.ErrMissing) || !strings.Contains(err.Error(), "classifier") || !strings.Contains(err.Error(), "mlm.safetensors") {
		t.Errorf("cross-encoder from an MLM checkpoint: %v", err)
	}
	c.MLPBias = true
	if _, err := ReadWeights(f, c, BiEncoderParts()); err == nil || !strings.Contains(err.Error(), "mlp_bias") {
		t.Errorf("a bias the config promises but the file lacks: %v", err)
	}
}
