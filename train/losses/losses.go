// Package losses holds the training losses of ragnb as plain GoMLX graph functions, with
// sentence-transformers' definitions (each loss below names the ST class it matches, the input columns it
// expects and its paper). Bi-encoder losses take one [batch, dim] embedding matrix per input column
// (anchor, positive, negative_1, …) and cross-encoder losses take the logits [batch] and the labels or
// teacher scores [batch].
//
// Every loss also takes valid, a [batch] float mask (1 = real row, 0 = padding) or nil for "all rows real":
// the trainer keeps the batch shape fixed so that one compiled program serves every batch, and pads a last,
// smaller batch with masked rows. A masked row contributes nothing: it is neither an anchor nor an in-batch
// candidate, and means are taken over the real rows, so the loss equals the loss of the smaller batch.
//
// The package does not own models, optimisers or data; see package train.
package losses

import (
	"fmt"
	"slices"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
)

// EmbeddingLoss is a bi-encoder loss over per-column embeddings [batch, dim] and the row mask (nil = all
// real). It returns a scalar.
type EmbeddingLoss func(columns []*Node, valid *Node) *Node

// masked is a large negative logit for excluded candidates: finite, so that no NaN appears in the gradient of
// a softmax whose row is all excluded (a padding row), and far below any scaled similarity.
const masked = -1e9

// Normalize is torch.nn.functional.normalize(x, dim=-1): x / max(‖x‖, 1e-12), computed as
// x / √max(‖x‖², 1e-24) so that its gradient stays finite for a zero vector (an empty text).
func Normalize(x *Node) *Node {
	sq := ReduceAndKeep(Square(x), ReduceSum, -1)
	return Div(x, Sqrt(MaxScalar(sq, 1e-24)))
}

// LogSumExp is log Σ_j exp(x[..., j]) over the last axis, shifted by the row maximum for stability.
func LogSumExp(x *Node) *Node {
	m := StopGradient(ReduceAndKeep(x, ReduceMax, -1))
	return Add(Squeeze(m, -1), Log(ReduceSum(Exp(Sub(x, m)), -1)))
}

func relu(x *Node) *Node { return MaxScalar(x, 0) }

// CosineScores is sentence-transformers' cos_sim: [n, m] cosine similarities between the rows of a [n, d]
// and b [m, d].
func CosineScores(a, b *Node) *Node {
	return DotGeneral(Normalize(a), []int{1}, nil, Normalize(b), []int{1}, nil)
}

// rowsMean is Σ valid·x / max(Σ valid, 1) over a [batch] vector x; valid nil means the plain mean.
func rowsMean(x, valid *Node) *Node {
	if valid == nil {
		return ReduceAllMean(x)
	}
	v := ConvertDType(valid, x.DType())
	return Div(ReduceAllSum(Mul(x, v)), MaxScalar(ReduceAllSum(v), 1))
}

func checkColumns(name string, columns []*Node, minCols, maxCols int) {
	if len(columns) < minCols || (maxCols > 0 && len(columns) > maxCols) {
		panic(fmt.Errorf("%s: %d input columns, want %d to %d", name, len(columns), minCols, maxCols))
	}
	for i, c := range columns {
		if c.Rank() != 2 || !slices.Equal(c.Shape().Dimensions, columns[0].Shape().Dimensions) {
			panic(fmt.Errorf("%s: column %d has shape %s, want [batch, dim] like column 0 (%s)", name, i, c.Shape(), columns[0].Shape()))
		}
	}
}

// MultipleNegativesRanking is sentence-transformers' MultipleNegativesRankingLoss with its defaults
// (directions query_to_doc, joint partition, cos_sim): for each anchor, cross-entropy over the scaled
// cosine similarities to every positive in the batch and every hard negative (each extra column is one more
// candidate per row), where the row's own positive is the target; averaged over anchors.
//
// Inputs: (anchor, positive) pairs, (anchor, positive, negative) triplets or (anchor, positive,
// negative_1, …, negative_n) n-tuples; no labels. scale is 1/temperature (ST default 20).
//
// Paper: Henderson et al. 2017, "Efficient Natural Language Response Suggestion for Smart Reply"
// (arXiv:1705.00652); van den Oord et al. 2018 (InfoNCE, arXiv:1807.03748).
func MultipleNegativesRanking(scale float64) EmbeddingLoss {
	return func(columns []*Node, valid *Node) *Node {
		checkColumns("MultipleNegativesRankingLoss", columns, 2, 0)
		anchors := columns[0]
		g := anchors.Graph()
		batch := anchors.Shape().Dimensions[0]
		docs := Concatenate(columns[1:], 0) // [k·batch, dim]: positives, then each negative column
		scores := MulScalar(CosineScores(anchors, docs), scale)
		if valid != nil {
			// Candidates from padding rows are excluded.
			v := GreaterThan(valid, ScalarZero(g, valid.DType()))
			cand := Concatenate(slices.Repeat([]*Node{v}, len(columns)-1), 0) // [k·batch]
			cand = BroadcastToDims(ExpandAxes(cand, 0), batch, cand.Shape().Dimensions[0])
			scores = Where(cand, scores, Scalar(g, scores.DType(), masked))
		}
		// Positive score of row i: its similarity to positive i, the diagonal of the first block, read from
		// the score matrix itself so that the loss, lse − pos, is never negative by rounding.
		first := Slice(scores, AxisRange(), AxisRange(0, batch))
		pos := ReduceSum(Where(Diagonal(g, batch), first, ZerosLike(first)), -1)
		lse := LogSumExp(scores)
		return rowsMean(Sub(lse, pos), valid)
	}
}

// Matryoshka is sentence-transformers' MatryoshkaLoss: the inner loss computed on embeddings truncated to
// each of dims (then L2-normalised, as ST's shrink does) and summed with weights (nil = all 1). Dimensions
// are used from the largest to the smallest whatever the order given (ST sorts them the same way), each
// keeping its weight.
//
// Inputs: whatever the inner loss takes.
//
// Paper: Kusupati et al. 2022, "Matryoshka Representation Learning" (arXiv:2205.13147).
func Matryoshka(inner EmbeddingLoss, dims []int, weights []float64) (EmbeddingLoss, error) {
	dw, err := SortDims(dims, weights)
	if err != nil {
		return nil, err
	}
	return func(columns []*Node, valid *Node) *Node {
		var total *Node
		for _, d := range dw {
			full := columns[0].Shape().Dimensions[1]
			if d.Dim > full {
				panic(fmt.Errorf("MatryoshkaLoss: dimension %d is larger than the embeddings' %d", d.Dim, full))
			}
			cut := make([]*Node, len(columns))
			for i, c := range columns {
				cut[i] = Normalize(Slice(c, AxisRange(), AxisRange(0, d.Dim)))
			}
			l := MulScalar(inner(cut, valid), d.Weight)
			if total == nil {
				total = l
			} else {
				total = Add(total, l)
			}
		}
		return total
	}, nil
}

// DimWeight is one Matryoshka dimension and its loss weight.
type DimWeight struct {
	Dim    int
	Weight float64
}

// SortDims pairs dims with weights (nil = all 1) and sorts them largest dimension first, as ST does. It
// rejects empty or non-positive dims, repeated dims and a weights list of another length.
func SortDims(dims []int, weights []float64) ([]DimWeight, error) {
	if len(dims) == 0 {
		return nil, fmt.Errorf("matryoshka: no dimensions")
	}
	if weights != nil && len(weights) != len(dims) {
		return nil, fmt.Errorf("matryoshka: %d weights for %d dimensions", len(weights), len(dims))
	}
	out := make([]DimWeight, len(dims))
	for i, d := range dims {
		if d <= 0 {
			return nil, fmt.Errorf("matryoshka: dimension %d must be positive", d)
		}
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		out[i] = DimWeight{d, w}
	}
	slices.SortStableFunc(out, func(a, b DimWeight) int { return b.Dim - a.Dim })
	for i := 1; i < len(out); i++ {
		if out[i].Dim == out[i-1].Dim {
			return nil, fmt.Errorf("matryoshka: dimension %d given twice", out[i].Dim)
		}
	}
	return out, nil
}

// Triplet distance metrics (sentence-transformers' TripletDistanceMetric).
const (
	Euclidean = "euclidean"
	Cosine    = "cosine"
	Manhattan = "manhattan"
)

// TripletMetrics lists the distance metrics Triplet accepts.
func TripletMetrics() []string { return []string{Euclidean, Cosine, Manhattan} }

// Triplet is sentence-transformers' TripletLoss: mean over rows of max(d(a, p) − d(a, n) + margin, 0) with
// d the euclidean (ST default, margin 5), cosine (1 − cos) or manhattan distance.
//
// Inputs: (anchor, positive, negative) triplets; no labels.
//
// Paper: Schroff et al. 2015, "FaceNet" (arXiv:1503.03832).
func Triplet(metric string, margin float64) (EmbeddingLoss, error) {
	var dist func(a, b *Node) *Node
	switch metric {
	case Euclidean, "":
		dist = func(a, b *Node) *Node {
			// √Σ(a−b)², with the square root's gradient kept finite when a = b.
			return Sqrt(MaxScalar(ReduceSum(Square(Sub(a, b)), -1), 1e-30))
		}
	case Cosine:
		dist = func(a, b *Node) *Node { return OneMinus(ReduceSum(Mul(Normalize(a), Normalize(b)), -1)) }
	case Manhattan:
		dist = func(a, b *Node) *Node { return ReduceSum(Abs(Sub(a, b)), -1) }
	default:
		return nil, fmt.Errorf("triplet: distance %q, want one of %v", metric, TripletMetrics())
	}
	return func(columns []*Node, valid *Node) *Node {
		checkColumns("TripletLoss", columns, 3, 3)
		l := relu(AddScalar(Sub(dist(columns[0], columns[1]), dist(columns[0], columns[2])), margin))
		return rowsMean(l, valid)
	}, nil
}

// BinaryCrossEntropy is sentence-transformers' cross-encoder BinaryCrossEntropyLoss (torch
// BCEWithLogitsLoss on the logits, activation identity): mean over rows of
// −[w·y·log σ(x) + (1−y)·log(1−σ(x))], with w = posWeight (1 when ≤ 0), in the numerically stable form.
//
// Inputs: (query, passage) pairs with a label in [0, 1] (1 relevant, 0 not).
func BinaryCrossEntropy(logits, labels, valid *Node, posWeight float64) *Node {
	y := ConvertDType(labels, logits.DType())
	// log(1 + e^{−|x|}) + max(−x, 0) = −log σ(x)
	softNeg := Add(Log1p(Exp(Neg(Abs(logits)))), relu(Neg(logits)))
	var l *Node
	if posWeight <= 0 || posWeight == 1 {
		// (1−y)·x + (−log σ(x))
		l = Add(Mul(OneMinus(y), logits), softNeg)
	} else {
		l = Add(Mul(OneMinus(y), logits), Mul(AddScalar(MulScalar(y, posWeight-1), 1), softNeg))
	}
	return rowsMean(l, valid)
}

// Cross-encoder MSE activations.
const (
	ActivationSigmoid  = "sigmoid"
	ActivationIdentity = "identity"
)

// MSE is sentence-transformers' cross-encoder MSELoss: mean over rows of (act(x) − t)², with act sigmoid
// (for teacher scores in [0, 1], e.g. a stronger cross-encoder's sigmoid outputs — ragnb's default) or
// identity (ST's default, for teacher logits).
//
// Inputs: (query, passage) pairs with a teacher score. Reranker distillation: Hofstätter et al. 2020,
// "Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation"
// (arXiv:2010.02666).
func MSE(logits, targets, valid *Node, activation string) *Node {
	x := logits
	switch activation {
	case ActivationSigmoid, "":
		x = Sigmoid(logits)
	case ActivationIdentity:
	default:
		panic(fmt.Errorf("MSELoss: activation %q, want %q or %q", activation, ActivationSigmoid, ActivationIdentity))
	}
	return rowsMean(Square(Sub(x, ConvertDType(targets, x.DType()))), valid)
}
