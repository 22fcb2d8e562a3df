package encoder

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/weights"
	"github.com/ragnb/ragnb/progress"
)

// CrossEncoder scores (query, passage) pairs with a sequence classifier with one label
// (BertForSequenceClassification, XLMRobertaForSequenceClassification, ModernBertForSequenceClassification). Scores are the
// raw logits, or sigmoid(logit) with Options.Sigmoid (what sentence-transformers' CrossEncoder.predict
// returns by default for one label). It implements relevance.Scorer.
type CrossEncoder struct {
	layout   *modeldir.Layout
	tok      Tokenizer
	tokFiles map[string][]byte
	store    *model.Store
	opts     Options
	backend  compute.Backend
	padID    int32

	saved

	mu   sync.Mutex
	exec *model.Exec
}

var _ ir.Scorer = (*CrossEncoder)(nil)

// LoadCrossEncoder loads a cross-encoder from a model directory (config.json with a *ForSequenceClassification
// architecture of BERT, XLM-RoBERTa / RoBERTa or ModernBERT, and one label).
func LoadCrossEncoder(dir string, opts Options) (*CrossEncoder, error) {
	l, tokFiles, f, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	if l.Kind != modeldir.CrossEncoder {
		return nil, fmt.Errorf("model %s is a %s, not a cross-encoder", dir, l.Kind)
	}
	tok, err := loadTokenizer(l.TokenizerDir(dir))
	if err != nil {
		return nil, err
	}
	ts, err := readWeights(l, f, true, 0)
	if err != nil {
		return nil, err
	}
	m, err := newCrossEncoder(l, tok, tokFiles, ts, opts)
	if err != nil {
		return nil, err
	}
	m.dir = dir
	return m, nil
}

func newCrossEncoder(l *modeldir.Layout, tok Tokenizer, tokFiles map[string][]byte, ts []safetensors.Float32Tensor, opts Options) (*CrossEncoder, error) {
	if n := l.NumLabels(); n != 1 {
		return nil, fmt.Errorf("cross-encoder has %d labels; ragnb scores with num_labels 1", n)
	}
	backend, err := opts.backend()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", ts); err != nil {
		return nil, err
	}
	m := &CrossEncoder{layout: l, tok: tok, tokFiles: tokFiles, store: store, opts: opts, backend: backend,
		padID: int32(l.PadTokenID())}
	if tok != nil {
		m.padID = tok.PadID()
	}
	return m, nil
}

// Layout is what the model directory says about the model.
func (m *CrossEncoder) Layout() *modeldir.Layout { return m.layout }

// Store holds the weights as variables named after their HF tensors ("/bert/embeddings/...",
// "/roberta/...", "/model/layers/...", "/classifier/weight").
func (m *CrossEncoder) Store() *model.Store { return m.store }

// Tokenizer is the model's tokenizer.
func (m *CrossEncoder) Tokenizer() Tokenizer { return m.tok }

// PadID is the token id batches are padded with.
func (m *CrossEncoder) PadID() int32 { return m.padID }

// MaxLength is the number of tokens a pair is truncated to (longest first).
func (m *CrossEncoder) MaxLength() int {
	if m.opts.MaxLength > 0 {
		return m.opts.MaxLength
	}
	return m.layout.MaxSeqLength
}

// LogitGraph builds the relevance logits [batch] from ids, typeIDs and mask [batch, seq] of
// "[CLS] query [SEP] passage [SEP]" sequences: the differentiable forward a trainer puts its loss on.
func (m *CrossEncoder) LogitGraph(scope *model.Scope, ids, typeIDs, mask *graph.Node) *graph.Node {
	logits := byRowChunks(scope, func(in ...*graph.Node) *graph.Node {
		return logitsGraph(m.layout, scope, in[0], in[1], in[2])
	}, ids, typeIDs, mask)
	return graph.Reshape(logits, logits.Shape().Dimensions[0])
}

// Tokenize turns pairs into "[CLS] query [SEP] passage [SEP]" sequences with token types 0/1, truncated
// longest-first to MaxLength.
func (m *CrossEncoder) Tokenize(pairs []ir.Pair) []Sequence {
	out := make([]Sequence, len(pairs))
	parallel(len(pairs), func(i int) { out[i] = m.tok.EncodePair(pairs[i].Query, pairs[i].Passage, m.MaxLength()) })
	return out
}

// ScorePairs scores pairs in input order.
func (m *CrossEncoder) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	return m.ScoreSequences(ctx, m.Tokenize(pairs), report)
}

// ScoreSequences scores already tokenized pairs in input order.
func (m *CrossEncoder) ScoreSequences(ctx context.Context, seqs []Sequence, report progress.Func) ([]float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exec == nil {
		exec, err := model.NewExec(m.backend, m.store, func(scope *model.Scope, ids, types, mask *graph.Node) *graph.Node {
			return m.LogitGraph(scope, ids, types, mask)
		})
		if err != nil {
			return nil, err
		}
		m.exec = exec.SetMaxCache(-1)
	}
	flat, err := runBatches(ctx, seqs, m.opts.batch(m.MaxLength(), m.padID), 1, report, "score",
		func(ids, types, mask, _ *tensors.Tensor) (*tensors.Tensor, error) {
			outs, err := m.exec.Exec(ids, types, mask)
			if err != nil {
				return nil, err
			}
			return outs[0], nil
		})
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(flat))
	for i, x := range flat {
		scores[i] = float64(x)
		if m.opts.Sigmoid {
			scores[i] = 1 / (1 + math.Exp(-scores[i]))
		}
	}
	return scores, nil
}

// Weights reads the current weights back from the Store, named as the model file stores them.
func (m *CrossEncoder) Weights() ([]safetensors.Float32Tensor, error) {
	return weights.FromStore(m.store, "/", weightNames(m.layout, true))
}

// Save writes the model to dir atomically in the layout it was loaded from (a transformers
// BertForSequenceClassification directory that sentence-transformers' CrossEncoder loads).
func (m *CrossEncoder) Save(dir string) error {
	ts, err := m.Weights()
	if err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return modeldir.Write(dir, modeldir.Contents{Layout: m.layout, Weights: ts, Tokenizer: m.tokFiles, Files: m.files()})
}
