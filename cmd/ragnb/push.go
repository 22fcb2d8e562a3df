package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/workflow"
)

// pushFlags are push's flags; their defaults read workflow.DefaultPushOptions.
type pushFlags struct {
	model, dataset, repo, revision, message, license, language, datasets, base string
	private                                                                    bool
}

func (f *pushFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultPushOptions()
	fs.StringVar(&f.model, "model", "", "model `directory` to publish (Hugging Face / sentence-transformers layout; README.md is its card)")
	fs.StringVar(&f.dataset, "dataset", "", "`table` to publish as a dataset (.jsonl, .csv, .tsv, .json, .parquet; written as parquet)")
	fs.StringVar(&f.repo, "repo", "", "Hub repository `org/name` (created when missing) (required)")
	fs.BoolVar(&f.private, "private", def.Private, "create the repository private (an existing one keeps its visibility)")
	fs.StringVar(&f.revision, "revision", def.Revision, "`branch` to commit to")
	fs.StringVar(&f.message, "commit-message", def.CommitMessage, "commit `summary` (default: \"Upload model with ragnb\" / \"Upload dataset with ragnb\")")
	fs.StringVar(&f.license, "license", def.License, "card: license `id` (e.g. apache-2.0)")
	fs.StringVar(&f.language, "language", "", "card: language `codes`, comma-separated (e.g. en)")
	fs.StringVar(&f.datasets, "datasets", "", "card: Hub dataset `ids` the model was trained on, comma-separated")
	fs.StringVar(&f.base, "base-model", def.BaseModel, "card: the Hub `id` of the model this one was fine-tuned from")
}

// options are the workflow's options the flags say.
func (f *pushFlags) options() workflow.PushOptions {
	o := workflow.DefaultPushOptions()
	o.Repo, o.Private, o.Revision, o.CommitMessage = f.repo, f.private, f.revision, f.message
	o.License, o.Language, o.Datasets, o.BaseModel = f.license, splitList(f.language), splitList(f.datasets), f.base
	return o
}

func pushCmd() *command {
	return &command{
		name:    "push",
		summary: "publish a model directory (with its model card) or a table (as parquet) to the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN)",
		usage:   "--model DIR --repo ORG/NAME [--private] [--revision R] [--commit-message M] | --dataset TABLE --repo ORG/NAME",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &pushFlags{}
			f.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("push", args); err != nil {
					return err
				}
				if f.repo == "" || (f.model == "") == (f.dataset == "") {
					return usagef("--repo and one of --model or --dataset are required")
				}
				o := f.options()
				in := workflow.PushInput{Dir: f.model}
				what := f.model
				if f.dataset != "" {
					df, err := datasets.Load(f.dataset)
					if err != nil {
						return err
					}
					in = workflow.PushInput{Table: &df, Source: f.dataset}
					what = fmt.Sprintf("%s (%d rows)", f.dataset, df.Nrow())
				}
				env, err := stepEnv(std, "")
				if err != nil {
					return err
				}
				res, err := workflow.Push(ctx, env, in, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "pushed   %s to %s (%s)\n", what, res.URL, res.Type)
				if res.Commit == "" {
					fmt.Fprintf(std.out, "commit   none: the Hub already had all %d files\n", len(res.Unchanged))
					return nil
				}
				fmt.Fprintf(std.out, "commit   %s on %s: %d files changed, %d unchanged\n", res.Commit, o.Revision, len(res.Committed), len(res.Unchanged))
				fmt.Fprintf(std.out, "lfs      %d sent (%d bytes), %d already stored\n", len(res.Uploaded), res.Bytes, len(res.Present))
				return nil
			}
		},
	}
}
