package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/workflow"
)

func reviewCmd() *command {
	return &command{
		name:    "review",
		summary: "flag pairs for a human look (duplicates, terms not in the passage, low judge scores) as a CSV, and merge the reviewed CSV back",
		usage: "export --in pairs.jsonl --out review.csv [flags]\n" +
			"       ragnb review apply --in pairs.jsonl --review review.csv --out reviewed.jsonl [flags]\n\n" +
			"  export  write the table led by review_id, keep, drop_reason, edited_question, edited_passage, flagged, reason,\n" +
			"          duplicate_of, overlap; flagged rows start with keep=false\n" +
			"  apply   drop the rows with keep=false, apply the edits, match rows by review_id (unknown ids are refused)",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			a := newReviewArgs(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) != 1 || (args[0] != "export" && args[0] != "apply") {
					return usagef("want one subcommand: export or apply")
				}
				if *a.in == "" || *a.out == "" || (args[0] == "apply") != (*a.review != "") {
					return usagef("--in and --out are required, and --review with apply only")
				}
				if _, err := datasets.FormatOf(*a.out); err != nil {
					return usagef("%v", err)
				}
				o, err := a.options()
				if err != nil {
					return err
				}
				df, err := datasets.Load(*a.in)
				if err != nil {
					return err
				}
				env, err := stepEnv(std, "")
				if err != nil {
					return err
				}
				if args[0] == "export" {
					r, err := workflow.Review(ctx, env, workflow.ReviewInput{Table: df}, o)
					if err != nil {
						return fmt.Errorf("%s: %w", *a.in, err)
					}
					if err := datasets.Save(r.Table, *a.out); err != nil {
						return err
					}
					fmt.Fprintf(std.out, "%s; wrote %s\n", r.Stats, *a.out)
					return nil
				}
				f, err := os.Open(*a.review)
				if err != nil {
					return err
				}
				defer f.Close()
				r, err := workflow.ApplyReview(ctx, env, workflow.ApplyReviewInput{Table: df, CSV: f, CSVName: *a.review}, o)
				if err != nil {
					return err
				}
				if err := datasets.Save(r.Table, *a.out); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "%s; wrote %s\n", r.Applied, *a.out)
				return nil
			}
		},
	}
}

// reviewArgs are the flags of `ragnb review`.
type reviewArgs struct {
	in, out, review                           *string
	question, passage, answer, score          *string
	near, minQuestion, minAnswer, minScoreVal *float64
}

// newReviewArgs declares the flags on fs; their defaults are workflow.DefaultReviewOptions.
func newReviewArgs(fs *flag.FlagSet) *reviewArgs {
	def := workflow.DefaultReviewOptions()
	return &reviewArgs{
		in:          fs.String("in", "", "the pairs table (.jsonl, .json, .csv, .tsv, .parquet) (required)"),
		out:         fs.String("out", "", "export: the review CSV (or .jsonl, .tsv); apply: the reviewed table (required)"),
		review:      fs.String("review", "", "apply: the reviewed CSV (as export wrote it, edited in a spreadsheet; ';' or tab separators are read too)"),
		question:    fs.String("question", def.Question, "column holding the questions"),
		passage:     fs.String("passage", def.Passage, "column holding the passages"),
		answer:      fs.String("answer", def.Answer, "column holding the answers (checked when present)"),
		score:       fs.String("score", def.Score, "column holding a judge's score (checked when present)"),
		near:        fs.Float64("near-duplicate", def.NearDuplicate, "flag questions whose content words have a Jaccard similarity at or above this with an earlier one's (0: off)"),
		minQuestion: fs.Float64("min-question-overlap", def.MinQuestionOverlap, "flag questions with a smaller share of their content words in the passage (a lexical check; 0: off)"),
		minAnswer:   fs.Float64("min-answer-overlap", def.MinAnswerOverlap, "flag answers with a smaller share of their content words in the passage (0: off)"),
		minScoreVal: fs.Float64("min-score", def.MinScore, "flag judge scores below this, and unscored rows (0: off)"),
	}
}

// options are the review options the flags ask for.
func (a *reviewArgs) options() (workflow.ReviewOptions, error) {
	o := workflow.DefaultReviewOptions()
	o.Question, o.Passage, o.Answer, o.Score = *a.question, *a.passage, *a.answer, *a.score
	o.NearDuplicate, o.MinQuestionOverlap, o.MinAnswerOverlap, o.MinScore = *a.near, *a.minQuestion, *a.minAnswer, *a.minScoreVal
	if o.NearDuplicate < 0 || o.NearDuplicate > 1 {
		return o, usagef("--near-duplicate %g: want a Jaccard similarity in [0, 1]", o.NearDuplicate)
	}
	return o, nil
}
