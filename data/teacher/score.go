package teacher

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// Normalisations for ScoreOptions.Normalize and Normalize.
const (
	NormNone    = "none"
	NormMinMax  = "minmax"  // (s − min) / (max − min) over all scores; all equal → 0.5
	NormSigmoid = "sigmoid" // 1 / (1 + e^−s): logits (a cross-encoder's, TEI raw scores) to probabilities
)

// Normalize returns scores mapped by how (NormNone, NormMinMax, NormSigmoid; "" is none). NaN stays NaN and
// is left out of the min-max range.
func Normalize(scores []float64, how string) ([]float64, error) {
	out := append([]float64(nil), scores...)
	switch how {
	case "", NormNone:
	case NormSigmoid:
		for i, s := range out {
			out[i] = 1 / (1 + math.Exp(-s))
		}
	case NormMinMax:
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range out {
			if !math.IsNaN(s) {
				lo, hi = math.Min(lo, s), math.Max(hi, s)
			}
		}
		for i, s := range out {
			switch {
			case math.IsNaN(s):
			case hi == lo:
				out[i] = 0.5
			default:
				out[i] = (s - lo) / (hi - lo)
			}
		}
	default:
		return nil, fmt.Errorf("unknown normalisation %q (want none, minmax or sigmoid)", how)
	}
	return out, nil
}

// ScoreOptions names the columns ScoreWithTeacher reads and writes.
type ScoreOptions struct {
	// QueryColumn holds the queries (default "anchor").
	QueryColumn string
	// PassageColumns are scored against the query (default ["positive"]); e.g. positive, negative_1 … for
	// MarginMSE-style distillation. Empty cells are not scored (NaN).
	PassageColumns []string
	// ScoreColumn names the score column when there is one passage column (default "score"); with several,
	// each gets "<column>_score".
	ScoreColumn string
	// Normalize is NormNone (default), NormMinMax (over all scores of the call) or NormSigmoid.
	Normalize string
}

// ScoreWithTeacher scores every row's (query, passage) pairs with scorer and returns df with the score
// column(s) added (replacing same-named ones). Pairs the scorer could not score are NaN (written as JSON null
// or an empty CSV cell) and the error wraps an *UnscoredError saying how many: the scored table comes back with
// it. Any other error (a missing column, an unknown normalisation, a teacher that returned nothing) returns
// df unchanged.
func ScoreWithTeacher(ctx context.Context, df dataframe.DataFrame, scorer ir.Scorer, opts ScoreOptions, report progress.Func) (dataframe.DataFrame, error) {
	if df.Err != nil {
		return df, df.Err
	}
	if scorer == nil {
		return df, fmt.Errorf("score: no teacher")
	}
	if opts.QueryColumn == "" {
		opts.QueryColumn = "anchor"
	}
	if len(opts.PassageColumns) == 0 {
		opts.PassageColumns = []string{"positive"}
	}
	if opts.ScoreColumn == "" {
		opts.ScoreColumn = "score"
	}
	if _, err := Normalize(nil, opts.Normalize); err != nil {
		return df, err
	}
	has := map[string]bool{}
	for _, n := range df.Names() {
		has[n] = true
	}
	for _, c := range append([]string{opts.QueryColumn}, opts.PassageColumns...) {
		if !has[c] {
			return df, fmt.Errorf("score: no column %q (columns: %v)", c, df.Names())
		}
	}
	queries := datasets.Texts(df.Col(opts.QueryColumn))
	type slot struct{ col, row int }
	var pairs []ir.Pair
	var slots []slot
	for c, name := range opts.PassageColumns {
		for i, p := range datasets.Texts(df.Col(name)) {
			if p == "" || queries[i] == "" {
				continue
			}
			pairs = append(pairs, ir.Pair{Query: queries[i], Passage: p})
			slots = append(slots, slot{c, i})
		}
	}
	scores, scoreErr := scorer.ScorePairs(ctx, pairs, report)
	if scoreErr != nil && len(scores) != len(pairs) {
		return df, fmt.Errorf("score: %w", scoreErr)
	}
	if len(scores) != len(pairs) {
		return df, fmt.Errorf("score: the teacher returned %d scores for %d pairs", len(scores), len(pairs))
	}
	scores, _ = Normalize(scores, opts.Normalize)
	cols := make([][]float64, len(opts.PassageColumns))
	for c := range cols {
		cols[c] = make([]float64, df.Nrow())
		for i := range cols[c] {
			cols[c][i] = math.NaN()
		}
	}
	for k, s := range slots {
		cols[s.col][s.row] = scores[k]
	}
	out := df
	for c, name := range opts.PassageColumns {
		col := opts.ScoreColumn
		if len(opts.PassageColumns) > 1 {
			col = name + "_score"
		}
		out = out.Mutate(series.New(cols[c], series.Float, col))
		if out.Err != nil {
			return df, fmt.Errorf("score: add column %s: %w", col, out.Err)
		}
	}
	if scoreErr != nil {
		var ue *UnscoredError
		if !errors.As(scoreErr, &ue) {
			n := 0
			for _, s := range scores {
				if math.IsNaN(s) {
					n++
				}
			}
			scoreErr = &UnscoredError{Unscored: n, Total: len(scores), Err: scoreErr}
		}
		return out, fmt.Errorf("score: %w", scoreErr)
	}
	return out, nil
}
