// Package train fine-tunes ragnb's models with sentence-transformers' semantics: bi-encoders (BERT family or
// static embeddings) with MultipleNegativesRankingLoss, its GradCache variant (CachedMultipleNegativesRankingLoss)
// or TripletLoss, optionally inside MatryoshkaLoss; cross-encoder rerankers with BinaryCrossEntropyLoss on
// labels or MSELoss against a teacher's scores. It owns the training loop: examples from a table's named
// columns, seeded batches (no text twice in a batch for the in-batch-negative losses), transformers' Trainer
// optimisation (AdamW without weight decay on biases and LayerNorm, warmup + linear/cosine decay, gradient
// accumulation, global-norm clipping), evaluation every N steps with the IR evaluator, the best model by a
// chosen metric, atomic checkpoints with exact resume, the stop on a non-finite loss, the history (a gota
// DataFrame and JSONL) and progress reports with an ETA.
//
// The graph math lives in packages losses (the losses) and optim (the optimiser and schedules), the model
// side in package encoder (EmbedGraph / LogitGraph over a GoMLX Store), the data order in package sampler.
//
//	m, _ := encoder.LoadBiEncoder(dir, encoder.Options{})
//	ex, _ := train.BiEncoderExamples(df, "anchor", "positive", nil)
//	res, err := train.TrainBiEncoder(ctx, m, ex, train.Config{MatryoshkaDims: []int{256, 128, 64}, Epochs: 3,
//		BatchSize: 64, Evaluator: train.IREvaluator(ev, m), BestMetric: "dim_128_cosine_ndcg@10",
//		CheckpointDir: "out.checkpoints"}, report)
//	m.Save("out") // the HF / sentence-transformers layout
//
// # How a step runs
//
// GoMLX compiles one program per input shape, so every batch keeps the configured number of rows (a smaller
// last batch is padded with masked rows that the losses ignore) and each column's length is bucketed
// (encoder.BucketLength): a run compiles a handful of programs. With one batch per optimizer step, the
// forward, loss, backward, clipping and AdamW update are one program; with gradient accumulation the
// gradients of each batch are added to accumulators and a second program applies them; with GradCache the
// batch is embedded in mini-batches without gradients, the loss's gradient with respect to the embeddings
// is taken over the whole batch, and each mini-batch's forward is run again with that gradient chained in
// (Gao et al. 2021), so memory is bounded by the mini-batch whatever the batch size.
//
// # Exact resume
//
// The data order is a pure function of (seed, epoch) and dropout is reseeded from (seed, step, micro-batch,
// column, chunk) before every forward, so a checkpoint needs only the weights, AdamW's moments and the step
// (plus the history and the best metric): a resumed run ends with the weights of an uninterrupted one.
// Checkpoints (checkpoint-<step>/: a loadable model directory, optimizer.safetensors, trainer_state.json)
// appear in one rename.
package train
