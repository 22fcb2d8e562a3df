package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
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
		usage:   "--model DIR --data pairs.jsonl --out triplets.jsonl [--corpus FILE | --weaviate URL --collection NAME] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			a := newMineArgs(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("mine", args); err != nil {
					return err
				}
				if *a.modelDir == "" || *a.data == "" || *a.out == "" {
					return usagef("--model, --data and --out are required")
				}
				if _, err := datasets.FormatOf(*a.out); err != nil {
					return usagef("%v", err)
				}
				if *a.histogram != "" && !strings.HasSuffix(*a.histogram, ".svg") && !strings.HasSuffix(*a.histogram, ".png") {
					return usagef("--histogram %s: want a .svg or .png file", *a.histogram)
				}
				wo, err := a.options()
				if err != nil {
					return err
				}

				df, err := datasets.Load(*a.data)
				if err != nil {
					return err
				}
				in := workflow.MineInput{DataID: datasets.Hash(df)}
				if in.Anchors, err = datasets.Strings(df, wo.Anchor); err != nil {
					return fmt.Errorf("%s: %w", *a.data, err)
				}
				if in.Positives, err = datasets.Strings(df, wo.Positive); err != nil {
					return fmt.Errorf("%s: %w", *a.data, err)
				}
				if in.Weaviate, err = a.weaviate.source(); err != nil {
					return err
				}
				if in.Weaviate != nil && *a.corpus != "" {
					return usagef("--corpus and --weaviate: the collection is the corpus, give one or the other")
				}
				if *a.corpus != "" {
					if in.Corpus, err = readTexts(*a.corpus, wo.CorpusColumn); err != nil {
						return err
					}
				}
				env, err := stepEnv(std, *a.cacheDir)
				if err != nil {
					return err
				}
				prompts, err := a.query.prompts()
				if err != nil {
					return err
				}
				if in.Model, err = workflow.OpenAdapted(ctx, env, *a.modelDir, *a.adapterDir, encoder.Options{BatchSize: *a.batch, MaxLength: *a.maxLen, Dim: *a.dim, Prompts: prompts}); err != nil {
					return err
				}
				if *a.ceDir != "" {
					if in.CrossEncoder, err = workflow.OpenModel(ctx, env, *a.ceDir, encoder.Options{BatchSize: *a.batch, MaxLength: *a.maxLen, Sigmoid: *a.ceSigmoid}); err != nil {
						return err
					}
				}
				start := time.Now()
				r, err := workflow.Mine(ctx, env, in, wo)
				if err != nil {
					return err
				}
				rows, err := r.Save(*a.out)
				if err != nil {
					return err
				}
				if r.Weaviate != nil {
					fmt.Fprintln(std.out, r.Weaviate.String())
				}
				if r.Suggestion != nil {
					fmt.Fprintln(std.out, r.Suggestion.String())
				}
				fmt.Fprint(std.out, r.Stats.String())
				if *a.statsOut != "" {
					b, err := json.MarshalIndent(r.Stats, "", "  ")
					if err != nil {
						return err
					}
					if err := os.WriteFile(*a.statsOut, append(b, '\n'), 0o644); err != nil {
						return err
					}
				}
				if *a.histogram != "" {
					c, err := workflow.MineHistogram(r.Result, r.Suggestion, 0)
					if err != nil {
						return fmt.Errorf("histogram: %w", err)
					}
					if err := c.Save(*a.histogram); err != nil {
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
				fmt.Fprintf(std.out, "wrote %d rows (%s) to %s in %v%s\n", rows, r.Format,
					*a.out, time.Since(start).Round(time.Millisecond), cached)
				return nil
			}
		},
	}
}

// mineArgs are the flags of `ragnb mine`.
type mineArgs struct {
	fs           *flag.FlagSet
	modelDir     *string
	adapterDir   *string
	data         *string
	anchorCol    *string
	positiveCol  *string
	corpus       *string
	corpusField  *string
	topK         *int
	rangeMin     *int
	rangeMax     *int
	distance     *string
	minDist      *float64
	maxDist      *float64
	maxScore     *float64
	minScore     *float64
	absMargin    *float64
	relMargin    *float64
	numNeg       *int
	sampling     *string
	seed         *uint64
	format       *string
	outputScores *bool
	fallback     *string
	rangeSample  *string
	query        queryInstructionFlags
	ceDir        *string
	ceThreshold  *float64
	ceSigmoid    *bool
	out          *string
	histogram    *string
	statsOut     *string
	cacheDir     *string
	batch        *int
	maxLen       *int
	dim          *int
	suggest      *bool
	suggestQ     *string
	weaviate     weaviateFlags
}

// options are the mining options the flags ask for: workflow.DefaultMineOptions where a flag is left alone.
func (a *mineArgs) options() (workflow.MineOptions, error) {
	wo := workflow.DefaultMineOptions()
	wo.Anchor, wo.Positive, wo.CorpusColumn = *a.anchorCol, *a.positiveCol, *a.corpusField
	opts := &wo.Mining
	*opts = mining.Options{TopK: *a.topK, RangeMin: *a.rangeMin, RangeMax: *a.rangeMax,
		Window:       mining.Window{Distance: mining.Distance(*a.distance), Min: *a.minDist, Max: *a.maxDist},
		NumNegatives: *a.numNeg, Sampling: *a.sampling, Seed: *a.seed, Fallback: *a.fallback, Format: *a.format,
		OutputScores: *a.outputScores}
	if *a.maxDist == 0 {
		opts.Window = mining.Window{}
	}
	for _, f := range []struct {
		name string
		v    float64
		dst  **float64
	}{{"max-score", *a.maxScore, &opts.MaxScore}, {"min-score", *a.minScore, &opts.MinScore},
		{"absolute-margin", *a.absMargin, &opts.AbsoluteMargin}, {"relative-margin", *a.relMargin, &opts.RelativeMargin},
		{"ce-threshold", *a.ceThreshold, &opts.CEThreshold}} {
		if flagSet(a.fs, f.name) {
			*f.dst = mining.Float(f.v)
		}
	}
	if *a.ceDir == "" && (flagSet(a.fs, "ce-threshold") || *a.ceSigmoid) {
		return wo, usagef("--ce-threshold and --ce-sigmoid need --cross-encoder")
	}
	wo.SuggestWindow = *a.suggest
	q := strings.Split(*a.suggestQ, ",")
	if len(q) != 2 {
		return wo, usagef("--suggest-quantiles %q: want two quantiles LOW,HIGH such as 0.1,0.9", *a.suggestQ)
	}
	for i, s := range q {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return wo, usagef("--suggest-quantiles %q: %q is not a number", *a.suggestQ, s)
		}
		wo.SuggestQuantiles[i] = v
	}
	if !(0 <= wo.SuggestQuantiles[0] && wo.SuggestQuantiles[0] < wo.SuggestQuantiles[1] && wo.SuggestQuantiles[1] <= 1) {
		return wo, usagef("--suggest-quantiles %q: want 0 ≤ LOW < HIGH ≤ 1", *a.suggestQ)
	}
	if *a.rangeSample != "" {
		for _, n := range []string{"range-min", "range-max", "sampling", "fallback"} {
			if flagSet(a.fs, n) {
				return wo, usagef("--range-for-sampling sets --%s: give one or the other", n)
			}
		}
		var err error
		if wo, err = wo.WithRangeForSampling(*a.rangeSample); err != nil {
			return wo, usagef("--%v", err)
		}
	}
	if _, err := wo.Check(); err != nil {
		return wo, usagef("%v", err)
	}
	return wo, nil
}

// newMineArgs declares the flags of `ragnb mine` on fs; their defaults are workflow.DefaultMineOptions.
func newMineArgs(fs *flag.FlagSet) *mineArgs {
	wdef := workflow.DefaultMineOptions()
	def := wdef.Mining
	a := &mineArgs{fs: fs}
	a.modelDir = fs.String("model", "", "bi-encoder directory (Hugging Face / sentence-transformers layout) or Hub id (required)")
	a.adapterDir = fs.String("adapter", "", "adapter `directory` from `ragnb train-adapter` on the query embeddings (the passages keep the base model's vectors)")
	a.data = fs.String("data", "", "pairs table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
	a.anchorCol = fs.String("anchor", wdef.Anchor, "column of --data holding the anchors (queries)")
	a.positiveCol = fs.String("positive", wdef.Positive, "column of --data holding the positives")
	a.corpus = fs.String("corpus", "", "extra candidate passages (.txt one per line, or a table with --corpus-field); the positives are always candidates")
	a.corpusField = fs.String("corpus-field", wdef.CorpusColumn, "column of --corpus holding the passages (tables only)")
	a.topK = fs.Int("top-k", def.TopK, "passages retrieved per query (exact search), positives included")
	a.rangeMin = fs.Int("range-min", def.RangeMin, "skip this many of the nearest candidates that pass the filters (sentence-transformers' range_min)")
	a.query.register(fs)
	a.rangeSample = fs.String("range-for-sampling", "", "FlagEmbedding hn_mine's `a-b`: sample negatives at random from ranks a..b of the retrieved list "+
		"(positives counted, then excluded; top-k raised to b), falling back to random corpus passages when short; the window still applies (--max-distance 0: none)")
	a.rangeMax = fs.Int("range-max", 0, "consider candidates before this position among those that pass the filters (range_max); 0 means --top-k")
	a.distance = fs.String("distance", string(def.Window.Distance), "distance of the window: l2 (√(2 − 2·cos), unit vectors) or cosine (1 − cos)")
	a.minDist = fs.Float64("min-distance", def.Window.Min, "window: keep candidates with distance > this")
	a.maxDist = fs.Float64("max-distance", def.Window.Max, "window: keep candidates with distance ≤ this; 0 turns the window off (the default 0.4 < d ≤ 0.7 is BGE's L2 window: 0.755 ≤ cos < 0.92)")
	a.maxScore = fs.Float64("max-score", 0, "drop candidates with cosine > this (unset: no bound)")
	a.minScore = fs.Float64("min-score", 0, "drop candidates with cosine < this (unset: no bound)")
	a.absMargin = fs.Float64("absolute-margin", 0, "drop candidates with cosine + margin > the positive's cosine (unset: no margin; 0 keeps only negatives scoring at most the positive)")
	a.relMargin = fs.Float64("relative-margin", 0, "drop candidates with cosine > positive − |positive|·margin (unset: no margin; NV-Retriever uses 0.05)")
	a.numNeg = fs.Int("num-negatives", def.NumNegatives, "negatives per query")
	a.sampling = fs.String("sampling", def.Sampling, "top (nearest eligible candidates) or random (uniform among the eligible, seeded)")
	a.seed = fs.Uint64("seed", def.Seed, "seed of random sampling and of the random fallback")
	a.format = fs.String("format", def.Format, "triplet (anchor, positive, negative), n-tuple (negative_1..n; queries short of negatives are left out), labeled-pair (anchor, passage, label) "+
		"or flag (FlagEmbedding JSONL {query, pos, neg[, pos_scores, neg_scores]}, one line per query, for ragnb train --train-group-size; --out .jsonl)")
	a.outputScores = fs.Bool("output-scores", def.OutputScores, "add the bi-encoder cosines: positive_score and negative[_i]_score columns, or a score column instead of label")
	a.fallback = fs.String("fallback", def.Fallback, "for a query with fewer negatives than asked: fewer (keep what was found), nearest (fill with the candidates nearest outside the window), random (fill from the whole corpus) or skip (leave the query out)")
	a.ceDir = fs.String("cross-encoder", "", "cross-encoder directory or Hub id: drop candidates it scores above the query's positive (or above --ce-threshold) as likely false negatives")
	a.ceThreshold = fs.Float64("ce-threshold", 0, "with --cross-encoder: drop candidates scoring above this (raw logit, or probability with --ce-sigmoid) (unset: the positive's score)")
	a.ceSigmoid = fs.Bool("ce-sigmoid", false, "with --cross-encoder: compare sigmoid(logit) probabilities instead of logits")
	a.out = fs.String("out", "", "output table (.jsonl, .csv, .tsv) (required)")
	a.histogram = fs.String("histogram", "", "write the distance histogram (positives vs candidates, the window shaded) to this .svg or .png")
	a.statsOut = fs.String("stats", "", "write the statistics as JSON to this file")
	a.cacheDir = fs.String("cache", "", "memoise the embeddings, the top-k and the selection in this step cache (e.g. .ragnb, shared with the notebook), so a new window re-runs only the selection")
	a.batch = fs.Int("batch-size", 32, "texts (or pairs) per batch")
	a.maxLen = fs.Int("max-length", 0, "truncate texts to this many tokens (0: the model's max_seq_length)")
	a.suggest = fs.Bool("suggest-window", wdef.SuggestWindow, "mine with a window read off the data instead of --min/--max-distance: the positives' own distances (on --distance) between --suggest-quantiles; it is printed, with how many queries it covers, and drawn on --histogram")
	a.suggestQ = fs.String("suggest-quantiles", strconv.FormatFloat(wdef.SuggestQuantiles[0], 'g', -1, 64)+","+strconv.FormatFloat(wdef.SuggestQuantiles[1], 'g', -1, 64),
		"`LOW,HIGH` quantiles of the positives' distances that bound --suggest-window")
	a.dim = fs.Int("dim", 0, "keep the first D embedding dimensions and renormalise (Matryoshka); 0 keeps all")
	a.weaviate.register(fs, "with --weaviate: the collection `name` to mine from (written by `ragnb index push` with --model's model); "+
		"each anchor's top-k comes from its nearVector search instead of the exact search over --corpus, and a random fallback draws from the passages retrieved", "api-key-env")
	return a
}
