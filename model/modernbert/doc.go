// Package modernbert is ModernBERT in GoMLX with Hugging Face's ModernBertModel /
// ModernBertForSequenceClassification math and tensor names: the configuration (config.json, both the
// older global_attn_every_n_layers / global_rope_theta / local_rope_theta form and the newer layer_types /
// rope_parameters one), the list of weight tensors, transformers' initialisation, reading them from a
// checkpoint, and the differentiable forward graphs. It does not read model directories, tokenize or batch
// (see modeldir, encoder); sentence-transformers pooling is bert.Pool's.
//
// The model: token embeddings, LayerNorm (bias only with norm_bias); per layer pre-LN attention (layer 0
// has no attn_norm) with a fused Wqkv [3·hidden, hidden] split q|k|v, rotary position embeddings
// (rotate-half) with the global theta on global layers and the local theta on the others, whose attention
// is also limited to |i − j| ≤ local_attention/2, then a pre-LN GeGLU MLP (Wi → [input, gate],
// Wo(act(input)·gate)); a final LayerNorm. Padding is masked out of attention; rotary positions are
// 0..seq−1 whatever the padding, so a right-padded batch computes what each sequence alone computes.
//
// # Weights live in a GoMLX Store under their HF names
//
// "layers.0.attn.Wqkv.weight" is the variable "<root>/layers/0/attn/Wqkv/weight" (package weights). Linear
// weights keep HF's [out, in] layout.
//
//	ts := modernbert.InitWeights(cfg, modernbert.BiEncoderParts(), seed) // or modernbert.ReadWeights(file, ...)
//	weights.ToStore(store, "/", ts)
//	hidden := modernbert.Encode(scope, cfg, ids, mask)  // inside a graph function: [batch, seq, hidden]
//
// Dropout follows config.json (embedding_dropout, attention_dropout, mlp_dropout, classifier_dropout) and is
// active only in training graphs.
package modernbert
