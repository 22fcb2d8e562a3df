package prelude

import (
	"fmt"
	"os"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/workflow"
)

// EnvReranker names the environment variable that replaces the offline default reranker with a cross-encoder
// directory or Hub id (e.g. cross-encoder/ms-marco-MiniLM-L-6-v2).
const EnvReranker = "RAGNB_RERANKER"

// BertOptions shape a freshly initialised BERT model. Zero fields take workflow.DefaultBertOptions, the
// defaults of `ragnb init-model --arch bert|cross-encoder` too: 2 layers, hidden 128, 4 heads, feed-forward 4 ×
// hidden, 256 positions, mean pooling, seed 42.
type BertOptions struct {
	Layers, Hidden, Heads, Intermediate, MaxLength int
	// Pooling (bi-encoders): "mean" (default) or "cls".
	Pooling string
	Seed    int
	// Arch is "bert" (default), "xlm-roberta" or "modernbert" (left out of the cache key when empty).
	Arch string
}

// workflow turns the prelude's options into the workflow's for arch: every zero field takes
// workflow.DefaultBertOptions.
func (o BertOptions) workflow(arch string) workflow.InitModelOptions {
	w := workflow.DefaultInitModelOptions(arch)
	b := &w.Bert
	for _, f := range []struct {
		dst *int
		v   int
	}{{&b.Layers, o.Layers}, {&b.Hidden, o.Hidden}, {&b.Heads, o.Heads}, {&b.Intermediate, o.Intermediate}, {&b.MaxLength, o.MaxLength}} {
		if f.v != 0 {
			*f.dst = f.v
		}
	}
	if o.Pooling != "" {
		b.Pooling = o.Pooling
	}
	if o.Seed != 0 {
		b.Seed = uint64(o.Seed)
	}
	if o.Arch != "" && o.Arch != workflow.ArchBert {
		b.Arch = o.Arch
	}
	return w
}

// NewCrossEncoder draws a random BERT cross-encoder (BertForSequenceClassification, one logit) with the
// tokenizer of model vocab — e.g. the static base model, whose vocabulary was learnt from the data — to be
// trained with TrainCrossEncoder. Memoised like every step.
func NewCrossEncoder(vocab *Model, opts BertOptions) *Model {
	return newBert("NewCrossEncoder", "reranker", vocab, opts.workflow(workflow.ArchCrossEncoder))
}

// NewBertBiEncoder draws a random BERT bi-encoder with the tokenizer of model vocab, to be trained with
// TrainMatryoshka (a small transformer from scratch, where no pretrained weights are at hand).
func NewBertBiEncoder(vocab *Model, opts BertOptions) *Model {
	return newBert("NewBertBiEncoder", "bert", vocab, opts.workflow(workflow.ArchBert))
}

func newBert(fn, name string, vocab *Model, o workflow.InitModelOptions) *Model {
	chain := fmt.Sprintf("%s(%s)", fn, vocab.Chain())
	if vocab.Err() != nil {
		return failedModel(chain, vocab.Err())
	}
	l, err := modeldir.Read(vocab.Dir())
	if err != nil {
		return failedModel(chain, err)
	}
	m := initModel(chain, name, workflow.InitModelInput{Tokenizer: l.TokenizerDir(vocab.Dir()), TokenizerID: vocab.ID()}, o)
	return m
}

// BaseReranker is the cross-encoder a notebook starts its reranker from: $RAGNB_RERANKER when set (a
// directory or a Hub id), else NewCrossEncoder with vocab's tokenizer and the default small shape.
func BaseReranker(vocab *Model) *Model {
	if r := os.Getenv(EnvReranker); r != "" {
		return LoadModel(r).Named("reranker")
	}
	return NewCrossEncoder(vocab, BertOptions{})
}
