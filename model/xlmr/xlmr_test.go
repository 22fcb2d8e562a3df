package xlmr

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/weights"
)

func tiny() *bert.Config {
	c := Defaults(50, 1)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 8, 2, 2, 16
	c.MaxPositionEmbeddings = 16 + 2
	c.InitializerRange = 0.5
	c.HiddenDropoutProb, c.AttentionProbsDropoutProb = 0, 0
	c.ID2Label = map[string]string{"0": "LABEL_0"}
	c.Architectures = []string{"XLMRobertaForSequenceClassification"}
	return c
}

func exec[F model.ExecGraphFn](t *testing.T, c *bert.Config, fn F) (*model.Exec, *model.Store) {
	t.Helper()
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", InitWeights(c, CrossEncoderParts(), 5)); err != nil {
		t.Fatal(err)
	}
	e, err := model.NewExec(backend, store, fn)
	if err != nil {
		t.Fatal(err)
	}
	return e, store
}

func TestConfigParamsAndInit(t *testing.T) {
	var c bert.Config
	in := `{"architectures":["XLMRobertaForSequenceClassification"],"model_type":"xlm-roberta","vocab_size":250002,
		"hidden_size":768,"num_hidden_layers":12,"num_attention_heads":12,"intermediate_size":3072,"max_position_embeddings":514,
		"type_vocab_size":1,"pad_token_id":1,"layer_norm_eps":1e-05,"id2label":{"0":"LABEL_0"}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := Validate(&c); err != nil || !c.IsSequenceClassification() || MaxLength(&c) != 512 {
		t.Fatalf("validate %v, classifier %v, max length %d", err, c.IsSequenceClassification(), MaxLength(&c))
	}
	if err := c.Validate(); err == nil {
		t.Error("bert.Validate must keep rejecting xlm-roberta (its positions differ)")
	}
	ps := Params(tiny(), CrossEncoderParts())
	names := bert.Names(ps)
	if names[0] != "roberta.embeddings.word_embeddings.weight" || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "pooler") }) ||
		!slices.Equal(names[len(names)-4:], []string{"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"}) {
		t.Errorf("names: %v", names)
	}
	for _, ts := range InitWeights(tiny(), CrossEncoderParts(), 1) {
		if strings.HasSuffix(ts.Name, "_embeddings.weight") && !strings.Contains(ts.Name, "token_type") {
			if slices.ContainsFunc(ts.Data[8:16], func(x float32) bool { return x != 0 }) || ts.Data[0] == 0 {
				t.Errorf("%s: the padding_idx row (1) must be zero and only it", ts.Name)
			}
		}
	}
}

// Position ids count from padding_idx+1 over non-pad tokens; pads get padding_idx; padding does not change
// the logits.
func TestPositionsAndPadding(t *testing.T) {
	c := tiny()
	e, _ := exec(t, c, func(scope *model.Scope, ids, mask *graph.Node) (*graph.Node, *graph.Node) {
		return PositionIDs(ids, 1), SequenceClassification(scope, c, ids, nil, mask)
	})
	out, err := e.Exec(tensors.FromValue([][]int32{{0, 7, 9, 11, 2, 1, 1}, {0, 40, 2, 1, 1, 1, 1}}), tensors.FromValue([][]int32{{1, 1, 1, 1, 1, 0, 0}, {1, 1, 1, 0, 0, 0, 0}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[int32](out[0]); !slices.Equal(got, []int32{2, 3, 4, 5, 6, 1, 1, 2, 3, 4, 1, 1, 1, 1}) {
		t.Errorf("positions %v", got)
	}
	padded := tensors.MustCopyFlatData[float32](out[1])
	alone, err := e.Exec(tensors.FromValue([][]int32{{0, 40, 2}}), tensors.FromValue([][]int32{{1, 1, 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if a := tensors.MustCopyFlatData[float32](alone[1])[0]; math.Abs(float64(a-padded[1])) > 1e-5 {
		t.Errorf("padded logit %v, alone %v", padded[1], a)
	}
}

func TestGradientMatchesFiniteDifference(t *testing.T) {
	c := tiny()
	const target = "/roberta/embeddings/position_embeddings/weight"
	var store *model.Store
	e, store := exec(t, c, func(scope *model.Scope, ids, mask *graph.Node) (*graph.Node, *graph.Node) {
		loss := graph.ReduceAllSum(graph.Mul(SequenceClassification(scope, c, ids, nil, mask), graph.Const(ids.Graph(), [][]float32{{1}, {-2}})))
		return loss, graph.Gradient(loss, store.GetVariable(target).NodeValue(ids.Graph()))[0]
	})
	ids := tensors.FromValue([][]int32{{0, 7, 9, 11, 2}, {0, 40, 2, 1, 1}})
	mask := tensors.FromValue([][]int32{{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}})
	out, err := e.Exec(ids, mask)
	if err != nil {
		t.Fatal(err)
	}
	grad := tensors.MustCopyFlatData[float32](out[1])
	h := c.HiddenSize
	for i := 0; i < 2*h; i++ { // rows 0 and 1 (row 1 is padding_idx, only pads read it, and pads are masked)
		if grad[i] != 0 && i >= h {
			t.Errorf("position row %d gets gradient %v; only pads read it", i/h, grad[i])
		}
	}
	k := 2 * h
	for i := 2 * h; i < len(grad); i++ {
		if math.Abs(float64(grad[i])) > math.Abs(float64(grad[k])) {
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
		o, err := e.Exec(ids, mask)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.MustCopyFlatData[float32](o[0])[0])
	}
	const eps = 1e-2
	numeric := (lossAt(eps) - lossAt(-eps)) / (2 * eps)
	t.Logf("d loss / d pos[%d]: autodiff %.5g, finite difference %.5g", k, grad[k], numeric)
	if rel := math.Abs(numeric-float64(grad[k])) / math.Abs(numeric); rel > 0.02 || grad[k] == 0 {
		t.Errorf("autodiff %.5g, finite difference %.5g (rel err %.3g)", grad[k], numeric, rel)
	}
}

// An XLMRobertaForMaskedLM checkpoint ("roberta." prefix, lm_head, no pooler) reads as a bi-encoder with the
// pooler drawn when allowed; as a cross-encoder it lacks the classification head, and the error names it.
func TestReadWeightsCheckpointVariants(t *testing.T) {
	c := tiny()
	ts := InitWeights(c, BiEncoderParts(), 1)
	var mlm []safetensors.Float32Tensor
	for _, x := range ts {
		if strings.HasPrefix(x.Name, "pooler.") {
			continue
		}
		x.Name = "roberta." + x.Name
		mlm = append(mlm, x)
	}
	mlm = append(mlm, safetensors.Float32Tensor{Name: "lm_head.bias", Shape: []int{50}, Data: make([]float32, 50)})
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, mlm, safetensors.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(buf.Bytes(), "mlm.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadWeights(f, c, BiEncoderParts(), true, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ts) || got[0].Name != "embeddings.word_embeddings.weight" || !slices.Equal(got[1].Data, ts[1].Data) {
		t.Fatalf("read %d tensors, want %d", len(got), len(ts))
	}
	if _, err := ReadWeights(f, c, BiEncoderParts(), false, 0); err == nil || !strings.Contains(err.Error(), "pooler") {
		t.Errorf("missing pooler without permission: %v", err)
	}
	if _, err := ReadWeights(f, c, CrossEncoderParts(), false, 0); err == nil || !strings.Contains(err.Error(), "classifier.dense.weight") {
		t.Errorf("cross-encoder from an MLM checkpoint: %v", err)
	}
}
