package encoder

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/modernbert"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/xlmr"
)

// The transformer families differ only here: which package's graph, tensor list and reader a layout uses.
// Everything else in this package (tokenizing, batching, pooling, saving) is the same for all of them.

// encodeGraph is the transformer's last hidden state [batch, seq, hidden] for a bi-encoder.
func encodeGraph(l *modeldir.Layout, scope *model.Scope, ids, typeIDs, mask *graph.Node) *graph.Node {
	switch {
	case l.ModernBERT != nil:
		return modernbert.Encode(scope, l.ModernBERT, ids, mask)
	case xlmr.Is(l.Config):
		return xlmr.Encode(scope, l.Config, ids, typeIDs, mask)
	}
	return bert.Encode(scope, l.Config, ids, typeIDs, mask)
}

// logitsGraph is the sequence classifier's logits [batch, num_labels].
func logitsGraph(l *modeldir.Layout, scope *model.Scope, ids, typeIDs, mask *graph.Node) *graph.Node {
	switch {
	case l.ModernBERT != nil:
		return modernbert.SequenceClassification(scope, l.ModernBERT, ids, mask)
	case xlmr.Is(l.Config):
		return xlmr.SequenceClassification(scope, l.Config, ids, typeIDs, mask)
	}
	return bert.SequenceClassification(scope, l.Config, ids, typeIDs, mask)
}

// weightNames lists the model file's tensors in the order they are saved.
func weightNames(l *modeldir.Layout, cross bool) []string {
	switch {
	case l.ModernBERT != nil:
		p := modernbert.BiEncoderParts()
		if cross {
			p = modernbert.CrossEncoderParts()
		}
		return modernbert.Names(l.ModernBERT.Params(p))
	case xlmr.Is(l.Config):
		p := xlmr.BiEncoderParts()
		if cross {
			p = xlmr.CrossEncoderParts()
		}
		return bert.Names(xlmr.Params(l.Config, p))
	}
	p := bert.BiEncoderParts()
	if cross {
		p = bert.CrossEncoderParts()
	}
	return bert.Names(l.Config.Params(p))
}

// readWeights takes the transformer's tensors from a checkpoint; a bi-encoder's missing BERT pooler is drawn
// from seed.
func readWeights(l *modeldir.Layout, f *safetensors.File, cross bool, seed uint64) ([]safetensors.Float32Tensor, error) {
	switch {
	case l.ModernBERT != nil:
		p := modernbert.BiEncoderParts()
		if cross {
			p = modernbert.CrossEncoderParts()
		}
		return modernbert.ReadWeights(f, l.ModernBERT, p)
	case xlmr.Is(l.Config):
		if cross {
			return xlmr.ReadWeights(f, l.Config, xlmr.CrossEncoderParts(), false, 0)
		}
		return xlmr.ReadWeights(f, l.Config, xlmr.BiEncoderParts(), true, seed)
	}
	if cross {
		return bert.ReadWeights(f, l.Config, bert.CrossEncoderParts(), false, 0)
	}
	return bert.ReadWeights(f, l.Config, bert.BiEncoderParts(), true, seed)
}

// encoderScope is the scope under which a cross-encoder's encoder variables live ("bert", "roberta",
// "model"): tests and tools that run the bare encoder of a cross-encoder start there.
func encoderScope(l *modeldir.Layout) string {
	switch {
	case l.ModernBERT != nil:
		return "model"
	case xlmr.Is(l.Config):
		return "roberta"
	}
	return "bert"
}
