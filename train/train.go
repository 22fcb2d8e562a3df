package train

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modelcard"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/losses"
)

// task is what the loop trains: a model's store and forward, the loss, and how rows become batches.
type task struct {
	kind     string // "static", "bert" (bi-encoders) or "cross"
	store    *model.Store
	forward  forwardFn
	loss     lossFn
	numCols  int
	labels   bool
	ex       *Examples
	tokenize func(rows []int, epoch int) (Batch, error)
	save     func(dir string) error
	weights  func() ([]safetensors.Float32Tensor, error)
	maxLen   int
	padID    int32
}

func backendOf() (compute.Backend, error) {
	b, err := gpu.Shared()
	if err != nil {
		return nil, fmt.Errorf("compute backend: %w", err)
	}
	return b.Backend, nil
}

// distillLoss is the loss of a bi-encoder trained from teacher scores, FlagEmbedding's in-batch kl_div
// recipe: MNRL over every passage of the batch plus the KL divergence between the teacher's and the
// student's scores over each query's own group, both at cfg.Scale (1/temperature), inside MatryoshkaLoss
// when the config has dimensions.
func distillLoss(cfg Config, teacher *graph.Node) losses.EmbeddingLoss {
	mnrl := losses.MultipleNegativesRanking(cfg.Scale)
	inner := func(cols []*graph.Node, valid *graph.Node) *graph.Node {
		return graph.Add(mnrl(cols, valid), losses.GroupKLDivergence(cols, teacher, valid, cfg.Scale))
	}
	if len(cfg.MatryoshkaDims) == 0 {
		return inner
	}
	l, err := losses.Matryoshka(inner, cfg.MatryoshkaDims, cfg.MatryoshkaWeights)
	if err != nil {
		panic(err) // validated by embeddingLoss before the graph is built
	}
	return l
}

// embeddingLoss builds a bi-encoder config's loss.
func embeddingLoss(cfg Config) (losses.EmbeddingLoss, error) {
	var l losses.EmbeddingLoss
	switch cfg.Loss {
	case LossMNRL, LossCachedMNRL:
		l = losses.MultipleNegativesRanking(cfg.Scale)
	case LossTriplet:
		var err error
		if l, err = losses.Triplet(cfg.TripletMetric, cfg.TripletMargin); err != nil {
			return nil, err
		}
	}
	if len(cfg.MatryoshkaDims) > 0 {
		return losses.Matryoshka(l, cfg.MatryoshkaDims, cfg.MatryoshkaWeights)
	}
	return l, nil
}

// TrainBiEncoder fine-tunes a bi-encoder in place on examples (anchor, positive, negatives… columns) and
// returns what the run did; afterwards m holds the final weights — the best evaluated ones when
// cfg.BestMetric is set — and m.Save writes them in the HF / sentence-transformers layout. Anchors are
// tokenized with the model's query prompt, the other columns with its document prompt (none for most
// models), as EmbedQueries / EmbedDocuments do at evaluation. Progress goes to report (stage "train", in
// steps, with loss, learning rate and epoch as values). A non-finite loss stops the run with an error; the
// weights stay those of the last good step and the Result holds the history so far.
func TrainBiEncoder(ctx context.Context, m *encoder.BiEncoder, ex *Examples, cfg Config, report progress.Func) (*Result, error) {
	kind := "bert"
	if m.IsStatic() {
		kind = "static"
	}
	cfg = cfg.withDefaults(kind, false)
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	if err := ex.check(); err != nil {
		return nil, err
	}
	if len(ex.Columns) < 2 {
		return nil, fmt.Errorf("a bi-encoder trains on at least (anchor, positive) columns, got %v", ex.Names)
	}
	for _, d := range cfg.MatryoshkaDims {
		if d > m.Dim() {
			return nil, fmt.Errorf("matryoshka dimension %d is larger than the model's %d", d, m.Dim())
		}
	}
	el, err := embeddingLoss(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Loss == LossTriplet && len(ex.Columns) != 3 {
		return nil, fmt.Errorf("triplet loss takes (anchor, positive, negative) columns, got %v", ex.Names)
	}
	distill := ex.Groups.Distill()
	if distill && cfg.Loss == LossTriplet {
		return nil, fmt.Errorf("knowledge distillation from teacher scores trains with mnrl or cached-mnrl, not %s", cfg.Loss)
	}
	maxLen := m.MaxLength()
	if m.IsStatic() {
		maxLen = 0
	}
	prompts := []string{m.QueryPrompt(), m.DocumentPrompt()}
	t := &task{
		kind: kind, store: m.Store(), numCols: len(ex.Columns), ex: ex, maxLen: maxLen, padID: m.PadID(), labels: distill,
		forward: func(scope *model.Scope, ids, types, mask, pool *graph.Node) *graph.Node {
			return m.EmbedGraphPoolMask(scope, ids, types, mask, pool)
		},
		loss: func(outs []*graph.Node, valid, teacher *graph.Node) *graph.Node {
			if !distill {
				return el(outs, valid)
			}
			return distillLoss(cfg, teacher)(outs, valid)
		},
		save:    m.Save,
		weights: m.Weights,
		tokenize: func(rows []int, epoch int) (Batch, error) {
			texts := make([][]string, len(ex.Columns))
			var b Batch
			for _, r := range rows {
				texts[0] = append(texts[0], ex.Columns[0][r])
				if ex.Groups == nil {
					for c := 1; c < len(ex.Columns); c++ {
						texts[c] = append(texts[c], ex.Columns[c][r])
					}
					continue
				}
				passages, scores := ex.Groups.Draw(r, cfg.Seed, epoch)
				for c, p := range passages {
					texts[c+1] = append(texts[c+1], p)
				}
				for _, sc := range scores {
					b.Labels = append(b.Labels, float32(sc))
				}
			}
			for c := range texts {
				b.Columns = append(b.Columns, m.Tokenize(texts[c], prompts[min(c, 1)]))
			}
			return b, nil
		},
	}
	res, err := run(ctx, t, cfg, report)
	if err == nil {
		cm, base := modelcard.ModelOf(m.Layout(), m.Dir(), m.Dim(), m.Tokenizer().VocabSize())
		m.SetModelCard(buildCard(modelcard.BiEncoder, cm, base, ex, cfg, res).Markdown())
	}
	return res, err
}

// checkLabels refuses labels the loss cannot train on, naming the (1-based) row: a non-finite one for any
// loss (it would surface only as a loss that explodes), one outside [0, 1] for binary cross-entropy and for
// MSE through a sigmoid (the model's output cannot reach it, so it would only teach saturation).
func checkLabels(ex *Examples, cfg Config) error {
	unit := cfg.Loss == LossBCE || cfg.Loss == LossMSE && cfg.MSEActivation != losses.ActivationIdentity
	for i, y := range ex.Labels {
		switch {
		case math.IsNaN(y) || math.IsInf(y, 0):
			return fmt.Errorf("row %d: label %g is not a finite number", i+1, y)
		case unit && (y < 0 || y > 1):
			how := "binary cross-entropy"
			if cfg.Loss == LossMSE {
				how = "mse through a sigmoid (--mse-activation identity trains on raw scores; or normalise them with ragnb score --normalize)"
			}
			return fmt.Errorf("row %d: label %g outside [0, 1]; %s takes labels in [0, 1]", i+1, y, how)
		}
	}
	return nil
}

// TrainCrossEncoder fine-tunes a cross-encoder in place on (query, passage) rows with labels (bce: 0/1
// relevance; mse: teacher scores) and returns what the run did; see TrainBiEncoder for the rest.
func TrainCrossEncoder(ctx context.Context, m *encoder.CrossEncoder, ex *Examples, cfg Config, report progress.Func) (*Result, error) {
	cfg = cfg.withDefaults("cross", true)
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	if err := ex.check(); err != nil {
		return nil, err
	}
	if len(ex.Columns) != 2 || ex.Labels == nil {
		return nil, fmt.Errorf("a cross-encoder trains on (query, passage) columns with labels, got %v (labels: %v)", ex.Names, ex.Labels != nil)
	}
	if err := checkLabels(ex, cfg); err != nil {
		return nil, err
	}
	lossName, posWeight, act := cfg.Loss, cfg.PosWeight, cfg.MSEActivation
	t := &task{
		kind: "cross", store: m.Store(), numCols: 1, labels: true, ex: ex, maxLen: m.MaxLength(), padID: m.PadID(),
		forward: func(scope *model.Scope, ids, types, mask, _ *graph.Node) *graph.Node {
			return m.LogitGraph(scope, ids, types, mask)
		},
		loss: func(outs []*graph.Node, valid, labels *graph.Node) *graph.Node {
			if lossName == LossMSE {
				return losses.MSE(outs[0], labels, valid, act)
			}
			return losses.BinaryCrossEntropy(outs[0], labels, valid, posWeight)
		},
		save:    m.Save,
		weights: m.Weights,
		tokenize: func(rows []int, _ int) (Batch, error) {
			pairs := make([]ir.Pair, len(rows))
			labels := make([]float32, len(rows))
			for i, r := range rows {
				pairs[i] = ir.Pair{Query: ex.Columns[0][r], Passage: ex.Columns[1][r]}
				labels[i] = float32(ex.Labels[r])
			}
			return Batch{Columns: [][]encoder.Sequence{m.Tokenize(pairs)}, Labels: labels}, nil
		},
	}
	if cfg.Loss == LossCachedMNRL {
		return nil, fmt.Errorf("cached-mnrl is a bi-encoder loss")
	}
	res, err := run(ctx, t, cfg, report)
	if err == nil {
		cm, base := modelcard.ModelOf(m.Layout(), m.Dir(), 0, 0)
		m.SetModelCard(buildCard(modelcard.CrossEncoder, cm, base, ex, cfg, res).Markdown())
	}
	return res, err
}
