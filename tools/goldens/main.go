// Command goldens writes the tiny random models and token-id inputs under testdata/ that the parity tests
// compare against an independent PyTorch implementation (tools/reference.py):
//
//	go run ./tools/goldens                      # testdata/models/tiny-*, testdata/golden/inputs.json
//	/usr/bin/python3 tools/reference.py golden  # testdata/golden/reference.json (needs python3-torch)
//
// The models (BERT bi- and cross-encoders, static, XLM-RoBERTa bi- and cross-encoder, ModernBERT bi-encoder
// and cls / mean cross-encoders in both config forms) are written by ragnb's own writer (modeldir.Write), so
// the reference also proves that the files are readable by an outside implementation. Every weight is random, including LayerNorm scales and
// biases (HF's initialisation would leave them at 1 and 0 and test less of the math).
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/modernbert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/static"
	"github.com/ragnb/ragnb/model/xlmr"
)

func main() {
	if err := run("testdata"); err != nil {
		fmt.Fprintln(os.Stderr, "goldens:", err)
		os.Exit(1)
	}
}

// Special token ids of the tiny vocabulary.
const (
	padID, unkID, clsID, sepID, maskID = 0, 1, 2, 3, 4
)

// TinyVocab is a small WordPiece vocabulary: specials, punctuation, digits, letters (also as ## pieces)
// and some words of the financial domain, so that real text tokenizes into something meaningful.
func TinyVocab() []string {
	v := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	v = append(v, strings.Split(". , ? ! ' - $ % ( ) :", " ")...)
	for c := '0'; c <= '9'; c++ {
		v = append(v, string(c))
	}
	for c := 'a'; c <= 'z'; c++ {
		v = append(v, string(c))
	}
	for c := 'a'; c <= 'z'; c++ {
		v = append(v, "##"+string(c))
	}
	for c := '0'; c <= '9'; c++ {
		v = append(v, "##"+string(c))
	}
	v = append(v, strings.Fields(`the of and to in is was what how many much did does for by with on as at from
		revenue company year net income total million billion percent increase decrease quarter fiscal market
		share cash sales profit growth report bank loan rate interest price stock tax cost operating debt
		assets employees ##ed ##ing ##ly`)...)
	return v
}

// TinyTokenizerJSON is a tokenizer.json for TinyVocab in the layout of bert-base-uncased's (BertNormalizer
// with lowercasing, BertPreTokenizer, [CLS] A [SEP] / [CLS] A [SEP] B [SEP] template, WordPiece).
func TinyTokenizerJSON() ([]byte, error) {
	vocab := TinyVocab()
	vm := map[string]int{}
	for i, t := range vocab {
		vm[t] = i
	}
	var added []map[string]any
	for i, t := range vocab[:5] {
		added = append(added, map[string]any{"id": i, "content": t, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true})
	}
	special := func(t string, id int) map[string]any {
		return map[string]any{"id": t, "ids": []int{id}, "tokens": []string{t}}
	}
	tok := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type": "TemplateProcessing",
			"single": []any{
				map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
				map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}},
			},
			"pair": []any{
				map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
				map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}},
				map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 1}},
			},
			"special_tokens": map[string]any{"[CLS]": special("[CLS]", clsID), "[SEP]": special("[SEP]", sepID)},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": vm},
	}
	return json.MarshalIndent(tok, "", "  ")
}

// tinyConfig is a 2-layer BERT small enough to commit (about 30k weights).
func tinyConfig(vocab int) *bert.Config {
	c := bert.Defaults(vocab)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 32, 2, 4, 64
	c.MaxPositionEmbeddings = 64
	c.InitializerRange = 0.3
	return c
}

// randomize replaces every value with a random one: matrices N(0, 0.3²), biases N(0, 0.1²), LayerNorm
// scales (BERT's LayerNorm.weight, ModernBERT's *norm.weight) 1 + N(0, 0.1²).
func randomize(ts []safetensors.Float32Tensor, rng *rand.Rand) {
	for _, t := range ts {
		for i := range t.Data {
			switch {
			case strings.HasSuffix(t.Name, "LayerNorm.weight"), strings.HasSuffix(t.Name, "norm.weight"):
				t.Data[i] = float32(1 + 0.1*rng.NormFloat64())
			case strings.HasSuffix(t.Name, ".bias"):
				t.Data[i] = float32(0.1 * rng.NormFloat64())
			default:
				t.Data[i] = float32(0.3 * rng.NormFloat64())
			}
		}
	}
}

// Case is one batch of token-id inputs.
type Case struct {
	Name  string    `json:"name"`
	IDs   [][]int32 `json:"ids"`
	Types [][]int32 `json:"types"`
}

// Inputs are what the reference evaluates: which model runs which cases.
type Inputs struct {
	Models map[string][]string `json:"models"` // model dir name → case names
	Cases  []Case              `json:"cases"`
}

func randomTokens(rng *rand.Rand, vocab, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(5 + rng.IntN(vocab-5)) // no specials inside a text
	}
	return out
}

func single(rng *rand.Rand, vocab, n int) (ids, types []int32) {
	ids = append(append([]int32{clsID}, randomTokens(rng, vocab, n)...), sepID)
	return ids, make([]int32, len(ids))
}

func pair(rng *rand.Rand, vocab, a, b int) (ids, types []int32) {
	ids = append(append([]int32{clsID}, randomTokens(rng, vocab, a)...), sepID)
	types = make([]int32, len(ids))
	ids = append(append(ids, randomTokens(rng, vocab, b)...), sepID)
	for len(types) < len(ids) {
		types = append(types, 1)
	}
	return ids, types
}

func run(root string) error {
	tokJSON, err := TinyTokenizerJSON()
	if err != nil {
		return err
	}
	vocab := len(TinyVocab())
	tokFiles := map[string][]byte{"tokenizer.json": tokJSON}
	rng := rand.New(rand.NewPCG(2026, 11))

	write := func(name string, l *modeldir.Layout, ts []safetensors.Float32Tensor) error {
		return modeldir.Write(filepath.Join(root, "models", name), modeldir.Contents{Layout: l, Weights: ts, Tokenizer: tokFiles})
	}
	// Bi-encoders: mean pooling + Normalize, and CLS pooling without.
	for _, m := range []struct {
		name, pooling string
		normalize     bool
	}{{"tiny-bert-mean", bert.PoolMean, true}, {"tiny-bert-cls", bert.PoolCLS, false}} {
		cfg := tinyConfig(vocab)
		ts := bert.InitWeights(cfg, bert.BiEncoderParts(), 1)
		randomize(ts, rng)
		l := &modeldir.Layout{Kind: modeldir.BiEncoder, Config: cfg, Pooling: m.pooling, Normalize: m.normalize,
			IncludePrompt: true, MaxSeqLength: 64, Prompts: map[string]string{"query": "what is ", "document": ""}}
		if err := write(m.name, l, ts); err != nil {
			return err
		}
	}
	// Cross-encoder.
	cfg := tinyConfig(vocab)
	cfg.Architectures = []string{"BertForSequenceClassification"}
	cfg.ID2Label = map[string]string{"0": "LABEL_0"}
	ts := bert.InitWeights(cfg, bert.CrossEncoderParts(), 2)
	randomize(ts, rng)
	if err := write("tiny-cross", &modeldir.Layout{Kind: modeldir.CrossEncoder, Config: cfg, MaxSeqLength: 64}, ts); err != nil {
		return err
	}
	// Static: IDF init over a few random documents, 16 dimensions.
	var docs [][]int32
	for range 20 {
		docs = append(docs, randomTokens(rng, vocab, 3+rng.IntN(15)))
	}
	st, err := static.InitIDF(vocab, 16, 3, docs)
	if err != nil {
		return err
	}
	if err := write("tiny-static", &modeldir.Layout{Kind: modeldir.Static, Normalize: false}, []safetensors.Float32Tensor{st}); err != nil {
		return err
	}

	// Other architectures draw from their own stream, so the models above stay byte-identical.
	if err := otherArchitectures(rand.New(rand.NewPCG(2026, 14)), vocab, write); err != nil {
		return err
	}

	// Inputs: mixed lengths in one batch, single and pair, and static bags (one empty).
	var in Inputs
	add := func(name string, gen func() (ids, types []int32), n int) {
		c := Case{Name: name}
		for range n {
			ids, types := gen()
			c.IDs = append(c.IDs, ids)
			c.Types = append(c.Types, types)
		}
		in.Cases = append(in.Cases, c)
	}
	lengths := []int{1, 4, 9, 17, 30, 62}
	i := 0
	add("single", func() ([]int32, []int32) { n := lengths[i%len(lengths)]; i++; return single(rng, vocab, n) }, len(lengths))
	pairs := [][2]int{{1, 1}, {3, 10}, {12, 5}, {20, 25}, {7, 40}}
	j := 0
	add("pair", func() ([]int32, []int32) { p := pairs[j]; j++; return pair(rng, vocab, p[0], p[1]) }, len(pairs))
	bags := []int{0, 1, 5, 23, 80}
	k := 0
	add("bags", func() ([]int32, []int32) {
		n := bags[k]
		k++
		return randomTokens(rng, vocab, n), nil
	}, len(bags))
	in.Models = map[string][]string{
		"tiny-bert-mean": {"single", "pair"},
		"tiny-bert-cls":  {"single", "pair"},
		"tiny-cross":     {"single", "pair"},
		"tiny-static":    {"bags"},
	}
	for _, name := range []string{"tiny-xlmr-mean", "tiny-xlmr-cross", "tiny-modernbert-mean", "tiny-modernbert-cross-cls", "tiny-modernbert-cross-mean"} {
		in.Models[name] = []string{"single", "pair"}
	}
	b, err := json.MarshalIndent(in, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "golden"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, "golden", "inputs.json"), append(b, '\n'), 0o644)
}

// tinyModernBERT is a 3-layer ModernBERT (layer 0 global, 1 and 2 local) with a window of 16 (8 each way),
// shorter than most golden inputs so that local attention is exercised.
func tinyModernBERT(vocab int) *modernbert.Config {
	c := modernbert.Defaults(vocab, padID, clsID, sepID)
	c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 32, 3, 4, 48
	c.MaxPositionEmbeddings, c.LocalAttention = 128, 16
	return c
}

// otherArchitectures writes the XLM-R and ModernBERT goldens' models: an XLM-R bi-encoder (mean pooling,
// pad_token_id 1 so that positions start at 2) and cross-encoder; a ModernBERT bi-encoder in the older
// config form without biases, and two cross-encoders: cls pooling in the newer form (layer_types,
// rope_parameters with other thetas) with every bias and the tanh GELU, and mean pooling.
func otherArchitectures(rng *rand.Rand, vocab int, write func(string, *modeldir.Layout, []safetensors.Float32Tensor) error) error {
	xc := xlmr.Defaults(vocab, unkID)
	xc.HiddenSize, xc.NumHiddenLayers, xc.NumAttentionHeads, xc.IntermediateSize = 32, 2, 4, 64
	xc.MaxPositionEmbeddings = 64 + unkID + 1
	ts := xlmr.InitWeights(xc, xlmr.BiEncoderParts(), 1)
	randomize(ts, rng)
	l := &modeldir.Layout{Kind: modeldir.BiEncoder, Config: xc, Pooling: bert.PoolMean, Normalize: true, IncludePrompt: true, MaxSeqLength: 64}
	if err := write("tiny-xlmr-mean", l, ts); err != nil {
		return err
	}
	xcc := *xc
	xcc.Architectures, xcc.ID2Label = []string{"XLMRobertaForSequenceClassification"}, map[string]string{"0": "LABEL_0"}
	ts = xlmr.InitWeights(&xcc, xlmr.CrossEncoderParts(), 2)
	randomize(ts, rng)
	if err := write("tiny-xlmr-cross", &modeldir.Layout{Kind: modeldir.CrossEncoder, Config: &xcc, MaxSeqLength: 64}, ts); err != nil {
		return err
	}

	mc := tinyModernBERT(vocab)
	ts = modernbert.InitWeights(mc, modernbert.BiEncoderParts(), 1)
	randomize(ts, rng)
	l = &modeldir.Layout{Kind: modeldir.BiEncoder, ModernBERT: mc, Pooling: bert.PoolMean, Normalize: true, IncludePrompt: true,
		MaxSeqLength: 128, Prompts: map[string]string{"query": "search_query: ", "document": "search_document: "}}
	if err := write("tiny-modernbert-mean", l, ts); err != nil {
		return err
	}
	cls := tinyModernBERT(vocab)
	cls.Architectures, cls.ID2Label = []string{"ModernBertForSequenceClassification"}, map[string]string{"0": "LABEL_0"}
	cls.GlobalAttnEveryNLayers, cls.GlobalRopeTheta, cls.LocalRopeTheta = nil, nil, nil
	cls.LayerTypes = []string{modernbert.FullAttention, modernbert.SlidingAttention, modernbert.FullAttention}
	cls.RopeParameters = map[string]modernbert.Rope{modernbert.FullAttention: {RopeTheta: 40000, RopeType: "default"},
		modernbert.SlidingAttention: {RopeTheta: 500, RopeType: "default"}}
	cls.AttentionBias, cls.MLPBias, cls.NormBias, cls.ClassifierBias = true, true, true, true
	cls.HiddenActivation, cls.ClassifierActivation = "gelu_pytorch_tanh", "gelu"
	ts = modernbert.InitWeights(cls, modernbert.CrossEncoderParts(), 2)
	randomize(ts, rng)
	if err := write("tiny-modernbert-cross-cls", &modeldir.Layout{Kind: modeldir.CrossEncoder, ModernBERT: cls, MaxSeqLength: 128}, ts); err != nil {
		return err
	}
	mean := tinyModernBERT(vocab)
	mean.Architectures, mean.ID2Label = []string{"ModernBertForSequenceClassification"}, map[string]string{"0": "LABEL_0"}
	mean.ClassifierPooling = "mean"
	ts = modernbert.InitWeights(mean, modernbert.CrossEncoderParts(), 3)
	randomize(ts, rng)
	return write("tiny-modernbert-cross-mean", &modeldir.Layout{Kind: modeldir.CrossEncoder, ModernBERT: mean, MaxSeqLength: 128}, ts)
}
