package losses

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
)

// GroupKLDivergence is FlagEmbedding's knowledge-distillation loss (kd_loss_type "kl_div"): for each query,
// the teacher's scores over its group (the positive, then the sampled negatives) become targets
// softmax(teacher), the student's are the cosine similarities to the same group times scale (1/temperature),
// and the loss is −mean over queries of Σ_j target_j · log_softmax(student)_j — the KL divergence from the
// targets up to their (constant) entropy.
//
// Inputs: columns (anchor, positive, negative_1 … negative_{G−1}), each [batch, dim]; teacher [batch, G] (the
// scores of the same passages, in the same order); valid the [batch] row mask (nil: all real).
//
// Reference: Xiao et al. 2023, "C-Pack: Packaged Resources To Advance General Chinese Embedding"
// (arXiv:2309.07597), the bge recipe.
func GroupKLDivergence(columns []*Node, teacher, valid *Node, scale float64) *Node {
	checkColumns("GroupKLDivergence", columns, 2, 0)
	group := len(columns) - 1
	if teacher.Rank() != 2 || teacher.Shape().Dimensions[1] != group || teacher.Shape().Dimensions[0] != columns[0].Shape().Dimensions[0] {
		panic(fmt.Errorf("GroupKLDivergence: teacher scores of shape %s for %d rows of %d passages", teacher.Shape(), columns[0].Shape().Dimensions[0], group))
	}
	a := Normalize(columns[0])
	sims := make([]*Node, group)
	for j, c := range columns[1:] {
		sims[j] = ReduceAndKeep(Mul(a, Normalize(c)), ReduceSum, -1) // [batch, 1]
	}
	student := MulScalar(Concatenate(sims, 1), scale) // [batch, G]
	t := ConvertDType(StopGradient(teacher), student.DType())
	tm := ReduceAndKeep(t, ReduceMax, -1)
	te := Exp(Sub(t, tm))
	targets := Div(te, ReduceAndKeep(te, ReduceSum, -1))
	logp := Sub(student, ExpandAxes(LogSumExp(student), -1))
	perRow := Neg(ReduceSum(Mul(targets, logp), -1))
	return rowsMean(perRow, valid)
}
