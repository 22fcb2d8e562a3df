package bert

import (
	"errors"
	"fmt"
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
	// Prefix goes before every encoder and pooler name: "" for BertModel checkpoints (sentence-transformers
	// bi-encoders), "bert." for BertForSequenceClassification (cross-encoders).
	Prefix string
	// Pooler adds pooler.dense.* (BertPooler). Cross-encoders need it; bi-encoders keep it only so that the
	// saved file loads in transformers without "newly initialized" warnings.
	Pooler bool
	// Classifier adds classifier.weight [num_labels, hidden] and classifier.bias (never prefixed).
	Classifier bool
}

// BiEncoderParts is BertModel as sentence-transformers saves it: no prefix, with the pooler.
func BiEncoderParts() Parts { return Parts{Pooler: true} }

// CrossEncoderParts is BertForSequenceClassification: "bert." prefix, pooler and classifier.
func CrossEncoderParts() Parts { return Parts{Prefix: "bert.", Pooler: true, Classifier: true} }

// Params lists every tensor of the model in a fixed order, with HF names and shapes.
func (c *Config) Params(p Parts) []Param {
	h, in := c.HiddenSize, c.IntermediateSize
	var out []Param
	add := func(name string, shape ...int) { out = append(out, Param{p.Prefix + name, shape}) }
	add("embeddings.word_embeddings.weight", c.VocabSize, h)
	add("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, h)
	add("embeddings.token_type_embeddings.weight", c.TypeVocabSize, h)
	add("embeddings.LayerNorm.weight", h)
	add("embeddings.LayerNorm.bias", h)
	for i := range c.NumHiddenLayers {
		l := fmt.Sprintf("encoder.layer.%d.", i)
		for _, qkv := range []string{"query", "key", "value"} {
			add(l+"attention.self."+qkv+".weight", h, h)
			add(l+"attention.self."+qkv+".bias", h)
		}
		add(l+"attention.output.dense.weight", h, h)
		add(l+"attention.output.dense.bias", h)
		add(l+"attention.output.LayerNorm.weight", h)
		add(l+"attention.output.LayerNorm.bias", h)
		add(l+"intermediate.dense.weight", in, h)
		add(l+"intermediate.dense.bias", in)
		add(l+"output.dense.weight", h, in)
		add(l+"output.dense.bias", h)
		add(l+"output.LayerNorm.weight", h)
		add(l+"output.LayerNorm.bias", h)
	}
	if p.Pooler {
		add("pooler.dense.weight", h, h)
		add("pooler.dense.bias", h)
	}
	if p.Classifier {
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

// InitWeights draws a fresh model the way transformers' BertPreTrainedModel._init_weights does: Linear and
// Embedding weights ~ N(0, initializer_range²), biases 0, LayerNorm weight 1 and bias 0, and the
// pad_token_id row of the word embeddings 0. The draw is a deterministic function of seed (PCG), so the same
// seed gives the same bytes on every machine and backend.
func InitWeights(c *Config, p Parts, seed uint64) []safetensors.Float32Tensor {
	return InitParams(c, c.Params(p), seed)
}

// InitParams is InitWeights over any list of tensors named like BERT's (the RoBERTa family's, with its own
// heads): matrices and embeddings ~ N(0, initializer_range²), names ending in ".bias" 0, LayerNorm weights 1,
// the pad row of word_embeddings 0.
func InitParams(c *Config, params []Param, seed uint64) []safetensors.Float32Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x62657274)) // "bert"
	std := c.InitializerRange
	if std == 0 {
		std = 0.02
	}
	var out []safetensors.Float32Tensor
	for _, prm := range params {
		n := 1
		for _, d := range prm.Shape {
			n *= d
		}
		data := make([]float32, n)
		switch {
		case strings.HasSuffix(prm.Name, "LayerNorm.weight"):
			for i := range data {
				data[i] = 1
			}
		case strings.HasSuffix(prm.Name, ".bias"):
			// zeros
		default:
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
			if strings.HasSuffix(prm.Name, "word_embeddings.weight") && c.PadTokenID >= 0 && c.PadTokenID < c.VocabSize {
				clear(data[c.PadTokenID*c.HiddenSize : (c.PadTokenID+1)*c.HiddenSize])
			}
		}
		out = append(out, safetensors.Float32Tensor{Name: prm.Name, Shape: prm.Shape, Data: data})
	}
	return out
}

// hubPrefixes are the prefixes the BERT family's task checkpoints put before the encoder's names
// (BertFor*: "bert.", RobertaFor* and XLMRobertaFor*: "roberta.").
var hubPrefixes = [...]string{"bert.", "roberta."}

// candidates are the names a tensor may have on the Hub: with or without a family prefix, and the
// LayerNorm gamma/beta spelling of old TensorFlow-converted checkpoints. Heads ("classifier.") are never
// prefixed.
func candidates(name string) []string {
	bases := []string{name}
	if !strings.HasPrefix(name, "classifier.") {
		base := name
		for _, p := range hubPrefixes {
			if rest, ok := strings.CutPrefix(name, p); ok {
				base = rest
				bases = append(bases, rest)
			}
		}
		for _, p := range hubPrefixes {
			if p+base != name {
				bases = append(bases, p+base)
			}
		}
	}
	out := bases
	for _, b := range bases {
		if s, ok := strings.CutSuffix(b, "LayerNorm.weight"); ok {
			out = append(out, s+"LayerNorm.gamma")
		}
		if s, ok := strings.CutSuffix(b, "LayerNorm.bias"); ok {
			out = append(out, s+"LayerNorm.beta")
		}
	}
	return out
}

// ReadWeights takes the model's tensors from a checkpoint, converted to float32 and named as Params names
// them. Prefix variants ("bert." or none) and gamma/beta LayerNorm names are accepted; other tensors in
// the file (pooler of a bi-encoder that does not want it, MLM heads, position_ids buffers) are ignored. A
// missing tensor or a shape mismatch is an error naming the file and the tensor. A pooler that is absent
// from the file is drawn by InitWeights when allowMissingPooler is set (Hub bi-encoders often lack it; it
// does not affect their embeddings).
func ReadWeights(f *safetensors.File, c *Config, p Parts, allowMissingPooler bool, seed uint64) ([]safetensors.Float32Tensor, error) {
	return ReadParams(f, c, c.Params(p), allowMissingPooler, seed)
}

// ReadParams is ReadWeights over any list of tensors named like BERT's (see InitParams); a missing pooler
// is drawn by InitParams over the same list.
func ReadParams(f *safetensors.File, c *Config, params []Param, allowMissingPooler bool, seed uint64) ([]safetensors.Float32Tensor, error) {
	var out []safetensors.Float32Tensor
	var fresh map[string]safetensors.Float32Tensor
	for _, prm := range params {
		t, err := f.Lookup(candidates(prm.Name)...)
		if err != nil {
			if allowMissingPooler && strings.Contains(prm.Name, "pooler.") && errors.Is(err, safetensors.ErrMissing) {
				if fresh == nil {
					fresh = map[string]safetensors.Float32Tensor{}
					for _, ft := range InitParams(c, params, seed) {
						fresh[ft.Name] = ft
					}
				}
				out = append(out, fresh[prm.Name])
				continue
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
