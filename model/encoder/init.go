package encoder

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/static"
	"github.com/ragnb/ragnb/progress"
)

// BERTSpec shapes a freshly initialised BERT model. Zero fields take MiniLM-L6's shape (6 layers, hidden
// 384, 12 heads, FF 1536), 512 positions, mean pooling.
type BERTSpec struct {
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
	return c, c.Validate()
}

// NewBERTBiEncoder draws a random BERT bi-encoder (transformers' initialisation) for the tokenizer, whose
// files (TokenizerFileNames; tokenizer.json at least) are saved with the model.
func NewBERTBiEncoder(tok Tokenizer, tokFiles map[string][]byte, spec BERTSpec, opts Options) (*BiEncoder, error) {
	cfg, err := spec.config(tok)
	if err != nil {
		return nil, err
	}
	pooling := spec.Pooling
	if pooling == "" {
		pooling = bert.PoolMean
	}
	if !slices.Contains(bert.PoolingModes(), pooling) {
		return nil, fmt.Errorf("pooling %q not supported (supported: %v)", pooling, bert.PoolingModes())
	}
	l := &modeldir.Layout{Kind: modeldir.BiEncoder, Config: cfg, Pooling: pooling, Normalize: spec.Normalize,
		IncludePrompt: true, MaxSeqLength: cfg.MaxPositionEmbeddings, Prompts: spec.Prompts, SimilarityFn: "cosine"}
	return newBiEncoder(l, tok, tokFiles, bert.InitWeights(cfg, bert.BiEncoderParts(), spec.Seed), opts)
}

// NewBERTCrossEncoder draws a random BertForSequenceClassification with one label.
func NewBERTCrossEncoder(tok Tokenizer, tokFiles map[string][]byte, spec BERTSpec, opts Options) (*CrossEncoder, error) {
	cfg, err := spec.config(tok)
	if err != nil {
		return nil, err
	}
	cfg.Architectures = []string{"BertForSequenceClassification"}
	cfg.ID2Label = map[string]string{"0": "LABEL_0"}
	l := &modeldir.Layout{Kind: modeldir.CrossEncoder, Config: cfg, MaxSeqLength: cfg.MaxPositionEmbeddings}
	return newCrossEncoder(l, tok, tokFiles, bert.InitWeights(cfg, bert.CrossEncoderParts(), spec.Seed), opts)
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
