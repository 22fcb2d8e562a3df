package xlmr

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/bert"
)

// PositionIDs is transformers' create_position_ids_from_input_ids: padding_idx + the running count of
// non-pad tokens for tokens, padding_idx for pads ([batch, seq] int32). Right or left padding, a token's
// position is what it would be unpadded.
func PositionIDs(ids *Node, padID int) *Node {
	ids = ConvertDType(ids, dtypes.Int32)
	notPad := ConvertDType(NotEqual(ids, Scalar(ids.Graph(), dtypes.Int32, padID)), dtypes.Int32)
	return AddScalar(Mul(CumSum(notPad, 1), notPad), float64(padID))
}

// Encode is XLMRobertaModel's last hidden state [batch, seq, hidden]: BERT's encoder (bert.EncodePositions,
// the same variables under scope) over PositionIDs. Token type ids are used only when type_vocab_size > 1;
// with RoBERTa's single type they are all 0, as its tokenizers produce (a pair's second segment gets
// type 0 too).
func Encode(scope *model.Scope, cfg *bert.Config, ids, typeIDs, mask *Node) *Node {
	if seq := ids.Shape().Dimensions[1]; seq > MaxLength(cfg) {
		panic(fmt.Errorf("xlmr: sequence length %d exceeds %d (max_position_embeddings %d − pad_token_id %d − 1)",
			seq, MaxLength(cfg), cfg.MaxPositionEmbeddings, cfg.PadTokenID))
	}
	if cfg.TypeVocabSize == 1 {
		typeIDs = nil
	}
	return bert.EncodePositions(scope, cfg, ids, typeIDs, PositionIDs(ids, cfg.PadTokenID), mask)
}

// SequenceClassification is XLMRobertaForSequenceClassification's forward: logits [batch, num_labels] from
// the encoder under root/roberta and XLMRobertaClassificationHead under root/classifier on the first token:
// dropout, dense, tanh, dropout, out_proj (dropout classifier_dropout, else hidden_dropout_prob; training
// graphs only).
func SequenceClassification(root *model.Scope, cfg *bert.Config, ids, typeIDs, mask *Node) *Node {
	hidden := Encode(root.At("roberta"), cfg, ids, typeIDs, mask)
	x := Squeeze(Slice(hidden, AxisRange(), AxisElem(0), AxisRange()), 1)
	rate := cfg.HiddenDropoutProb
	if cfg.ClassifierDropout != nil {
		rate = *cfg.ClassifierDropout
	}
	head := root.At("classifier")
	x = layers.DropoutStatic(root, x, rate)
	x = Tanh(bert.Linear(head.At("dense"), x, cfg.HiddenSize, cfg.HiddenSize))
	x = layers.DropoutStatic(root, x, rate)
	return bert.Linear(head.At("out_proj"), x, cfg.HiddenSize, cfg.NumLabels())
}
