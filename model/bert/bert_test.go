package bert

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
	c := Defaults(50)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings = 8, 2, 2, 16, 16
	c.InitializerRange = 0.5
	return c
}

func TestConfigRoundTripKeepsUnknownKeys(t *testing.T) {
	in := `{"architectures":["BertModel"],"model_type":"bert","vocab_size":30522,"hidden_size":384,
		"num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,"hidden_act":"gelu",
		"max_position_embeddings":512,"type_vocab_size":2,"layer_norm_eps":1e-12,"gradient_checkpointing":false,
		"transformers_version":"4.8.2","use_cache":true}`
	var c Config
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.HiddenSize != 384 || c.HeadDim() != 32 || c.InitializerRange != 0.02 || c.HiddenDropoutProb != 0.1 {
		t.Errorf("parsed %+v (missing keys should take BertConfig defaults)", c)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(out, &back)
	if back["transformers_version"] != "4.8.2" || back["use_cache"] != true || back["hidden_size"] != 384.0 {
		t.Errorf("round trip lost keys: %s", out)
	}
}

func TestValidateRejectsOtherArchitectures(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"architectures":["ModernBertModel"],"model_type":"modernbert","vocab_size":5}`, "ModernBertModel"},
		{`{"architectures":["XLMRobertaForSequenceClassification"],"model_type":"xlm-roberta"}`, "XLMRobertaForSequenceClassification"},
		{`{"model_type":"bert","vocab_size":10,"hidden_size":10,"num_attention_heads":3}`, "multiple"},
		{`{"model_type":"bert","vocab_size":10,"hidden_act":"swish"}`, "swish"},
		{`{"model_type":"bert","vocab_size":10,"position_embedding_type":"relative_key"}`, "relative_key"},
	} {
		var cfg Config
		if err := json.Unmarshal([]byte(c.json), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v should mention %q", c.json, err, c.want)
		}
	}
}

func TestParamsAndInit(t *testing.T) {
	c := tiny()
	ps := c.Params(CrossEncoderParts())
	// 5 embedding tensors + 16 per layer + 2 pooler + 2 classifier.
	if len(ps) != 5+16*2+2+2 {
		t.Fatalf("%d params", len(ps))
	}
	if ps[0].Name != "bert.embeddings.word_embeddings.weight" || ps[len(ps)-2].Name != "classifier.weight" ||
		!slices.Equal(ps[len(ps)-2].Shape, []int{2, 8}) {
		t.Errorf("names: first %v, classifier %v", ps[0], ps[len(ps)-2])
	}
	a := InitWeights(c, BiEncoderParts(), 7)
	b := InitWeights(c, BiEncoderParts(), 7)
	d := InitWeights(c, BiEncoderParts(), 8)
	if !slices.Equal(a[0].Data, b[0].Data) || slices.Equal(a[0].Data, d[0].Data) {
		t.Error("InitWeights must be a deterministic function of the seed")
	}
	for _, ts := range a {
		switch {
		case strings.HasSuffix(ts.Name, "LayerNorm.weight"):
			if ts.Data[0] != 1 {
				t.Errorf("%s = %v, want 1", ts.Name, ts.Data[0])
			}
		case strings.HasSuffix(ts.Name, ".bias"):
			if slices.ContainsFunc(ts.Data, func(x float32) bool { return x != 0 }) {
				t.Errorf("%s not zero", ts.Name)
			}
		case ts.Name == "embeddings.word_embeddings.weight":
			if slices.ContainsFunc(ts.Data[:c.HiddenSize], func(x float32) bool { return x != 0 }) {
				t.Error("the [PAD] row must be zero")
			}
			var ss float64
			for _, x := range ts.Data[c.HiddenSize:] {
				ss += float64(x) * float64(x)
			}
			std := math.Sqrt(ss / float64(len(ts.Data)-c.HiddenSize))
			if math.Abs(std-0.5) > 0.05 {
				t.Errorf("word embedding std %.3f, want initializer_range 0.5", std)
			}
		}
	}
}

// checkpoint writes tensors with the given names (renamed from canonical BertModel names) as F16.
func checkpoint(t *testing.T, ts []safetensors.Float32Tensor, rename func(string) string, drop func(string) bool) *safetensors.File {
	t.Helper()
	var out []safetensors.Float32Tensor
	for _, x := range ts {
		if drop != nil && drop(x.Name) {
			continue
		}
		x.Name = rename(x.Name)
		out = append(out, x)
	}
	out = append(out, safetensors.Float32Tensor{Name: "cls.predictions.bias", Shape: []int{3}, Data: []float32{1, 2, 3}})
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, out, safetensors.WriteOptions{DType: safetensors.F16}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes(), "hub.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadWeightsHubVariants(t *testing.T) {
	c := tiny()
	ts := InitWeights(c, BiEncoderParts(), 1)
	// A BertForMaskedLM-style checkpoint: "bert." prefix, TF-era gamma/beta, an MLM head, F16, no pooler.
	hub := func(n string) string {
		n = strings.Replace(n, "LayerNorm.weight", "LayerNorm.gamma", 1)
		return "bert." + strings.Replace(n, "LayerNorm.bias", "LayerNorm.beta", 1)
	}
	noPooler := func(n string) bool { return strings.HasPrefix(n, "pooler.") }
	f := checkpoint(t, ts, hub, noPooler)
	got, err := ReadWeights(f, c, BiEncoderParts(), true, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(got), len(ts))
	}
	for i := range got {
		if got[i].Name != ts[i].Name {
			t.Fatalf("tensor %d named %q, want %q", i, got[i].Name, ts[i].Name)
		}
		if strings.HasPrefix(got[i].Name, "pooler.") {
			continue
		}
		for j, x := range got[i].Data {
			if math.Abs(float64(x-ts[i].Data[j])) > 1e-3*math.Max(1, math.Abs(float64(ts[i].Data[j]))) {
				t.Fatalf("%s[%d] = %v, want %v (F16)", got[i].Name, j, x, ts[i].Data[j])
			}
		}
	}
	// Without permission to draw the pooler, its absence is an error naming file and tensor.
	_, err = ReadWeights(f, c, BiEncoderParts(), false, 0)
	if !errors.Is(err, safetensors.ErrMissing) || !strings.Contains(err.Error(), "pooler.dense.weight") || !strings.Contains(err.Error(), "hub.safetensors") {
		t.Errorf("missing pooler: %v", err)
	}
	// A shape mismatch names the tensor and both shapes.
	wrong := tiny()
	wrong.IntermediateSize = 12
	_, err = ReadWeights(f, wrong, BiEncoderParts(), true, 0)
	if err == nil || !strings.Contains(err.Error(), "intermediate.dense.weight") || !strings.Contains(err.Error(), "[12 8]") {
		t.Errorf("shape mismatch: %v", err)
	}
}

// The forward is differentiable: autodiff's gradient of a scalar loss matches a finite difference.
func TestGradientMatchesFiniteDifference(t *testing.T) {
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	c := tiny()
	store := model.NewStore()
	if err := weights.ToStore(store, "/", InitWeights(c, BiEncoderParts(), 5)); err != nil {
		t.Fatal(err)
	}
	const target = "/encoder/layer/1/intermediate/dense/weight"
	dir := make([]float32, c.HiddenSize)
	for i := range dir {
		dir[i] = float32(math.Sin(float64(i) + 1))
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, ids, types, mask *graph.Node) (*graph.Node, *graph.Node) {
		pooled := Pool(Encode(scope, c, ids, types, mask), mask, PoolMean)
		loss := graph.ReduceAllSum(graph.Mul(pooled, graph.ExpandAxes(graph.Const(ids.Graph(), dir), 0)))
		v := store.GetVariable(target)
		return loss, graph.Gradient(loss, v.NodeValue(ids.Graph()))[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := tensors.FromValue([][]int32{{2, 7, 9, 11, 3, 0}, {2, 40, 3, 0, 0, 0}})
	types := tensors.FromValue([][]int32{{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}})
	mask := tensors.FromValue([][]int32{{1, 1, 1, 1, 1, 0}, {1, 1, 1, 0, 0, 0}})
	out, err := exec.Exec(ids, types, mask)
	if err != nil {
		t.Fatal(err)
	}
	grad := tensors.MustCopyFlatData[float32](out[1])
	// Pick the largest gradient entry and perturb that weight both ways.
	k := 0
	for i, g := range grad {
		if math.Abs(float64(g)) > math.Abs(float64(grad[k])) {
			k = i
		}
	}
	v := store.GetVariable(target)
	base := tensors.MustCopyFlatData[float32](v.MustValue())
	lossAt := func(delta float32) float64 {
		w := slices.Clone(base)
		w[k] += delta
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
		o, err := exec.Exec(ids, types, mask)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.MustCopyFlatData[float32](o[0])[0])
	}
	const h = 1e-2
	numeric := (lossAt(h) - lossAt(-h)) / (2 * h)
	t.Logf("d loss / d w[%d]: autodiff %.5g, finite difference %.5g", k, grad[k], numeric)
	if rel := math.Abs(numeric-float64(grad[k])) / math.Abs(numeric); rel > 0.02 || grad[k] == 0 {
		t.Errorf("d loss / d w[%d]: autodiff %.5g, finite difference %.5g (rel err %.3g)", k, grad[k], numeric, rel)
	}
}

// Dropout runs only in training graphs: inference is deterministic, training differs.
func TestDropoutOnlyWhenTraining(t *testing.T) {
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	c := tiny()
	store := model.NewStore()
	if err := weights.ToStore(store, "/", InitWeights(c, BiEncoderParts(), 5)); err != nil {
		t.Fatal(err)
	}
	run := func(training bool) []float32 {
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, ids, types, mask *graph.Node) *graph.Node {
			store.SetTraining(ids.Graph(), training)
			return Pool(Encode(scope, c, ids, types, mask), mask, PoolCLS)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(tensors.FromValue([][]int32{{2, 7, 9, 3}}), tensors.FromValue([][]int32{{0, 0, 0, 0}}), tensors.FromValue([][]int32{{1, 1, 1, 1}}))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	a, b := run(false), run(false)
	if !slices.Equal(a, b) {
		t.Error("inference is not deterministic")
	}
	if tr := run(true); slices.Equal(a, tr) {
		t.Error("training graph shows no dropout")
	}
}

// geluTraining's value is the plain formula's and its gradient is GELU's derivative Φ(x) + x·φ(x), the one
// autodiff finds through the plain formula.
func TestGeluTrainingMatchesFormula(t *testing.T) {
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	xs := []float32{-12, -6, -3.5, -1, -0.25, 0, 1e-3, 0.5, 1, 2.5, 4, 9}
	ws := make([]float32, len(xs))
	for i := range ws {
		ws[i] = float32(math.Cos(float64(i)))
	}
	exec, err := graph.NewExec(backend, func(x, w *graph.Node) []*graph.Node {
		plain := graph.Mul(x, graph.MulScalar(graph.AddScalar(graph.Erf(graph.MulScalar(x, 1/math.Sqrt2)), 1), 0.5))
		custom := geluTraining(x)
		gp := graph.Gradient(graph.ReduceAllSum(graph.Mul(plain, w)), x)[0]
		gc := graph.Gradient(graph.ReduceAllSum(graph.Mul(custom, w)), x)[0]
		return []*graph.Node{plain, custom, gp, gc}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(xs, ws)
	if err != nil {
		t.Fatal(err)
	}
	plain, custom := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	gp, gc := tensors.MustCopyFlatData[float32](out[2]), tensors.MustCopyFlatData[float32](out[3])
	for i, x := range xs {
		if custom[i] != plain[i] {
			t.Errorf("gelu(%g) = %g, the plain formula gives %g", x, custom[i], plain[i])
		}
		xf := float64(x)
		want := float64(ws[i]) * (0.5*(1+math.Erf(xf/math.Sqrt2)) + xf*math.Exp(-xf*xf/2)/math.Sqrt(2*math.Pi))
		if math.Abs(float64(gc[i])-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("d gelu(%g): %g, want %g", x, gc[i], want)
		}
		if math.Abs(float64(gc[i]-gp[i])) > 1e-6*(1+math.Abs(float64(gp[i]))) {
			t.Errorf("d gelu(%g): %g, autodiff through the formula gives %g", x, gc[i], gp[i])
		}
	}
}
