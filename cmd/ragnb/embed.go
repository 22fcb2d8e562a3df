package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/vector"
	"github.com/ragnb/ragnb/workflow"
)

func embedCmd() *command {
	return &command{
		name:    "embed",
		summary: "embed texts with a bi-encoder (BERT family or static) into a float32 .npy matrix, one row per text in input order",
		usage:   "--model DIR --in FILE [--field text] [--prompt P | --query] [--dim D] --out FILE.npy",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			def := workflow.DefaultEmbedOptions()
			modelDir := fs.String("model", "", "model directory (Hugging Face / sentence-transformers layout), or a Hub id such as BAAI/bge-small-en-v1.5 (downloaded to the HF cache) (required)")
			in := fs.String("in", "", "texts: .txt (one per line), or .jsonl/.json/.csv/.tsv/.parquet with --field (required)")
			field := fs.String("field", "text", "column of --in holding the texts (tables only)")
			prompt := fs.String("prompt", "", "literal prompt put before every text (default: the model's document prompt, usually none)")
			query := fs.Bool("query", def.Queries, "embed as queries: put the model's query prompt (config_sentence_transformers.json) before every text")
			dim := fs.Int("dim", 0, "keep the first D dimensions and renormalise (Matryoshka); 0 keeps all")
			out := fs.String("out", "", "output .npy file (float32, texts × dim) (required)")
			batch := fs.Int("batch-size", 32, "texts per batch")
			maxLen := fs.Int("max-length", 0, "truncate texts to this many tokens (0: the model's max_seq_length)")
			cacheDir := fs.String("cache", "", "memoise the embeddings in this step cache (e.g. .ragnb, shared with the notebook and `ragnb mine --cache`)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("embed", args); err != nil {
					return err
				}
				if *modelDir == "" || *in == "" || *out == "" {
					return usagef("--model, --in and --out are required")
				}
				if flagSet(fs, "prompt") && *query {
					return usagef("--prompt and --query are exclusive")
				}
				if !strings.HasSuffix(strings.ToLower(*out), ".npy") {
					return usagef("--out %s: want a .npy file", *out)
				}
				texts, err := readTexts(*in, *field)
				if err != nil {
					return err
				}
				env, err := stepEnv(std, *cacheDir)
				if err != nil {
					return err
				}
				m, err := workflow.OpenModel(ctx, env, *modelDir, encoder.Options{BatchSize: *batch, Dim: *dim, MaxLength: *maxLen})
				if err != nil {
					return err
				}
				o := def
				o.Queries = *query
				if flagSet(fs, "prompt") {
					o.Prompt = prompt
				}
				start := time.Now()
				e, err := workflow.Embed(ctx, env, workflow.EmbedInput{Texts: texts, Model: m}, o)
				if err != nil {
					return err
				}
				emb := e.Vectors
				if err := vector.SaveNPY(*out, emb); err != nil {
					return err
				}
				secs := time.Since(start).Seconds()
				from := ""
				if e.Cached {
					from = "; from the cache"
				}
				fmt.Fprintf(std.out, "embedded %d texts into %s (%d × %d float32) in %.1fs (%.1f texts/s)%s\n",
					len(texts), *out, emb.Rows, emb.Dim, secs, float64(len(texts))/secs, from)
				return nil
			}
		},
	}
}

// readTexts reads one text per line from a .txt file (a final newline does not add an empty text), or the
// field column of a table file.
func readTexts(path, field string) ([]string, error) { return datasets.LoadTexts(path, field) }

// resolveModel turns a model directory or Hub id into a local directory (hub.Resolve with the
