package modernbert

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/ragnb/ragnb/model/safetensors"
)

// Param is one weight tensor: its HF name and shape.
type Param struct {
	Name  string
	Shape []int
}

// Parts chooses which tensors a model has beyond the encoder.
type Parts struct {
	// Prefix goes before every encoder name: "" for ModernBertModel checkpoints (sentence-transformers
	// bi-encoders), "model." for ModernBertForSequenceClassification.
	Prefix string
	// Classifier adds the prediction head (head.dense, head.norm) and classifier.weight/bias (never prefixed).
	Classifier bool
}

// BiEncoderParts is ModernBertModel as sentence-transformers saves it: no prefix, no head.
func BiEncoderParts() Parts { return Parts{} }

// CrossEncoderParts is ModernBertForSequenceClassification: "model." prefix, head and classifier.
func CrossEncoderParts() Parts { return Parts{Prefix: "model.", Classifier: true} }

// Params lists every tensor of the model in a fixed order with HF names and shapes. Biases are present as
// the config says: norm_bias for every LayerNorm, attention_bias for Wqkv/Wo, mlp_bias for Wi/Wo,
// classifier_bias for head.dense; classifier.bias always.
func (c *Config) Params(p Parts) []Param {
	h, in := c.HiddenSize, c.IntermediateSize
	var out []Param
	add := func(name string, shape ...int) { out = append(out, Param{p.Prefix + name, shape}) }
	norm := func(name string) {
		add(name+".weight", h)
		if c.NormBias {
			add(name+".bias", h)
		}
	}
	lin := func(name string, bias bool, o, i int) {
		add(name+".weight", o, i)
		if bias {
			add(name+".bias", o)
		}
	}
	add("embeddings.tok_embeddings.weight", c.VocabSize, h)
	norm("embeddings.norm")
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("layers.%d.", i)
		if i > 0 {
			norm(l + "attn_norm")
		}
		lin(l+"attn.Wqkv", c.AttentionBias, 3*h, h)
		lin(l+"attn.Wo", c.AttentionBias, h, h)
		norm(l + "mlp_norm")
		lin(l+"mlp.Wi", c.MLPBias, 2*in, h)
		lin(l+"mlp.Wo", c.MLPBias, h, in)
	}
	norm("final_norm")
	if p.Classifier {
		out = append(out, Param{"head.dense.weight", []int{h, h}})
		if c.ClassifierBias {
			out = append(out, Param{"head.dense.bias", []int{h}})
		}
		out = append(out, Param{"head.norm.weight", []int{h}})
		if c.NormBias {
			out = append(out, Param{"head.norm.bias", []int{h}})
		}
		out = append(out, Param{"classifier.weight", []int{c.NumLabels(), h}}, Param{"classifier.bias", []int{c.NumLabels()}})
	}
	return out
}

// Names is the list of Params' names.
func Names(ps []Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// initStd is the standard deviation ModernBertPreTrainedModel._init_weights gives a weight: "in" for Wqkv
// and Wi, "out" (initializer_range / √(2·layers)) for the attention and MLP Wo and head.dense,
// "embedding" for the token embeddings, "final_out" (hidden^-½) for the classifier; 0 means not drawn.
func (c *Config) initStd(name string) float64 {
	r := c.InitializerRange
	if r == 0 {
		r = 0.02
	}
	out := r / math.Sqrt(2*float64(c.NumHiddenLayers))
	switch {
	case !strings.HasSuffix(name, ".weight"):
		return 0
	case strings.HasSuffix(name, "tok_embeddings.weight"), strings.HasSuffix(name, "attn.Wqkv.weight"), strings.HasSuffix(name, "mlp.Wi.weight"):
		return r
	case strings.HasSuffix(name, "attn.Wo.weight"), strings.HasSuffix(name, "mlp.Wo.weight"), name == "head.dense.weight":
		return out
	case name == "classifier.weight":
		return 1 / math.Sqrt(float64(c.HiddenSize))
	}
	return 0
}

// InitWeights draws a fresh model as transformers' ModernBertPreTrainedModel._init_weights does: each
// Linear and the token embeddings from a normal truncated at ±initializer_cutoff_factor standard deviations
// (the deviation by role, see initStd), biases 0, LayerNorm weights 1 and biases 0. The draw is a
// deterministic function of seed (PCG; truncation by rejection, the same distribution as torch's
// trunc_normal_).
func InitWeights(c *Config, p Parts, seed uint64) []safetensors.Float32Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x6d6f6465726e)) // "modern"
	cut := c.InitializerCutoffFactor
	if cut == 0 {
		cut = 3 // transformers' fallback when initializer_cutoff_factor is None
	}
	var out []safetensors.Float32Tensor
	for _, prm := range c.Params(p) {
		n := 1
		for _, d := range prm.Shape {
			n *= d
		}
		data := make([]float32, n)
		switch std := c.initStd(strings.TrimPrefix(prm.Name, p.Prefix)); {
		case std > 0:
			for i := range data {
				x := rng.NormFloat64()
				for math.Abs(x) > cut {
					x = rng.NormFloat64()
				}
				data[i] = float32(x * std)
			}
		case strings.HasSuffix(prm.Name, ".weight"): // LayerNorm
			for i := range data {
				data[i] = 1
			}
		}
		out = append(out, safetensors.Float32Tensor{Name: prm.Name, Shape: prm.Shape, Data: data})
	}
	return out
}

// candidates are the names a tensor may have in a checkpoint: with or without the "model." prefix of
// ModernBertFor* classes; heads are never prefixed.
func candidates(name string) []string {
	if strings.HasPrefix(name, "head.") || strings.HasPrefix(name, "classifier.") {
		return []string{name}
	}
	if rest, ok := strings.CutPrefix(name, "model."); ok {
		return []string{name, rest}
	}
	return []string{name, "model." + name}
}

// ReadWeights takes the model's tensors from a checkpoint, converted to float32 and named as Params names
// them ("model." prefix or none; other tensors — an MLM head and decoder — ignored). A missing tensor or a
// shape mismatch is an error naming the file and the tensor.
func ReadWeights(f *safetensors.File, c *Config, p Parts) ([]safetensors.Float32Tensor, error) {
	var out []safetensors.Float32Tensor
	for _, prm := range c.Params(p) {
		t, err := f.Lookup(candidates(prm.Name)...)
		if err != nil {
			if errors.Is(err, safetensors.ErrMissing) && strings.HasSuffix(prm.Name, ".bias") {
				return nil, fmt.Errorf("%w (config.json's attention_bias / mlp_bias / norm_bias / classifier_bias say the model has it)", err)
			}
			return nil, err
		}
		data, err := f.Float32Shape(t.Name, prm.Shape...)
		if err != nil {
			return nil, err
		}
		out = append(out, safetensors.Float32Tensor{Name: prm.Name, Shape: prm.Shape, Data: data})
	}
	return out, nil
}
