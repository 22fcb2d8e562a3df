package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/workflow"
)

func scoreCmd() *command {
	return &command{
		name:    "score",
		summary: "add teacher relevance scores to a pairs table (LLM judge, rerank API, local bi-encoder or cross-encoder)",
		usage:   "--in pairs.jsonl --teacher llm|rerank-api|embedder|cross-encoder --out scored.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			def, tdef := workflow.DefaultScoreOptions(), workflow.DefaultTeacher("")
			var lf llmFlags
			lf.register(fs, tdef.LLM, "llm: the judge's chat model name (required); rerank-api: the rerank model (e.g. rerank-v3.5, jina-reranker-v2-base-multilingual; TEI ignores it)")
			in := fs.String("in", "", "input table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv): the input with the score column(s) added (required); a failed run leaves it as it was and writes OUT.partial.jsonl (.csv, .tsv) beside it")
			kind := fs.String("teacher", "", "llm (a chat model judges relevance 0–1), rerank-api (Cohere/Jina/TEI /rerank), embedder (cosine of a bi-encoder's query and passage embeddings) or cross-encoder (its logit) (required)")
			queryCol := fs.String("query-column", def.Query, "column holding the queries")
			passageCols := fs.String("passage-columns", strings.Join(def.Passages, ","), "comma-separated columns scored against the query; with several, each gets <column>_score")
			scoreCol := fs.String("score-column", def.Column, "name of the score column (one passage column)")
			norm := fs.String("normalize", def.Normalize, "none, minmax (over all scores) or sigmoid (logits to probabilities)")
			template := fs.String("template", "", "llm: file holding the judge prompt, a Go text/template over .Query and .Passage (default: teacher.DefaultJudgeTemplate)")
			url := fs.String("url", "", "rerank-api: full endpoint URL, e.g. https://api.cohere.com/v2/rerank, https://api.jina.ai/v1/rerank, http://localhost:8080/rerank")
			style := fs.String("style", tdef.Style, "rerank-api: request shape, cohere, jina or tei")
			batch := fs.Int("batch-size", tdef.BatchSize, "rerank-api: documents per request (pairs are grouped by query); embedder, cross-encoder: texts per batch")
			raw := fs.Bool("raw-scores", false, "rerank-api with --style tei: ask for logits instead of probabilities")
			modelDir := fs.String("model-dir", "", "embedder / cross-encoder: the model directory or Hub id")
			allowFailures := fs.Bool("allow-failures", false, "exit 0, and write --out, even when some pairs could not be scored (they are null in the output)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("score", args); err != nil {
					return err
				}
				if *in == "" || *out == "" || *kind == "" {
					return usagef("--in, --out and --teacher are required")
				}
				if _, err := datasets.FormatOf(*out); err != nil {
					return usagef("%v", err)
				}
				env, err := stepEnv(std, "")
				if err != nil {
					return err
				}
				t := workflow.DefaultTeacher(*kind)
				t.LLM, t.BatchSize = lf.o, *batch
				switch *kind {
				case workflow.TeacherLLM:
					if t.LLM, err = lf.options(); err != nil {
						return err
					}
					if *template != "" {
						b, err := os.ReadFile(*template)
						if err != nil {
							return err
						}
						t.JudgeTemplate = string(b)
					}
				case workflow.TeacherRerankAPI:
					if *url == "" {
						return usagef("--teacher rerank-api needs --url")
					}
					t.URL, t.Style, t.RawScores = *url, *style, *raw
					t.LLM.CacheDir = lf.cacheDir("rerank")
					// Only a variable named explicitly is read: a local TEI needs no key, and an OpenAI key
					// must not go to another vendor.
					if flagSet(fs, "api-key-env") {
						if t.LLM.APIKey, err = apiKey(lf.keyEnv, ""); err != nil {
							return err
						}
					}
				case workflow.TeacherEmbedder, workflow.TeacherCrossEncoder:
					if *modelDir == "" {
						return usagef("--teacher %s needs --model-dir", *kind)
					}
					if t.Model, err = workflow.OpenModel(ctx, env, *modelDir, encoder.Options{BatchSize: *batch}); err != nil {
						return err
					}
				default:
					return usagef("unknown --teacher %q (want llm, rerank-api, embedder or cross-encoder)", *kind)
				}

				df, err := datasets.Load(*in)
				if err != nil {
					return err
				}
				start := time.Now()
				o := workflow.ScoreOptions{Query: *queryCol, Passages: splitList(*passageCols), Column: *scoreCol, Normalize: *norm}
				scored, scoreErr := workflow.Score(ctx, env, workflow.ScoreInput{Frame: df, Teacher: t}, o)
				if scored == nil {
					return scoreErr // nothing scored: a missing column, a bad option, a teacher that returned nothing
				}
				notScored := 0
				var unscored *teacher.UnscoredError
				if errors.As(scoreErr, &unscored) {
					notScored = unscored.Unscored
				}
				complete := scoreErr == nil || (*allowFailures && ctx.Err() == nil)
				written, err := workflow.WriteOutput(scored.Frame, *out, complete)
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "%s in %v; %d pairs not scored; %s\n", written,
					time.Since(start).Round(time.Millisecond), notScored, scored.TeacherStats)
				if !complete {
					return written.Wrap(scoreErr)
				}
				return nil
			}
		},
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
