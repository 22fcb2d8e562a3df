package xlmr

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/model/bert"
)

// ModelTypes are the config.json model_type values this package computes.
func ModelTypes() []string { return []string{"xlm-roberta", "roberta"} }

// Is reports whether c is a RoBERTa-family config (model_type xlm-roberta or roberta).
func Is(c *bert.Config) bool { return c != nil && slices.Contains(ModelTypes(), c.ModelType) }

// supportedArchitectures are the HF classes whose weights this package reads; the masked-LM checkpoints
// share the encoder ("roberta." prefix) and are read as the bare model.
func supportedArchitectures() []string {
	return []string{"XLMRobertaModel", "XLMRobertaForSequenceClassification", "XLMRobertaForMaskedLM",
		"RobertaModel", "RobertaForSequenceClassification", "RobertaForMaskedLM"}
}

// Defaults is xlm-roberta-base's configuration for a vocabulary of vocabSize with pad id padID: 12 layers,
// hidden 768, 12 heads, FF 3072, 514 positions (512 tokens), one token type, eps 1e-5.
func Defaults(vocabSize, padID int) *bert.Config {
	c := bert.Defaults(vocabSize)
	c.Architectures = []string{"XLMRobertaModel"}
	c.ModelType = "xlm-roberta"
	c.TypeVocabSize = 1
	c.LayerNormEps = 1e-5
	c.PadTokenID = padID
	c.MaxPositionEmbeddings = 512 + padID + 1
	return c
}

// Validate checks that c is a RoBERTa-family config this package computes exactly.
func Validate(c *bert.Config) error {
	if !Is(c) {
		return fmt.Errorf("model_type %q is not a RoBERTa model (want %s)", c.ModelType, strings.Join(ModelTypes(), " or "))
	}
	for _, a := range c.Architectures {
		if !slices.Contains(supportedArchitectures(), a) {
			return fmt.Errorf("architecture %s is not supported (supported: %s)", a, strings.Join(supportedArchitectures(), ", "))
		}
	}
	if c.PadTokenID < 0 || c.PadTokenID+2 > c.MaxPositionEmbeddings {
		return fmt.Errorf("pad_token_id %d: positions start at pad_token_id+1 and max_position_embeddings is %d", c.PadTokenID, c.MaxPositionEmbeddings)
	}
	return c.ValidateShape()
}

// LoadConfig reads and validates a RoBERTa-family config.json.
func LoadConfig(path string) (*bert.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c bert.Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := Validate(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// MaxLength is the longest sequence the position embeddings cover: max_position_embeddings − padding_idx − 1
// (512 for xlm-roberta-base's 514).
func MaxLength(c *bert.Config) int { return c.MaxPositionEmbeddings - c.PadTokenID - 1 }
