package encoder

import (
	"context"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/modernbert"
)

// RandomBERT builds a BERT bi-encoder of shape cfg with random weights (bert.InitWeights) and no tokenizer:
// it embeds and trains on token ids (EmbedSequences, the trainer's graphs) only. It is for measuring a
// model's shape — `ragnb bench` — where no checkpoint or vocabulary is at hand.
func RandomBERT(cfg *bert.Config, pooling string, seed uint64, opts Options) (*BiEncoder, error) {
	l := &modeldir.Layout{Kind: modeldir.BiEncoder, Config: cfg, Pooling: pooling, Normalize: true, MaxSeqLength: cfg.MaxPositionEmbeddings}
	return newBiEncoder(l, nil, nil, bert.InitWeights(cfg, bert.BiEncoderParts(), seed), opts)
}

// RandomModernBERT builds a ModernBERT bi-encoder of shape cfg with random weights and no tokenizer, as
// RandomBERT does for BERT.
func RandomModernBERT(cfg *modernbert.Config, pooling string, seed uint64, opts Options) (*BiEncoder, error) {
	l := &modeldir.Layout{Kind: modeldir.BiEncoder, ModernBERT: cfg, Pooling: pooling, Normalize: true, MaxSeqLength: cfg.MaxPositionEmbeddings}
	return newBiEncoder(l, nil, nil, modernbert.InitWeights(cfg, modernbert.BiEncoderParts(), seed), opts)
}

// RandomStatic builds a static embedding model over vocab ids of dimension dim with random weights, for the
// same purpose as RandomBERT.
func RandomStatic(vocab, dim int, seed uint64, opts Options) (*BiEncoder, error) {
	return NewStatic(context.Background(), idsOnly(vocab), nil, StaticSpec{Dim: dim, Seed: seed}, opts, nil)
}

// idsOnly is a tokenizer that knows its vocabulary size and nothing else: models built on it take token ids.
type idsOnly int

func (n idsOnly) Encode(string, int) Sequence             { return Sequence{} }
func (n idsOnly) EncodePair(string, string, int) Sequence { return Sequence{} }
func (n idsOnly) EncodeNoSpecial(string, int) Sequence    { return Sequence{} }
func (n idsOnly) VocabSize() int                          { return int(n) }
func (n idsOnly) PadID() int32                            { return 0 }
