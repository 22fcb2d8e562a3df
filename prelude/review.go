package prelude

import (
	"fmt"
	"os"

	"github.com/ragnb/ragnb/workflow"
)

// ReviewOptions configure Review and ApplyReview; zero values take workflow.DefaultReviewOptions, the
// defaults of `ragnb review`, and a negative threshold turns its check off.
type ReviewOptions struct {
	// Question, Passage (default "anchor", "positive") and, checked when the table has them, Answer and Score
	// (default "answer", "score") name the columns.
	Question, Passage, Answer, Score string
	// NearDuplicate is the content-word Jaccard at or above which a question is a near-duplicate of an
	// earlier one (default 0.8).
	NearDuplicate float64
	// MinQuestionOverlap and MinAnswerOverlap flag rows where a smaller share of the question's (answer's)
	// content words occurs in the passage (defaults 0.25 and 0.5): a lexical check, blind to paraphrase.
	MinQuestionOverlap, MinAnswerOverlap float64
	// MinScore flags judge scores below it and unscored rows (default 0.5).
	MinScore float64
}

// workflow turns the prelude's options into the workflow's: zero fields take workflow.DefaultReviewOptions,
// negative thresholds become 0 (off).
func (o ReviewOptions) workflow() workflow.ReviewOptions {
	w := workflow.DefaultReviewOptions()
	for _, s := range []struct {
		dst *string
		v   string
	}{{&w.Question, o.Question}, {&w.Passage, o.Passage}, {&w.Answer, o.Answer}, {&w.Score, o.Score}} {
		if s.v != "" {
			*s.dst = s.v
		}
	}
	for _, f := range []struct {
		dst *float64
		v   float64
	}{{&w.NearDuplicate, o.NearDuplicate}, {&w.MinQuestionOverlap, o.MinQuestionOverlap},
		{&w.MinAnswerOverlap, o.MinAnswerOverlap}, {&w.MinScore, o.MinScore}} {
		switch {
		case f.v < 0:
			*f.dst = 0
		case f.v > 0:
			*f.dst = f.v
		}
	}
	return w
}

// Review flags the rows worth a human look — duplicates and near-duplicates of earlier questions, questions
// or answers whose terms are not in the passage, low or missing judge scores — and leads the table with the
// review columns review_id, keep (false for flagged rows), drop_reason, edited_question, edited_passage,
// flagged, reason, duplicate_of and overlap. Save it as CSV for a spreadsheet and merge the edits back with
// ApplyReview:
//
//	var rv = pairs.Review(prelude.ReviewOptions{})
//	rv.Filter("flagged", func(v string) bool { return v == "true" }).Display()   // the rows to look at
//	rv.Save("review.csv")
//	%%
//	var reviewed = pairs.ApplyReview("review.csv")
func (d *Dataset) Review(opts ReviewOptions) *Dataset {
	op := "Review(…)"
	n := d.next(op)
	if n.err != nil {
		return n
	}
	env, err := stepEnv()
	if err != nil {
		return n.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, err := workflow.Review(ctx, env, workflow.ReviewInput{Table: d.df}, opts.workflow())
	if err != nil {
		return n.fail(op, err)
	}
	n.df = r.Table
	n.notes = append(n.notes, op+": "+r.Stats.String())
	return n
}

// ApplyReview merges a reviewed CSV (Review's table saved as CSV and edited) into the table it was made
// from, or into that review table itself: rows with keep false are dropped, edited_question and
// edited_passage replace the question and the passage, rows the CSV leaves out stay, the review columns go.
// Rows are matched by review_id; an unknown id fails, naming the CSV row. opts (at most one) names the
// columns when Review was given others.
func (d *Dataset) ApplyReview(csvPath string, opts ...ReviewOptions) *Dataset {
	op := fmt.Sprintf("ApplyReview(%q)", csvPath)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if len(opts) > 1 {
		return n.fail(op, fmt.Errorf("at most one ReviewOptions, got %d", len(opts)))
	}
	var o ReviewOptions
	if len(opts) == 1 {
		o = opts[0]
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return n.fail(op, err)
	}
	defer f.Close()
	env, err := stepEnv()
	if err != nil {
		return n.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, err := workflow.ApplyReview(ctx, env, workflow.ApplyReviewInput{Table: d.df, CSV: f, CSVName: csvPath}, o.workflow())
	if err != nil {
		return n.fail(op, err)
	}
	n.df = r.Table
	n.notes = append(n.notes, op+": "+r.Applied.String())
	return n
}
