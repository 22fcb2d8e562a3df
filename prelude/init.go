package prelude

import (
	"context"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modeldir"
)

// EnvReranker names the environment variable that replaces the offline default reranker with a cross-encoder
// directory or Hub id (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2).
const EnvReranker = "RAGNB_RERANKER"

// BertOptions shape a freshly initialised BERT model. Zero fields take a small CPU-friendly shape: 2 layers,
// hidden 128, 4 heads, feed-forward 512, 256 positions, seed 42.
type BertOptions struct {
	Layers, Hidden, Heads, Intermediate, MaxLength int
	// Pooling (bi-encoders): "mean" (default) or "cls".
	Pooling string
	Seed    int
	// Arch is "bert" (default), "xlm-roberta" or "modernbert" (omitted from the cache key when empty).
	Arch string `json:",omitempty"`
}

func (o BertOptions) withDefaults() BertOptions {
	if o.Layers == 0 {
		o.Layers = 2
	}
	if o.Hidden == 0 {
		o.Hidden = 128
	}
	if o.Heads == 0 {
		o.Heads = 4
	}
	if o.Intermediate == 0 {
		o.Intermediate = 4 * o.Hidden
	}
	if o.MaxLength == 0 {
		o.MaxLength = 256
	}
	if o.Pooling == "" {
		o.Pooling = "mean"
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	return o
}

func (o BertOptions) spec() encoder.BERTSpec {
	return encoder.BERTSpec{Layers: o.Layers, Hidden: o.Hidden, Heads: o.Heads, Intermediate: o.Intermediate,
		MaxLength: o.MaxLength, Pooling: o.Pooling, Seed: uint64(o.Seed), Arch: o.Arch}
}

// NewCrossEncoder draws a random BERT cross-encoder (BertForSequenceClassification, one logit) with the
// tokenizer of model vocab — e.g. the static base model, whose vocabulary was learnt from the data — to be
// trained with TrainCrossEncoder. Memoised like every step.
func NewCrossEncoder(vocab *Model, opts BertOptions) *Model {
	return newBert("NewCrossEncoder", "cross-encoder", vocab, opts)
}

// NewBertBiEncoder draws a random BERT bi-encoder with the tokenizer of model vocab, to be trained with
// TrainMatryoshka (a small transformer from scratch, where no pretrained weights are at hand).
func NewBertBiEncoder(vocab *Model, opts BertOptions) *Model {
	return newBert("NewBertBiEncoder", "bert", vocab, opts)
}

func newBert(fn, arch string, vocab *Model, opts BertOptions) *Model {
	chain := fmt.Sprintf("%s(%s)", fn, vocab.Chain())
	if vocab.Err() != nil {
		return failedModel(chain, vocab.Err())
	}
	opts = opts.withDefaults()
	l, err := modeldir.Read(vocab.Dir())
	if err != nil {
		return failedModel(chain, err)
	}
	key := cache.Key{Step: "init-" + arch, Version: 1, Inputs: []string{vocab.ID()}, Params: opts}
	dir, id, _, err := cachedDir(key, func(ctx context.Context, dir string) error {
		tok, files, err := encoder.LoadTokenizer(l.TokenizerDir(vocab.Dir()))
		if err != nil {
			return err
		}
		if arch == "cross-encoder" {
			m, err := encoder.NewBERTCrossEncoder(tok, files, opts.spec(), encoder.Options{})
			if err != nil {
				return err
			}
			return m.Save(dir)
		}
		m, err := encoder.NewBERTBiEncoder(tok, files, opts.spec(), encoder.Options{})
		if err != nil {
			return err
		}
		return m.Save(dir)
	})
	if err != nil {
		return failedModel(chain, err)
	}
	name := "bert"
	if arch == "cross-encoder" {
		name = "reranker"
	}
	return &Model{name: name, chain: chain, dir: dir, id: id}
}

// BaseReranker is the cross-encoder a notebook starts its reranker from: $RAGNB_RERANKER when set (a
// directory or a Hub id), else NewCrossEncoder with vocab's tokenizer and the default small shape.
func BaseReranker(vocab *Model) *Model {
	if r := os.Getenv(EnvReranker); r != "" {
		return LoadModel(r).Named("reranker")
	}
	return NewCrossEncoder(vocab, BertOptions{})
}
