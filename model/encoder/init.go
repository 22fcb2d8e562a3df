package encoder

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/modernbert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/static"
	"github.com/ragnb/ragnb/model/xlmr"
	"github.com/ragnb/ragnb/progress"
)

// Architectures NewBERTBiEncoder and NewBERTCrossEncoder draw (BERTSpec.Arch).
const (
	ArchBERT       = modeldir.ArchBERT
	ArchXLMRoberta = modeldir.ArchXLMRoberta
	ArchModernBERT = modeldir.ArchModernBERT
)

// BERTSpec shapes a freshly initialised BERT-like model. Zero fields take MiniLM-L6's shape (6 layers, hidden
// 384, 12 heads, FF 1536), 512 positions, mean pooling.
type BERTSpec struct {
	// Arch is ArchBERT (default), ArchXLMRoberta (BERT's shape with RoBERTa positions, one token type,
	// eps 1e-5) or ArchModernBERT (ModernBERT-base's defaults for everything the spec does not size:
	// global attention every 3 layers, local window 128, GeGLU, no biases).
	Arch                                string
	Layers, Hidden, Heads, Intermediate int
	// MaxLength is max_position_embeddings and the sequence length texts are truncated to.
	MaxLength int
	// Pooling is bert.PoolMean (default), bert.PoolCLS, ...; bi-encoders only.
	Pooling string
	// Normalize adds a Normalize module (unit-length embeddings); bi-encoders only.
	Normalize bool
	// Prompts are written to config_sentence_transformers.json (e.g. {"query": "query: "}).
	Prompts map[string]string
	// Seed makes the draw reproducible: the same seed gives the same weights on every machine.
	Seed uint64
}

func (s BERTSpec) config(tok Tokenizer) (*bert.Config, error) {
	c := bert.Defaults(tok.VocabSize())
	c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize = 6, 384, 12, 1536
	for _, f := range []struct {
		dst *int
		v   int
	}{{&c.NumHiddenLayers, s.Layers}, {&c.HiddenSize, s.Hidden}, {&c.NumAttentionHeads, s.Heads},
		{&c.IntermediateSize, s.Intermediate}, {&c.MaxPositionEmbeddings, s.MaxLength}} {
		if f.v < 0 {
			return nil, fmt.Errorf("model sizes must be positive, got %d", f.v)
		}
		if f.v > 0 {
			*f.dst = f.v
		}
	}
	c.PadTokenID = int(tok.PadID())
	if s.Arch == ArchXLMRoberta {
		c.Architectures, c.ModelType = []string{"XLMRobertaModel"}, ArchXLMRoberta
		c.TypeVocabSize, c.LayerNormEps = 1, 1e-5
		// max_position_embeddings counts padding_idx + 1 unused rows: MaxLength tokens fit.
		c.MaxPositionEmbeddings += c.PadTokenID + 1
		return c, xlmr.Validate(c)
	}
	return c, c.Validate()
}

// modernConfig is ModernBertConfig sized by the spec: its sizes, and MaxLength as max_position_embeddings.
func (s BERTSpec) modernConfig(tok Tokenizer) (*modernbert.Config, error) {
	b, err := s.config(tok)
	if err != nil {
		return nil, err
	}
	cls, sep := 0, 0
	if framed := tok.Encode("", 0).IDs; len(framed) >= 2 {
		cls, sep = int(framed[0]), int(framed[len(framed)-1])
	}
	c := modernbert.Defaults(tok.VocabSize(), int(tok.PadID()), cls, sep)
	c.NumHiddenLayers, c.HiddenSize, c.NumAttentionHeads, c.IntermediateSize = b.NumHiddenLayers, b.HiddenSize, b.NumAttentionHeads, b.IntermediateSize
	c.MaxPositionEmbeddings = b.MaxPositionEmbeddings
	return c, c.Validate()
}

// layoutConfig puts the spec's configuration into l (Config or ModernBERT) and draws the weights.
func (s BERTSpec) layoutConfig(tok Tokenizer, l *modeldir.Layout, cross bool) ([]safetensors.Float32Tensor, error) {
	switch s.Arch {
	case ArchBERT, "", ArchXLMRoberta:
		cfg, err := s.config(tok)
		if err != nil {
			return nil, err
		}
		l.Config = cfg
		l.MaxSeqLength = l.MaxPositions()
		if cross {
			cfg.ID2Label = map[string]string{"0": "LABEL_0"}
		}
		if s.Arch == ArchXLMRoberta {
			p := xlmr.BiEncoderParts()
			if cross {
				cfg.Architectures, p = []string{"XLMRobertaForSequenceClassification"}, xlmr.CrossEncoderParts()
			}
			return xlmr.InitWeights(cfg, p, s.Seed), nil
		}
		p := bert.BiEncoderParts()
		if cross {
			cfg.Architectures, p = []string{"BertForSequenceClassification"}, bert.CrossEncoderParts()
		}
		return bert.InitWeights(cfg, p, s.Seed), nil
	case ArchModernBERT:
		cfg, err := s.modernConfig(tok)
		if err != nil {
			return nil, err
		}
		l.ModernBERT = cfg
		l.MaxSeqLength = l.MaxPositions()
		p := modernbert.BiEncoderParts()
		if cross {
			cfg.Architectures, cfg.ID2Label, p = []string{"ModernBertForSequenceClassification"}, map[string]string{"0": "LABEL_0"}, modernbert.CrossEncoderParts()
		}
		return modernbert.InitWeights(cfg, p, s.Seed), nil
	}
	return nil, fmt.Errorf("architecture %q: want %s, %s or %s", s.Arch, ArchBERT, ArchXLMRoberta, ArchModernBERT)
}

// NewBERTBiEncoder draws a random bi-encoder of spec.Arch (BERT, XLM-RoBERTa or ModernBERT, with
// transformers' initialisation of that architecture) for the tokenizer, whose files (TokenizerFileNames;
// tokenizer.json at least) are saved with the model.
func NewBERTBiEncoder(tok Tokenizer, tokFiles map[string][]byte, spec BERTSpec, opts Options) (*BiEncoder, error) {
	pooling := spec.Pooling
	if pooling == "" {
		pooling = bert.PoolMean
	}
	if !slices.Contains(bert.PoolingModes(), pooling) {
		return nil, fmt.Errorf("pooling %q not supported (supported: %v)", pooling, bert.PoolingModes())
	}
	l := &modeldir.Layout{Kind: modeldir.BiEncoder, Pooling: pooling, Normalize: spec.Normalize,
		IncludePrompt: true, Prompts: spec.Prompts, SimilarityFn: "cosine"}
	ts, err := spec.layoutConfig(tok, l, false)
	if err != nil {
		return nil, err
	}
	return newBiEncoder(l, tok, tokFiles, ts, opts)
}

// NewBERTCrossEncoder draws a random sequence classifier of spec.Arch (BertForSequenceClassification,
// XLMRobertaForSequenceClassification or ModernBertForSequenceClassification) with one label.
func NewBERTCrossEncoder(tok Tokenizer, tokFiles map[string][]byte, spec BERTSpec, opts Options) (*CrossEncoder, error) {
	l := &modeldir.Layout{Kind: modeldir.CrossEncoder}
	ts, err := spec.layoutConfig(tok, l, true)
	if err != nil {
		return nil, err
	}
	return newCrossEncoder(l, tok, tokFiles, ts, opts)
}

// Static initialisations.
const (
	InitRandom = "random"
	InitIDF    = "idf"
)

// StaticSpec shapes a fresh static embedding model.
type StaticSpec struct {
	// Dim is the embedding dimension (default 256).
	Dim int
	// Init is InitRandom (N(0, 1), as torch.nn.EmbeddingBag) or InitIDF (N(0, 1) × the token's IDF over
	// Corpus: ranks like TF-IDF before any training).
	Init string
	// Corpus is the text the IDF is counted on (InitIDF only).
	Corpus []string
	// Normalize adds a Normalize module.
	Normalize bool
	Prompts   map[string]string
	Seed      uint64
}

// NewStatic creates a static embedding model over the tokenizer's vocabulary. With InitIDF it tokenizes
// Corpus (without special tokens, as the model does) and reports progress.
func NewStatic(ctx context.Context, tok Tokenizer, tokFiles map[string][]byte, spec StaticSpec, opts Options, report progress.Func) (*BiEncoder, error) {
	dim := spec.Dim
	if dim == 0 {
		dim = 256
	}
	if dim < 0 {
		return nil, fmt.Errorf("dimension must be positive, got %d", dim)
	}
	var t safetensors.Float32Tensor
	switch spec.Init {
	case InitRandom, "":
		t = static.InitRandom(tok.VocabSize(), dim, spec.Seed)
	case InitIDF:
		if len(spec.Corpus) == 0 {
			return nil, fmt.Errorf("idf initialisation needs a corpus")
		}
		tracker := progress.Start(report, "tokenize corpus", len(spec.Corpus), "texts")
		docs := make([][]int32, len(spec.Corpus))
		for i, text := range spec.Corpus {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				tracker.Set(i, nil)
			}
			docs[i] = tok.EncodeNoSpecial(text, 0).IDs
		}
		tracker.Finish()
		var err error
		if t, err = static.InitIDF(tok.VocabSize(), dim, spec.Seed, docs); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("init %q: want %q or %q", spec.Init, InitRandom, InitIDF)
	}
	l := &modeldir.Layout{Kind: modeldir.Static, Normalize: spec.Normalize, IncludePrompt: true, Prompts: spec.Prompts, SimilarityFn: "cosine"}
	return newBiEncoder(l, tok, tokFiles, []safetensors.Float32Tensor{t}, opts)
}
