package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/workflow"
)

func indexCmd() *command {
	return &command{
		name:    "index",
		summary: "build, extend (add), describe (info) or push to Weaviate (push) a vector index over a corpus for a bi-encoder",
		usage: "[flags] build|add|info|push\n\n" +
			"  build  --model DIR --corpus FILE --out DIR [--hnsw]: embed the corpus and save the index\n" +
			"  add    --index DIR --corpus FILE [--model DIR]: embed and add the documents the index lacks\n" +
			"  info   --index DIR: the manifest (kind, size, dimension, model and its hash)\n" +
			"  push   --index DIR --weaviate URL [--collection NAME] [--dim D] [--api-key-env VAR] [--prune]: copy the\n" +
			"         documents and vectors into a Weaviate collection (idempotent: run it again to resume or update)\n\n" +
			"Flags may come before or after the subcommand. The index records the model's content hash: opening it\n" +
			"with a changed or different model is a \"stale index\" error (or a rebuild with --rebuild-stale).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var cf corpusFlags
			cf.register(fs)
			modelDir := fs.String("model", "", "bi-encoder model `directory` (add: default the model the index was built with)")
			out := fs.String("out", "", "build: index `directory` to write (replaced atomically if it holds an index)")
			indexDir := fs.String("index", "", "add, info: the index `directory`")
			useHNSW := fs.Bool("hnsw", false, "build: an HNSW graph (approximate, for large corpora) instead of exact search")
			m := fs.Int("m", 16, "build --hnsw: links per node (layer 0 keeps 2×)")
			efc := fs.Int("ef-construction", 200, "build --hnsw: candidate list size while linking")
			efs := fs.Int("ef-search", 128, "build --hnsw: default candidate list size of a search")
			dim := fs.Int("dim", 0, "build, push: keep the first `D` embedding dimensions, renormalised (Matryoshka); 0 keeps all")
			sim := fs.String("similarity", "cosine", "build: cosine or dot")
			batch := fs.Int("batch-size", workflow.DefaultPushIndexOptions().BatchSize, "texts per embedding call; push: objects per batch request")
			rebuild := fs.Bool("rebuild-stale", false, "add: when the index was built with another model, re-embed every document with --model first")
			asJSON := fs.Bool("json", false, "info: print the manifest as JSON")
			var push pushFlags
			push.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) == 0 {
					return usagef("missing subcommand: build, add or info")
				}
				sub := args[0]
				if err := fs.Parse(args[1:]); err != nil {
					if errors.Is(err, flag.ErrHelp) {
						return nil
					}
					return usageError{err.Error()}
				}
				if err := noArgs("index", fs.Args()); err != nil {
					return err
				}
				report := progressTo(std)
				switch sub {
				case "build":
					if *modelDir == "" || *out == "" {
						return usagef("build needs --model, --corpus and --out")
					}
					docs, err := cf.load()
					if err != nil {
						return err
					}
					model, err := openBiEncoder(ctx, *modelDir, report)
					if err != nil {
						return err
					}
					opts := index.Options{Kind: index.Exact, Similarity: search.Similarity(*sim), Dim: *dim, BatchSize: *batch,
						HNSW: hnsw.Params{M: *m, EfConstruction: *efc, EfSearch: *efs}}
					if *useHNSW {
						opts.Kind = index.HNSW
					}
					start := time.Now()
					ix, err := index.Build(ctx, model, docs, opts, report)
					if err != nil {
						return err
					}
					if err := ix.Save(*out); err != nil {
						return err
					}
					fmt.Fprintf(std.out, "wrote %s in %.1f s: %s\n", *out, time.Since(start).Seconds(), ix.Manifest())
					return nil
				case "add":
					if *indexDir == "" {
						return usagef("add needs --index and --corpus")
					}
					docs, err := cf.load()
					if err != nil {
						return err
					}
					ix, _, _, err := openIndexDir(ctx, *indexDir, *modelDir, index.OpenOptions{RebuildStale: *rebuild, BatchSize: *batch}, report)
					if err != nil {
						return err
					}
					n, addErr := ix.Add(ctx, docs, report)
					if n > 0 {
						if err := ix.Save(*indexDir); err != nil {
							return err
						}
					}
					fmt.Fprintf(std.out, "added %d of %d documents (%d already indexed): %s\n", n, len(docs), len(docs)-n, ix.Manifest())
					return addErr
				case "info":
					if *indexDir == "" {
						return usagef("info needs --index")
					}
					man, err := index.ReadManifest(*indexDir)
					if err != nil {
						return err
					}
					if *asJSON {
						b, _ := json.MarshalIndent(man, "", "  ")
						fmt.Fprintln(std.out, string(b))
						return nil
					}
					fmt.Fprintf(std.out, "%s\nmodel hash %s\ncreated %s, updated %s\n", man, man.ModelHash,
						man.Created.Format(time.RFC3339), man.Updated.Format(time.RFC3339))
					return nil
				case "push":
					if *indexDir == "" {
						return usagef("push needs --index and --weaviate")
					}
					return push.run(ctx, std, *indexDir, *dim, *batch)
				}
				return usagef("unknown subcommand %q (want build, add, info or push)", sub)
			}
		},
	}
}
