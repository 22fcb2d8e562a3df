package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/workflow"
)

// indexBuildFlags bind index build's flags to workflow.IndexOptions; their defaults are DefaultIndexOptions.
type indexBuildFlags struct {
	o    workflow.IndexOptions
	hnsw bool
	sim  string
}

func (f *indexBuildFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultIndexOptions()
	f.o = def
	fs.BoolVar(&f.hnsw, "hnsw", def.Kind == index.HNSW, "build: an HNSW graph (approximate, for large corpora) instead of exact search")
	fs.IntVar(&f.o.HNSW.M, "m", def.HNSW.M, "build --hnsw: links per node (layer 0 keeps 2×)")
	fs.IntVar(&f.o.HNSW.EfConstruction, "ef-construction", def.HNSW.EfConstruction, "build --hnsw: candidate list size while linking")
	fs.IntVar(&f.o.HNSW.EfSearch, "ef-search", def.HNSW.EfSearch, "build --hnsw: default candidate list size of a search")
	fs.IntVar(&f.o.Dim, "dim", def.Dim, "build, push: keep the first `D` embedding dimensions, renormalised (Matryoshka); 0 keeps all")
	fs.StringVar(&f.sim, "similarity", string(def.Similarity), "build: cosine or dot")
	fs.IntVar(&f.o.BatchSize, "batch-size", def.BatchSize, "texts per embedding call; push: objects per batch request")
}

func (f *indexBuildFlags) options() workflow.IndexOptions {
	o := f.o
	o.Similarity, o.Kind = search.Similarity(f.sim), index.Exact
	if f.hnsw {
		o.Kind = index.HNSW
	}
	return o
}

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
			var bf indexBuildFlags
			bf.register(fs)
			rebuild := fs.Bool("rebuild-stale", false, "add: when the index was built with another model, re-embed every document with --model first")
			asJSON := fs.Bool("json", false, "info: print the manifest as JSON")
			var push indexPushFlags
			push.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) == 0 {
					return usagef("missing subcommand: build, add, info or push")
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
				env, err := stepEnv(std, "")
				if err != nil {
					return err
				}
				switch sub {
				case "build":
					if *modelDir == "" || *out == "" {
						return usagef("build needs --model, --corpus and --out")
					}
					docs, err := cf.load()
					if err != nil {
						return err
					}
					model, err := workflow.OpenModel(ctx, env, *modelDir, encoder.Options{})
					if err == nil {
						_, err = model.BiEncoder() // loaded now, so that an error names the flag
					}
					if err != nil {
						return fmt.Errorf("--model %s: %w", *modelDir, err)
					}
					o := bf.options()
					start := time.Now()
					built, err := workflow.BuildIndex(ctx, env, workflow.IndexInput{Docs: docs, Model: model, Name: *modelDir}, o)
					if err != nil {
						return err
					}
					ix := built.Index
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
					ix, _, _, err := workflow.OpenIndex(ctx, env, *indexDir, *modelDir, "", encoder.Options{}, index.OpenOptions{RebuildStale: *rebuild, BatchSize: bf.o.BatchSize})
					if err != nil {
						return err
					}
					n, addErr := ix.Add(ctx, docs, env.Progress)
					if n > 0 {
						if err := ix.Save(*indexDir); err != nil {
							return err
						}
					}
					fmt.Fprintf(std.out, "added %d of %d documents (%d already indexed): %s\n", n, len(docs), len(docs)-n, ix.Manifest())
					return addErr
				case "push":
					if *indexDir == "" {
						return usagef("push needs --index and --weaviate")
					}
					return push.run(ctx, std, *indexDir, bf.o.Dim, bf.o.BatchSize)
				case "info":
					if *indexDir == "" {
						return usagef("info needs --index")
					}
					man, err := index.ReadManifest(*indexDir)
					if err != nil {
						return err
					}
					verified, err := index.Verify(*indexDir, man)
					if err != nil {
						return err // a damaged file is not a healthy index
					}
					if *asJSON {
						b, _ := json.MarshalIndent(man, "", "  ")
						fmt.Fprintln(std.out, string(b))
						return nil
					}
					files := "files verified (sizes and SHA-256)"
					if !verified {
						files = "files unverified (the manifest predates checksums; rebuild to record them)"
					}
					fmt.Fprintf(std.out, "%s\nmodel hash %s\ncreated %s, updated %s\n%s\n", man, man.ModelHash,
						man.Created.Format(time.RFC3339), man.Updated.Format(time.RFC3339), files)
					return nil
				}
				return usagef("unknown subcommand %q (want build, add, info or push)", sub)
			}
		},
	}
}
