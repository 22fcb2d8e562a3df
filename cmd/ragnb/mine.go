package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

func mineCmd() *command {
	return &command{
		name:    "mine",
		summary: "mine hard negatives for (anchor, positive) pairs with a bi-encoder: rank range, distance window, margins, cross-encoder check",
		usage:   "--model DIR --data pairs.jsonl --out triplets.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			def := mining.DefaultOptions()
			modelDir := fs.String("model", "", "bi-encoder directory (Hugging Face / sentence-transformers layout) or Hub id (required)")
			data := fs.String("data", "", "pairs table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
			anchorCol := fs.String("anchor", "anchor", "column of --data holding the anchors (queries)")
			positiveCol := fs.String("positive", "positive", "column of --data holding the positives")
			corpus := fs.String("corpus", "", "extra candidate passages (.txt one per line, or a table with --corpus-field); the positives are always candidates")
			corpusField := fs.String("corpus-field", "text", "column of --corpus holding the passages (tables only)")
			topK := fs.Int("top-k", def.TopK, "passages retrieved per query (exact search), positives included")
			rangeMin := fs.Int("range-min", 0, "skip this many of the nearest candidates that pass the filters (sentence-transformers' range_min)")
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
			seed := fs.Uint64("seed", 0, "seed of random sampling and of the random fallback")
			format := fs.String("format", def.Format, "triplet (anchor, positive, negative), n-tuple (negative_1..n; queries short of negatives are left out) or labeled-pair (anchor, passage, label)")
			outputScores := fs.Bool("output-scores", false, "add the bi-encoder cosines: positive_score and negative[_i]_score columns, or a score column instead of label")
			fallback := fs.String("fallback", def.Fallback, "for a query with fewer negatives than asked: fewer (keep what was found), nearest (fill with the candidates nearest outside the window), random (fill from the whole corpus) or skip (leave the query out)")
			ceDir := fs.String("cross-encoder", "", "cross-encoder directory or Hub id: drop candidates it scores above the query's positive (or above --ce-threshold) as likely false negatives")
			ceThreshold := fs.Float64("ce-threshold", 0, "with --cross-encoder: drop candidates scoring above this (raw logit, or probability with --ce-sigmoid) (unset: the positive's score)")
			ceSigmoid := fs.Bool("ce-sigmoid", false, "with --cross-encoder: compare sigmoid(logit) probabilities instead of logits")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv) (required)")
			histogram := fs.String("histogram", "", "write the distance histogram (positives vs candidates, the window shaded) to this .svg or .png")
			statsOut := fs.String("stats", "", "write the statistics as JSON to this file")
			cacheDir := fs.String("cache", "", "memoise the embeddings and the top-k in this step cache (e.g. .ragnb), so a new window re-runs only the selection")
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
				opts := mining.Options{TopK: *topK, RangeMin: *rangeMin, RangeMax: *rangeMax,
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
				check := opts
				check.CEThreshold = nil // the cross-encoder is loaded later; the pairing was checked above
				if _, err := check.WithDefaults(); err != nil {
					return usagef("%v", err)
				}

				df, err := datasets.Load(*data)
				if err != nil {
					return err
				}
				anchors, err := datasets.Strings(df, *anchorCol)
				if err != nil {
					return fmt.Errorf("%s: %w", *data, err)
				}
				positives, err := datasets.Strings(df, *positiveCol)
				if err != nil {
					return fmt.Errorf("%s: %w", *data, err)
				}
				var extra []string
				if *corpus != "" {
					if extra, err = readTexts(*corpus, *corpusField); err != nil {
						return err
					}
				}
				set, err := mining.NewSet(anchors, positives, extra)
				if err != nil {
					return err
				}
				dir, err := resolveModel(ctx, *modelDir, std)
				if err != nil {
					return err
				}
				encOpts := encoder.Options{BatchSize: *batch, MaxLength: *maxLen, Dim: *dim}
				load := func() (vector.Embedder, error) { return encoder.LoadBiEncoder(dir, encOpts) }
				po := mining.PrepareOptions{TopK: *topK}
				if *cacheDir != "" {
					if po.Cache, err = cache.Open(*cacheDir); err != nil {
						return err
					}
					h, err := cache.HashDir(dir)
					if err != nil {
						return err
					}
					po.ModelID = cache.HashStrings(h, fmt.Sprintf("max-length=%d dim=%d", *maxLen, *dim))
				}
				if *ceDir != "" {
					cdir, err := resolveModel(ctx, *ceDir, std)
					if err != nil {
						return err
					}
					ce, err := encoder.LoadCrossEncoder(cdir, encoder.Options{BatchSize: *batch, MaxLength: *maxLen, Sigmoid: *ceSigmoid})
					if err != nil {
						return err
					}
					opts.CrossEncoder = ce
				}
				report := lineProgress(std.err, 2*time.Second)
				start := time.Now()
				p, err := mining.Prepare(ctx, set, load, po, report)
				if err != nil {
					return err
				}
				prepared := time.Since(start)
				r, err := mining.Select(ctx, p, opts, report)
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
				if p.EmbedCached && p.RetrieveCached {
					cached = " (embeddings and top-k from the cache)"
				}
				fmt.Fprintf(std.out, "wrote %d rows (%s) to %s; embed + search %v%s, selection and output %v\n", table.Nrow(), r.Options.Format,
					*out, prepared.Round(time.Millisecond), cached, (time.Since(start) - prepared).Round(time.Millisecond))
				return nil
			}
		},
	}
}
