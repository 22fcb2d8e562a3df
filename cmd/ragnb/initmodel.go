package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/workflow"
)

func initModelCmd() *command {
	return &command{
		name:    "init-model",
		summary: "create a randomly initialised model (BERT, XLM-RoBERTa or ModernBERT bi- or cross-encoder, or static embeddings) in the Hugging Face / sentence-transformers layout",
		usage:   "--arch " + strings.Join(workflow.Architectures(), "|") + " --tokenizer FILE --out DIR [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			st, bt := workflow.DefaultStaticOptions(), workflow.DefaultBertOptions()
			arch := fs.String("arch", "", "bert, xlm-roberta or modernbert (bi-encoders; --cross-encoder for the sequence classifier), cross-encoder (BertForSequenceClassification, one label) or static (StaticEmbedding) (required)")
			cross := fs.Bool("cross-encoder", false, "bert, xlm-roberta, modernbert: write the sequence classifier (one label) instead of the bi-encoder")
			tokPath := fs.String("tokenizer", "", "tokenizer.json (or a directory holding one) to copy into the model; its vocabulary sizes the embeddings (required)")
			out := fs.String("out", "", "model directory to write (replaced atomically if it exists) (required)")
			seed := fs.Uint64("seed", bt.Seed, "random seed: the same seed gives the same weights")
			layers := fs.Int("layers", bt.Layers, "bert, cross-encoder: transformer layers")
			hidden := fs.Int("hidden", bt.Hidden, "bert, cross-encoder: hidden size")
			heads := fs.Int("heads", bt.Heads, "bert, cross-encoder: attention heads (must divide --hidden)")
			inter := fs.Int("intermediate", bt.Intermediate, "bert, cross-encoder: feed-forward size (0: 4 × --hidden)")
			maxLen := fs.Int("max-len", bt.MaxLength, "bert, cross-encoder: maximum sequence length (position embeddings)")
			pooling := fs.String("pooling", bt.Pooling, "bert: pooling, cls, mean, max or mean_sqrt_len_tokens")
			normalize := fs.Bool("normalize", bt.Normalize, "bert, static: add a Normalize module (unit-length embeddings)")
			queryPrompt := fs.String("query-prompt", "", "bert, static: prompt put before queries (saved in config_sentence_transformers.json)")
			dim := fs.Int("dim", st.Dim, "static: embedding dimension")
			initKind := fs.String("init", st.Init, "static: idf (N(0,1) × each token's IDF on --corpus: ranks like TF-IDF untrained), random (N(0,1)), or auto (idf with --corpus, else random)")
			corpus := fs.String("corpus", "", "static: texts to count IDF on (.txt one per line, or .jsonl/.json/.csv/.tsv/.parquet with --field)")
			field := fs.String("field", "text", "static: the column of --corpus holding the text")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("init-model", args); err != nil {
					return err
				}
				if *arch == "" || *tokPath == "" || *out == "" {
					return usagef("--arch, --tokenizer and --out are required")
				}
				o := workflow.DefaultInitModelOptions(*arch)
				o.CrossEncoder = *cross
				o.Bert = workflow.BertOptions{Layers: *layers, Hidden: *hidden, Heads: *heads, Intermediate: *inter,
					MaxLength: *maxLen, Pooling: *pooling, Seed: *seed, Normalize: *normalize, QueryPrompt: *queryPrompt}
				o.Static.Dim, o.Static.Init, o.Static.Seed = *dim, *initKind, *seed
				o.Static.Normalize, o.Static.QueryPrompt = *normalize, *queryPrompt
				in := workflow.InitModelInput{Tokenizer: *tokPath, Out: *out}
				if *corpus != "" {
					if *arch != workflow.ArchStatic || *initKind == encoder.InitRandom {
						return usagef("--corpus is only used with --arch static and --init idf or auto")
					}
					var err error
					if in.Corpus, err = readTexts(*corpus, *field); err != nil {
						return err
					}
				}
				if !slices.Contains(workflow.Architectures(), *arch) {
					return usagef("unknown --arch %q (want %s)", *arch, strings.Join(workflow.Architectures(), ", "))
				}
				if *arch == workflow.ArchStatic && *initKind == encoder.InitIDF && *corpus == "" {
					return usagef("--init idf needs --corpus")
				}
				if err := o.Check(in); err != nil {
					return usagef("%v", err)
				}
				start := time.Now()
				env := workflow.Env{Progress: progressTo(std)}
				m, err := workflow.InitModel(ctx, env, in, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "wrote %s with %d-token vocabulary to %s in %v\n", m.What, m.VocabSize, *out, time.Since(start).Round(time.Millisecond))
				return nil
			}
		},
	}
}
