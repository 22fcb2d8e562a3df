package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/workflow"
)

// trainFlags are the flags `ragnb train` and `ragnb train-reranker` share.
type trainFlags struct {
	model, data, out                  string
	testFraction                      float64
	splitSeed                         uint64
	epochs, maxSteps, batchSize       int
	dropLast                          bool
	sampler                           string
	bf16, tf32                        bool
	lr, warmup, weightDecay, maxNorm  float64
	schedule                          string
	gradAccum                         int
	seed                              uint64
	maxLength                         int
	evalPairs, evalAnchor, evalPos    string
	evalTestFraction                  float64
	evalEvery                         int
	bestMetric                        string
	lowerIsBetter, keepLast, skipInit bool
	checkpointDir                     string
	checkpointEvery, keepCheckpoints  int
	resume                            bool
	history                           string
	progressEvery                     time.Duration
	query                             queryInstructionFlags
	// evalExtra is --eval-triplets (train) or --eval-scored (train-reranker).
	evalExtra string
}

func (f *trainFlags) register(fs *flag.FlagSet, reranker bool) {
	def := workflow.DefaultTrainOptions()
	if reranker {
		fs.StringVar(&f.evalExtra, "eval-scored", "", "teacher-scored dev pairs `file` (columns anchor, positive, score — or the --anchor/--positive/--label names) for the regression evaluator: "+
			"keys regression_mse, regression_pearson, regression_spearman at every evaluation (--best-metric regression_mse --lower-is-better picks the checkpoint by them)")
	} else {
		fs.StringVar(&f.evalExtra, "eval-triplets", "", "dev triplets `file` (columns anchor, positive, negative — or the --anchor/--positive names) for sentence-transformers' TripletEvaluator: "+
			"key triplet_cosine_accuracy, the share with cos(anchor, positive) > cos(anchor, negative), at every evaluation (usable as --best-metric)")
	}
	// A bi-encoder's schedule flags default to its architecture's recipe, known once --model is read
	// (biFlags.options): they register as zero and say both recipes.
	recipe := func(pick func(workflow.Recipe) any) string { return "" }
	if !reranker {
		def.Epochs, def.BatchSize, def.GradAccum, def.LearningRate, def.WarmupRatio, def.Schedule = 0, 0, 0, 0, 0, ""
		recipe = func(pick func(workflow.Recipe) any) string {
			return fmt.Sprintf(" (default: the architecture's recipe, %v for static models, %v for transformers)",
				pick(workflow.RecipeFor(true)), pick(workflow.RecipeFor(false)))
		}
	}
	fs.StringVar(&f.model, "model", "", "model `directory` to start from (HF / sentence-transformers layout; see ragnb init-model) (required)")
	fs.StringVar(&f.data, "data", "", "training table `file`: JSONL, JSON, CSV, TSV or parquet with named columns, a LlamaIndex "+
		"EmbeddingQAFinetuneDataset JSON (queries, corpus, relevant_docs: each query with each relevant node), or FlagEmbedding JSONL "+
		"({query, pos, neg[, pos_scores, neg_scores, prompt]}: see --train-group-size) (required)")
	fs.StringVar(&f.out, "out", "", "`directory` the trained model is written to, in the HF / sentence-transformers layout (required)")
	fs.Float64Var(&f.testFraction, "test-fraction", 0, "hold out this `fraction` of --data rows (seeded split, as ragnb eval --pairs) for evaluation and train on the rest")
	fs.Uint64Var(&f.splitSeed, "split-seed", 42, "`seed` of the --test-fraction split")
	fs.IntVar(&f.epochs, "epochs", def.Epochs, "passes over the training rows"+recipe(func(r workflow.Recipe) any { return r.Epochs }))
	fs.IntVar(&f.maxSteps, "max-steps", def.MaxSteps, "stop after this many optimizer `steps` instead of --epochs (0: use --epochs)")
	fs.IntVar(&f.batchSize, "batch-size", def.BatchSize, "rows per batch (for cached-mnrl: the global batch)"+recipe(func(r workflow.Recipe) any { return r.BatchSize }))
	fs.BoolVar(&f.dropLast, "drop-last", def.DropLast, "drop each epoch's last, smaller batch (default: keep it; its loss is that of the smaller batch)")
	fs.StringVar(&f.sampler, "sampler", def.Sampler, "batch `sampler`: no-duplicates (no text twice in a batch; default for mnrl and cached-mnrl) or random")
	lrHelp := fmt.Sprintf("peak learning `rate` (0: %g for static models, %g for transformers)", train.DefaultStaticLR, train.DefaultTransformerLR)
	if !reranker {
		lrHelp = "peak learning `rate`" + recipe(func(r workflow.Recipe) any { return r.LearningRate })
	}
	fs.Float64Var(&f.lr, "lr", def.LearningRate, lrHelp)
	fs.Float64Var(&f.warmup, "warmup-ratio", def.WarmupRatio, "`fraction` of the steps with a linear warmup from 0 (warmup steps = ceil(ratio × steps))"+
		recipe(func(r workflow.Recipe) any { return r.WarmupRatio }))
	fs.StringVar(&f.schedule, "schedule", def.Schedule, "learning-rate `schedule` after the warmup: linear (to 0), cosine (to 0) or constant"+
		recipe(func(r workflow.Recipe) any { return r.Schedule }))
	fs.Float64Var(&f.weightDecay, "weight-decay", def.WeightDecay, "AdamW decoupled weight decay (never on biases and LayerNorm weights)")
	fs.IntVar(&f.gradAccum, "grad-accum", def.GradAccum, "batches accumulated per optimizer step"+recipe(func(r workflow.Recipe) any { return r.GradAccum }))
	fs.Float64Var(&f.maxNorm, "max-grad-norm", def.MaxGradNorm, "clip the global gradient norm to this `value` (negative: no clipping)")
	fs.Uint64Var(&f.seed, "seed", def.Seed, "`seed` of the data order (a pure function of seed and epoch) and of dropout")
	fs.BoolVar(&f.bf16, "bf16", false, "bfloat16 autocast (transformers' --bf16): the forward's matrix products in bfloat16 with float32 accumulation, "+
		"float32 master weights, optimizer and loss; fast on a GPU's tensor cores, no faster on the pure-Go backend")
	fs.BoolVar(&f.tf32, "tf32", false, "let XLA on CUDA compute float32 matrix products in TF32 while training (transformers' --tf32; "+
		"default: full float32, as torch); an error without a CUDA GPU")
	fs.IntVar(&f.maxLength, "max-length", 0, "truncate texts to this many `tokens` (0: the model's maximum)")
	fs.StringVar(&f.evalPairs, "eval-pairs", "", "evaluate on this pairs table `file` instead of the --test-fraction split: its anchors are the queries, "+
		"its distinct positives the corpus")
	fs.StringVar(&f.evalAnchor, "eval-anchor", "", "query `column` of --eval-pairs (default: the training anchor/query column)")
	fs.StringVar(&f.evalPos, "eval-positive", "", "passage `column` of --eval-pairs (default: the training positive/passage column)")
	fs.Float64Var(&f.evalTestFraction, "eval-test-fraction", 0, "use only this seeded `fraction` of --eval-pairs rows as queries (0: all)")
	fs.IntVar(&f.evalEvery, "eval-every", def.EvalEvery, "evaluate every this many `steps` (0: at the end of every epoch); also before training and at the end")
	metricHelp := "evaluation `metric` that picks the best model, which is the one written to --out (e.g. dim_128_cosine_ndcg@10)"
	if reranker {
		metricHelp = "evaluation `metric` that picks the best model, which is the one written to --out (e.g. bm25_rerank_ndcg@10)"
	}
	fs.StringVar(&f.bestMetric, "best-metric", def.BestMetric, metricHelp)
	fs.BoolVar(&f.lowerIsBetter, "lower-is-better", def.LowerIsBetter, "a lower --best-metric is better")
	fs.BoolVar(&f.keepLast, "keep-last", def.KeepLast, "write the last weights to --out even when --best-metric found better ones (best/ keeps those)")
	fs.BoolVar(&f.skipInit, "skip-initial-eval", def.SkipInitialEval, "do not evaluate the model before training")
	fs.StringVar(&f.checkpointDir, "checkpoint-dir", "", "`directory` for checkpoint-<step>/ (model + optimizer + trainer state) and best/ (default: OUT.checkpoints)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", def.CheckpointEvery, "write a checkpoint every this many `steps` (0: at the end of every epoch)")
	fs.IntVar(&f.keepCheckpoints, "keep-checkpoints", def.KeepCheckpoints, "how many of the newest checkpoints to keep")
	fs.BoolVar(&f.resume, "resume", def.Resume, "continue from the newest checkpoint in --checkpoint-dir (a fresh start when there is none); "+
		"the result is the same as an uninterrupted run")
	fs.StringVar(&f.history, "history", "", "write the per-step history (step, epoch, loss, learning_rate, grad_norm, eval_*) as JSONL to this `file` "+
		"(default: OUT/training_history.jsonl)")
	fs.DurationVar(&f.progressEvery, "progress-every", 5*time.Second, "print a progress line on stderr at most this often")
}

func (f *trainFlags) check() error {
	if f.model == "" || f.data == "" || f.out == "" {
		return usagef("--model, --data and --out are required")
	}
	if f.testFraction < 0 || f.testFraction >= 1 {
		return usagef("--test-fraction must be in [0, 1)")
	}
	if f.testFraction > 0 && f.evalPairs != "" {
		return usagef("give --test-fraction or --eval-pairs, not both")
	}
	return nil
}

// options are the workflow's training options the shared flags describe; the command's own flags fill the rest.
func (f *trainFlags) options() workflow.TrainOptions {
	o := workflow.DefaultTrainOptions()
	o.Epochs, o.MaxSteps, o.BatchSize, o.DropLast, o.Sampler, o.Seed = f.epochs, f.maxSteps, f.batchSize, f.dropLast, f.sampler, f.seed
	o.LearningRate, o.WarmupRatio, o.Schedule, o.WeightDecay, o.GradAccum, o.MaxGradNorm = f.lr, f.warmup, f.schedule, f.weightDecay, f.gradAccum, f.maxNorm
	o.BF16, o.TF32 = f.bf16, f.tf32
	o.EvalEvery, o.SkipInitialEval, o.BestMetric, o.LowerIsBetter, o.KeepLast = f.evalEvery, f.skipInit, f.bestMetric, f.lowerIsBetter, f.keepLast
	o.CheckpointDir, o.CheckpointEvery, o.KeepCheckpoints, o.Resume = f.checkpointDir, f.checkpointEvery, f.keepCheckpoints, f.resume
	if o.CheckpointDir == "" && f.out != "" {
		o.CheckpointDir = filepath.Clean(f.out) + ".checkpoints"
	}
	return o
}

// splitData loads --data and, with --test-fraction, splits it into training rows and held-out rows.
func (f *trainFlags) splitData() (all, trainRows, heldOut dataframe.DataFrame, err error) {
	td, err := workflow.LoadTrainingData(f.data)
	if err != nil {
		return all, all, heldOut, err
	}
	all = td.Rows
	if f.testFraction == 0 {
		return all, all, heldOut, nil
	}
	trainRows, heldOut, err = datasets.Split(all, f.testFraction, f.splitSeed)
	if err != nil {
		return all, all, heldOut, fmt.Errorf("%s: %w", f.data, err)
	}
	return all, trainRows, heldOut, nil
}

// evalSet builds the IR evaluation set: the held-out split of --data (queries its anchors, corpus every distinct
// positive of --data), or --eval-pairs. nil when there is neither.
func (f *trainFlags) evalSet(all, heldOut dataframe.DataFrame, anchor, positive string) (*ir.Dataset, string, error) {
	if f.testFraction > 0 {
		queries, err := datasets.Strings(heldOut, anchor)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.data, err)
		}
		pos, err := datasets.Strings(heldOut, positive)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.data, err)
		}
		corpus, err := datasets.Strings(all, positive)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.data, err)
		}
		ds, _, err := ir.FromPairs(queries, pos, corpus)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.data, err)
		}
		return ds, fmt.Sprintf("held-out %g of %s (seed %d): %d queries, %d passages", f.testFraction, f.data, f.splitSeed, len(ds.Queries), len(ds.Corpus)), nil
	}
	if f.evalPairs == "" {
		return nil, "", nil
	}
	ef := &evalFlags{pairs: f.evalPairs, anchor: anchor, positive: positive, testFraction: f.evalTestFraction, seed: f.splitSeed}
	if f.evalAnchor != "" {
		ef.anchor = f.evalAnchor
	}
	if f.evalPos != "" {
		ef.positive = f.evalPos
	}
	return loadEvalSet(ef)
}

func parseFloats(name, s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, usagef("--%s: %q is not a number", name, part)
		}
		out = append(out, v)
	}
	return out, nil
}

// biFlags are `ragnb train`'s flags.
type biFlags struct {
	trainFlags
	anchor, positive, negatives, loss, tripletMetric string
	scale, tripletMargin, temperature                float64
	miniBatch, groupSize                             int
	noDistillation                                   bool
	dims, weights, evalDims                          string
}

func (f *biFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultTrainOptions()
	st, tr := workflow.RecipeFor(true), workflow.RecipeFor(false)
	f.trainFlags.register(fs, false)
	fs.StringVar(&f.anchor, "anchor", def.Anchor, "anchor (query) `column` of --data")
	fs.StringVar(&f.positive, "positive", def.Positive, "positive (passage) `column` of --data")
	fs.StringVar(&f.negatives, "negatives", "", "hard-negative `columns`, comma-separated (default: the columns named negative or negative_1..n; \"none\" for none)")
	fs.StringVar(&f.loss, "loss", def.Loss, fmt.Sprintf("`loss`: mnrl (MultipleNegativesRankingLoss), cached-mnrl (the same with GradCache, for big --batch-size), "+
		"triplet (anchor, positive, negative) (default: the architecture's recipe, %s for static models, %s for transformers)", st.Loss, tr.Loss))
	fs.Float64Var(&f.scale, "scale", def.Scale, "mnrl, cached-mnrl: similarity scale (1/temperature)")
	fs.Float64Var(&f.temperature, "temperature", def.Temperature, "mnrl, cached-mnrl: softmax temperature, = 1/--scale (0: 1/--scale; FlagEmbedding's recipe: 0.02)")
	fs.IntVar(&f.miniBatch, "mini-batch-size", 0, fmt.Sprintf("cached-mnrl: rows embedded at a time (bounds memory) (default: %d for static models, %d for transformers)",
		st.MiniBatchSize, tr.MiniBatchSize))
	fs.IntVar(&f.groupSize, "train-group-size", def.GroupSize, "FlagEmbedding --data ({query, pos, neg}): passages per query and step, "+
		"1 positive and N-1 negatives drawn from its lists each epoch (repeated when the list is short)")
	fs.BoolVar(&f.noDistillation, "no-distillation", def.NoDistillation, "FlagEmbedding --data with pos_scores/neg_scores: do not add the KL distillation "+
		"loss from the teacher's scores")
	fs.StringVar(&f.tripletMetric, "triplet-metric", def.TripletMetric, "triplet: distance, euclidean, cosine or manhattan")
	fs.Float64Var(&f.tripletMargin, "triplet-margin", def.TripletMargin, "triplet: margin")
	fs.StringVar(&f.dims, "matryoshka-dims", "", "MatryoshkaLoss `dimensions`, e.g. 256,128,64 (any order; default: the model's and those of 768/512/256/128/64 below it; \"none\": the plain loss)")
	fs.StringVar(&f.weights, "matryoshka-weights", "", "MatryoshkaLoss `weights`, one per --matryoshka-dims value in the same order (default: all 1)")
	f.query.register(fs)
	fs.StringVar(&f.evalDims, "eval-dims", "", "evaluate at these `dimensions` (default: the Matryoshka dimensions)")
}

// options are the workflow's options the flags describe for a base model of the architecture (static): the
// flags the user left alone take its recipe (workflow.RecipeFor), those set win — the defaults the prelude's
// TrainMatryoshka gives its zero fields.
func (f *biFlags) options(fs *flag.FlagSet, static bool) (workflow.TrainOptions, error) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	r := workflow.RecipeFor(static)
	for name, field := range map[string]func(){
		"loss": func() { f.loss = r.Loss }, "mini-batch-size": func() { f.miniBatch = r.MiniBatchSize },
		"epochs": func() { f.epochs = r.Epochs }, "batch-size": func() { f.batchSize = r.BatchSize },
		"grad-accum": func() { f.gradAccum = r.GradAccum }, "lr": func() { f.lr = r.LearningRate },
		"warmup-ratio": func() { f.warmup = r.WarmupRatio }, "schedule": func() { f.schedule = r.Schedule },
	} {
		if !set[name] {
			field()
		}
	}
	o := f.trainFlags.options()
	if o.WarmupRatio == 0 {
		o.WarmupRatio = workflow.NoWarmup // zero would take the recipe's warmup: --warmup-ratio 0 means none
	}
	o.Anchor, o.Positive, o.Loss, o.Scale, o.MiniBatchSize = f.anchor, f.positive, f.loss, f.scale, f.miniBatch
	o.TripletMetric, o.TripletMargin = f.tripletMetric, f.tripletMargin
	o.Temperature, o.GroupSize, o.NoDistillation = f.temperature, f.groupSize, f.noDistillation
	if f.temperature < 0 || (f.temperature > 0 && f.scale != workflow.DefaultTrainOptions().Scale && math.Abs(f.scale*f.temperature-1) > 1e-9) {
		return o, usagef("--temperature %g and --scale %g disagree: give one (temperature = 1/scale)", f.temperature, f.scale)
	}
	if f.groupSize < 1 {
		return o, usagef("--train-group-size must be at least 1")
	}
	switch f.negatives {
	case "":
	case "none":
		o.Negatives = []string{}
	default:
		o.Negatives = strings.Split(f.negatives, ",")
	}
	var err error
	if f.dims == "none" {
		o.NoMatryoshka = true
	} else if o.Dims, err = parseInts("matryoshka-dims", f.dims); err != nil {
		return o, err
	}
	if o.Weights, err = parseFloats("matryoshka-weights", f.weights); err != nil {
		return o, err
	}
	if o.EvalDims, err = parseInts("eval-dims", f.evalDims); err != nil {
		return o, err
	}
	return o, nil
}

func trainCmd() *command {
	return &command{
		name:    "train",
		summary: "fine-tune a bi-encoder (BERT family or static embeddings) with MNRL / cached MNRL / triplet loss inside MatryoshkaLoss",
		usage:   "--model DIR --data FILE --out DIR [--anchor C --positive C --negatives C,...] [--loss mnrl|cached-mnrl|triplet] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &biFlags{}
			f.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("train", args); err != nil {
					return err
				}
				if err := f.check(); err != nil {
					return err
				}
				static, err := workflow.IsStatic(f.model)
				if err != nil {
					return err
				}
				o, err := f.options(fs, static)
				if err != nil {
					return err
				}
				return runTraining(ctx, std, &f.trainFlags, o, false)
			}
		},
	}
}

// rerankFlags are `ragnb train-reranker`'s flags.
type rerankFlags struct {
	trainFlags
	query, passage, label, score, negatives, loss, activation string
	posWeight                                                 float64
	depth                                                     int
}

func (f *rerankFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultTrainOptions()
	f.trainFlags.register(fs, true)
	fs.StringVar(&f.query, "query", def.Anchor, "query `column` of --data")
	fs.StringVar(&f.passage, "passage", def.Positive, "passage `column` of --data")
	fs.StringVar(&f.label, "label", def.Label, "`column` of 0/1 relevance labels (loss bce; default: a label column, else a score column of --data)")
	fs.StringVar(&f.score, "score", "", "`column` of teacher scores in [0, 1] (loss mse; e.g. a stronger cross-encoder's sigmoid outputs, ragnb score)")
	fs.StringVar(&f.negatives, "negatives", "", "with neither --label nor --score: hard-negative `columns` of (query, passage, negatives) rows, which become "+
		"(query, passage, 1) and (query, negative, 0) pairs (default: the columns named negative or negative_1..n)")
	fs.StringVar(&f.loss, "loss", def.Loss, "`loss`: bce (BinaryCrossEntropyLoss; default) or mse (MSELoss; default with --score)")
	fs.Float64Var(&f.posWeight, "pos-weight", def.PosWeight, "bce: weight of positive labels (0: 1)")
	fs.StringVar(&f.activation, "mse-activation", def.MSEActivation, "mse: sigmoid (teacher scores in [0, 1]) or identity (teacher logits)")
	fs.IntVar(&f.depth, "rerank-depth", def.RerankDepth, "evaluation: rerank each query's top `k` BM25 hits")
}

// options are the workflow's options the flags describe.
func (f *rerankFlags) options() (workflow.TrainOptions, error) {
	if f.label != "" && f.score != "" {
		return workflow.TrainOptions{}, usagef("give --label or --score, not both")
	}
	o := f.trainFlags.options()
	o.Anchor, o.Positive, o.Label = f.query, f.passage, f.label+f.score
	o.Loss, o.PosWeight, o.MSEActivation, o.RerankDepth = f.loss, f.posWeight, f.activation, f.depth
	if o.Loss == "" && f.score != "" {
		o.Loss = train.LossMSE
	}
	if f.negatives != "" {
		o.Negatives = strings.Split(f.negatives, ",")
	}
	return o, nil
}

func trainRerankerCmd() *command {
	return &command{
		name:    "train-reranker",
		summary: "fine-tune a cross-encoder reranker: binary cross-entropy on 0/1 labels, or MSE against teacher scores (distillation)",
		usage:   "--model DIR --data FILE --out DIR [--query C --passage C] (--label C | --score C | --negatives C,...) [--loss bce|mse] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &rerankFlags{}
			f.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("train-reranker", args); err != nil {
					return err
				}
				if err := f.check(); err != nil {
					return err
				}
				o, err := f.options()
				if err != nil {
					return err
				}
				return runTraining(ctx, std, &f.trainFlags, o, true)
			}
		},
	}
}

// runTraining loads the data and the held-out set, runs the workflow's training step and reports.
func runTraining(ctx context.Context, std *stdio, f *trainFlags, o workflow.TrainOptions, reranker bool) error {
	step := workflow.Train
	if reranker {
		step = workflow.TrainReranker
	}
	start := time.Now()
	env := workflow.Env{Progress: progressEvery(std, f.progressEvery)}
	all, rows, heldOut, err := f.splitData()
	if err != nil {
		return err
	}
	prompts, err := f.query.prompts()
	if err != nil {
		return err
	}
	in := workflow.TrainInput{Model: &workflow.Model{Dir: f.model, Options: encoder.Options{MaxLength: f.maxLength, Prompts: prompts}}, Data: rows, Out: f.out}
	ds, desc, err := f.evalSet(all, heldOut, o.Anchor, o.Positive)
	if err != nil {
		return err
	}
	if ds != nil {
		if reranker {
			desc += fmt.Sprintf("; reranking the top %d BM25 hits", o.RerankDepth)
		}
		in.Eval = &workflow.EvalSet{Dataset: ds, Name: desc}
	}
	if f.evalExtra != "" {
		table, err := evalTable(f.evalExtra, o, reranker)
		if err != nil {
			return err
		}
		if reranker {
			in.EvalScored = table
		} else {
			in.EvalTriplets = table
		}
	}
	t, err := step(ctx, env, in, o)
	if t != nil && t.Rows > 0 {
		if reranker {
			fmt.Fprintf(std.out, "model    %s (cross-encoder)\n", f.model)
			fmt.Fprintf(std.out, "data     %s: %d training pairs (labels from %q)\n", f.data, t.Rows, labelOrigin(o.LabelColumn(rows)))
		} else {
			kind := "BERT"
			if t.Static {
				kind = "static"
			}
			fmt.Fprintf(std.out, "model    %s (%s, dim %d)\n", f.model, kind, t.Dim)
			fmt.Fprintf(std.out, "data     %s: %d training rows, columns %v\n", f.data, t.Rows, t.Columns)
		}
		if desc != "" {
			fmt.Fprintf(std.out, "eval     %s\n", desc)
		}
	}
	if err != nil {
		err = fmt.Errorf("train %s on %s: %w", f.model, f.data, err)
	}
	if t == nil || t.Result == nil {
		return err
	}
	return finishTraining(std, f, t, err, start)
}

// evalTable reads --eval-triplets (anchor, positive, negative) or --eval-scored (anchor, positive and the label
// column: "label", else "score", as training reads it).
func evalTable(path string, o workflow.TrainOptions, scored bool) (*workflow.EvalTable, error) {
	df, err := datasets.Load(path)
	if err != nil {
		return nil, err
	}
	t := &workflow.EvalTable{ID: datasets.Hash(df)}
	if t.Anchors, err = datasets.Strings(df, o.Anchor); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t.Positives, err = datasets.Strings(df, o.Positive); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !scored {
		if t.Negatives, err = datasets.Strings(df, "negative"); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return t, nil
	}
	label := o.LabelColumn(df)
	if label == "" {
		return nil, fmt.Errorf("%s: no label or score column for the regression evaluator", path)
	}
	col := df.Col(label)
	for i := range col.Len() {
		v := col.Elem(i).Float()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: row %d column %s: %v is not a score", path, i+1, label, col.Elem(i))
		}
		t.Scores = append(t.Scores, v)
	}
	return t, nil
}

func labelOrigin(col string) string {
	if col == "" {
		return "positive=1, negatives=0"
	}
	return col
}

// finishTraining writes the history where --history asks and the settings beside the model (the step wrote the
// model and OUT/training_history.jsonl), and prints the summary. A failed run still writes its history to
// --history (and leaves its checkpoints).
func finishTraining(std *stdio, f *trainFlags, t *workflow.Trained, runErr error, start time.Time) error {
	res, cfg := t.Result, t.Config
	historyPath := f.history
	if historyPath == "" {
		historyPath = filepath.Join(f.out, "training_history.jsonl")
	}
	if runErr != nil {
		if f.history != "" {
			if err := res.History.SaveJSONL(historyPath); err == nil {
				fmt.Fprintf(std.out, "history  %d records written to %s\n", len(res.History.Records), historyPath)
			}
		}
		return runErr
	}
	if f.history != "" {
		if err := res.History.SaveJSONL(historyPath); err != nil {
			return err
		}
	}
	settings := cfg
	settings.Evaluator = nil
	b, _ := json.MarshalIndent(struct {
		Model  string       `json:"base_model"`
		Data   string       `json:"data"`
		Config train.Config `json:"config"`
	}{f.model, f.data, settings}, "", "  ")
	// 0644: readable beside the model's other files.
	if err := atomicfile.WriteBytesMode(filepath.Join(f.out, "training_config.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "trained  %d steps (%.3g epochs) in %v", res.Steps, res.Epochs, res.Elapsed.Round(time.Second))
	if res.StepTime > 0 {
		fmt.Fprintf(std.out, ", %.3f s/step (median %.3f s, first %.3f s with compilation)", res.StepTime.Seconds(),
			res.MedianStepTime().Seconds(), res.StepTimes[0].Seconds())
	}
	if res.ResumedFrom > 0 {
		fmt.Fprintf(std.out, ", resumed from step %d", res.ResumedFrom)
	}
	fmt.Fprintln(std.out)
	if evals := res.History.Evals(); len(evals) > 0 {
		keys := summaryKeys(evals[len(evals)-1].Eval, cfg.BestMetric)
		fmt.Fprintf(std.out, "\n%-8s", "step")
		for _, k := range keys {
			fmt.Fprintf(std.out, "  %s", k)
		}
		fmt.Fprintln(std.out)
		for _, r := range evals {
			fmt.Fprintf(std.out, "%-8d", r.Step)
			for _, k := range keys {
				fmt.Fprintf(std.out, "  %*.4f", len(k), r.Eval[k])
			}
			fmt.Fprintln(std.out)
		}
		fmt.Fprintln(std.out)
	}
	if cfg.BestMetric != "" && !math.IsNaN(res.BestValue) {
		which := "the best"
		if cfg.KeepLast {
			which = "the last (best kept in " + res.Best + ")"
		}
		fmt.Fprintf(std.out, "best     %s = %.4f at step %d; %s weights written\n", cfg.BestMetric, res.BestValue, res.BestStep, which)
	}
	fmt.Fprintf(std.out, "model    written to %s\nhistory  %s\n", f.out, historyPath)
	if res.Checkpoint != "" {
		fmt.Fprintf(std.out, "checkpoint %s\n", res.Checkpoint)
	}
	fmt.Fprintf(std.out, "done in %v\n", time.Since(start).Round(time.Second))
	return nil
}

// summaryKeys picks the metrics shown in the summary table: the best metric and every ndcg@10.
func summaryKeys(m map[string]float64, best string) []string {
	var keys []string
	for k := range m {
		if strings.HasSuffix(k, "ndcg@10") || k == best {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
