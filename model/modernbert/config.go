package modernbert

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/model/hfconfig"
)

// Layer types of the newer config form (layer_types).
const (
	FullAttention    = "full_attention"
	SlidingAttention = "sliding_attention"
)

// Rope is one entry of rope_parameters.
type Rope struct {
	RopeTheta float64 `json:"rope_theta,omitempty"`
	RopeType  string  `json:"rope_type,omitempty"`
}

// Config is transformers' ModernBertConfig (config.json). Keys it does not model are kept and written back.
// The attention pattern comes in two forms: the older GlobalAttnEveryNLayers / GlobalRopeTheta /
// LocalRopeTheta, and the newer LayerTypes / RopeParameters (transformers ≥ 5); each is written back only
// if it was read (or set), so a Hub config round-trips in its own form.
type Config struct {
	Architectures           []string `json:"architectures,omitempty"`
	ModelType               string   `json:"model_type"`
	VocabSize               int      `json:"vocab_size"`
	HiddenSize              int      `json:"hidden_size"`
	IntermediateSize        int      `json:"intermediate_size"`
	NumHiddenLayers         int      `json:"num_hidden_layers"`
	NumAttentionHeads       int      `json:"num_attention_heads"`
	HiddenActivation        string   `json:"hidden_activation"`
	MaxPositionEmbeddings   int      `json:"max_position_embeddings"`
	InitializerRange        float64  `json:"initializer_range"`
	InitializerCutoffFactor float64  `json:"initializer_cutoff_factor"`
	NormEps                 float64  `json:"norm_eps"`
	NormBias                bool     `json:"norm_bias"`
	PadTokenID              int      `json:"pad_token_id"`
	BOSTokenID              int      `json:"bos_token_id"`
	EOSTokenID              int      `json:"eos_token_id"`
	CLSTokenID              int      `json:"cls_token_id"`
	SEPTokenID              int      `json:"sep_token_id"`
	AttentionBias           bool     `json:"attention_bias"`
	AttentionDropout        float64  `json:"attention_dropout"`
	LocalAttention          int      `json:"local_attention"`
	EmbeddingDropout        float64  `json:"embedding_dropout"`
	MLPBias                 bool     `json:"mlp_bias"`
	MLPDropout              float64  `json:"mlp_dropout"`
	DecoderBias             bool     `json:"decoder_bias"`
	ClassifierPooling       string   `json:"classifier_pooling"`
	ClassifierDropout       float64  `json:"classifier_dropout"`
	ClassifierBias          bool     `json:"classifier_bias"`
	ClassifierActivation    string   `json:"classifier_activation"`

	// Older form: every GlobalAttnEveryNLayers-th layer (0, n, 2n, ...) is global (default 3); global layers
	// use GlobalRopeTheta (default 160000), the others LocalRopeTheta (nil: the global theta, as
	// transformers 4.x with local_rope_theta null).
	GlobalAttnEveryNLayers *int     `json:"global_attn_every_n_layers,omitempty"`
	GlobalRopeTheta        *float64 `json:"global_rope_theta,omitempty"`
	LocalRopeTheta         *float64 `json:"local_rope_theta,omitempty"`
	// Newer form: one of FullAttention / SlidingAttention per layer, and rope_theta per layer type
	// (defaults 160000 full, 10000 sliding). LayerTypes wins over GlobalAttnEveryNLayers when both are set.
	LayerTypes     []string        `json:"layer_types,omitempty"`
	RopeParameters map[string]Rope `json:"rope_parameters,omitempty"`

	// ID2Label has one entry per classifier output (cross-encoders: {"0": "LABEL_0"}).
	ID2Label map[string]string `json:"id2label,omitempty"`

	extra map[string]json.RawMessage
}

// Defaults returns ModernBERT-base's configuration for a vocabulary of vocabSize with special token ids
// pad, cls and sep (transformers' ModernBertConfig defaults, in the older attention-pattern form): 22
// layers, hidden 768, 12 heads, intermediate 1152, exact GELU, global attention every 3 layers with
// theta 160000, local window 128 with theta 10000, no biases, eps 1e-5, 8192 positions.
func Defaults(vocabSize, pad, cls, sep int) *Config {
	every, global, local := 3, 160000.0, 10000.0
	return &Config{
		Architectures: []string{"ModernBertModel"}, ModelType: "modernbert",
		VocabSize: vocabSize, HiddenSize: 768, IntermediateSize: 1152, NumHiddenLayers: 22, NumAttentionHeads: 12,
		HiddenActivation: "gelu", MaxPositionEmbeddings: 8192, InitializerRange: 0.02, InitializerCutoffFactor: 2,
		NormEps: 1e-5, PadTokenID: pad, BOSTokenID: cls, EOSTokenID: sep, CLSTokenID: cls, SEPTokenID: sep,
		LocalAttention: 128, DecoderBias: true, ClassifierPooling: "cls", ClassifierActivation: "gelu",
		GlobalAttnEveryNLayers: &every, GlobalRopeTheta: &global, LocalRopeTheta: &local,
	}
}

// HeadDim is HiddenSize / NumAttentionHeads.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// NumLabels is the number of classifier outputs (len(ID2Label); 2, transformers' default, when empty).
func (c *Config) NumLabels() int {
	if len(c.ID2Label) == 0 {
		return 2
	}
	return len(c.ID2Label)
}

// IsSequenceClassification reports whether config.json names ModernBertForSequenceClassification.
func (c *Config) IsSequenceClassification() bool {
	return slices.Contains(c.Architectures, "ModernBertForSequenceClassification")
}

// IsGlobal reports whether layer i attends globally (else within the local window).
func (c *Config) IsGlobal(i int) bool {
	if len(c.LayerTypes) > 0 {
		return c.LayerTypes[i] == FullAttention
	}
	every := 3
	if c.GlobalAttnEveryNLayers != nil {
		every = *c.GlobalAttnEveryNLayers
	}
	return i%every == 0
}

// RopeTheta is the rotary base of layer i.
func (c *Config) RopeTheta(i int) float64 {
	global := c.IsGlobal(i)
	if c.RopeParameters != nil || len(c.LayerTypes) > 0 {
		kind, def := SlidingAttention, 10000.0
		if global {
			kind, def = FullAttention, 160000.0
		}
		if r, ok := c.RopeParameters[kind]; ok && r.RopeTheta > 0 {
			return r.RopeTheta
		}
		// transformers 5 falls back to the older keys, then to its defaults.
		if global && c.GlobalRopeTheta != nil {
			return *c.GlobalRopeTheta
		}
		if !global && c.LocalRopeTheta != nil {
			return *c.LocalRopeTheta
		}
		return def
	}
	g := 160000.0
	if c.GlobalRopeTheta != nil {
		g = *c.GlobalRopeTheta
	}
	if global || c.LocalRopeTheta == nil {
		return g
	}
	return *c.LocalRopeTheta
}

// HalfWindow is how far a local layer's token looks each way: local_attention // 2.
func (c *Config) HalfWindow() int { return c.LocalAttention / 2 }

// knownKey reports whether config.json key k is a Config field (label2id is derived from id2label).
func knownKey(k string) bool {
	switch k {
	case "architectures", "model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
		"num_attention_heads", "hidden_activation", "max_position_embeddings", "initializer_range",
		"initializer_cutoff_factor", "norm_eps", "norm_bias", "pad_token_id", "bos_token_id", "eos_token_id",
		"cls_token_id", "sep_token_id", "attention_bias", "attention_dropout", "local_attention",
		"embedding_dropout", "mlp_bias", "mlp_dropout", "decoder_bias", "classifier_pooling", "classifier_dropout",
		"classifier_bias", "classifier_activation", "global_attn_every_n_layers", "global_rope_theta",
		"local_rope_theta", "layer_types", "rope_parameters", "id2label", "label2id":
		return true
	}
	return false
}

// UnmarshalJSON reads a config.json, keeping unknown keys. Missing keys take ModernBertConfig's defaults
// (the attention-pattern keys stay unset and resolve to their defaults in IsGlobal / RopeTheta).
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config
	d := Defaults(50368, 50283, 50281, 50282)
	d.Architectures, d.ModelType = nil, ""
	d.GlobalAttnEveryNLayers, d.GlobalRopeTheta, d.LocalRopeTheta = nil, nil, nil
	p := plain(*d)
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

// MarshalJSON writes config.json: the known fields, label2id derived from id2label, the kept unknown keys.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return hfconfig.Marshal(plain(c), c.ID2Label, c.extra)
}

// SetExtra sets a config.json key this type does not model.
func (c *Config) SetExtra(key string, value any) error {
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

// LoadConfig reads and validates config.json.
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

func supportedArchitectures() []string {
	return []string{"ModernBertModel", "ModernBertForSequenceClassification", "ModernBertForMaskedLM"}
}

// Validate checks that the configuration describes a model this package computes exactly.
func (c *Config) Validate() error {
	if c.ModelType != "modernbert" {
		return fmt.Errorf("model_type %q is not ModernBERT (want \"modernbert\")", c.ModelType)
	}
	for _, a := range c.Architectures {
		if !slices.Contains(supportedArchitectures(), a) {
			return fmt.Errorf("architecture %s is not supported (supported: %s)", a, strings.Join(supportedArchitectures(), ", "))
		}
	}
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.NumHiddenLayers <= 0, c.NumAttentionHeads <= 0, c.IntermediateSize <= 0:
		return fmt.Errorf("sizes must be positive: vocab_size %d hidden_size %d num_hidden_layers %d num_attention_heads %d intermediate_size %d",
			c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("head dimension %d must be even for rotary embeddings", c.HeadDim())
	case c.NormEps <= 0:
		return fmt.Errorf("norm_eps %g must be positive", c.NormEps)
	case c.GlobalAttnEveryNLayers != nil && *c.GlobalAttnEveryNLayers <= 0:
		return fmt.Errorf("global_attn_every_n_layers %d must be positive", *c.GlobalAttnEveryNLayers)
	case len(c.LayerTypes) > 0 && len(c.LayerTypes) != c.NumHiddenLayers:
		return fmt.Errorf("layer_types has %d entries for %d layers", len(c.LayerTypes), c.NumHiddenLayers)
	case c.ClassifierPooling != "cls" && c.ClassifierPooling != "mean":
		return fmt.Errorf("classifier_pooling %q: want \"cls\" or \"mean\"", c.ClassifierPooling)
	}
	for i, t := range c.LayerTypes {
		if t != FullAttention && t != SlidingAttention {
			return fmt.Errorf("layer_types[%d] = %q: want %q or %q", i, t, FullAttention, SlidingAttention)
		}
	}
	for kind, r := range c.RopeParameters {
		if r.RopeType != "" && r.RopeType != "default" {
			return fmt.Errorf("rope_parameters[%q].rope_type %q is not supported (only \"default\")", kind, r.RopeType)
		}
	}
	for i := range c.NumHiddenLayers {
		if !c.IsGlobal(i) && c.LocalAttention <= 0 {
			return fmt.Errorf("local_attention %d must be positive (layer %d is local)", c.LocalAttention, i)
		}
	}
	for key, name := range map[string]string{"hidden_activation": c.HiddenActivation, "classifier_activation": c.ClassifierActivation} {
		if _, ok := activationType(name); !ok {
			return fmt.Errorf("%s %q is not supported (supported: %s)", key, name, strings.Join(activationNames(), ", "))
		}
	}
	return nil
}

// Extra returns a kept config.json key this type does not model.
func (c *Config) Extra(key string) (json.RawMessage, bool) {
	v, ok := c.extra[key]
	return v, ok
}
