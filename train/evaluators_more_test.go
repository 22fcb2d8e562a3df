package train

import (
	"context"
	"math"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// axes embeds "x", "y", "xy" as fixed 2-d vectors.
type axes struct{}

func (axes) embed(texts []string) (*vector.Matrix, error) {
	v := map[string][]float32{"x": {1, 0}, "y": {0, 1}, "xy": {1, 1}, "-x": {-1, 0}}
	rows := make([][]float32, len(texts))
	for i, t := range texts {
		rows[i] = v[t]
	}
	return vector.FromRows(rows)
}
func (a axes) EmbedQueries(_ context.Context, t []string, _ progress.Func) (*vector.Matrix, error) {
	return a.embed(t)
}
func (a axes) EmbedDocuments(_ context.Context, t []string, _ progress.Func) (*vector.Matrix, error) {
	return a.embed(t)
}

// TestTripletEvaluatorCountsCloserPositives: anchor x with positive xy (cos .71) beats negative y (0) and
// loses to negative x itself (1); a tie (positive y, negative y) does not count as right.
func TestTripletEvaluatorCountsCloserPositives(t *testing.T) {
	ev, err := TripletEvaluator(axes{}, []string{"x", "x", "x", "x"}, []string{"xy", "xy", "y", "xy"}, []string{"y", "x", "y", "-x"}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ev.Evaluate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m["dev_cosine_accuracy"] != 0.5 || len(m) != 1 {
		t.Errorf("got %v, want dev_cosine_accuracy 0.5", m)
	}
	if _, err := TripletEvaluator(axes{}, []string{"x"}, nil, nil, ""); err == nil {
		t.Error("unequal columns accepted")
	}
}

type fixedScores []float64

func (f fixedScores) ScorePairs(_ context.Context, p []ir.Pair, _ progress.Func) ([]float64, error) {
	return f[:len(p)], nil
}

// TestRegressionEvaluatorKeys: predictions 1, 2, 3 against teacher 1, 2, 5: MSE 4/3, Spearman 1.
func TestRegressionEvaluatorKeys(t *testing.T) {
	pairs := []ir.Pair{{Query: "q", Passage: "a"}, {Query: "q", Passage: "b"}, {Query: "q", Passage: "c"}}
	m, err := RegressionEvaluator(fixedScores{1, 2, 3}, pairs, []float64{1, 2, 5}, "").Evaluate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m["regression_mse"]-4.0/3) > 1e-12 || m["regression_spearman"] != 1 || !(m["regression_pearson"] > 0.9) {
		t.Errorf("got %v", m)
	}
}
