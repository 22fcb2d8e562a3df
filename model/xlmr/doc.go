// Package xlmr is the RoBERTa family (XLM-RoBERTa and RoBERTa) in GoMLX with Hugging Face's math and tensor
// names. The encoder is BERT's (package bert computes it; the config.json keys are BertConfig's) with two
// differences: position ids count from padding_idx+1 over the non-pad tokens (pads get padding_idx, so a
// checkpoint's max_position_embeddings is the usable length + padding_idx + 1, 514 for 512 tokens), and
// type_vocab_size is 1. This package owns those, the tensor lists of XLMRobertaModel and
// XLMRobertaForSequenceClassification ("roberta." prefix, no pooler, classifier.dense → tanh →
// classifier.out_proj on the first token), their initialisation and reading. It does not read model
// directories or tokenize (see modeldir, encoder).
//
// Weights live in a GoMLX Store under their HF names, as in package bert:
//
//	ts := xlmr.InitWeights(cfg, xlmr.CrossEncoderParts(), seed)   // or xlmr.ReadWeights(file, ...)
//	weights.ToStore(store, "/", ts)
//	logits := xlmr.SequenceClassification(scope, cfg, ids, types, mask) // inside a graph function
package xlmr
