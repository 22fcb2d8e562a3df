// Package bert is the BERT encoder family in GoMLX with Hugging Face's BertModel math and tensor names:
// the configuration (config.json), the list of weight tensors, their initialisation, reading them from a
// checkpoint, and the differentiable forward graphs (encoder, sentence-transformers pooling, BertPooler,
// BertForSequenceClassification). It does not read model directories, tokenize or batch: see modeldir and
// encoder.
//
// # Weights live in a GoMLX Store under their HF names
//
// A tensor named "encoder.layer.0.attention.self.query.weight" is the Store variable
// "<root>/encoder/layer/0/attention/self/query/weight" (package weights does the mapping). Linear weights keep
// HF's [out, in] layout (nn.Dense with compute.DenseLayoutOutputsInput), so loading and saving are name maps
// with no transposes.
//
// # For a trainer
//
//	store := model.NewStore()
//	ts := bert.InitWeights(cfg, bert.BiEncoderParts(), seed)        // or bert.ReadWeights(file, ...)
//	weights.ToStore(store, "/", ts)
//	exec, _ := model.NewExec(backend, store, func(scope *model.Scope, ids, types, mask *graph.Node) *graph.Node {
//		hidden := bert.Encode(scope, cfg, ids, types, mask)    // [batch, seq, hidden]
//		return bert.Pool(hidden, mask, bert.PoolMean)           // [batch, hidden]
//	})
//	// ... train: the graph is differentiable; every weight is a trainable variable of the store ...
//	ts, _ = weights.FromStore(store, "/", bert.Names(cfg.Params(bert.BiEncoderParts())))
//
// Encode looks variables up with Scope.At, so one graph may call it for anchors and positives and share the
// weights. Dropout follows config.json and is active only in training graphs (model.Store.SetTraining).
package bert
