package workflow

import (
	"context"
	"io"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/review"
)

// ReviewOptions configure Review and ApplyReview: the table's columns and the checks' thresholds (0 turns a
// check off); see package review.
type ReviewOptions = review.Options

// DefaultReviewOptions are the review's defaults, the same for `ragnb review` and the prelude's Review: the
// pairs columns anchor / positive with answer and score when present; near-duplicates at a content-word
// Jaccard of 0.8 (one word of difference in questions of about ten content words); a question with under
// 25% of its content words in the passage (generation's answerability threshold, which 97.3% of the true
// financial pairs pass) or an answer with under half; a judge score below 0.5 (the teachers' scores are
// 0–1 after normalisation).
func DefaultReviewOptions() ReviewOptions {
	return ReviewOptions{Question: "anchor", Passage: "positive", Answer: "answer", Score: "score", NearDuplicate: 0.8,
		MinQuestionOverlap: 0.25, MinAnswerOverlap: 0.5, MinScore: 0.5}
}

// ReviewInput is the table to review.
type ReviewInput struct {
	Table dataframe.DataFrame
}

// Reviewed is Review's outcome: the table led by the review columns (review_id, keep, drop_reason,
// edited_question, edited_passage, flagged, reason, duplicate_of, overlap) and the counts.
type Reviewed struct {
	Table dataframe.DataFrame
	Stats review.Stats
}

// Review flags the rows a reviewer should look at. It is cheap (no model) and not memoised.
func Review(ctx context.Context, env Env, in ReviewInput, o ReviewOptions) (*Reviewed, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, st, err := review.Flag(in.Table, o)
	if err != nil {
		return nil, err
	}
	return &Reviewed{Table: t, Stats: st}, nil
}

// ApplyReviewInput is the table the review was exported from and the reviewed CSV.
type ApplyReviewInput struct {
	Table dataframe.DataFrame
	CSV   io.Reader
	// CSVName names the CSV in errors ("review.csv row 7, column keep: …").
	CSVName string
}

// ReviewApplied is ApplyReview's outcome: the table without the dropped rows, with the edits, without the
// review columns.
type ReviewApplied struct {
	Table   dataframe.DataFrame
	Applied review.Applied
}

// ApplyReview merges a reviewed CSV back into the table.
func ApplyReview(ctx context.Context, env Env, in ApplyReviewInput, o ReviewOptions) (*ReviewApplied, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, st, err := review.Apply(in.Table, in.CSV, in.CSVName, o)
	if err != nil {
		return nil, err
	}
	return &ReviewApplied{Table: t, Applied: st}, nil
}
