package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/ragnb/ragnb/model/encoder"
)

func initModelCmd() *command {
	return &command{
		name:    "init-model",
		summary: "create a randomly initialised model (BERT bi-encoder, cross-encoder or static embeddings) in the Hugging Face / sentence-transformers layout",
		usage:   "--arch bert|xlm-roberta|modernbert|static|cross-encoder --tokenizer FILE --out DIR [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			arch := fs.String("arch", "", "bert, xlm-roberta or modernbert (bi-encoders; --cross-encoder for the sequence classifier), cross-encoder (BertForSequenceClassification, one label) or static (StaticEmbedding) (required)")
			cross := fs.Bool("cross-encoder", false, "bert, xlm-roberta, modernbert: write the sequence classifier (one label) instead of the bi-encoder")
			tokPath := fs.String("tokenizer", "", "tokenizer.json (or a directory holding one) to copy into the model; its vocabulary sizes the embeddings (required)")
			out := fs.String("out", "", "model directory to write (replaced atomically if it exists) (required)")
			seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same weights")
			layers := fs.Int("layers", 6, "bert, cross-encoder: transformer layers")
			hidden := fs.Int("hidden", 384, "bert, cross-encoder: hidden size")
			heads := fs.Int("heads", 12, "bert, cross-encoder: attention heads (must divide --hidden)")
			inter := fs.Int("intermediate", 1536, "bert, cross-encoder: feed-forward size")
			maxLen := fs.Int("max-len", 512, "bert, cross-encoder: maximum sequence length (position embeddings)")
			pooling := fs.String("pooling", "mean", "bert: pooling, cls, mean, max or mean_sqrt_len_tokens")
			normalize := fs.Bool("normalize", true, "bert, static: add a Normalize module (unit-length embeddings)")
			queryPrompt := fs.String("query-prompt", "", "bert, static: prompt put before queries (saved in config_sentence_transformers.json)")
			dim := fs.Int("dim", 256, "static: embedding dimension")
			initKind := fs.String("init", "random", "static: random (N(0,1)) or idf (N(0,1) × each token's IDF on --corpus: ranks like TF-IDF untrained)")
			corpus := fs.String("corpus", "", "static with --init idf: texts to count IDF on (.txt one per line, or .jsonl/.json/.csv/.tsv/.parquet with --field)")
			field := fs.String("field", "text", "static with --init idf: the column of --corpus holding the text")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("init-model", args); err != nil {
					return err
				}
				if *arch == "" || *tokPath == "" || *out == "" {
					return usagef("--arch, --tokenizer and --out are required")
				}
				start := time.Now()
				tok, tokFiles, err := encoder.LoadTokenizer(*tokPath)
				if err != nil {
					return err
				}
				var prompts map[string]string
				if *queryPrompt != "" {
					prompts = map[string]string{"query": *queryPrompt, "document": ""}
				}
				spec := encoder.BERTSpec{Layers: *layers, Hidden: *hidden, Heads: *heads, Intermediate: *inter,
					MaxLength: *maxLen, Pooling: *pooling, Normalize: *normalize, Prompts: prompts, Seed: *seed}
				var save func(string) error
				var what string
				if *arch == encoder.ArchXLMRoberta || *arch == encoder.ArchModernBERT {
					spec.Arch = *arch
				}
				if *cross && *arch != "static" {
					*arch = "cross-encoder"
				}
				switch *arch {
				case "bert", encoder.ArchXLMRoberta, encoder.ArchModernBERT:
					m, err := encoder.NewBERTBiEncoder(tok, tokFiles, spec, encoder.Options{})
					if err != nil {
						return err
					}
					save = m.Save
					what = fmt.Sprintf("%s bi-encoder (%d layers, hidden %d, %d heads, FF %d, %s pooling, max length %d)",
						*arch, *layers, *hidden, *heads, *inter, *pooling, *maxLen)
				case "cross-encoder":
					m, err := encoder.NewBERTCrossEncoder(tok, tokFiles, spec, encoder.Options{})
					if err != nil {
						return err
					}
					save = m.Save
					what = fmt.Sprintf("%s cross-encoder (%d layers, hidden %d, %d heads, FF %d, max length %d)", orBERT(spec.Arch), *layers, *hidden, *heads, *inter, *maxLen)
				case "static":
					st := encoder.StaticSpec{Dim: *dim, Init: *initKind, Normalize: *normalize, Prompts: prompts, Seed: *seed}
					if *initKind == encoder.InitIDF {
						if *corpus == "" {
							return usagef("--init idf needs --corpus")
						}
						if st.Corpus, err = readTexts(*corpus, *field); err != nil {
							return err
						}
					} else if *corpus != "" {
						return usagef("--corpus is only used with --init idf")
					}
					m, err := encoder.NewStatic(ctx, tok, tokFiles, st, encoder.Options{}, progressTo(std))
					if err != nil {
						return err
					}
					save = m.Save
					what = fmt.Sprintf("static embeddings (dim %d, %s init)", *dim, *initKind)
				default:
					return usagef("unknown --arch %q (want bert, xlm-roberta, modernbert, cross-encoder or static)", *arch)
				}
				if err := save(*out); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "wrote %s with %d-token vocabulary to %s in %v\n", what, tok.VocabSize(), *out, time.Since(start).Round(time.Millisecond))
				return nil
			}
		},
	}
}

func orBERT(arch string) string {
	if arch == "" {
		return encoder.ArchBERT
	}
	return arch
}
