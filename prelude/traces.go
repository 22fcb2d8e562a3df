package prelude

import (
	"fmt"

	"github.com/ragnb/ragnb/workflow"
)

// TraceOptions configure ImportTraces; zero values take workflow.DefaultImportOptions, the defaults
// `ragnb import-traces` has too.
type TraceOptions struct {
	// Format is "langfuse", "langsmith" or "auto" (default: told apart record by record).
	Format string
	// Positive is "feedback" (default: the top passage when the user's feedback is positive, else the row is
	// flagged), "top1" (the top passage always) or "none" (no positive; every row flagged for the reviewer).
	Positive string
	// Negatives adds the trace's other retrieved passages as hard negatives, one row each.
	Negatives bool
	// MinFeedback is the value at or above which feedback is positive (nil: 0.5); set with Float(4).
	MinFeedback *float64
	// FeedbackNames are the score names (feedback keys) that count (default: all).
	FeedbackNames []string
	// DropFlagged leaves flagged rows out instead of marking them.
	DropFlagged bool
}

// workflow turns the prelude's options into the workflow's: zero fields take workflow.DefaultImportOptions.
func (o TraceOptions) workflow() workflow.ImportOptions {
	w := workflow.DefaultImportOptions()
	if o.Format != "" {
		w.Format = o.Format
	}
	if o.Positive != "" {
		w.Pairs.Positive = o.Positive
	}
	if o.MinFeedback != nil {
		w.Pairs.MinFeedback = *o.MinFeedback
	}
	w.Pairs.Negatives, w.Pairs.FeedbackNames, w.Pairs.DropFlagged = o.Negatives, o.FeedbackNames, o.DropFlagged
	return w
}

// ImportTraces reads a Langfuse or LangSmith trace export (a JSON array, JSON Lines, or one trace's "Download
// JSON" / a run with its child_runs) into pairs: anchor (the user's question), positive (chosen by
// opts.Positive), [negative], answer, positive_score, feedback, tool, trace_id, source, and the review columns
// flagged and reason:
//
//	var real = prelude.ImportTraces("langfuse-export.jsonl", prelude.TraceOptions{})
//	var toReview = real.Review(prelude.ReviewOptions{})   // then .Save("review.csv")
func ImportTraces(path string, opts TraceOptions) *Dataset {
	op := fmt.Sprintf("ImportTraces(%q)", path)
	d := &Dataset{name: path, chain: op}
	env, err := stepEnv()
	if err != nil {
		return d.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, err := workflow.ImportTraces(ctx, env, workflow.ImportTracesInput{Path: path}, opts.workflow())
	if err != nil {
		return d.fail(op, err)
	}
	d.df = r.Table
	d.notes = append(d.notes, op+": "+r.Summary())
	return d
}
