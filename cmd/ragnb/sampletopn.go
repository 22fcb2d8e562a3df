package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/workflow"
)

func sampleTopNCmd() *command {
	return &command{
		name:    "sample-topn",
		summary: "retrieve each query's top passages with a bi-encoder, rerank them with a teacher and pick one at random (the reranker recipe's distillation data)",
		usage:   "--in queries.jsonl --corpus docs.jsonl --retriever DIR --teacher rerank-api|cross-encoder|llm|embedder --out picks.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			def := workflow.DefaultSampleTopNOptions()
			var f scoreFlags
			f.registerTeacher(fs)
			in := fs.String("in", "", "table of queries (.jsonl, .json, .csv, .tsv, .parquet; --query-column) (required)")
			corpus := fs.String("corpus", "", "table of the passages searched (required)")
			field := fs.String("corpus-field", "text", "passage `column` of --corpus")
			retriever := fs.String("retriever", "", "bi-encoder directory or Hub id that retrieves the candidates (required)")
			o := def
			fs.IntVar(&o.Retrieve, "retrieve", def.Retrieve, "passages retrieved per query (the candidates reranked)")
			fs.IntVar(&o.TopN, "top-n", def.TopN, "pick among the teacher's top `n` of them")
			fs.Uint64Var(&o.Seed, "pick-seed", def.Seed, "seed of the picks (per query: the same seed gives the same picks)")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv): anchor, positive (the pick), score (the teacher's), rank (required)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("sample-topn", args); err != nil {
					return err
				}
				if *in == "" || *corpus == "" || *retriever == "" || *out == "" || f.kind == "" {
					return usagef("--in, --corpus, --retriever, --teacher and --out are required")
				}
				so, t, env, err := f.start(ctx, std, fs, *out)
				if err != nil {
					return err
				}
				input := workflow.SampleTopNInput{Teacher: t}
				if input.Model, err = workflow.OpenModel(ctx, env, *retriever, encoder.Options{}); err != nil {
					return fmt.Errorf("--retriever %s: %w", *retriever, err)
				}
				if input.Queries, err = readTexts(*in, so.Query); err != nil {
					return err
				}
				if input.Corpus, err = readTexts(*corpus, *field); err != nil {
					return err
				}
				start := time.Now()
				s, err := workflow.SampleTopN(ctx, env, input, o)
				if s == nil {
					return err
				}
				if werr := datasets.Save(s.Frame, *out); werr != nil {
					return werr
				}
				fmt.Fprintf(std.out, "picked %d passages for %d queries (top %d of %d retrieved) into %s in %v; %s\n", s.Frame.Nrow(),
					len(input.Queries), o.TopN, o.Retrieve, *out, time.Since(start).Round(time.Millisecond), s.TeacherStats)
				return err
			}
		},
	}
}
