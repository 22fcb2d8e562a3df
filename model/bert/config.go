package bert

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/model/hfconfig"
)

// Config is the Hugging Face BertConfig (config.json). Keys it does not model are kept and written back
// unchanged, so a Hub config survives a load/save round trip.
type Config struct {
	Architectures             []string `json:"architectures,omitempty"`
	ModelType                 string   `json:"model_type"`
	VocabSize                 int      `json:"vocab_size"`
	HiddenSize                int      `json:"hidden_size"`
	NumHiddenLayers           int      `json:"num_hidden_layers"`
	NumAttentionHeads         int      `json:"num_attention_heads"`
	IntermediateSize          int      `json:"intermediate_size"`
	HiddenAct                 string   `json:"hidden_act"`
	HiddenDropoutProb         float64  `json:"hidden_dropout_prob"`
	AttentionProbsDropoutProb float64  `json:"attention_probs_dropout_prob"`
	MaxPositionEmbeddings     int      `json:"max_position_embeddings"`
	TypeVocabSize             int      `json:"type_vocab_size"`
	InitializerRange          float64  `json:"initializer_range"`
	LayerNormEps              float64  `json:"layer_norm_eps"`
	PadTokenID                int      `json:"pad_token_id"`
	PositionEmbeddingType     string   `json:"position_embedding_type,omitempty"`
	// ID2Label has one entry per classifier output (cross-encoders: {"0": "LABEL_0"}); empty for BertModel.
	ID2Label map[string]string `json:"id2label,omitempty"`
	// ClassifierDropout is BertForSequenceClassification's dropout before the classifier (nil: use
	// HiddenDropoutProb, as HF does).
	ClassifierDropout *float64 `json:"classifier_dropout"`

	// extra holds the other keys of the file, written back as they were.
	extra map[string]json.RawMessage
}

// Defaults returns bert-base-uncased's configuration for a vocabulary of vocabSize, as transformers' BertConfig
// defaults: 12 layers, hidden 768, 12 heads, FF 3072, 512 positions, 2 token types, eps 1e-12.
func Defaults(vocabSize int) *Config {
	return &Config{
		Architectures:             []string{"BertModel"},
		ModelType:                 "bert",
		VocabSize:                 vocabSize,
		HiddenSize:                768,
		NumHiddenLayers:           12,
		NumAttentionHeads:         12,
		IntermediateSize:          3072,
		HiddenAct:                 "gelu",
		HiddenDropoutProb:         0.1,
		AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings:     512,
		TypeVocabSize:             2,
		InitializerRange:          0.02,
		LayerNormEps:              1e-12,
		PadTokenID:                0,
		PositionEmbeddingType:     "absolute",
	}
}

// NumLabels is the number of classifier outputs (len(ID2Label), at least 1 for sequence classification).
func (c *Config) NumLabels() int {
	if len(c.ID2Label) == 0 {
		return 2 // transformers' PretrainedConfig default
	}
	return len(c.ID2Label)
}

// IsSequenceClassification reports whether config.json names a sequence classifier
// (BertForSequenceClassification, XLMRobertaForSequenceClassification, ...).
func (c *Config) IsSequenceClassification() bool {
	return slices.ContainsFunc(c.Architectures, func(a string) bool { return strings.HasSuffix(a, "ForSequenceClassification") })
}

// HeadDim is HiddenSize / NumAttentionHeads.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// knownKey reports whether config.json key k is a Config field (label2id is derived from id2label).
func knownKey(k string) bool {
	switch k {
	case "architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
		"num_attention_heads", "intermediate_size", "hidden_act", "hidden_dropout_prob",
		"attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range",
		"layer_norm_eps", "pad_token_id", "position_embedding_type", "id2label", "label2id", "classifier_dropout":
		return true
	}
	return false
}

// UnmarshalJSON reads a config.json, keeping unknown keys. Missing keys take transformers' BertConfig
// defaults.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config
	p := plain(*Defaults(0))
	p.Architectures = nil
	p.ModelType = ""
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	extra, err := hfconfig.Extra(data, knownKey)
	if err != nil {
		return err
	}
	*c = Config(p)
	c.extra = extra
	return nil
}

// MarshalJSON writes config.json: the known fields, label2id derived from id2label, and the kept unknown keys.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return hfconfig.Marshal(plain(c), c.ID2Label, c.extra)
}

// SetExtra sets a config.json key this type does not model (e.g. "sentence_transformers" for cross-encoders).
func (c *Config) SetExtra(key string, value any) error {
	if knownKey(key) {
		return fmt.Errorf("config key %q is a Config field; set the field", key)
	}
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	if c.extra == nil {
		c.extra = map[string]json.RawMessage{}
	}
	c.extra[key] = b
	return nil
}

// Extra returns the raw JSON of a config.json key this type does not model.
func (c *Config) Extra(key string) (json.RawMessage, bool) {
	v, ok := c.extra[key]
	return v, ok
}

// LoadConfig reads and validates a config.json. Architectures other than BERT are an error naming the file
// and the architecture.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// supportedArchitectures are the HF classes whose weights this package reads. BertForMaskedLM and
// BertForPreTraining checkpoints share the encoder ("bert." prefix) and are read as BertModel.
func supportedArchitectures() []string {
	return []string{"BertModel", "BertForSequenceClassification", "BertForMaskedLM", "BertForPreTraining"}
}

// Validate checks that the configuration describes a model this package computes exactly.
func (c *Config) Validate() error {
	arch := strings.Join(c.Architectures, ", ")
	if c.ModelType != "bert" {
		return fmt.Errorf("architecture %s (model_type %q) is not supported: ragnb runs BERT encoders (model_type \"bert\": %s)",
			orNone(arch), c.ModelType, strings.Join(supportedArchitectures(), ", "))
	}
	for _, a := range c.Architectures {
		if !slices.Contains(supportedArchitectures(), a) {
			return fmt.Errorf("architecture %s is not supported (supported: %s)", a, strings.Join(supportedArchitectures(), ", "))
		}
	}
	return c.ValidateShape()
}

// ValidateShape checks the sizes, activation and position embedding type, whatever the model_type: the
// checks every model computed by this package's graph needs (RoBERTa's too, see package xlmr).
func (c *Config) ValidateShape() error {
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.NumHiddenLayers <= 0, c.NumAttentionHeads <= 0,
		c.IntermediateSize <= 0, c.MaxPositionEmbeddings <= 0, c.TypeVocabSize <= 0:
		return fmt.Errorf("sizes must be positive: vocab_size %d hidden_size %d num_hidden_layers %d num_attention_heads %d intermediate_size %d max_position_embeddings %d type_vocab_size %d",
			c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.LayerNormEps <= 0:
		return fmt.Errorf("layer_norm_eps %g must be positive", c.LayerNormEps)
	}
	if _, ok := activationType(c.HiddenAct); !ok {
		return fmt.Errorf("hidden_act %q is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)", c.HiddenAct)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("position_embedding_type %q is not supported (only \"absolute\")", c.PositionEmbeddingType)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none listed)"
	}
	return s
}
