package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/workflow"
)

func mineCmd() *command {
	return &command{
		name:    "mine",
		summary: "mine hard negatives for (anchor, positive) pairs with a bi-encoder: rank range, distance window, margins, cross-encoder check",
		usage:   "--model DIR --data pairs.jsonl --out triplets.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			wdef := workflow.DefaultMineOptions()
			def := wdef.Mining
			modelDir := fs.String("model", "", "bi-encoder directory (Hugging Face / sentence-transformers layout) or Hub id (required)")
			data := fs.String("data", "", "pairs table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
			anchorCol := fs.String("anchor", wdef.Anchor, "column of --data holding the anchors (queries)")
			positiveCol := fs.String("positive", wdef.Positive, "column of --data holding the positives")
			corpus := fs.String("corpus", "", "extra candidate passages (.txt one per line, or a table with --corpus-field); the positives are always candidates")
			corpusField := fs.String("corpus-field", wdef.CorpusColumn, "column of --corpus holding the passages (tables only)")
			topK := fs.Int("top-k", def.TopK, "passages retrieved per query (exact search), positives included")
			rangeMin := fs.Int("range-min", def.RangeMin, "skip this many of the nearest candidates that pass the filters (sentence-transformers' range_min)")
			rangeMax := fs.Int("range-max", 0, "consider candidates before this position among those that pass the filters (range_max); 0 means --top-k")
			distance := fs.String("distance", string(def.Window.Distance), "distance of the window: l2 (√(2 − 2·cos), unit vectors) or cosine (1 − cos)")
			minDist := fs.Float64("min-distance", def.Window.Min, "window: keep candidates with distance > this")
			maxDist := fs.Float64("max-distance", def.Window.Max, "window: keep candidates with distance ≤ this; 0 turns the window off (the default 0.4 < d ≤ 0.7 is BGE's L2 window: 0.755 ≤ cos < 0.92)")
			maxScore := fs.Float64("max-score", 0, "drop candidates with cosine > this (unset: no bound)")
			minScore := fs.Float64("min-score", 0, "drop candidates with cosine < this (unset: no bound)")
			absMargin := fs.Float64("absolute-margin", 0, "drop candidates with cosine + margin > the positive's cosine (unset: no margin; 0 keeps only negatives scoring at most the positive)")
			relMargin := fs.Float64("relative-margin", 0, "drop candidates with cosine > positive − |positive|·margin (unset: no margin; NV-Retriever uses 0.05)")
			numNeg := fs.Int("num-negatives", def.NumNegatives, "negatives per query")
			sampling := fs.String("sampling", def.Sampling, "top (nearest eligible candidates) or random (uniform among the eligible, seeded)")
			seed := fs.Uint64("seed", def.Seed, "seed of random sampling and of the random fallback")
			format := fs.String("format", def.Format, "triplet (anchor, positive, negative), n-tuple (negative_1..n; queries short of negatives are left out) or labeled-pair (anchor, passage, label)")
			outputScores := fs.Bool("output-scores", def.OutputScores, "add the bi-encoder cosines: positive_score and negative[_i]_score columns, or a score column instead of label")
			fallback := fs.String("fallback", def.Fallback, "for a query with fewer negatives than asked: fewer (keep what was found), nearest (fill with the candidates nearest outside the window), random (fill from the whole corpus) or skip (leave the query out)")
			ceDir := fs.String("cross-encoder", "", "cross-encoder directory or Hub id: drop candidates it scores above the query's positive (or above --ce-threshold) as likely false negatives")
			ceThreshold := fs.Float64("ce-threshold", 0, "with --cross-encoder: drop candidates scoring above this (raw logit, or probability with --ce-sigmoid) (unset: the positive's score)")
			ceSigmoid := fs.Bool("ce-sigmoid", false, "with --cross-encoder: compare sigmoid(logit) probabilities instead of logits")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv) (required)")
			histogram := fs.String("histogram", "", "write the distance histogram (positives vs candidates, the window shaded) to this .svg or .png")
			statsOut := fs.String("stats", "", "write the statistics as JSON to this file")
			cacheDir := fs.String("cache", "", "memoise the embeddings, the top-k and the selection in this step cache (e.g. .ragnb, shared with the notebook), so a new window re-runs only the selection")
			batch := fs.Int("batch-size", 32, "texts (or pairs) per batch")
			maxLen := fs.Int("max-length", 0, "truncate texts to this many tokens (0: the model's max_seq_length)")
			dim := fs.Int("dim", 0, "keep the first D embedding dimensions and renormalise (Matryoshka); 0 keeps all")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("mine", args); err != nil {
					return err
				}
				if *modelDir == "" || *data == "" || *out == "" {
					return usagef("--model, --data and --out are required")
				}
				if _, err := datasets.FormatOf(*out); err != nil {
					return usagef("%v", err)
				}
				if *histogram != "" && !strings.HasSuffix(*histogram, ".svg") && !strings.HasSuffix(*histogram, ".png") {
					return usagef("--histogram %s: want a .svg or .png file", *histogram)
				}
				wo := wdef
				wo.Anchor, wo.Positive, wo.CorpusColumn = *anchorCol, *positiveCol, *corpusField
				opts := &wo.Mining
				*opts = mining.Options{TopK: *topK, RangeMin: *rangeMin, RangeMax: *rangeMax,
					Window:       mining.Window{Distance: mining.Distance(*distance), Min: *minDist, Max: *maxDist},
					NumNegatives: *numNeg, Sampling: *sampling, Seed: *seed, Fallback: *fallback, Format: *format,
					OutputScores: *outputScores}
				if *maxDist == 0 {
					opts.Window = mining.Window{}
				}
				for _, f := range []struct {
					name string
					v    float64
					dst  **float64
				}{{"max-score", *maxScore, &opts.MaxScore}, {"min-score", *minScore, &opts.MinScore},
					{"absolute-margin", *absMargin, &opts.AbsoluteMargin}, {"relative-margin", *relMargin, &opts.RelativeMargin},
					{"ce-threshold", *ceThreshold, &opts.CEThreshold}} {
					if flagSet(fs, f.name) {
						*f.dst = mining.Float(f.v)
					}
				}
				if *ceDir == "" && (flagSet(fs, "ce-threshold") || *ceSigmoid) {
					return usagef("--ce-threshold and --ce-sigmoid need --cross-encoder")
				}
				if _, err := wo.Check(); err != nil {
					return usagef("%v", err)
				}

				df, err := datasets.Load(*data)
				if err != nil {
					return err
				}
				in := workflow.MineInput{DataID: datasets.Hash(df)}
				if in.Anchors, err = datasets.Strings(df, wo.Anchor); err != nil {
					return fmt.Errorf("%s: %w", *data, err)
				}
				if in.Positives, err = datasets.Strings(df, wo.Positive); err != nil {
					return fmt.Errorf("%s: %w", *data, err)
				}
				if *corpus != "" {
					if in.Corpus, err = readTexts(*corpus, wo.CorpusColumn); err != nil {
						return err
					}
				}
				env, err := stepEnv(std, *cacheDir)
				if err != nil {
					return err
				}
				if in.Model, err = workflow.OpenModel(ctx, env, *modelDir, encoder.Options{BatchSize: *batch, MaxLength: *maxLen, Dim: *dim}); err != nil {
					return err
				}
				if *ceDir != "" {
					if in.CrossEncoder, err = workflow.OpenModel(ctx, env, *ceDir, encoder.Options{BatchSize: *batch, MaxLength: *maxLen, Sigmoid: *ceSigmoid}); err != nil {
						return err
					}
				}
				start := time.Now()
				r, err := workflow.Mine(ctx, env, in, wo)
				if err != nil {
					return err
				}
				table := r.Frame()
				if err := datasets.Save(table, *out); err != nil {
					return err
				}
				fmt.Fprint(std.out, r.Stats.String())
				if *statsOut != "" {
					b, err := json.MarshalIndent(r.Stats, "", "  ")
					if err != nil {
						return err
					}
					if err := os.WriteFile(*statsOut, append(b, '\n'), 0o644); err != nil {
						return err
					}
				}
				if *histogram != "" {
					c, err := r.Histogram(0)
					if err != nil {
						return fmt.Errorf("histogram: %w", err)
					}
					if err := c.Save(*histogram); err != nil {
						return err
					}
				}
				cached := ""
				switch {
				case r.Cached:
					cached = " (the selection from the cache)"
				case r.EmbedCached && r.RetrieveCached:
					cached = " (embeddings and top-k from the cache)"
				}
				fmt.Fprintf(std.out, "wrote %d rows (%s) to %s in %v%s\n", table.Nrow(), r.Options.Format,
					*out, time.Since(start).Round(time.Millisecond), cached)
				return nil
			}
		},
	}
}
