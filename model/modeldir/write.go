package modeldir

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/xlmr"
)

// Module types written to modules.json. The sentence_transformers.models names are read by every
// sentence-transformers version from 2 to 6 (6 maps them to its new module paths).
const (
	typeTransformer = "sentence_transformers.models.Transformer"
	typePooling     = "sentence_transformers.models.Pooling"
	typeNormalize   = "sentence_transformers.models.Normalize"
	typeStatic      = "sentence_transformers.models.StaticEmbedding"
)

// TokenizerFileNames are the tokenizer files copied along with a model.
func TokenizerFileNames() []string {
	return []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"}
}

// Contents is everything Write puts into a model directory.
type Contents struct {
	Layout *Layout
	// Weights are named as the model file stores them (model/bert Params, model/static WeightName).
	Weights []safetensors.Float32Tensor
	// Tokenizer maps file names (TokenizerFileNames) to their bytes; tokenizer.json is required.
	// tokenizer_config.json is generated from tokenizer.json when absent, and its model_max_length is set to
	// Layout.MaxSeqLength for transformers.
	Tokenizer map[string][]byte
	// DType stores the weights as F32 (default), F16 or BF16.
	DType safetensors.DType
	// Files are more files for the directory's top level by name, such as README.md (the model card); they
	// are written with the rest, so a model and its card never disagree.
	Files map[string][]byte
}

// ReadTokenizerFiles reads the tokenizer files present in dir (tokenizer.json must be).
func ReadTokenizerFiles(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range TokenizerFileNames() {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	if out["tokenizer.json"] == nil {
		return nil, fmt.Errorf("model directory %s: missing tokenizer.json", dir)
	}
	return out, nil
}

// Write writes the model directory dir atomically: everything goes into a temporary sibling directory that
// then replaces dir (an existing dir is moved aside first and removed after the swap).
func Write(dir string, c Contents) (err error) {
	l := c.Layout
	if l == nil {
		return fmt.Errorf("write model %s: no layout", dir)
	}
	if c.Tokenizer["tokenizer.json"] == nil {
		return fmt.Errorf("write model %s: no tokenizer.json", dir)
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("write model %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp*")
	if err != nil {
		return fmt.Errorf("write model %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write model %s: %w", dir, err)
	}
	switch l.Kind {
	case BiEncoder:
		err = writeBiEncoder(tmp, c)
	case CrossEncoder:
		err = writeCrossEncoder(tmp, c)
	case Static:
		err = writeStatic(tmp, c)
	default:
		err = fmt.Errorf("unknown model kind %q", l.Kind)
	}
	if err != nil {
		return fmt.Errorf("write model %s: %w", dir, err)
	}
	for name, b := range c.Files {
		if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			return fmt.Errorf("write model %s: extra file name %q is not a plain top-level name", dir, name)
		}
		if err = os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("write model %s: %w", dir, err)
		}
	}
	return swapDir(tmp, dir)
}

// swapDir puts the finished tmp directory in place of dir.
func swapDir(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		o, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".old*")
		if err != nil {
			return fmt.Errorf("write model %s: %w", dir, err)
		}
		os.Remove(o)
		if err := os.Rename(dir, o); err != nil {
			return fmt.Errorf("write model %s: move the old directory aside: %w", dir, err)
		}
		old = o
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("write model %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// marshal is json.MarshalIndent with two spaces and a final newline, like Python's json.dump(indent=2).
func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func writeJSON(path string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func writeWeights(path string, c Contents) error {
	return safetensors.WriteFile(path, c.Weights, safetensors.WriteOptions{DType: c.DType, Metadata: map[string]string{"format": "pt"}})
}

// writeConfig writes config.json for the layout's transformer with architectures set to the family's base
// model (bi-encoders) or sequence classifier (cross-encoders, with one label and sentence-transformers'
// Sigmoid activation unless the config says otherwise). It returns the config's hidden size.
func writeConfig(dir string, l *Layout, cross bool) (hidden int, err error) {
	var cfg any
	switch {
	case l.ModernBERT != nil:
		c := *l.ModernBERT
		c.Architectures = []string{"ModernBertModel"}
		c.ID2Label = nil
		if cross {
			c.Architectures = []string{"ModernBertForSequenceClassification"}
			c.ID2Label = l.ModernBERT.ID2Label
			if len(c.ID2Label) == 0 {
				c.ID2Label = map[string]string{"0": "LABEL_0"}
			}
			if _, ok := c.Extra("sentence_transformers"); !ok {
				if err := c.SetExtra("sentence_transformers", map[string]string{"activation_fn": sigmoid}); err != nil {
					return 0, err
				}
			}
		}
		cfg, hidden = &c, c.HiddenSize
	case l.Config != nil:
		c := *l.Config
		base, classifier := "BertModel", "BertForSequenceClassification"
		if xlmr.Is(&c) {
			base, classifier = "XLMRobertaModel", "XLMRobertaForSequenceClassification"
			if c.ModelType == ArchRoberta {
				base, classifier = "RobertaModel", "RobertaForSequenceClassification"
			}
		}
		c.Architectures = []string{base}
		c.ID2Label = nil
		if cross {
			c.Architectures = []string{classifier}
			c.ID2Label = l.Config.ID2Label
			if len(c.ID2Label) == 0 {
				c.ID2Label = map[string]string{"0": "LABEL_0"}
			}
			// sentence-transformers ≥ 4 reads the activation applied by CrossEncoder.predict from here;
			// Sigmoid is its default for one label.
			if _, ok := c.Extra("sentence_transformers"); !ok {
				if err := c.SetExtra("sentence_transformers", map[string]string{"activation_fn": sigmoid}); err != nil {
					return 0, err
				}
			}
		}
		cfg, hidden = &c, c.HiddenSize
	default:
		return 0, errors.New("transformer without config")
	}
	return hidden, writeJSON(filepath.Join(dir, "config.json"), cfg)
}

const sigmoid = "torch.nn.modules.activation.Sigmoid"

func writeSTConfig(dir string, l *Layout) error {
	prompts := l.Prompts
	if prompts == nil {
		prompts = map[string]string{}
	}
	var def *string
	if l.DefaultPromptName != "" {
		def = &l.DefaultPromptName
	}
	sim := l.SimilarityFn
	if sim == "" {
		sim = "cosine"
	}
	return writeJSON(filepath.Join(dir, "config_sentence_transformers.json"), stConfig{
		ModelType: "SentenceTransformer", Prompts: prompts, DefaultPromptName: def, SimilarityFnName: &sim,
	})
}

func writeTokenizer(dir string, c Contents, maxLen int) error {
	files := maps.Clone(c.Tokenizer)
	if maxLen > 0 {
		tc, err := TokenizerConfig(files["tokenizer.json"], files["tokenizer_config.json"], maxLen)
		if err != nil {
			return err
		}
		files["tokenizer_config.json"] = tc
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !slices.Contains(TokenizerFileNames(), name) {
			return fmt.Errorf("unexpected tokenizer file %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func normalizeModule(idx int) Module {
	return Module{Idx: idx, Name: fmt.Sprint(idx), Path: fmt.Sprintf("%d_Normalize", idx), Type: typeNormalize}
}

func writeBiEncoder(dir string, c Contents) error {
	l := c.Layout
	if !slices.Contains(bert.PoolingModes(), l.Pooling) {
		return fmt.Errorf("pooling mode %q not supported", l.Pooling)
	}
	hidden, err := writeConfig(dir, l, false)
	if err != nil {
		return err
	}
	if err := writeWeights(filepath.Join(dir, "model.safetensors"), c); err != nil {
		return err
	}
	maxLen := l.MaxSeqLength
	if maxLen <= 0 {
		maxLen = l.MaxPositions()
	}
	if err := writeTokenizer(dir, c, maxLen); err != nil {
		return err
	}
	modules := []Module{
		{Idx: 0, Name: "0", Path: "", Type: typeTransformer},
		{Idx: 1, Name: "1", Path: "1_Pooling", Type: typePooling},
	}
	if l.Normalize {
		modules = append(modules, normalizeModule(2))
	}
	if err := writeModules(dir, modules); err != nil {
		return err
	}
	// The pooling booleans of sentence-transformers < 6, which 6 still reads.
	pool := map[string]any{
		"word_embedding_dimension":          hidden,
		"pooling_mode_cls_token":            l.Pooling == bert.PoolCLS,
		"pooling_mode_mean_tokens":          l.Pooling == bert.PoolMean,
		"pooling_mode_max_tokens":           l.Pooling == bert.PoolMax,
		"pooling_mode_mean_sqrt_len_tokens": l.Pooling == bert.PoolMeanSqrtLen,
		"pooling_mode_weightedmean_tokens":  false,
		"pooling_mode_lasttoken":            false,
		"include_prompt":                    l.IncludePrompt,
	}
	if err := writeJSON(filepath.Join(dir, "1_Pooling", "config.json"), pool); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "sentence_bert_config.json"), map[string]any{"max_seq_length": maxLen, "do_lower_case": l.DoLowerCase}); err != nil {
		return err
	}
	return writeSTConfig(dir, l)
}

func writeModules(dir string, modules []Module) error {
	for _, m := range modules {
		if m.Path != "" {
			if err := os.MkdirAll(filepath.Join(dir, m.Path), 0o755); err != nil {
				return err
			}
		}
		if m.Type == typeNormalize {
			// sentence-transformers ≥ 6 saves Normalize's (default) config; older versions ignore it.
			if err := writeJSON(filepath.Join(dir, m.Path, "config.json"), map[string]string{"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"}); err != nil {
				return err
			}
		}
	}
	return writeJSON(filepath.Join(dir, "modules.json"), modules)
}

func writeCrossEncoder(dir string, c Contents) error {
	if _, err := writeConfig(dir, c.Layout, true); err != nil {
		return err
	}
	l := c.Layout
	if err := writeWeights(filepath.Join(dir, "model.safetensors"), c); err != nil {
		return err
	}
	maxLen := l.MaxSeqLength
	if maxLen <= 0 {
		maxLen = l.MaxPositions()
	}
	return writeTokenizer(dir, c, maxLen)
}

func writeStatic(dir string, c Contents) error {
	l := c.Layout
	sub := "0_StaticEmbedding"
	modules := []Module{{Idx: 0, Name: "0", Path: sub, Type: typeStatic}}
	if l.Normalize {
		modules = append(modules, normalizeModule(1))
	}
	if err := writeModules(dir, modules); err != nil {
		return err
	}
	if err := writeWeights(filepath.Join(dir, sub, "model.safetensors"), c); err != nil {
		return err
	}
	// StaticEmbedding saves only tokenizer.json. Padding and truncation are switched off in it: the model
	// averages every token of a text (Layout.MaxSeqLength > 0 keeps truncation at that length).
	tj, err := staticTokenizerJSON(c.Tokenizer["tokenizer.json"], l.MaxSeqLength)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, sub, "tokenizer.json"), tj, 0o644); err != nil {
		return err
	}
	return writeSTConfig(dir, l)
}

// TokenizerConfig returns tokenizer_config.json for transformers with model_max_length set to maxLen:
// the given one updated, or, when there is none, one derived from tokenizer.json (its special tokens,
// and for a WordPiece vocabulary with [CLS]/[SEP], BertTokenizer with the normalizer's lowercase setting).
func TokenizerConfig(tokenizerJSON, existing []byte, maxLen int) ([]byte, error) {
	cfg := map[string]any{}
	if existing != nil {
		if err := json.Unmarshal(existing, &cfg); err != nil {
			return nil, fmt.Errorf("tokenizer_config.json: %w", err)
		}
		cfg["model_max_length"] = maxLen
		return marshal(cfg)
	}
	var tj struct {
		AddedTokens []struct {
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Normalizer *struct {
			Type      string `json:"type"`
			Lowercase *bool  `json:"lowercase"`
		} `json:"normalizer"`
		Model struct {
			Type                    string          `json:"type"`
			UnkToken                string          `json:"unk_token"`
			ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
			Merges                  json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(tokenizerJSON, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	special := map[string]bool{}
	for _, t := range tj.AddedTokens {
		if t.Special {
			special[t.Content] = true
		}
	}
	cfg["model_max_length"] = maxLen
	cfg["clean_up_tokenization_spaces"] = true
	// Older tokenizer.json files leave out the model type; WordPiece is the one with a subword prefix and
	// no merges.
	wordPiece := tj.Model.Type == "WordPiece" || (tj.Model.Type == "" && tj.Model.ContinuingSubwordPrefix != nil && tj.Model.Merges == nil)
	if wordPiece && special["[CLS]"] && special["[SEP]"] {
		cfg["tokenizer_class"] = "BertTokenizer"
		lower := tj.Normalizer != nil && tj.Normalizer.Lowercase != nil && *tj.Normalizer.Lowercase
		cfg["do_lower_case"] = lower
		for key, tok := range map[string]string{"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"} {
			if special[tok] {
				cfg[key] = tok
			}
		}
		cfg["strip_accents"] = nil
		cfg["tokenize_chinese_chars"] = true
	} else {
		cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
		if tj.Model.UnkToken != "" {
			cfg["unk_token"] = tj.Model.UnkToken
		}
	}
	return marshal(cfg)
}

// staticTokenizerJSON sets tokenizer.json's padding to null and its truncation to maxLen tokens (null when
// maxLen is 0), leaving every other key's bytes as they were.
func staticTokenizerJSON(tokenizerJSON []byte, maxLen int) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(tokenizerJSON, &m); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	m["padding"] = json.RawMessage("null")
	m["truncation"] = json.RawMessage("null")
	if maxLen > 0 {
		t, _ := json.Marshal(map[string]any{"direction": "Right", "max_length": maxLen, "strategy": "LongestFirst", "stride": 0})
		m["truncation"] = t
	}
	return json.Marshal(m)
}

// tokenizerTruncation is tokenizer.json's truncation max_length (0 when it has none).
func tokenizerTruncation(path string) (int, error) {
	var tj struct {
		Truncation *struct {
			MaxLength int `json:"max_length"`
		} `json:"truncation"`
	}
	if _, err := readJSON(path, &tj); err != nil {
		return 0, err
	}
	if tj.Truncation == nil {
		return 0, nil
	}
	return tj.Truncation.MaxLength, nil
}
