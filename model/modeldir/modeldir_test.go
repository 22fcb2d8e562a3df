package modeldir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/safetensors"
)

const bertConfig = `{"architectures":["BertModel"],"model_type":"bert","vocab_size":30522,"hidden_size":384,
	"num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,"hidden_act":"gelu",
	"max_position_embeddings":512,"type_vocab_size":2,"layer_norm_eps":1e-12}`

// files writes name → content under a fresh directory.
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hubBGE is laid out like BAAI/bge-small-en-v1.5 on the Hub: legacy pooling booleans (CLS), Normalize,
// sentence_bert_config.json with max_seq_length 512.
func hubBGE() map[string]string {
	return map[string]string{
		"config.json":       bertConfig,
		"model.safetensors": "x",
		"tokenizer.json":    "{}",
		"modules.json": `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
			{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
			{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`,
		"1_Pooling/config.json": `{"word_embedding_dimension":384,"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":false,
			"pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false}`,
		"sentence_bert_config.json": `{"max_seq_length":512,"do_lower_case":true}`,
		"config_sentence_transformers.json": `{"__version__":{"sentence_transformers":"2.2.2"},
			"prompts":{"query":"Represent this sentence for searching relevant passages: ","document":""},
			"default_prompt_name":null,"similarity_fn_name":"cosine"}`,
	}
}

func TestReadHubBiEncoder(t *testing.T) {
	l, err := Read(files(t, hubBGE()))
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != BiEncoder || l.Pooling != bert.PoolCLS || !l.Normalize || l.MaxSeqLength != 512 || l.Config.HiddenSize != 384 || !l.DoLowerCase {
		t.Errorf("layout %+v", l)
	}
	if l.QueryPrompt() != "Represent this sentence for searching relevant passages: " || l.DocumentPrompt() != "" {
		t.Errorf("prompts %q %q", l.QueryPrompt(), l.DocumentPrompt())
	}
}

func TestReadVariants(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(map[string]string)
		check  func(*Layout) bool
		errHas []string
	}{
		{"sentence-transformers 6 pooling", func(f map[string]string) {
			f["1_Pooling/config.json"] = `{"embedding_dimension":384,"pooling_mode":"mean","include_prompt":false}`
		}, func(l *Layout) bool { return l.Pooling == bert.PoolMean && !l.IncludePrompt }, nil},
		{"pooling list of one", func(f map[string]string) {
			f["1_Pooling/config.json"] = `{"embedding_dimension":384,"pooling_mode":["max"]}`
		}, func(l *Layout) bool { return l.Pooling == bert.PoolMax }, nil},
		{"new module type names", func(f map[string]string) {
			f["modules.json"] = `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.base.modules.transformer.Transformer"},
				{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.sentence_transformer.modules.pooling.Pooling"}]`
		}, func(l *Layout) bool { return l.Pooling == bert.PoolCLS && !l.Normalize }, nil},
		{"e5 prompts", func(f map[string]string) {
			f["config_sentence_transformers.json"] = `{"prompts":{"query":"query: ","passage":"passage: "}}`
		}, func(l *Layout) bool { return l.QueryPrompt() == "query: " && l.DocumentPrompt() == "passage: " }, nil},
		{"no sentence_bert_config: tokenizer_config length", func(f map[string]string) {
			delete(f, "sentence_bert_config.json")
			f["tokenizer_config.json"] = `{"model_max_length":256}`
		}, func(l *Layout) bool { return l.MaxSeqLength == 256 }, nil},
		{"huge model_max_length: position limit", func(f map[string]string) {
			delete(f, "sentence_bert_config.json")
			f["tokenizer_config.json"] = `{"model_max_length":1000000000000000019884624838656}`
		}, func(l *Layout) bool { return l.MaxSeqLength == 512 }, nil},
		{"plain transformers directory", func(f map[string]string) {
			delete(f, "modules.json")
		}, func(l *Layout) bool { return l.Kind == BiEncoder && l.Pooling == bert.PoolMean && !l.Normalize }, nil},
		{"cross-encoder", func(f map[string]string) {
			delete(f, "modules.json")
			f["config.json"] = strings.Replace(bertConfig, `"BertModel"`, `"BertForSequenceClassification"`, 1)
		}, func(l *Layout) bool { return l.Kind == CrossEncoder }, nil},
		{"ModernBERT", func(f map[string]string) {
			f["config.json"] = `{"architectures":["ModernBertModel"],"model_type":"modernbert"}`
		}, func(l *Layout) bool {
			return l.Kind == BiEncoder && l.ModernBERT != nil && l.Config == nil && l.Architecture() == ArchModernBERT && l.HiddenSize() == 768
		}, nil},
		{"XLM-R cross-encoder: positions after padding_idx", func(f map[string]string) {
			delete(f, "modules.json")
			delete(f, "sentence_bert_config.json")
			f["config.json"] = `{"architectures":["XLMRobertaForSequenceClassification"],"model_type":"xlm-roberta","vocab_size":250002,
				"max_position_embeddings":514,"pad_token_id":1,"type_vocab_size":1,"layer_norm_eps":1e-5,"id2label":{"0":"LABEL_0"}}`
		}, func(l *Layout) bool {
			return l.Kind == CrossEncoder && l.Architecture() == ArchXLMRoberta && l.MaxSeqLength == 512 && l.NumLabels() == 1
		}, nil},
		{"DeBERTa", func(f map[string]string) {
			f["config.json"] = `{"architectures":["DebertaV2Model"],"model_type":"deberta-v2"}`
		}, nil, []string{"config.json", "DebertaV2Model", "modernbert"}},
		{"Dense module", func(f map[string]string) {
			f["modules.json"] = strings.Replace(f["modules.json"], "sentence_transformers.models.Normalize", "sentence_transformers.models.Dense", 1)
		}, nil, []string{"modules.json", "Dense"}},
		{"weighted mean pooling", func(f map[string]string) {
			f["1_Pooling/config.json"] = `{"pooling_mode":"weightedmean"}`
		}, nil, []string{"1_Pooling", "weightedmean"}},
		{"two pooling modes", func(f map[string]string) {
			f["1_Pooling/config.json"] = `{"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":true}`
		}, nil, []string{"1_Pooling", "exactly one"}},
		{"sharded checkpoint", func(f map[string]string) {
			delete(f, "model.safetensors")
			f["model.safetensors.index.json"] = `{"weight_map":{}}`
		}, func(l *Layout) bool { return l.Kind == BiEncoder }, nil},
		{"pytorch_model.bin only", func(f map[string]string) {
			delete(f, "model.safetensors")
			f["pytorch_model.bin"] = "x"
		}, nil, []string{"pytorch_model.bin"}},
		{"no tokenizer", func(f map[string]string) { delete(f, "tokenizer.json") }, nil, []string{"tokenizer.json"}},
		{"unknown default prompt", func(f map[string]string) {
			f["config_sentence_transformers.json"] = `{"prompts":{"query":"q: "},"default_prompt_name":"doc"}`
		}, nil, []string{"config_sentence_transformers.json", "doc"}},
	}
	for _, c := range cases {
		f := hubBGE()
		c.edit(f)
		l, err := Read(files(t, f))
		if c.errHas != nil {
			if err == nil {
				t.Errorf("%s: want an error", c.name)
				continue
			}
			for _, s := range c.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q should mention %q", c.name, err, s)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !c.check(l) {
			t.Errorf("%s: layout %+v", c.name, l)
		}
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	tokJSON, err := os.ReadFile(sharedtest.BertTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := bert.Defaults(30522)
	cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = 8, 1, 2, 8
	w := []safetensors.Float32Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}
	tok := map[string][]byte{"tokenizer.json": tokJSON}
	root := t.TempDir()
	for _, l := range []*Layout{
		{Kind: BiEncoder, Config: cfg, Pooling: bert.PoolMean, Normalize: true, IncludePrompt: true, MaxSeqLength: 128, DoLowerCase: true,
			Prompts: map[string]string{"query": "query: "}, SimilarityFn: "cosine"},
		{Kind: CrossEncoder, Config: cfg, MaxSeqLength: 256},
		{Kind: Static, Normalize: true},
	} {
		dir := filepath.Join(root, string(l.Kind))
		if err := Write(dir, Contents{Layout: l, Weights: w, Tokenizer: tok}); err != nil {
			t.Fatal(err)
		}
		// Writing again over an existing directory replaces it and leaves no temporary siblings behind.
		if err := Write(dir, Contents{Layout: l, Weights: w, Tokenizer: tok}); err != nil {
			t.Fatal(err)
		}
		back, err := Read(dir)
		if err != nil {
			t.Fatalf("%s: %v", l.Kind, err)
		}
		if back.Kind != l.Kind || back.Normalize != l.Normalize || back.Pooling != l.Pooling || back.DoLowerCase != l.DoLowerCase ||
			back.QueryPrompt() != l.QueryPrompt() || (l.Kind != Static && back.MaxSeqLength != l.MaxSeqLength) {
			t.Errorf("%s: wrote %+v, read %+v", l.Kind, l, back)
		}
		f, err := safetensors.ReadFile(back.WeightsFile(dir))
		if err != nil || f.Metadata["format"] != "pt" {
			t.Errorf("%s: weights %v %v", l.Kind, err, f)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 3 {
		t.Errorf("left behind: %v", entries)
	}
	// The cross-encoder's config names the class and one label, as transformers and sentence-transformers expect.
	var cc map[string]any
	b, _ := os.ReadFile(filepath.Join(root, "cross-encoder", "config.json"))
	json.Unmarshal(b, &cc)
	if cc["architectures"].([]any)[0] != "BertForSequenceClassification" || len(cc["id2label"].(map[string]any)) != 1 {
		t.Errorf("cross-encoder config: %s", b)
	}
	// The generated tokenizer_config.json is BERT's, lowercasing as the normalizer does.
	var tc map[string]any
	b, _ = os.ReadFile(filepath.Join(root, "bi-encoder", "tokenizer_config.json"))
	json.Unmarshal(b, &tc)
	if tc["tokenizer_class"] != "BertTokenizer" || tc["do_lower_case"] != true || tc["model_max_length"] != 128.0 || tc["cls_token"] != "[CLS]" {
		t.Errorf("tokenizer_config.json: %s", b)
	}
	// The static model's tokenizer has truncation and padding off.
	var st map[string]json.RawMessage
	b, _ = os.ReadFile(filepath.Join(root, "static", "0_StaticEmbedding", "tokenizer.json"))
	json.Unmarshal(b, &st)
	if string(st["truncation"]) != "null" || string(st["padding"]) != "null" || len(st["model"]) < 100000 {
		t.Errorf("static tokenizer.json: truncation %s padding %s", st["truncation"], st["padding"])
	}
}
