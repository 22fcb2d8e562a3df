// Package modeldir reads and writes model directories in the Hugging Face / sentence-transformers layout:
// which kind of model a directory holds (bi-encoder, cross-encoder, static embeddings), its modules
// (modules.json: Transformer or StaticEmbedding, Pooling, Normalize), pooling mode, prompts and similarity
// function (config_sentence_transformers.json), maximum sequence length, and where the weights and the
// tokenizer are. It writes directories that sentence-transformers and transformers load unchanged, and
// writes them atomically. It owns no weights math (models/...) and no tokenization (tokenizer).
package modeldir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modernbert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/xlmr"
)

// Kind is the kind of model a directory holds.
type Kind string

const (
	// BiEncoder is a BERT transformer + Pooling (+ Normalize): one embedding per text.
	BiEncoder Kind = "bi-encoder"
	// CrossEncoder is BertForSequenceClassification with one label: one relevance logit per (query, passage).
	CrossEncoder Kind = "cross-encoder"
	// Static is StaticEmbedding (+ Normalize): the mean of per-token vectors.
	Static Kind = "static"
)

// Module is one entry of modules.json.
type Module struct {
	Idx  int    `json:"idx"`
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"`
}

// className is the last dotted component of a module type: "sentence_transformers.models.Pooling" and
// "sentence_transformers.sentence_transformer.modules.pooling.Pooling" are both "Pooling".
func (m Module) className() string { return m.Type[strings.LastIndex(m.Type, ".")+1:] }

// Layout is what a model directory says about its model, apart from the weights themselves.
type Layout struct {
	Kind Kind
	// Config is config.json of a BERT-family transformer: BERT, or RoBERTa / XLM-RoBERTa (model_type
	// "roberta" / "xlm-roberta", the same keys; see package xlmr). Nil for ModernBERT and static models.
	Config *bert.Config
	// ModernBERT is config.json of a ModernBERT transformer (nil otherwise). Exactly one of Config and
	// ModernBERT is set for bi- and cross-encoders.
	ModernBERT *modernbert.Config
	// Pooling is the bi-encoder's pooling mode (bert.PoolCLS, bert.PoolMean, ...).
	Pooling string
	// IncludePrompt is Pooling's include_prompt: false leaves prompt tokens out of the pooled mean.
	IncludePrompt bool
	// Normalize is set when a Normalize module follows: embeddings have unit length.
	Normalize bool
	// MaxSeqLength is the number of tokens a text is truncated to (0: no limit, static models).
	MaxSeqLength int
	// DoLowerCase is sentence_bert_config.json's do_lower_case: sentence-transformers lowercases texts
	// before tokenizing (the tokenizer package applies it when loading the directory).
	DoLowerCase bool
	// Prompts are config_sentence_transformers.json's named prompts (e.g. "query": "Represent this ...").
	Prompts map[string]string
	// DefaultPromptName names the prompt applied when none is asked for ("" for none).
	DefaultPromptName string
	// SimilarityFn is "cosine" (the default), "dot", "euclidean" or "manhattan".
	SimilarityFn string
	// WeightsDir is the folder, relative to the model directory, holding model.safetensors and the
	// tokenizer files: "" for transformers, "0_StaticEmbedding" for static models.
	WeightsDir string
	// Modules is modules.json as read (nil when the directory has none).
	Modules []Module
}

// WeightsFile is the path of model.safetensors inside dir (what Write writes).
func (l *Layout) WeightsFile(dir string) string {
	return filepath.Join(dir, l.WeightsDir, "model.safetensors")
}

// ReadWeights reads the directory's checkpoint: model.safetensors, or the shards named by
// model.safetensors.index.json.
func (l *Layout) ReadWeights(dir string) (*safetensors.File, error) {
	single := l.WeightsFile(dir)
	if _, err := os.Stat(single); err != nil {
		index := filepath.Join(dir, l.WeightsDir, "model.safetensors.index.json")
		if _, e := os.Stat(index); e == nil {
			return safetensors.ReadIndexed(index)
		}
	}
	return safetensors.ReadFile(single)
}

// TokenizerDir is the folder inside dir that holds tokenizer.json.
func (l *Layout) TokenizerDir(dir string) string { return filepath.Join(dir, l.WeightsDir) }

// Prompt returns the named prompt ("" when the model has none under that name).
func (l *Layout) Prompt(name string) string { return l.Prompts[name] }

// QueryPrompt is the prompt for queries: "query", else the default prompt.
func (l *Layout) QueryPrompt() string {
	if p, ok := l.Prompts["query"]; ok {
		return p
	}
	return l.Prompts[l.DefaultPromptName]
}

// DocumentPrompt is the prompt for documents: "document", else "passage" (e5's name), else the default
// prompt.
func (l *Layout) DocumentPrompt() string {
	for _, name := range []string{"document", "passage", "corpus"} {
		if p, ok := l.Prompts[name]; ok {
			return p
		}
	}
	return l.Prompts[l.DefaultPromptName]
}

// Architecture names of the transformer families (Layout.Architecture).
const (
	ArchBERT       = "bert"
	ArchXLMRoberta = "xlm-roberta"
	ArchRoberta    = "roberta"
	ArchModernBERT = "modernbert"
)

// Architectures lists the model_type values ragnb computes.
func Architectures() []string { return []string{ArchBERT, ArchXLMRoberta, ArchRoberta, ArchModernBERT} }

// loadConfig reads a transformer's config.json into l.Config or l.ModernBERT by its model_type.
func loadConfig(path string, l *Layout) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var peek struct {
		ModelType     string   `json:"model_type"`
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(data, &peek); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch peek.ModelType {
	case ArchBERT:
		l.Config, err = bert.LoadConfig(path)
	case ArchXLMRoberta, ArchRoberta:
		l.Config, err = xlmr.LoadConfig(path)
	case ArchModernBERT:
		l.ModernBERT, err = modernbert.LoadConfig(path)
	default:
		arch := strings.Join(peek.Architectures, ", ")
		if arch == "" {
			arch = "(none listed)"
		}
		err = fmt.Errorf("%s: architecture %s (model_type %q) is not supported: ragnb runs model_type %s",
			path, arch, peek.ModelType, strings.Join(Architectures(), ", "))
	}
	return err
}

// Architecture is the transformer family: ArchBERT, ArchXLMRoberta, ArchRoberta or ArchModernBERT ("" for
// static models).
func (l *Layout) Architecture() string {
	switch {
	case l.ModernBERT != nil:
		return ArchModernBERT
	case l.Config != nil && l.Config.ModelType != "":
		return l.Config.ModelType
	case l.Config != nil:
		return ArchBERT
	}
	return ""
}

// HiddenSize is the transformer's hidden size (the embedding dimension of a bi-encoder); 0 for static models.
func (l *Layout) HiddenSize() int {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.HiddenSize
	case l.Config != nil:
		return l.Config.HiddenSize
	}
	return 0
}

// Shape is the transformer's layers, hidden size and attention heads (zeros for static models).
func (l *Layout) Shape() (layers, hidden, heads int) {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.NumHiddenLayers, l.ModernBERT.HiddenSize, l.ModernBERT.NumAttentionHeads
	case l.Config != nil:
		return l.Config.NumHiddenLayers, l.Config.HiddenSize, l.Config.NumAttentionHeads
	}
	return 0, 0, 0
}

// VocabSize is config.json's vocab_size (0 for static models).
func (l *Layout) VocabSize() int {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.VocabSize
	case l.Config != nil:
		return l.Config.VocabSize
	}
	return 0
}

// PadTokenID is config.json's pad_token_id (0 for static models).
func (l *Layout) PadTokenID() int {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.PadTokenID
	case l.Config != nil:
		return l.Config.PadTokenID
	}
	return 0
}

// NumLabels is the classifier's number of outputs.
func (l *Layout) NumLabels() int {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.NumLabels()
	case l.Config != nil:
		return l.Config.NumLabels()
	}
	return 0
}

// IsSequenceClassification reports whether config.json names a sequence classifier.
func (l *Layout) IsSequenceClassification() bool {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.IsSequenceClassification()
	case l.Config != nil:
		return l.Config.IsSequenceClassification()
	}
	return false
}

// MaxPositions is the longest sequence the transformer's positions cover: max_position_embeddings, less
// padding_idx + 1 for the RoBERTa family (0 for static models).
func (l *Layout) MaxPositions() int {
	switch {
	case l.ModernBERT != nil:
		return l.ModernBERT.MaxPositionEmbeddings
	case xlmr.Is(l.Config):
		return xlmr.MaxLength(l.Config)
	case l.Config != nil:
		return l.Config.MaxPositionEmbeddings
	}
	return 0
}

// readJSON decodes dir/name into v; found is false when the file does not exist.
func readJSON(path string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// Read inspects a model directory. Unsupported modules or architectures are errors naming the file.
func Read(dir string) (*Layout, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("model directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("model directory %s is not a directory", dir)
	}
	l := &Layout{IncludePrompt: true, SimilarityFn: "cosine"}
	modulesPath := filepath.Join(dir, "modules.json")
	hasModules, err := readJSON(modulesPath, &l.Modules)
	if err != nil {
		return nil, err
	}
	if err := readSTConfig(dir, l); err != nil {
		return nil, err
	}
	if !hasModules {
		// A plain transformers directory: sentence-transformers wraps it as Transformer + mean Pooling, or
		// as a CrossEncoder when it is a sequence classifier.
		if err := loadConfig(filepath.Join(dir, "config.json"), l); err != nil {
			return nil, err
		}
		if l.IsSequenceClassification() {
			l.Kind = CrossEncoder
		} else {
			l.Kind, l.Pooling = BiEncoder, bert.PoolMean
		}
		if err := finishTransformer(dir, l); err != nil {
			return nil, err
		}
		return l, nil
	}
	slices.SortFunc(l.Modules, func(a, b Module) int { return a.Idx - b.Idx })
	for i, m := range l.Modules {
		sub := filepath.Join(dir, m.Path)
		switch m.className() {
		case "Transformer":
			if i != 0 {
				return nil, fmt.Errorf("%s: Transformer must be the first module", modulesPath)
			}
			if err := loadConfig(filepath.Join(sub, "config.json"), l); err != nil {
				return nil, err
			}
			l.WeightsDir = m.Path
			l.Kind = BiEncoder
			if l.IsSequenceClassification() {
				l.Kind = CrossEncoder
			}
		case "StaticEmbedding":
			if i != 0 {
				return nil, fmt.Errorf("%s: StaticEmbedding must be the first module", modulesPath)
			}
			l.Kind, l.WeightsDir = Static, m.Path
		case "Pooling":
			if l.Kind != BiEncoder {
				return nil, fmt.Errorf("%s: Pooling must follow a Transformer", modulesPath)
			}
			if err := readPooling(filepath.Join(sub, "config.json"), l); err != nil {
				return nil, err
			}
		case "Normalize":
			l.Normalize = true
		default:
			return nil, fmt.Errorf("%s: module %q of type %s is not supported (supported: Transformer, StaticEmbedding, Pooling, Normalize)",
				modulesPath, m.Name, m.Type)
		}
	}
	switch l.Kind {
	case "":
		return nil, fmt.Errorf("%s: no Transformer or StaticEmbedding module", modulesPath)
	case BiEncoder:
		if l.Pooling == "" {
			return nil, fmt.Errorf("%s: a Transformer bi-encoder needs a Pooling module", modulesPath)
		}
	}
	if l.Kind == Static {
		if err := requireFiles(l.TokenizerDir(dir), "model.safetensors", "tokenizer.json"); err != nil {
			return nil, err
		}
		// StaticEmbedding tokenizes with tokenizer.json as saved: its truncation, if any, applies.
		n, err := tokenizerTruncation(filepath.Join(l.TokenizerDir(dir), "tokenizer.json"))
		if err != nil {
			return nil, err
		}
		l.MaxSeqLength = n
		return l, nil
	}
	if err := finishTransformer(dir, l); err != nil {
		return nil, err
	}
	return l, nil
}

// finishTransformer reads the maximum sequence length and checks the weight and tokenizer files.
func finishTransformer(dir string, l *Layout) error {
	sub := filepath.Join(dir, l.WeightsDir)
	if err := requireFiles(sub, "tokenizer.json"); err != nil {
		return err
	}
	_, errSingle := os.Stat(filepath.Join(sub, "model.safetensors"))
	_, errIndex := os.Stat(filepath.Join(sub, "model.safetensors.index.json"))
	if errSingle != nil && errIndex != nil {
		for _, other := range []string{"pytorch_model.bin", "tf_model.h5"} {
			if _, e := os.Stat(filepath.Join(sub, other)); e == nil {
				return fmt.Errorf("%s: weights are in %s; ragnb reads model.safetensors (convert with transformers' save_pretrained(safe_serialization=True))",
					sub, other)
			}
		}
		return fmt.Errorf("%s: no model.safetensors", sub)
	}
	maxPos := l.MaxPositions()
	var sb struct {
		MaxSeqLength *int `json:"max_seq_length"`
		DoLowerCase  bool `json:"do_lower_case"`
	}
	if _, err := readJSON(filepath.Join(sub, "sentence_bert_config.json"), &sb); err != nil {
		return err
	}
	var tc struct {
		ModelMaxLength *float64 `json:"model_max_length"`
	}
	if _, err := readJSON(filepath.Join(sub, "tokenizer_config.json"), &tc); err != nil {
		return err
	}
	l.DoLowerCase = sb.DoLowerCase
	switch {
	case sb.MaxSeqLength != nil && *sb.MaxSeqLength > 0:
		l.MaxSeqLength = *sb.MaxSeqLength
	case tc.ModelMaxLength != nil && *tc.ModelMaxLength > 0 && *tc.ModelMaxLength < 1e6:
		l.MaxSeqLength = int(*tc.ModelMaxLength)
	default:
		l.MaxSeqLength = maxPos
	}
	// Positions beyond max_position_embeddings do not exist; transformers would fail there too.
	l.MaxSeqLength = min(l.MaxSeqLength, maxPos)
	return nil
}

func requireFiles(dir string, names ...string) error {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("model directory: missing %s", filepath.Join(dir, n))
		}
	}
	return nil
}

// readPooling reads 1_Pooling/config.json in either format: sentence-transformers ≥ 6 ("pooling_mode":
// "mean" or a list) or the older booleans ("pooling_mode_mean_tokens": true, ...).
func readPooling(path string, l *Layout) error {
	var raw map[string]json.RawMessage
	found, err := readJSON(path, &raw)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("pooling config %s: file missing", path)
	}
	var modes []string
	if pm, ok := raw["pooling_mode"]; ok {
		var one string
		if json.Unmarshal(pm, &one) == nil {
			modes = []string{one}
		} else if err := json.Unmarshal(pm, &modes); err != nil {
			return fmt.Errorf("%s: pooling_mode: %w", path, err)
		}
	} else {
		legacy := []struct{ key, mode string }{
			{"pooling_mode_cls_token", "cls"}, {"pooling_mode_max_tokens", "max"}, {"pooling_mode_mean_tokens", "mean"},
			{"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"}, {"pooling_mode_weightedmean_tokens", "weightedmean"},
			{"pooling_mode_lasttoken", "lasttoken"},
		}
		for _, lg := range legacy {
			var on bool
			if v, ok := raw[lg.key]; ok && json.Unmarshal(v, &on) == nil && on {
				modes = append(modes, lg.mode)
			}
		}
		if len(modes) == 0 {
			modes = []string{"mean"} // sentence-transformers' default
		}
	}
	if len(modes) != 1 {
		return fmt.Errorf("%s: pooling modes %v: ragnb supports exactly one mode", path, modes)
	}
	if !slices.Contains(bert.PoolingModes(), modes[0]) {
		return fmt.Errorf("%s: pooling mode %q is not supported (supported: %s)", path, modes[0], strings.Join(bert.PoolingModes(), ", "))
	}
	l.Pooling = modes[0]
	if v, ok := raw["include_prompt"]; ok {
		if err := json.Unmarshal(v, &l.IncludePrompt); err != nil {
			return fmt.Errorf("%s: include_prompt: %w", path, err)
		}
	}
	return nil
}

// stConfig is config_sentence_transformers.json.
type stConfig struct {
	Version           map[string]string `json:"__version__,omitempty"`
	ModelType         string            `json:"model_type,omitempty"`
	Prompts           map[string]string `json:"prompts"`
	DefaultPromptName *string           `json:"default_prompt_name"`
	SimilarityFnName  *string           `json:"similarity_fn_name"`
}

func readSTConfig(dir string, l *Layout) error {
	var c stConfig
	if _, err := readJSON(filepath.Join(dir, "config_sentence_transformers.json"), &c); err != nil {
		return err
	}
	l.Prompts = c.Prompts
	if l.Prompts == nil {
		l.Prompts = map[string]string{}
	}
	if c.DefaultPromptName != nil {
		l.DefaultPromptName = *c.DefaultPromptName
		if _, ok := l.Prompts[l.DefaultPromptName]; !ok && l.DefaultPromptName != "" {
			return fmt.Errorf("%s: default_prompt_name %q is not among the prompts", filepath.Join(dir, "config_sentence_transformers.json"), l.DefaultPromptName)
		}
	}
	if c.SimilarityFnName != nil && *c.SimilarityFnName != "" {
		l.SimilarityFn = *c.SimilarityFnName
	}
	return nil
}
