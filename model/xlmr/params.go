package xlmr

import (
	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/safetensors"
)

// BiEncoderParts is XLMRobertaModel as sentence-transformers saves it: no prefix, with the pooler.
func BiEncoderParts() bert.Parts { return bert.Parts{Pooler: true} }

// CrossEncoderParts is XLMRobertaForSequenceClassification: "roberta." prefix, no pooler, and the
// classification head (Classifier).
func CrossEncoderParts() bert.Parts { return bert.Parts{Prefix: "roberta.", Classifier: true} }

// Params lists every tensor of the model in a fixed order with HF names and shapes: BERT's encoder (and
// pooler), then with p.Classifier XLMRobertaClassificationHead's classifier.dense [hidden, hidden] and
// classifier.out_proj [num_labels, hidden] with their biases.
func Params(c *bert.Config, p bert.Parts) []bert.Param {
	enc := p
	enc.Classifier = false
	out := c.Params(enc)
	if p.Classifier {
		h, n := c.HiddenSize, c.NumLabels()
		out = append(out,
			bert.Param{Name: "classifier.dense.weight", Shape: []int{h, h}}, bert.Param{Name: "classifier.dense.bias", Shape: []int{h}},
			bert.Param{Name: "classifier.out_proj.weight", Shape: []int{n, h}}, bert.Param{Name: "classifier.out_proj.bias", Shape: []int{n}})
	}
	return out
}

// InitWeights draws a fresh model as transformers' XLMRobertaPreTrainedModel._init_weights does (BERT's:
// N(0, initializer_range²) matrices and embeddings, zero biases, unit LayerNorm), with the padding_idx row
// of both the word and the position embeddings zero (both are nn.Embedding(padding_idx=pad_token_id)).
// The draw is a deterministic function of seed.
func InitWeights(c *bert.Config, p bert.Parts, seed uint64) []safetensors.Float32Tensor {
	ts := bert.InitParams(c, Params(c, p), seed)
	for _, t := range ts {
		if t.Name == p.Prefix+"embeddings.position_embeddings.weight" {
			clear(t.Data[c.PadTokenID*c.HiddenSize : (c.PadTokenID+1)*c.HiddenSize])
		}
	}
	return ts
}

// ReadWeights takes the model's tensors from a checkpoint (as bert.ReadWeights: "roberta." prefix or none,
// other tensors such as lm_head ignored, a missing pooler drawn when allowed).
func ReadWeights(f *safetensors.File, c *bert.Config, p bert.Parts, allowMissingPooler bool, seed uint64) ([]safetensors.Float32Tensor, error) {
	return bert.ReadParams(f, c, Params(c, p), allowMissingPooler, seed)
}
