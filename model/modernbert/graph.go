package modernbert

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/autocast"
	"github.com/ragnb/ragnb/model/bert"
)

// activationType maps transformers' ACT2FN names to GoMLX activations: "gelu" is the exact erf GELU,
// "gelu_new" / "gelu_pytorch_tanh" the tanh approximation.
func activationType(name string) (activation.Type, bool) {
	switch name {
	case "gelu":
		return activation.TypeGelu, true
	case "gelu_new", "gelu_pytorch_tanh":
		return activation.TypeGeluApprox, true
	case "relu":
		return activation.TypeRelu, true
	case "silu", "swish":
		return activation.TypeSilu, true
	}
	return 0, false
}

func activationNames() []string {
	return []string{"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"}
}

func mustActivation(name string) activation.Type {
	act, ok := activationType(name)
	if !ok {
		panic(fmt.Errorf("modernbert: activation %q not supported (supported: %v)", name, activationNames()))
	}
	return act
}

// variable returns the graph value of the variable name in scope, which must exist with the given shape.
func variable(scope *model.Scope, g *Graph, name string, dims ...int) *Node {
	v := scope.GetVariable(name)
	if v == nil {
		panic(fmt.Errorf("modernbert: variable %s/%s is not in the store (load weights or InitWeights first)", scope.Scope(), name))
	}
	if !slices.Equal(v.Shape().Dimensions, dims) {
		panic(fmt.Errorf("modernbert: variable %s/%s has shape %v, the config needs %v", scope.Scope(), name, v.Shape().Dimensions, dims))
	}
	return v.NodeValue(g)
}

// linear is torch.nn.Linear (weight [out, in]) with a bias only when bias is set.
func linear(scope *model.Scope, x *Node, in, out int, bias bool) *Node {
	g := x.Graph()
	w := variable(scope, g, "weight", out, in)
	var b *Node
	if bias {
		b = variable(scope, g, "bias", out)
	}
	return bert.DenseFor(scope, x, w, b, activation.TypeNone)
}

// layerNorm is torch.nn.LayerNorm(bias=norm_bias) over the last axis.
func layerNorm(scope *model.Scope, cfg *Config, x *Node) *Node {
	g := x.Graph()
	var b *Node
	if cfg.NormBias {
		b = variable(scope, g, "bias", cfg.HiddenSize)
	}
	return bert.LayerNormFor(scope, x, variable(scope, g, "weight", cfg.HiddenSize), b, cfg.NormEps)
}

// rotary returns cos and sin [seq, headDim] of the default rotary embedding with base theta at positions
// 0..seq-1: inv_freq[k] = theta^(−2k/d), angle = position · inv_freq, duplicated over both halves (as
// transformers' cat(freqs, freqs)). Computed in float64 and rounded once to float32.
func rotary(g *Graph, seq, d int, theta float64) (cos, sin *Node) {
	c, s := make([]float32, seq*d), make([]float32, seq*d)
	for p := range seq {
		for k := range d / 2 {
			angle := float64(p) * math.Pow(theta, -float64(2*k)/float64(d))
			ca, sa := float32(math.Cos(angle)), float32(math.Sin(angle))
			c[p*d+k], c[p*d+k+d/2] = ca, ca
			s[p*d+k], s[p*d+k+d/2] = sa, sa
		}
	}
	return Reshape(Const(g, c), seq, d), Reshape(Const(g, s), seq, d)
}

// rotate applies the rotary embedding to x [batch, heads, seq, d]: x·cos + rotate_half(x)·sin with
// rotate_half(x) = [−x₂, x₁] (x₁, x₂ the two halves of the last axis).
func rotate(x, cos, sin *Node) *Node {
	d := x.Shape().Dimensions[3]
	x1 := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, d/2))
	x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(d/2, d))
	half := Concatenate([]*Node{Neg(x2), x1}, 3)
	return Add(Mul(x, ExpandAxes(cos, 0, 1)), Mul(half, ExpandAxes(sin, 0, 1)))
}

// Encode builds ModernBertModel's forward pass and returns the last hidden state (after final_norm)
// [batch, seq, hidden].
//
// scope is the encoder root: its variables are the HF names with "." read as "/" (embeddings/tok_embeddings/
// weight, layers/0/attn/Wqkv/weight, ...). ids is integer [batch, seq]; mask is [batch, seq], 1 for tokens and
// 0 for padding. Attention scores are scaled by head_dim^-½; padded keys, and on local layers keys farther
// than local_attention // 2, get float32's lowest value added (once, so a query with no allowed key stays
// finite). ModernBERT has no token types. Dropout applies only in training graphs.
func Encode(scope *model.Scope, cfg *Config, ids, mask *Node) *Node {
	g := ids.Graph()
	if ids.Rank() != 2 {
		panic(fmt.Errorf("modernbert: ids must be [batch, seq], got %s", ids.Shape()))
	}
	batch, seq := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
	h, heads, d, inter := cfg.HiddenSize, cfg.NumAttentionHeads, cfg.HeadDim(), cfg.IntermediateSize
	act := mustActivation(cfg.HiddenActivation)

	emb := scope.At("embeddings")
	x := Gather(variable(emb.At("tok_embeddings"), g, "weight", cfg.VocabSize, h), ExpandAxes(ConvertDType(ids, dtypes.Int32), -1))
	x = layerNorm(emb.At("norm"), cfg, x)
	x = layers.DropoutStatic(scope, x, cfg.EmbeddingDropout)

	// Additive masks: padding [batch, 1, 1, seq]; local layers add the window, combined by Min so that a
	// masked entry gets the lowest value exactly once.
	lowest := -math.MaxFloat32
	padBias := Reshape(MulScalar(OneMinus(ConvertDType(mask, dtypes.Float32)), lowest), batch, 1, 1, seq)
	var localBias *Node
	rope := map[float64][2]*Node{}
	for i := range cfg.NumHiddenLayers {
		if !cfg.IsGlobal(i) && localBias == nil {
			rows := Iota(g, shapesOf(seq), 0)
			cols := Iota(g, shapesOf(seq), 1)
			far := GreaterThan(Abs(Sub(rows, cols)), Scalar(g, dtypes.Int32, cfg.HalfWindow()))
			window := Where(far, Scalar(g, dtypes.Float32, lowest), Scalar(g, dtypes.Float32, 0))
			localBias = Min(padBias, Reshape(window, 1, 1, seq, seq))
		}
		if theta := cfg.RopeTheta(i); rope[theta][0] == nil {
			c, s := rotary(g, seq, d, theta)
			rope[theta] = [2]*Node{c, s}
		}
	}
	scale := 1 / math.Sqrt(float64(d))

	for i := range cfg.NumHiddenLayers {
		layer := scope.At("layers").At("%d", i)
		attIn := x
		if i > 0 {
			attIn = layerNorm(layer.At("attn_norm"), cfg, x)
		}
		att := layer.At("attn")
		qkv := Reshape(linear(att.At("Wqkv"), attIn, h, 3*h, cfg.AttentionBias), batch, seq, 3, heads, d)
		part := func(k int) *Node { // [batch, heads, seq, d]
			p := Squeeze(Slice(qkv, AxisRange(), AxisRange(), AxisElem(k), AxisRange(), AxisRange()), 2)
			return TransposeAllAxes(p, 0, 2, 1, 3)
		}
		cs := rope[cfg.RopeTheta(i)]
		q, k, v := rotate(part(0), cs[0], cs[1]), rotate(part(1), cs[0], cs[1]), part(2)
		kT := TransposeAllAxes(k, 0, 1, 3, 2)
		scores := MulScalar(autocast.DotGeneral(q, []int{3}, []int{0, 1}, kT, []int{2}, []int{0, 1}), scale)
		if cfg.IsGlobal(i) {
			scores = Add(scores, padBias)
		} else {
			scores = Add(scores, localBias)
		}
		probs := layers.DropoutStatic(scope, bert.SoftmaxFor(scope, scores), cfg.AttentionDropout)
		ctx := autocast.DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1})
		ctx = Reshape(TransposeAllAxes(ctx, 0, 2, 1, 3), batch, seq, h)
		attOut := layers.DropoutStatic(scope, linear(att.At("Wo"), ctx, h, h, cfg.AttentionBias), cfg.AttentionDropout)
		x = Add(x, attOut)

		mlp := layer.At("mlp")
		wi := linear(mlp.At("Wi"), layerNorm(layer.At("mlp_norm"), cfg, x), h, 2*inter, cfg.MLPBias)
		input := Slice(wi, AxisRange(), AxisRange(), AxisRange(0, inter))
		gate := Slice(wi, AxisRange(), AxisRange(), AxisRange(inter, 2*inter))
		hidden := layers.DropoutStatic(scope, Mul(bert.ActivationFor(scope, act, input), gate), cfg.MLPDropout)
		x = Add(x, linear(mlp.At("Wo"), hidden, inter, h, cfg.MLPBias))
	}
	return layerNorm(scope.At("final_norm"), cfg, x)
}

// SequenceClassification is ModernBertForSequenceClassification's forward: logits [batch, num_labels] from
// the encoder under root/model, classifier_pooling (cls: the first token; mean: the mean over the mask), the
// prediction head (head.dense, classifier_activation, head.norm), dropout (classifier_dropout, training
// only) and root/classifier.
func SequenceClassification(root *model.Scope, cfg *Config, ids, mask *Node) *Node {
	hidden := Encode(root.At("model"), cfg, ids, mask)
	var pooled *Node
	if cfg.ClassifierPooling == "mean" {
		m := ExpandAxes(ConvertDType(mask, hidden.DType()), -1)
		pooled = Div(ReduceSum(Mul(hidden, m), 1), ReduceSum(m, 1))
	} else {
		pooled = Squeeze(Slice(hidden, AxisRange(), AxisElem(0), AxisRange()), 1)
	}
	head := root.At("head")
	pooled = linear(head.At("dense"), pooled, cfg.HiddenSize, cfg.HiddenSize, cfg.ClassifierBias)
	pooled = layerNorm(head.At("norm"), cfg, bert.ActivationFor(root, mustActivation(cfg.ClassifierActivation), pooled))
	pooled = layers.DropoutStatic(root, pooled, cfg.ClassifierDropout)
	return linear(root.At("classifier"), pooled, cfg.HiddenSize, cfg.NumLabels(), true)
}

func shapesOf(seq int) shapes.Shape { return shapes.Make(dtypes.Int32, seq, seq) }
