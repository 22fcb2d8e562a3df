package workflow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modernbert"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/train/losses"
	"github.com/ragnb/ragnb/vector"
)

// The figures `ragnb bench` measures (JSON keys, a contract). Times are medians over the repeats after one
// warm-up run that also compiles.
const (
	// BenchTrainStep: one optimizer step of a MiniLM-shape BERT (6 layers, hidden 384, 12 heads, FF 1536,
	// 30,522 ids, dropout 0.1), 32 (anchor, positive) pairs of 128 tokens, MNRL (scale 20) inside Matryoshka
	// 384/256/128/64, AdamW, clipping at 1: seconds.
	BenchTrainStep = "train_step_s"
	// BenchEmbed: forward + mean pooling + normalisation of 64 texts of 128 tokens at the same shape: texts/s.
	BenchEmbed = "embed_texts_per_s"
	// BenchStaticStep: one optimizer step of a 30,522 × 256 static model, 64 pairs of 16 / 64 tokens, MNRL
	// inside Matryoshka 256/128/64: seconds.
	BenchStaticStep = "static_step_s"
	// BenchSearch: exact top-100 of 1,000 queries over 100,000 × 384 unit vectors: seconds.
	BenchSearch = "search_s"
	// BenchModernBERT: forward + mean pooling + normalisation of 4 texts of 512 tokens at ModernBERT-base's
	// shape (22 layers, hidden 768, 12 heads, GeGLU 1152, global attention every 3 layers, local window 128,
	// 50,368 ids): seconds per batch. About 520 GFLOP: tens of seconds on 2 cores.
	BenchModernBERT = "modernbert_forward_s"
	// BenchTrainRSS: the peak resident memory of a process that runs the train step alone: MB. The command
	// line measures it in a child process; Bench itself does not.
	BenchTrainRSS = "train_step_peak_rss_mb"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	// Only runs these figures (keys above); nil runs every one Bench measures.
	Only []string
	// Repeat is the number of timed runs per figure after the warm-up (default 3).
	Repeat int
	// Quick shrinks every shape (2 layers, hidden 32, 16 tokens, a 2,000-document search) to check the
	// plumbing in seconds; its figures mean nothing.
	Quick bool
}

// BenchResult holds the figures by key, and the shapes they were measured at.
type BenchResult struct {
	Figures map[string]float64
	Shapes  map[string]string
}

type benchShape struct {
	vocab, layers, hidden, heads, ff int
	pairs, length                    int
	dims                             []int
	embedTexts                       int
	staticDim, staticPairs           int
	staticDims                       []int
	staticQ, staticP                 int
	nq, nc, searchDim, k             int
	mbLayers, mbHidden, mbHeads      int
	mbFF, mbTexts, mbLength, mbLocal int
}

func benchShapes(quick bool) benchShape {
	if quick {
		return benchShape{vocab: 1000, layers: 2, hidden: 32, heads: 2, ff: 64, pairs: 4, length: 16, dims: []int{32, 16},
			embedTexts: 8, staticDim: 32, staticDims: []int{32, 16}, staticPairs: 8, staticQ: 8, staticP: 16, nq: 20, nc: 2000, searchDim: 32, k: 10,
			mbLayers: 3, mbHidden: 32, mbHeads: 2, mbFF: 48, mbTexts: 2, mbLength: 32, mbLocal: 8}
	}
	return benchShape{vocab: 30522, layers: 6, hidden: 384, heads: 12, ff: 1536, pairs: 32, length: 128,
		dims: []int{384, 256, 128, 64}, embedTexts: 64, staticDim: 256, staticDims: []int{256, 128, 64}, staticPairs: 64, staticQ: 16, staticP: 64,
		nq: 1000, nc: 100_000, searchDim: 384, k: 100,
		mbLayers: 22, mbHidden: 768, mbHeads: 12, mbFF: 1152, mbTexts: 4, mbLength: 512, mbLocal: 128}
}

// Bench measures the figures on this machine's backend (gpu.Shared). A figure's error stops the run.
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if o.Repeat <= 0 {
		o.Repeat = 3
	}
	want := func(k string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, k) }
	for _, k := range o.Only {
		if !slices.Contains([]string{BenchTrainStep, BenchEmbed, BenchStaticStep, BenchSearch, BenchModernBERT}, k) {
			return nil, fmt.Errorf("bench: unknown figure %q (want %s, %s, %s, %s or %s)", k, BenchTrainStep, BenchEmbed, BenchStaticStep, BenchSearch, BenchModernBERT)
		}
	}
	s := benchShapes(o.Quick)
	res := &BenchResult{Figures: map[string]float64{}}
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := func(n, length int) []encoder.Sequence {
		out := make([]encoder.Sequence, n)
		for i := range out {
			ids := make([]int32, length)
			for j := range ids {
				ids[j] = int32(3 + rng.IntN(s.vocab-3))
			}
			out[i] = encoder.Sequence{IDs: ids}
		}
		return out
	}
	cfg := bert.Defaults(s.vocab)
	cfg.NumHiddenLayers, cfg.HiddenSize, cfg.NumAttentionHeads, cfg.IntermediateSize = s.layers, s.hidden, s.heads, s.ff
	res.Shapes = BenchShapes(o.Quick)
	if want(BenchTrainStep) {
		m, err := encoder.RandomBERT(cfg, bert.PoolMean, 1, encoder.Options{})
		if err != nil {
			return nil, err
		}
		loss, err := losses.Matryoshka(losses.MultipleNegativesRanking(20), s.dims, nil)
		if err != nil {
			return nil, err
		}
		st, err := train.NewStepTimer(m, loss, train.Batch{Columns: [][]encoder.Sequence{seqs(s.pairs, s.length), seqs(s.pairs, s.length)}}, cfg.MaxPositionEmbeddings, 5e-5)
		if err != nil {
			return nil, err
		}
		t, err := median(ctx, o.Repeat, func() error { _, err := st.Step(); return err })
		st.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: train step: %w", err)
		}
		res.Figures[BenchTrainStep] = t.Seconds()
	}
	if want(BenchEmbed) {
		m, err := encoder.RandomBERT(cfg, bert.PoolMean, 1, encoder.Options{BatchSize: s.embedTexts})
		if err != nil {
			return nil, err
		}
		texts := seqs(s.embedTexts, s.length)
		t, err := median(ctx, o.Repeat, func() error { _, err := m.EmbedSequences(ctx, texts, nil); return err })
		if err != nil {
			return nil, fmt.Errorf("bench: embed: %w", err)
		}
		res.Figures[BenchEmbed] = float64(s.embedTexts) / t.Seconds()
	}
	if want(BenchStaticStep) {
		m, err := encoder.RandomStatic(s.vocab, s.staticDim, 1, encoder.Options{})
		if err != nil {
			return nil, err
		}
		loss, err := losses.Matryoshka(losses.MultipleNegativesRanking(20), s.staticDims, nil)
		if err != nil {
			return nil, err
		}
		st, err := train.NewStepTimer(m, loss, train.Batch{Columns: [][]encoder.Sequence{seqs(s.staticPairs, s.staticQ), seqs(s.staticPairs, s.staticP)}}, 0, 0.05)
		if err != nil {
			return nil, err
		}
		t, err := median(ctx, o.Repeat, func() error { _, err := st.Step(); return err })
		st.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: static step: %w", err)
		}
		res.Figures[BenchStaticStep] = t.Seconds()
	}
	if want(BenchSearch) {
		b, err := gpu.Shared()
		if err != nil {
			return nil, err
		}
		sr, err := search.New(b.Backend, search.Options{Similarity: search.Dot, Select: search.SelectHost})
		if err != nil {
			return nil, err
		}
		unit := func(n int) *vector.Matrix {
			m := vector.New(n, s.searchDim)
			for i := range m.Data {
				m.Data[i] = float32(rng.NormFloat64())
			}
			m.Normalize()
			return m
		}
		corpus, queries := unit(s.nc), unit(s.nq)
		t, err := median(ctx, o.Repeat, func() error { _, err := sr.Search(ctx, queries, corpus, s.k, nil); return err })
		sr.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: search: %w", err)
		}
		res.Figures[BenchSearch] = t.Seconds()
	}
	if want(BenchModernBERT) {
		mc := modernbert.Defaults(50368, 50283, 50281, 50282)
		if o.Quick {
			mc = modernbert.Defaults(s.vocab, 0, 1, 2)
		}
		mc.NumHiddenLayers, mc.HiddenSize, mc.NumAttentionHeads, mc.IntermediateSize = s.mbLayers, s.mbHidden, s.mbHeads, s.mbFF
		mc.LocalAttention = s.mbLocal
		m, err := encoder.RandomModernBERT(mc, bert.PoolMean, 1, encoder.Options{BatchSize: s.mbTexts})
		if err != nil {
			return nil, err
		}
		texts := seqs(s.mbTexts, s.mbLength)
		t, err := median(ctx, o.Repeat, func() error { _, err := m.EmbedSequences(ctx, texts, nil); return err })
		if err != nil {
			return nil, fmt.Errorf("bench: modernbert forward: %w", err)
		}
		res.Figures[BenchModernBERT] = t.Seconds()
	}
	return res, nil
}

// BenchShapes describes the shape each figure is measured at.
func BenchShapes(quick bool) map[string]string {
	s := benchShapes(quick)
	bert := fmt.Sprintf("BERT %d layers, hidden %d, %d heads, FF %d, %d ids", s.layers, s.hidden, s.heads, s.ff, s.vocab)
	return map[string]string{
		BenchTrainStep:  fmt.Sprintf("%s; %d pairs × %d tokens; MNRL in Matryoshka %v; AdamW", bert, s.pairs, s.length, s.dims),
		BenchEmbed:      fmt.Sprintf("%s; %d texts × %d tokens, mean pooling", bert, s.embedTexts, s.length),
		BenchStaticStep: fmt.Sprintf("static %d × %d; %d pairs of %d / %d tokens; MNRL in Matryoshka %v", s.vocab, s.staticDim, s.staticPairs, s.staticQ, s.staticP, s.staticDims),
		BenchSearch:     fmt.Sprintf("exact top-%d, %d queries × %d documents × %d", s.k, s.nq, s.nc, s.searchDim),
		BenchModernBERT: fmt.Sprintf("ModernBERT %d layers, hidden %d, %d heads, GeGLU %d, local window %d; %d texts × %d tokens, mean pooling", s.mbLayers, s.mbHidden, s.mbHeads, s.mbFF, s.mbLocal, s.mbTexts, s.mbLength),
	}
}

// median runs fn once to warm up (and compile), then repeat times, and returns the median duration.
func median(ctx context.Context, repeat int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	var ts []time.Duration
	for range repeat {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ts = append(ts, time.Since(start))
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}
