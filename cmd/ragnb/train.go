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
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/train"
)

// trainFlags are the flags `ragnb train` and `ragnb train-reranker` share.
type trainFlags struct {
	model, data, out                  string
	testFraction                      float64
	splitSeed                         uint64
	epochs, maxSteps, batchSize       int
	dropLast                          bool
	sampler                           string
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
}

func (f *trainFlags) register(fs *flag.FlagSet, reranker bool) {
	fs.StringVar(&f.model, "model", "", "model `directory` to start from (HF / sentence-transformers layout; see ragnb init-model) (required)")
	fs.StringVar(&f.data, "data", "", "training table `file`: JSONL, JSON, CSV, TSV or parquet with named columns (required)")
	fs.StringVar(&f.out, "out", "", "`directory` the trained model is written to, in the HF / sentence-transformers layout (required)")
	fs.Float64Var(&f.testFraction, "test-fraction", 0, "hold out this `fraction` of --data rows (seeded split, as ragnb eval --pairs) for evaluation and train on the rest")
	fs.Uint64Var(&f.splitSeed, "split-seed", 42, "`seed` of the --test-fraction split")
	fs.IntVar(&f.epochs, "epochs", 1, "passes over the training rows")
	fs.IntVar(&f.maxSteps, "max-steps", 0, "stop after this many optimizer `steps` instead of --epochs (0: use --epochs)")
	fs.IntVar(&f.batchSize, "batch-size", 32, "rows per batch (for cached-mnrl: the global batch)")
	fs.BoolVar(&f.dropLast, "drop-last", false, "drop each epoch's last, smaller batch (default: keep it; its loss is that of the smaller batch)")
	fs.StringVar(&f.sampler, "sampler", "", "batch `sampler`: no-duplicates (no text twice in a batch; default for mnrl and cached-mnrl) or random")
	fs.Float64Var(&f.lr, "lr", 0, "peak learning `rate` (0: 0.2 for static models, 5e-5 for transformers)")
	fs.Float64Var(&f.warmup, "warmup-ratio", 0, "`fraction` of the steps with a linear warmup from 0 (warmup steps = ceil(ratio × steps))")
	fs.StringVar(&f.schedule, "schedule", "linear", "learning-rate `schedule` after the warmup: linear (to 0), cosine (to 0) or constant")
	fs.Float64Var(&f.weightDecay, "weight-decay", 0, "AdamW decoupled weight decay (never on biases and LayerNorm weights)")
	fs.IntVar(&f.gradAccum, "grad-accum", 1, "batches accumulated per optimizer step")
	fs.Float64Var(&f.maxNorm, "max-grad-norm", 1, "clip the global gradient norm to this `value` (negative: no clipping)")
	fs.Uint64Var(&f.seed, "seed", 42, "`seed` of the data order (a pure function of seed and epoch) and of dropout")
	fs.IntVar(&f.maxLength, "max-length", 0, "truncate texts to this many `tokens` (0: the model's maximum)")
	fs.StringVar(&f.evalPairs, "eval-pairs", "", "evaluate on this pairs table `file` instead of the --test-fraction split: its anchors are the queries, "+
		"its distinct positives the corpus")
	fs.StringVar(&f.evalAnchor, "eval-anchor", "", "query `column` of --eval-pairs (default: the training anchor/query column)")
	fs.StringVar(&f.evalPos, "eval-positive", "", "passage `column` of --eval-pairs (default: the training positive/passage column)")
	fs.Float64Var(&f.evalTestFraction, "eval-test-fraction", 0, "use only this seeded `fraction` of --eval-pairs rows as queries (0: all)")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "evaluate every this many `steps` (0: at the end of every epoch); also before training and at the end")
	metricHelp := "evaluation `metric` that picks the best model, which is the one written to --out (e.g. dim_128_cosine_ndcg@10)"
	if reranker {
		metricHelp = "evaluation `metric` that picks the best model, which is the one written to --out (e.g. bm25_rerank_ndcg@10)"
	}
	fs.StringVar(&f.bestMetric, "best-metric", "", metricHelp)
	fs.BoolVar(&f.lowerIsBetter, "lower-is-better", false, "a lower --best-metric is better")
	fs.BoolVar(&f.keepLast, "keep-last", false, "write the last weights to --out even when --best-metric found better ones (best/ keeps those)")
	fs.BoolVar(&f.skipInit, "skip-initial-eval", false, "do not evaluate the model before training")
	fs.StringVar(&f.checkpointDir, "checkpoint-dir", "", "`directory` for checkpoint-<step>/ (model + optimizer + trainer state) and best/ (default: OUT.checkpoints)")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 0, "write a checkpoint every this many `steps` (0: at the end of every epoch)")
	fs.IntVar(&f.keepCheckpoints, "keep-checkpoints", 1, "how many of the newest checkpoints to keep")
	fs.BoolVar(&f.resume, "resume", false, "continue from the newest checkpoint in --checkpoint-dir (a fresh start when there is none); "+
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

func (f *trainFlags) config() train.Config {
	dir := f.checkpointDir
	if dir == "" {
		dir = filepath.Clean(f.out) + ".checkpoints"
	}
	return train.Config{Epochs: f.epochs, MaxSteps: f.maxSteps, BatchSize: f.batchSize, DropLast: f.dropLast,
		Sampler: f.sampler, Seed: f.seed, LearningRate: f.lr, WarmupRatio: f.warmup, Schedule: f.schedule,
		WeightDecay: f.weightDecay, GradAccum: f.gradAccum, MaxGradNorm: f.maxNorm, EvalEvery: f.evalEvery,
		SkipInitialEval: f.skipInit, BestMetric: f.bestMetric, LowerIsBetter: f.lowerIsBetter, KeepLast: f.keepLast,
		CheckpointDir: dir, CheckpointEvery: f.checkpointEvery, KeepCheckpoints: f.keepCheckpoints, Resume: f.resume}
}

// splitData loads --data and, with --test-fraction, splits it into training rows and held-out rows.
func (f *trainFlags) splitData() (all, trainRows, heldOut dataframe.DataFrame, err error) {
	all, err = datasets.Load(f.data)
	if err != nil {
		return all, all, heldOut, err
	}
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

func trainCmd() *command {
	return &command{
		name:    "train",
		summary: "fine-tune a bi-encoder (BERT family or static embeddings) with MNRL / cached MNRL / triplet loss, optionally inside MatryoshkaLoss",
		usage:   "--model DIR --data FILE --out DIR [--anchor C --positive C --negatives C,...] [--loss mnrl|cached-mnrl|triplet] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &trainFlags{}
			f.register(fs, false)
			anchor := fs.String("anchor", "anchor", "anchor (query) `column` of --data")
			positive := fs.String("positive", "positive", "positive (passage) `column` of --data")
			negatives := fs.String("negatives", "", "hard-negative `columns`, comma-separated (default: the columns named negative or negative_1..n; \"none\" for none)")
			loss := fs.String("loss", "mnrl", "`loss`: mnrl (MultipleNegativesRankingLoss), cached-mnrl (the same with GradCache, for big --batch-size), triplet (anchor, positive, negative)")
			scale := fs.Float64("scale", 20, "mnrl, cached-mnrl: similarity scale (1/temperature)")
			miniBatch := fs.Int("mini-batch-size", 32, "cached-mnrl: rows embedded at a time (bounds memory)")
			tripletMetric := fs.String("triplet-metric", "euclidean", "triplet: distance, euclidean, cosine or manhattan")
			tripletMargin := fs.Float64("triplet-margin", 5, "triplet: margin")
			dims := fs.String("matryoshka-dims", "", "wrap the loss in MatryoshkaLoss over these `dimensions`, e.g. 256,128,64 (any order)")
			weights := fs.String("matryoshka-weights", "", "MatryoshkaLoss `weights`, one per --matryoshka-dims value in the same order (default: all 1)")
			evalDims := fs.String("eval-dims", "", "evaluate at these `dimensions` (default: --matryoshka-dims, else the model's full dimension)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("train", args); err != nil {
					return err
				}
				if err := f.check(); err != nil {
					return err
				}
				cfg := f.config()
				cfg.Loss, cfg.Scale, cfg.MiniBatchSize, cfg.TripletMetric, cfg.TripletMargin = *loss, *scale, *miniBatch, *tripletMetric, *tripletMargin
				var err error
				if cfg.MatryoshkaDims, err = parseInts("matryoshka-dims", *dims); err != nil {
					return err
				}
				if cfg.MatryoshkaWeights, err = parseFloats("matryoshka-weights", *weights); err != nil {
					return err
				}
				if len(cfg.MatryoshkaWeights) == 0 {
					cfg.MatryoshkaWeights = nil
				}
				ed, err := parseInts("eval-dims", *evalDims)
				if err != nil {
					return err
				}
				if len(ed) == 0 {
					ed = cfg.MatryoshkaDims
				}
				start := time.Now()
				m, err := encoder.LoadBiEncoder(f.model, encoder.Options{MaxLength: f.maxLength})
				if err != nil {
					return err
				}
				all, rows, heldOut, err := f.splitData()
				if err != nil {
					return err
				}
				var negs []string
				switch *negatives {
				case "":
				case "none":
					negs = []string{}
				default:
					negs = strings.Split(*negatives, ",")
				}
				ex, err := train.BiEncoderExamples(rows, *anchor, *positive, negs)
				if err != nil {
					return fmt.Errorf("%s: %w", f.data, err)
				}
				ds, desc, err := f.evalSet(all, heldOut, *anchor, *positive)
				if err != nil {
					return err
				}
				if ds != nil {
					ev, err := evaluate.NewIR(ds, evaluate.Options{Dims: ed})
					if err != nil {
						return err
					}
					defer ev.Close()
					cfg.Evaluator = train.IREvaluator(ev, m)
				}
				kind := "BERT"
				if m.IsStatic() {
					kind = "static"
				}
				cfg.EvalName = desc
				fmt.Fprintf(std.out, "model    %s (%s, dim %d)\n", f.model, kind, m.Dim())
				fmt.Fprintf(std.out, "data     %s: %d training rows, columns %v\n", f.data, ex.Rows(), ex.Names)
				if desc != "" {
					fmt.Fprintf(std.out, "eval     %s\n", desc)
				}
				res, err := train.TrainBiEncoder(ctx, m, ex, cfg, progressEvery(std, f.progressEvery))
				return finishTraining(std, f, cfg, res, err, m.Save, start)
			}
		},
	}
}

func trainRerankerCmd() *command {
	return &command{
		name:    "train-reranker",
		summary: "fine-tune a cross-encoder reranker: binary cross-entropy on 0/1 labels, or MSE against teacher scores (distillation)",
		usage:   "--model DIR --data FILE --out DIR [--query C --passage C] (--label C | --score C | --negatives C,...) [--loss bce|mse] [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &trainFlags{}
			f.register(fs, true)
			query := fs.String("query", "anchor", "query `column` of --data")
			passage := fs.String("passage", "positive", "passage `column` of --data")
			label := fs.String("label", "", "`column` of 0/1 relevance labels (loss bce; default when --data has a label column)")
			score := fs.String("score", "", "`column` of teacher scores in [0, 1] (loss mse; e.g. a stronger cross-encoder's sigmoid outputs, ragnb score)")
			negatives := fs.String("negatives", "", "with neither --label nor --score: hard-negative `columns` of (query, passage, negatives) rows, which become "+
				"(query, passage, 1) and (query, negative, 0) pairs (default: the columns named negative or negative_1..n)")
			loss := fs.String("loss", "", "`loss`: bce (BinaryCrossEntropyLoss; default) or mse (MSELoss; default with --score)")
			posWeight := fs.Float64("pos-weight", 0, "bce: weight of positive labels (0: 1)")
			activation := fs.String("mse-activation", "sigmoid", "mse: sigmoid (teacher scores in [0, 1]) or identity (teacher logits)")
			depth := fs.Int("rerank-depth", 100, "evaluation: rerank each query's top `k` BM25 hits")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("train-reranker", args); err != nil {
					return err
				}
				if err := f.check(); err != nil {
					return err
				}
				if *label != "" && *score != "" {
					return usagef("give --label or --score, not both")
				}
				cfg := f.config()
				cfg.Loss, cfg.PosWeight, cfg.MSEActivation = *loss, *posWeight, *activation
				if cfg.Loss == "" {
					cfg.Loss = train.LossBCE
					if *score != "" {
						cfg.Loss = train.LossMSE
					}
				}
				start := time.Now()
				m, err := encoder.LoadCrossEncoder(f.model, encoder.Options{MaxLength: f.maxLength})
				if err != nil {
					return err
				}
				all, rows, heldOut, err := f.splitData()
				if err != nil {
					return err
				}
				labelCol := *label + *score
				if labelCol == "" {
					for _, n := range rows.Names() {
						if n == "label" || n == "score" {
							labelCol = n
						}
					}
				}
				var ex *train.Examples
				if labelCol != "" {
					ex, err = train.CrossEncoderExamples(rows, *query, *passage, labelCol)
				} else {
					var negs []string
					if *negatives != "" {
						negs = strings.Split(*negatives, ",")
					}
					ex, err = train.LabeledPairs(rows, *query, *passage, negs)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", f.data, err)
				}
				ds, desc, err := f.evalSet(all, heldOut, *query, *passage)
				if err != nil {
					return err
				}
				if ds != nil {
					ev, err := evaluate.NewIR(ds, evaluate.Options{})
					if err != nil {
						return err
					}
					defer ev.Close()
					first, err := ev.BM25Run(ctx, bm25.Params{K1: 1.2, B: 0.75, Stopwords: true}, nil)
					if err != nil {
						return err
					}
					cfg.Evaluator = train.RerankEvaluator(ev, m, first, evaluate.RerankOptions{Depth: *depth}, "bm25_rerank")
					desc += fmt.Sprintf("; reranking the top %d BM25 hits", *depth)
				}
				cfg.EvalName = desc
				fmt.Fprintf(std.out, "model    %s (cross-encoder)\n", f.model)
				fmt.Fprintf(std.out, "data     %s: %d training pairs (labels from %q)\n", f.data, ex.Rows(), labelOrigin(labelCol))
				if desc != "" {
					fmt.Fprintf(std.out, "eval     %s\n", desc)
				}
				res, err := train.TrainCrossEncoder(ctx, m, ex, cfg, progressEvery(std, f.progressEvery))
				return finishTraining(std, f, cfg, res, err, m.Save, start)
			}
		},
	}
}

func labelOrigin(col string) string {
	if col == "" {
		return "positive=1, negatives=0"
	}
	return col
}

// finishTraining writes the model, the history and the settings, and prints the summary. A failed run still
// writes its history (and leaves its checkpoints).
func finishTraining(std *stdio, f *trainFlags, cfg train.Config, res *train.Result, runErr error, save func(string) error, start time.Time) error {
	if res == nil {
		return runErr
	}
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
	if err := save(f.out); err != nil {
		return err
	}
	if err := res.History.SaveJSONL(historyPath); err != nil {
		return err
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
		fmt.Fprintf(std.out, ", %.3f s/step", res.StepTime.Seconds())
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
