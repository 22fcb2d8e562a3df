package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/relevance"
)

func scoreCmd() *command {
	return &command{
		name:    "score",
		summary: "add teacher relevance scores to a pairs table (LLM judge, rerank API, local bi-encoder or cross-encoder)",
		usage:   "--in pairs.jsonl --teacher llm|rerank-api|embedder|cross-encoder --out scored.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var lf llmFlags
			lf.register(fs, 0, "llm: the judge's chat model name (required); rerank-api: the rerank model (e.g. rerank-v3.5, jina-reranker-v2-base-multilingual; TEI ignores it)")
			in := fs.String("in", "", "input table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv): the input with the score column(s) added (required)")
			kind := fs.String("teacher", "", "llm (a chat model judges relevance 0–1), rerank-api (Cohere/Jina/TEI /rerank), embedder (cosine of a bi-encoder's query and passage embeddings) or cross-encoder (its logit) (required)")
			queryCol := fs.String("query-column", "anchor", "column holding the queries")
			passageCols := fs.String("passage-columns", "positive", "comma-separated columns scored against the query; with several, each gets <column>_score")
			scoreCol := fs.String("score-column", "score", "name of the score column (one passage column)")
			norm := fs.String("normalize", "none", "none, minmax (over all scores) or sigmoid (logits to probabilities)")
			template := fs.String("template", "", "llm: file holding the judge prompt, a Go text/template over .Query and .Passage (default: teacher.DefaultJudgeTemplate)")
			url := fs.String("url", "", "rerank-api: full endpoint URL, e.g. https://api.cohere.com/v2/rerank, https://api.jina.ai/v1/rerank, http://localhost:8080/rerank")
			style := fs.String("style", "cohere", "rerank-api: request shape, cohere, jina or tei")
			batch := fs.Int("batch-size", 32, "rerank-api: documents per request (pairs are grouped by query); embedder, cross-encoder: texts per batch")
			raw := fs.Bool("raw-scores", false, "rerank-api with --style tei: ask for logits instead of probabilities")
			modelDir := fs.String("model-dir", "", "embedder / cross-encoder: the model directory or Hub id")
			allowFailures := fs.Bool("allow-failures", false, "exit 0 even when some pairs could not be scored (they are null in the output)")
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
				var scorer relevance.Scorer
				var stats func() string
				switch *kind {
				case "llm":
					client, err := lf.client()
					if err != nil {
						return err
					}
					j := &teacher.LLMJudge{Client: client}
					if *template != "" {
						b, err := os.ReadFile(*template)
						if err != nil {
							return err
						}
						j.Template = string(b)
					}
					scorer = j
					stats = func() string {
						s := client.Stats()
						return fmt.Sprintf("%d requests, %d cache hits, %d retries, %d failed", s.Requests, s.CacheHits, s.Retries, s.Failures)
					}
				case "rerank-api":
					if *url == "" {
						return usagef("--teacher rerank-api needs --url")
					}
					// Only a variable named explicitly is read: a local TEI needs no key, and an OpenAI key
					// must not go to another vendor.
					var key llm.Secret
					if flagSet(fs, "api-key-env") {
						k, err := apiKey(lf.keyEnv, "")
						if err != nil {
							return err
						}
						key = k
					}
					retries := lf.retries
					if retries == 0 {
						retries = -1
					}
					cacheDir := ""
					if lf.cacheDir != "" {
						cacheDir = filepath.Join(lf.cacheDir, "rerank")
					}
					api, err := teacher.NewRerankAPI(teacher.RerankConfig{URL: *url, Style: *style, Model: lf.model,
						APIKey: key, RawScores: *raw, BatchSize: *batch, Concurrency: lf.concurrency,
						MaxRetries: retries, Timeout: lf.timeout, CacheDir: cacheDir, NoCache: lf.noCache})
					if err != nil {
						return err
					}
					scorer = api
					stats = func() string {
						s := api.Stats()
						return fmt.Sprintf("%d requests, %d cache hits, %d retries, %d failed", s.Requests, s.CacheHits, s.Retries, s.Failures)
					}
				case "embedder", "cross-encoder":
					if *modelDir == "" {
						return usagef("--teacher %s needs --model-dir", *kind)
					}
					opts := encoder.Options{BatchSize: *batch}
					dir, err := resolveModel(ctx, *modelDir, std)
					if err != nil {
						return err
					}
					if *kind == "embedder" {
						m, err := encoder.LoadBiEncoder(dir, opts)
						if err != nil {
							return err
						}
						scorer = teacher.EmbedderTeacher{Embedder: m}
					} else {
						m, err := encoder.LoadCrossEncoder(dir, opts)
						if err != nil {
							return err
						}
						scorer = m // raw logits; --normalize sigmoid maps them to probabilities
					}
					stats = func() string { return "local model " + *modelDir }
				default:
					return usagef("unknown --teacher %q (want llm, rerank-api, embedder or cross-encoder)", *kind)
				}

				df, err := datasets.Load(*in)
				if err != nil {
					return err
				}
				start := time.Now()
				opts := teacher.ScoreOptions{QueryColumn: *queryCol, PassageColumns: splitList(*passageCols),
					ScoreColumn: *scoreCol, Normalize: *norm}
				scored, scoreErr := teacher.ScoreWithTeacher(ctx, df, scorer, opts, progressTo(std))
				var unscored *teacher.UnscoredError
				if scoreErr != nil && !errors.As(scoreErr, &unscored) {
					return scoreErr // nothing scored: a missing column, a bad option, a teacher that returned nothing
				}
				// Scores that were produced are written, even when some pairs failed or the run was interrupted.
				if err := datasets.Save(scored, *out); err != nil {
					return err
				}
				notScored := 0
				if unscored != nil {
					notScored = unscored.Unscored
				}
				fmt.Fprintf(std.out, "wrote %d rows to %s in %v; %d pairs not scored; %s\n", scored.Nrow(), *out,
					time.Since(start).Round(time.Millisecond), notScored, stats())
				if scoreErr != nil && (!*allowFailures || ctx.Err() != nil) {
					return scoreErr
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
