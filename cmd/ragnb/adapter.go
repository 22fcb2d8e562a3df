package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/workflow"
)

// adapterArgs are the flags of `ragnb train-adapter`.
type adapterArgs struct {
	fs                                   *flag.FlagSet
	model, data, anchor, positive, out   *string
	kind, activation, cacheDir           *string
	hidden, epochs, batch, every, maxLen *int
	bias, residual                       *bool
	lr, wd, warmup, maxNorm, scale       *float64
	testFraction                         *float64
	seed, splitSeed                      *uint64
}

func newAdapterArgs(fs *flag.FlagSet) *adapterArgs {
	d := workflow.DefaultAdapterOptions()
	return &adapterArgs{fs: fs,
		model:        fs.String("model", "", "frozen base bi-encoder directory or Hub id (required)"),
		data:         fs.String("data", "", "(query, passage) pairs: a table (.jsonl, .json, .csv, .tsv, .parquet) or a LlamaIndex EmbeddingQAFinetuneDataset .json (required)"),
		anchor:       fs.String("anchor", "anchor", "column of --data holding the queries"),
		positive:     fs.String("positive", "positive", "column of --data holding the passages"),
		out:          fs.String("out", "", "output directory: config.json and model.safetensors, checkpoints/step_<N> (required)"),
		kind:         fs.String("kind", d.Adapter.Kind, "adapter: linear (LlamaIndex's LinearLayer, seeded with the identity) or two-layer (TwoLayerNN)"),
		activation:   fs.String("activation", workflow.DefaultAdapterActivation, "two-layer activation: relu, tanh, sigmoid, leaky_relu"),
		hidden:       fs.Int("hidden", workflow.DefaultAdapterHidden, "two-layer hidden width"),
		bias:         fs.Bool("bias", d.Adapter.Bias, "linear adapter with a bias (the two-layer one always has both)"),
		residual:     fs.Bool("residual", d.Adapter.AddResidual, "two-layer: add_residual, r·f(q) + q with r learnt from 0"),
		epochs:       fs.Int("epochs", d.Train.Epochs, "epochs"),
		batch:        fs.Int("batch-size", d.Train.BatchSize, "pairs per batch (in-batch negatives)"),
		lr:           fs.Float64("lr", d.Train.LR, "AdamW learning rate"),
		wd:           fs.Float64("weight-decay", d.Train.WeightDecay, "AdamW weight decay (torch's default 0.01, on every parameter)"),
		warmup:       fs.Float64("warmup-ratio", d.Train.WarmupRatio, "linear warmup over int(ratio × steps) steps, then linear decay"),
		maxNorm:      fs.Float64("max-grad-norm", d.Train.MaxGradNorm, "gradient clipping norm"),
		scale:        fs.Float64("scale", d.Train.Scale, "MNRL scale (1 / temperature)"),
		every:        fs.Int("checkpoint-every", d.Train.CheckpointEvery, "save checkpoints/step_<N> every N steps"),
		seed:         fs.Uint64("seed", d.Seed, "seed of the two-layer adapter's initial weights"),
		maxLen:       fs.Int("max-length", 0, "truncate texts to this many tokens (0: the model's max_seq_length)"),
		testFraction: fs.Float64("test-fraction", 0, "hold out this `fraction` of --data rows (the seeded split of ragnb train --test-fraction and ragnb eval --pairs) and train on the rest"),
		splitSeed:    fs.Uint64("split-seed", 42, "`seed` of the --test-fraction split"),
		cacheDir:     fs.String("cache", "", "memoise the embeddings and the adapter in this step cache (e.g. .ragnb)"),
	}
}

// options are the adapter options the flags ask for: workflow.DefaultAdapterOptions where a flag is left alone.
func (a *adapterArgs) options() workflow.AdapterOptions {
	o := workflow.DefaultAdapterOptions()
	o.Adapter.Kind, o.Adapter.Bias, o.Adapter.AddResidual = *a.kind, *a.bias, *a.residual
	if o.Adapter.Kind == adapter.TwoLayer {
		o.Adapter.Hidden, o.Adapter.Activation = *a.hidden, *a.activation
	}
	o.Train.Epochs, o.Train.BatchSize, o.Train.LR, o.Train.WeightDecay = *a.epochs, *a.batch, *a.lr, *a.wd
	o.Train.WarmupRatio, o.Train.MaxGradNorm, o.Train.Scale, o.Train.CheckpointEvery = *a.warmup, *a.maxNorm, *a.scale, *a.every
	o.Seed = *a.seed
	return o
}

func trainAdapterCmd() *command {
	return &command{
		name:    "train-adapter",
		summary: "train a linear or two-layer adapter on a frozen bi-encoder's query embeddings (LlamaIndex's adapter fine-tuning)",
		usage:   "--model DIR --data pairs.jsonl --out DIR [--kind linear|two-layer] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			a := newAdapterArgs(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("train-adapter", args); err != nil {
					return err
				}
				if *a.model == "" || *a.data == "" || *a.out == "" {
					return usagef("--model, --data and --out are required")
				}
				td, err := workflow.LoadTrainingData(*a.data) // a table, or LlamaIndex's JSON (its anchor, positive pairs)
				if err != nil {
					return err
				}
				df := td.Rows
				if *a.testFraction < 0 || *a.testFraction >= 1 {
					return usagef("--test-fraction must be in [0, 1)")
				}
				if *a.testFraction > 0 {
					if df, _, err = datasets.Split(df, *a.testFraction, *a.splitSeed); err != nil {
						return fmt.Errorf("%s: %w", *a.data, err)
					}
				}
				var in workflow.AdapterInput
				if in.Queries, err = datasets.Strings(df, *a.anchor); err != nil {
					return fmt.Errorf("%s: %w", *a.data, err)
				}
				if in.Positives, err = datasets.Strings(df, *a.positive); err != nil {
					return fmt.Errorf("%s: %w", *a.data, err)
				}
				env, err := stepEnv(std, *a.cacheDir)
				if err != nil {
					return err
				}
				if in.Model, err = workflow.OpenModel(ctx, env, *a.model, encoder.Options{MaxLength: *a.maxLen}); err != nil {
					return err
				}
				res, err := workflow.TrainAdapter(ctx, env, in, a.options(), *a.out)
				if err != nil {
					return err
				}
				c := res.Adapter.Config()
				from := ""
				if res.Cached {
					from = " (from the cache)"
				}
				fmt.Fprintf(std.out, "trained a %s adapter %d → %d on %d pairs%s", c.Kind, c.In, c.Out, len(in.Queries), from)
				if n := len(res.Losses); n > 0 {
					fmt.Fprintf(std.out, ": loss %.4f → %.4f over %d steps", res.Losses[0], res.Losses[n-1], n)
				}
				fmt.Fprintf(std.out, "\nwrote %s (apply it to query embeddings only)\n", res.Dir)
				return nil
			}
		},
	}
}
