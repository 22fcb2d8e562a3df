package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/workflow"
)

func importTracesCmd() *command {
	return &command{
		name:    "import-traces",
		summary: "turn Langfuse or LangSmith trace exports (JSON, JSONL, one trace's JSON) into (query, positive) pairs with review columns",
		usage:   "--in FILE --out pairs.jsonl [--format langfuse|langsmith|auto] [--positive feedback|top1|none] [--negatives] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			a := newImportTracesArgs(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("import-traces", args); err != nil {
					return err
				}
				if *a.in == "" || *a.out == "" {
					return usagef("--in and --out are required")
				}
				if _, err := datasets.FormatOf(*a.out); err != nil {
					return usagef("%v", err)
				}
				o, err := a.options()
				if err != nil {
					return err
				}
				env, err := stepEnv(std, "")
				if err != nil {
					return err
				}
				r, err := workflow.ImportTraces(ctx, env, workflow.ImportTracesInput{Path: *a.in}, o)
				if err != nil {
					return err
				}
				if err := datasets.Save(r.Table, *a.out); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "%s; wrote %s\n", r.Summary(), *a.out)
				return nil
			}
		},
	}
}

// importTracesArgs are the flags of `ragnb import-traces`.
type importTracesArgs struct {
	in, out, format, positive, feedbackNames *string
	negatives, dropFlagged                   *bool
	minFeedback                              *float64
}

// newImportTracesArgs declares the flags on fs; their defaults are workflow.DefaultImportOptions.
func newImportTracesArgs(fs *flag.FlagSet) *importTracesArgs {
	def := workflow.DefaultImportOptions()
	return &importTracesArgs{
		in:     fs.String("in", "", "the export: a JSON array, JSON Lines or one trace's JSON (Langfuse's Download JSON, a LangSmith run with child_runs) (required)"),
		out:    fs.String("out", "", "output table (.jsonl, .csv, .tsv) (required)"),
		format: fs.String("format", def.Format, "langfuse, langsmith or auto (told apart record by record)"),
		positive: fs.String("positive", def.Pairs.Positive, "feedback: the top passage when the user's feedback is positive, else the row is flagged for review; "+
			"top1: the top passage always; none: no positive, every row flagged (write it in the review's edited_passage)"),
		negatives:     fs.Bool("negatives", def.Pairs.Negatives, "add the trace's other retrieved passages as hard negatives, one (anchor, positive, negative) row each"),
		minFeedback:   fs.Float64("min-feedback", def.Pairs.MinFeedback, "feedback at or above this is positive (0/1 and −1/1 thumbs read 1 as positive; set 4 for a 1–5 scale)"),
		feedbackNames: fs.String("feedback-names", strings.Join(def.Pairs.FeedbackNames, ","), "comma-separated score names (feedback keys) that count as feedback (default: all)"),
		dropFlagged:   fs.Bool("drop-flagged", def.Pairs.DropFlagged, "leave flagged rows out instead of marking them"),
	}
}

// options are the import options the flags ask for.
func (a *importTracesArgs) options() (workflow.ImportOptions, error) {
	o := workflow.DefaultImportOptions()
	o.Format = *a.format
	o.Pairs.Positive, o.Pairs.Negatives, o.Pairs.MinFeedback, o.Pairs.DropFlagged = *a.positive, *a.negatives, *a.minFeedback, *a.dropFlagged
	o.Pairs.FeedbackNames = nil
	for _, n := range strings.Split(*a.feedbackNames, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.Pairs.FeedbackNames = append(o.Pairs.FeedbackNames, n)
		}
	}
	if err := o.Check(); err != nil {
		return o, usagef("%v", err)
	}
	return o, nil
}
