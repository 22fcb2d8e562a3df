// Package encoder runs encoder models from model directories: bi-encoders (BERT, XLM-RoBERTa / RoBERTa,
// ModernBERT, or static embeddings) that implement vector.Embedder, and cross-encoders that implement
// relevance.Scorer. It loads a directory (modeldir) into a GoMLX Store (model/weights), tokenizes,
// length-sorts and buckets texts into a few padded batch shapes, runs the graphs of model/bert, model/xlmr,
// model/modernbert and model/static (arch.go is the one place that picks among them), and returns float32
// embeddings in input order. It also creates fresh models (init-model) and saves any model back to the same layout.
//
// # For a trainer
//
// A loaded model exposes its Store (every weight is a trainable variable named after its HF tensor) and the
// graph that computes its output from token-id nodes, so a training loop builds its loss on top:
//
//	m, _ := encoder.LoadBiEncoder(dir, encoder.Options{})
//	exec, _ := model.NewExec(backend, m.Store(), func(scope *model.Scope, ids, types, mask *graph.Node) *graph.Node {
//		return m.EmbedGraph(scope, ids, types, mask) // [batch, dim], normalised if the model normalises
//	})
//	batch := m.Tokenize(texts, m.QueryPrompt())       // token ids, ready to pad (see Pad)
//	... optimise the Store's variables ...
//	m.Save(outDir)                                     // the same HF / sentence-transformers layout
//
// EmbedGraph may be called several times in one graph (anchors, positives, negatives) and shares weights.
// A Store's variables change only through the graph (Variable.SetNodeValue) or ToStore; after training,
// Embed* see the new weights.
package encoder

import (
	"fmt"

	"github.com/gomlx/compute"

	"github.com/ragnb/ragnb/gpu"
)

// Options configure loading and inference. The zero value is usable.
type Options struct {
	// Backend runs the graphs; nil means gpu.Shared() (the process's backend).
	Backend compute.Backend
	// BatchSize is the most texts per batch (default 32).
	BatchSize int
	// MaxBatchTokens bounds a batch's padded size, rows × length (default 16384): long texts go in smaller
	// batches, which bounds the attention's memory (rows × heads × length² floats).
	MaxBatchTokens int
	// MaxLength overrides the model's maximum sequence length (tokens per text); 0 keeps the model's.
	MaxLength int
	// Dim truncates embeddings to their first Dim values and renormalises them (Matryoshka); 0 keeps all.
	Dim int
	// Sigmoid makes a cross-encoder's scores sigmoid(logit) in (0, 1) instead of the raw logit.
	Sigmoid bool
	// Prompts override or add to the model's named prompts (config_sentence_transformers.json), e.g.
	// {"query": "Represent this sentence for searching relevant passages: "} for a bge checkpoint whose
	// config lacks it. EmbedQueries uses "query", EmbedDocuments "document" (or "passage").
	Prompts map[string]string
	// Seed draws weights a checkpoint lacks but the saved layout needs (a bi-encoder's unused BERT pooler).
	Seed uint64
}

func (o Options) backend() (compute.Backend, error) {
	if o.Backend != nil {
		return o.Backend, nil
	}
	b, err := gpu.Shared()
	if err != nil {
		return nil, fmt.Errorf("compute backend: %w", err)
	}
	// The embedded backend itself: tensors that programs return record it (buffer.Backend()), and GoMLX
	// refuses a tensor whose backend differs from the program's, so a trainer's updated weights must come
	// back on the same value the encoder runs with.
	return b.Backend, nil
}

func (o Options) batch(maxLen int, padID int32) batchConfig {
	c := batchConfig{batchSize: o.BatchSize, maxTokens: o.MaxBatchTokens, maxLen: maxLen, padID: padID}
	if c.batchSize <= 0 {
		c.batchSize = 32
	}
	if c.maxTokens <= 0 {
		c.maxTokens = 16384
	}
	return c
}
