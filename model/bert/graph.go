package bert

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"

	"github.com/ragnb/ragnb/model/autocast"
)

// activationType maps config.json's hidden_act to GoMLX's activation: "gelu" is HF's exact erf GELU.
func activationType(name string) (activation.Type, bool) {
	switch name {
	case "gelu":
		return activation.TypeGelu, true
	case "gelu_new", "gelu_pytorch_tanh":
		return activation.TypeGeluApprox, true
	case "relu":
		return activation.TypeRelu, true
	}
	return 0, false
}

// variable returns the graph value of the variable name in scope, which must exist with the given shape:
// weights come from a checkpoint or from InitWeights, never from GoMLX's default initializer, so a missing
// variable is a bug worth stopping for.
func variable(scope *model.Scope, g *Graph, name string, dims ...int) *Node {
	v := scope.GetVariable(name)
	if v == nil {
		panic(fmt.Errorf("bert: variable %s/%s is not in the store (load weights or InitWeights first)", scope.Scope(), name))
	}
	if !slices.Equal(v.Shape().Dimensions, dims) {
		panic(fmt.Errorf("bert: variable %s/%s has shape %v, the config needs %v", scope.Scope(), name, v.Shape().Dimensions, dims))
	}
	return v.NodeValue(g)
}

// The fused ops of GoMLX's pure-Go backend (dense, GELU, softmax, layer norm) speed up inference, but in a
// training graph GoMLX also builds the decomposed formula of each fused op and differentiates through it, so the
// decomposed forward runs as well as the fused one: the fused op is pure overhead there (for the GELU dense layer
// it means a second matmul and the erf three times). DenseFor, ActivationFor, LayerNormFor and SoftmaxFor
// therefore build the plain formulas in training graphs (Scope.IsTraining), which autodiff takes as they are,
// and the fused ops in inference graphs. Other encoders of the family (package modernbert) use them too.

// DenseFor is x·Wᵀ + b with w in HF's [out, in] layout, then act; b may be nil. In a training graph the product
// follows the graph's autocast (bfloat16 operands under train.Config.BF16).
func DenseFor(scope *model.Scope, x, w, b *Node, act activation.Type) *Node {
	if scope.IsTraining(x.Graph()) {
		y := autocast.DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil)
		if b != nil {
			y = Add(y, ExpandLeftToRank(b, y.Rank()))
		}
		return ActivationFor(scope, act, y)
	}
	switch act {
	case activation.TypeNone:
		return nn.Dense(x, w, b, compute.DenseLayoutOutputsInput)
	case activation.TypeGelu, activation.TypeRelu:
		return nn.Dense(x, w, b, compute.DenseLayoutOutputsInput, act)
	}
	// The fused dense computes exact GELU for TypeGeluApprox too: apply other activations on their own.
	return activation.Apply(act, nn.Dense(x, w, b, compute.DenseLayoutOutputsInput))
}

// ActivationFor applies act; exact GELU is x·Φ(x) = x·(1 + erf(x/√2))/2 in training graphs (geluTraining).
func ActivationFor(scope *model.Scope, act activation.Type, x *Node) *Node {
	if act == activation.TypeGelu && scope.IsTraining(x.Graph()) {
		return geluTraining(x)
	}
	return activation.Apply(act, x)
}

// geluTraining is x·Φ(x) with its derivative Φ(x) + x·φ(x) given to autodiff directly. Differentiating the
// formula keeps erf's input x/√2 alive from the forward to the backward pass beside x and Φ(x): one more
// [tokens, FF] buffer per layer (50 MB per layer in the MiniLM-shape bench step, 300 MB of its peak). The
// derivative reuses Φ(x) from the forward, so no erf is recomputed.
//
// The value is y + (x − x), with the custom gradient on the second x and the first under StopGradient: x − x
// is exactly 0 for finite x, so the value is GELU's to the bit, and the gradient that reaches x is the one
// given here.
func geluTraining(x *Node) *Node {
	xs := StopGradient(x)
	cdf := MulScalar(AddScalar(Erf(MulScalar(xs, 1/math.Sqrt2)), 1), 0.5)
	xi := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
		pdf := MulScalar(Exp(MulScalar(Square(xs), -0.5)), 1/math.Sqrt(2*math.Pi))
		return Mul(v, Add(cdf, Mul(xs, pdf)))
	})
	return Add(Mul(xs, cdf), Sub(xi, StopGradient(xi)))
}

// LayerNormFor is torch.nn.LayerNorm over the last axis; beta may be nil.
func LayerNormFor(scope *model.Scope, x, gamma, beta *Node, eps float64) *Node {
	if !scope.IsTraining(x.Graph()) {
		return nn.LayerNorm(x, []int{-1}, eps, gamma, beta, nil)
	}
	centred := Sub(x, ReduceAndKeep(x, ReduceMean, -1))
	variance := ReduceAndKeep(Square(centred), ReduceMean, -1)
	y := Mul(Div(centred, Sqrt(AddScalar(variance, eps))), ExpandLeftToRank(gamma, x.Rank()))
	if beta != nil {
		y = Add(y, ExpandLeftToRank(beta, x.Rank()))
	}
	return y
}

// SoftmaxFor is softmax over the last axis.
func SoftmaxFor(scope *model.Scope, x *Node) *Node {
	if !scope.IsTraining(x.Graph()) {
		return Softmax(x, -1)
	}
	e := Exp(Sub(x, StopGradient(ReduceAndKeep(x, ReduceMax, -1))))
	return Div(e, ReduceAndKeep(e, ReduceSum, -1))
}

// linear is torch.nn.Linear with HF's [out, in] weight layout: x·Wᵀ + b.
func linear(scope *model.Scope, x *Node, in, out int, act activation.Type) *Node {
	g := x.Graph()
	return DenseFor(scope, x, variable(scope, g, "weight", out, in), variable(scope, g, "bias", out), act)
}

// layerNorm is torch.nn.LayerNorm over the last axis with HF's weight/bias names.
func layerNorm(scope *model.Scope, x *Node, hidden int, eps float64) *Node {
	g := x.Graph()
	return LayerNormFor(scope, x, variable(scope, g, "weight", hidden), variable(scope, g, "bias", hidden), eps)
}

// Encode builds BertModel's forward pass and returns the last hidden state [batch, seq, hidden].
//
// scope is the encoder root: its variables are the HF names with "." read as "/" (embeddings/word_embeddings/
// weight, encoder/layer/0/attention/self/query/weight, ...). ids and typeIDs are integer [batch, seq];
// mask is [batch, seq] of any numeric or bool dtype, 1 for tokens and 0 for padding. The math is HF
// modeling_bert's: absolute positions 0..seq-1 for every row, word + position + token-type embeddings,
// LayerNorm, then per layer post-LN self-attention (scores scaled by 1/√d, an additive mask of float32's
// lowest value on padded keys) and a GELU feed-forward. Dropout (hidden_dropout_prob,
// attention_probs_dropout_prob) is applied only when the graph is a training graph (Store.SetTraining).
// Variables are looked up with Scope.At, so the function can be called several times in one graph (e.g.
// for queries and documents) sharing weights.
func Encode(scope *model.Scope, cfg *Config, ids, typeIDs, mask *Node) *Node {
	return EncodePositions(scope, cfg, ids, typeIDs, nil, mask)
}

// EncodePositions is Encode with explicit position ids [batch, seq] (integer, each < max_position_embeddings):
// RoBERTa-family models count positions from padding_idx+1 over the non-pad tokens (package xlmr). nil gives
// BERT's 0..seq-1 for every row.
func EncodePositions(scope *model.Scope, cfg *Config, ids, typeIDs, positionIDs, mask *Node) *Node {
	g := ids.Graph()
	if ids.Rank() != 2 {
		panic(fmt.Errorf("bert: ids must be [batch, seq], got %s", ids.Shape()))
	}
	batch, seq := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
	if positionIDs == nil && seq > cfg.MaxPositionEmbeddings {
		panic(fmt.Errorf("bert: sequence length %d exceeds max_position_embeddings %d", seq, cfg.MaxPositionEmbeddings))
	}
	h, heads, d := cfg.HiddenSize, cfg.NumAttentionHeads, cfg.HeadDim()
	act, ok := activationType(cfg.HiddenAct)
	if !ok {
		panic(fmt.Errorf("bert: hidden_act %q not supported", cfg.HiddenAct))
	}

	// Embeddings.
	emb := scope.At("embeddings")
	words := Gather(variable(emb.At("word_embeddings"), g, "weight", cfg.VocabSize, h), ExpandAxes(ConvertDType(ids, dtypes.Int32), -1))
	posTable := variable(emb.At("position_embeddings"), g, "weight", cfg.MaxPositionEmbeddings, h)
	var positions *Node
	if positionIDs == nil {
		positions = ExpandAxes(Slice(posTable, AxisRange(0, seq)), 0)
	} else {
		positions = Gather(posTable, ExpandAxes(ConvertDType(positionIDs, dtypes.Int32), -1))
	}
	if typeIDs == nil {
		typeIDs = ZerosLike(ids)
	}
	types := Gather(variable(emb.At("token_type_embeddings"), g, "weight", cfg.TypeVocabSize, h), ExpandAxes(ConvertDType(typeIDs, dtypes.Int32), -1))
	x := Add(Add(words, positions), types)
	x = layerNorm(emb.At("LayerNorm"), x, h, cfg.LayerNormEps)
	x = layers.DropoutStatic(scope, x, cfg.HiddenDropoutProb)

	// Additive attention mask, 0 for tokens and float32's lowest value for padding, broadcast once to the scores'
	// full shape [batch, heads, seq, seq]: the pure-Go backend adds same-shape operands on its flat fast path,
	// while an implicit broadcast in every layer walks index by index. The reshape round trip keeps the
	// backend's implicit-broadcast pass from folding the broadcast back into each layer's Add.
	maskF := ConvertDType(mask, dtypes.Float32)
	bias := MulScalar(OneMinus(maskF), -math.MaxFloat32)
	bias = BroadcastToDims(Reshape(bias, batch, 1, 1, seq), batch, heads, seq, seq)
	bias = Reshape(Reshape(bias, batch*heads, seq, seq), batch, heads, seq, seq)
	scale := 1 / math.Sqrt(float64(d))

	for i := range cfg.NumHiddenLayers {
		layer := scope.At("encoder").At("layer").At("%d", i)
		att := layer.At("attention")
		self := att.At("self")
		// Heads-major layouts whose products are all the pure-Go backend's fastest matmul layout (both operands
		// [batch, cross, contracting]) with no transpose inside the dot: q, k [b, a, s, d] and vᵀ [b, a, d, s].
		// In a training graph the gradients then transpose only [b, a, s, d]-sized tensors, except the key
		// gradient's one transpose of the scores' gradient (a transposed-operand matmul would avoid it).
		split := func(t *Node, perm ...int) *Node { return TransposeAllAxes(Reshape(t, batch, seq, heads, d), perm...) }
		// 1/√d scales q [b, a, i, d] rather than the scores [b, a, i, j]: a quarter of the work at seq 128.
		q := split(MulScalar(linear(self.At("query"), x, h, h, activation.TypeNone), scale), 0, 2, 1, 3)
		k := split(linear(self.At("key"), x, h, h, activation.TypeNone), 0, 2, 1, 3)
		vT := split(linear(self.At("value"), x, h, h, activation.TypeNone), 0, 2, 3, 1)
		// scores[b, a, i, j] = q[b, a, i, :] · k[b, a, j, :]
		scores := Add(autocast.DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}), bias)
		probs := SoftmaxFor(scope, scores)
		probs = layers.DropoutStatic(scope, probs, cfg.AttentionProbsDropoutProb)
		// ctxᵀ[b, a, :, i] = Σ_j vᵀ[b, a, :, j] probs[b, a, i, j]
		ctxT := autocast.DotGeneral(vT, []int{3}, []int{0, 1}, probs, []int{3}, []int{0, 1})
		ctx := Reshape(TransposeAllAxes(ctxT, 0, 3, 1, 2), batch, seq, h)
		out := att.At("output")
		attOut := linear(out.At("dense"), ctx, h, h, activation.TypeNone)
		attOut = layers.DropoutStatic(scope, attOut, cfg.HiddenDropoutProb)
		x = layerNorm(out.At("LayerNorm"), Add(attOut, x), h, cfg.LayerNormEps)

		inter := linear(layer.At("intermediate").At("dense"), x, h, cfg.IntermediateSize, act)
		ffOut := linear(layer.At("output").At("dense"), inter, cfg.IntermediateSize, h, activation.TypeNone)
		ffOut = layers.DropoutStatic(scope, ffOut, cfg.HiddenDropoutProb)
		x = layerNorm(layer.At("output").At("LayerNorm"), Add(ffOut, x), h, cfg.LayerNormEps)
	}
	return x
}

// Pooling modes of sentence-transformers' Pooling module that this package computes.
const (
	PoolCLS  = "cls"
	PoolMean = "mean"
	PoolMax  = "max"
	// PoolMeanSqrtLen is the sum over tokens divided by √(number of tokens).
	PoolMeanSqrtLen = "mean_sqrt_len_tokens"
)

// PoolingModes lists the modes Pool accepts.
func PoolingModes() []string { return []string{PoolCLS, PoolMean, PoolMax, PoolMeanSqrtLen} }

// Pool reduces hidden [batch, seq, hidden] to [batch, hidden] like sentence-transformers' Pooling:
// cls takes position 0; mean is Σ h·mask / max(Σ mask, 1e-9); max takes the maximum over tokens with padding
// set to -1e9; mean_sqrt_len_tokens divides the sum by √max(Σ mask, 1e-9). mask is [batch, seq], 1 = pooled
// (it may differ from the attention mask, e.g. to leave out prompt tokens).
func Pool(hidden, mask *Node, mode string) *Node {
	if mode == PoolCLS {
		return Squeeze(Slice(hidden, AxisRange(), AxisElem(0), AxisRange()), 1)
	}
	m := ExpandAxes(ConvertDType(mask, hidden.DType()), -1) // [batch, seq, 1]
	switch mode {
	case PoolMean, PoolMeanSqrtLen:
		sum := ReduceSum(Mul(hidden, m), 1)
		count := MaxScalar(ReduceSum(m, 1), 1e-9)
		if mode == PoolMeanSqrtLen {
			count = Sqrt(count)
		}
		return Div(sum, count)
	case PoolMax:
		masked := Where(GreaterThan(BroadcastToShape(m, hidden.Shape()), ScalarZero(hidden.Graph(), hidden.DType())),
			hidden, MulScalar(OnesLike(hidden), -1e9))
		return ReduceMax(masked, 1)
	}
	panic(fmt.Errorf("bert: pooling mode %q not supported (supported: %v)", mode, PoolingModes()))
}

// Pooler is BertPooler: tanh(dense(hidden[:, 0])), [batch, hidden]. scope is the encoder root (the weights
// are pooler.dense.*).
func Pooler(scope *model.Scope, cfg *Config, hidden *Node) *Node {
	first := Squeeze(Slice(hidden, AxisRange(), AxisElem(0), AxisRange()), 1)
	return Tanh(linear(scope.At("pooler").At("dense"), first, cfg.HiddenSize, cfg.HiddenSize, activation.TypeNone))
}

// SequenceClassification is BertForSequenceClassification's forward: logits [batch, num_labels] from the
// encoder under root/bert, its pooler, dropout (training only) and root/classifier. For a cross-encoder
// (num_labels 1) the logit is the relevance score; sigmoid maps it to (0, 1).
func SequenceClassification(root *model.Scope, cfg *Config, ids, typeIDs, mask *Node) *Node {
	enc := root.At("bert")
	pooled := Pooler(enc, cfg, Encode(enc, cfg, ids, typeIDs, mask))
	rate := cfg.HiddenDropoutProb
	if cfg.ClassifierDropout != nil {
		rate = *cfg.ClassifierDropout
	}
	pooled = layers.DropoutStatic(root, pooled, rate)
	return linear(root.At("classifier"), pooled, cfg.HiddenSize, cfg.NumLabels(), activation.TypeNone)
}

// Linear is torch.nn.Linear with HF's [out, in] weight layout (scope holds weight and bias): x·Wᵀ + b. Heads
// of other models in the family (XLMRobertaClassificationHead) are built from it.
func Linear(scope *model.Scope, x *Node, in, out int) *Node {
	return linear(scope, x, in, out, activation.TypeNone)
}
