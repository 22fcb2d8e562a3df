package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/train"
	"github.com/ragnb/ragnb/workflow"
)

// childEnv makes the test binary run the CLI (main) instead of the tests: the resume test starts `ragnb
// train` in a child process so that it can SIGKILL it.
const childEnv = "RAGNB_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// writePairs writes n (anchor, positive) rows as JSONL; anchors share two words with their own positive.
func writePairs(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"anchor\": \"what is item %d of set %d\", \"positive\": \"the item number %d belongs to set %d today\"}\n", i, i%37, i, i%37)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tinyTrainModel(t *testing.T, dir string) string {
	t.Helper()
	model := filepath.Join(dir, "base")
	code, out, errOut := runCLI(t, "init-model", "--arch", "bert", "--tokenizer", sharedtest.BertTokenizer(t), "--layers", "1",
		"--hidden", "32", "--heads", "2", "--intermediate", "64", "--max-len", "64", "--seed", "5", "--out", model)
	if code != 0 {
		t.Fatalf("init-model: %d %s %s", code, out, errOut)
	}
	return model
}

func readWeights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, n := range f.Names() {
		d, _, err := f.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = d
	}
	return out
}

// A `ragnb train` killed with SIGKILL mid-training and started again with --resume ends with the weights and
// history of an uninterrupted run (same seed; dropout on).
func TestTrainResumeAfterSIGKILL(t *testing.T) {
	dir, model, data := tinyTrainSetup(t, 300)
	args := func(out string) []string {
		return []string{"train", "--model", model, "--data", data, "--out", out, "--epochs", "2", "--batch-size", "8", "--grad-accum", "1", "--schedule", "linear",
			"--lr", "1e-3", "--warmup-ratio", "0.1", "--seed", "9", "--checkpoint-every", "5", "--test-fraction", "0.1",
			"--eval-every", "25", "--progress-every", "1h"}
	}
	full := filepath.Join(dir, "full")
	if code, out, errOut := runCLI(t, args(full)...); code != 0 {
		t.Fatalf("uninterrupted run: %d\n%s\n%s", code, out, errOut)
	}

	killed := filepath.Join(dir, "killed")
	ckpt := killed + ".checkpoints"
	cmd := exec.Command(os.Args[0], args(killed)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(ckpt, "checkpoint-10", "trainer_state.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint-10 after 2 minutes:\n%s", childOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child was not killed mid-training (wait: %v):\n%s", err, childOut.String())
	}
	if _, err := os.Stat(filepath.Join(killed, "model.safetensors")); err == nil {
		t.Fatal("the killed run had already finished")
	}
	code, out, errOut := runCLI(t, append(args(killed), "--resume")...)
	if code != 0 {
		t.Fatalf("resumed run: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "resumed from step") {
		t.Errorf("resumed run does not say it resumed:\n%s", out)
	}
	want, got := readWeights(t, full), readWeights(t, killed)
	for name, w := range want {
		g := got[name]
		for i := range w {
			if math.Abs(float64(g[i]-w[i])) > 1e-6*math.Max(1, math.Abs(float64(w[i]))) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", name, i, g[i], w[i])
			}
		}
	}
	hw, err := train.LoadHistory(filepath.Join(full, "training_history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	hg, err := train.LoadHistory(filepath.Join(killed, "training_history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hg.Records) != len(hw.Records) || len(hw.Records) < 60 {
		t.Fatalf("history: %d records resumed, %d uninterrupted", len(hg.Records), len(hw.Records))
	}
	for i, r := range hw.Records {
		g := hg.Records[i]
		sameLoss := g.Loss == r.Loss || math.Abs(g.Loss-r.Loss) <= 1e-6*math.Abs(r.Loss) || (math.IsNaN(g.Loss) && math.IsNaN(r.Loss))
		sameEval := len(g.Eval) == len(r.Eval)
		for k, v := range r.Eval {
			sameEval = sameEval && math.Abs(g.Eval[k]-v) <= 1e-6
		}
		if g.Step != r.Step || !sameLoss || !sameEval {
			t.Fatalf("history record %d: resumed %+v, uninterrupted %+v", i, g, r)
		}
	}
}

func TestTrainRerankerCLI(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "cross")
	if code, out, errOut := runCLI(t, "init-model", "--arch", "cross-encoder", "--tokenizer", sharedtest.BertTokenizer(t), "--layers", "1",
		"--hidden", "32", "--heads", "2", "--intermediate", "64", "--max-len", "64", "--seed", "2", "--out", model); code != 0 {
		t.Fatalf("init-model: %d %s %s", code, out, errOut)
	}
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "{\"anchor\": \"what is item %d\", \"positive\": \"the item %d is here\", \"negative\": \"nothing about %d\"}\n", i, i, (i+7)%60)
	}
	data := filepath.Join(dir, "triplets.jsonl")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tuned")
	code, stdout, errOut := runCLI(t, "train-reranker", "--model", model, "--data", data, "--out", out, "--epochs", "2",
		"--batch-size", "16", "--lr", "1e-3", "--test-fraction", "0.2", "--best-metric", "bm25_rerank_ndcg@10")
	if code != 0 {
		t.Fatalf("train-reranker: %d\n%s\n%s", code, stdout, errOut)
	}
	// 48 training rows become 96 labeled pairs: 6 batches of 16 per epoch.
	if !strings.Contains(stdout, "96 training pairs") || !strings.Contains(stdout, "trained  12 steps") || !strings.Contains(stdout, "best     bm25_rerank_ndcg@10") {
		t.Errorf("output:\n%s", stdout)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "training_history.jsonl", "training_config.json", "README.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
	checkCard(t, out, "text-ranking", "bm25_rerank_ndcg@10", "held-out 0.2 of "+data, true)
}

// checkCard checks the README.md a training wrote: the pipeline tag, and the metric's value of the last
// evaluation in training_history.jsonl (the best one when the run kept the best weights by that metric) both in
// model-index and in the evaluation table that names the split.
func checkCard(t *testing.T, dir, pipeline, metric, split string, best bool) {
	t.Helper()
	card, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := train.LoadHistory(filepath.Join(dir, "training_history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	evals := h.Evals()
	if len(evals) == 0 {
		t.Fatal("no evaluation in the history")
	}
	v, ok := evals[len(evals)-1].Eval[metric]
	if !ok {
		t.Fatalf("last evaluation has no %s: %v", metric, evals[len(evals)-1].Eval)
	}
	for _, r := range evals {
		if best && r.Eval[metric] > v {
			v = r.Eval[metric]
		}
	}
	name := metric
	if i := strings.Index(metric, "cosine_"); i >= 0 {
		name = metric[i:]
	}
	for _, want := range []string{"library_name: sentence-transformers\n", "pipeline_tag: " + pipeline + "\n", "model-index:",
		fmt.Sprintf("- type: %s\n      value: %s\n", name, strconv.FormatFloat(v, 'g', -1, 64)),
		fmt.Sprintf("| %s | %.4f |", name, v), "Measured on " + split, "## Training Details", "### Training Logs"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("README.md lacks %q:\n%s", want, card)
		}
	}
}

// `ragnb train` writes the model card with the metrics of its last evaluation.
func TestTrainWritesTheModelCard(t *testing.T) {
	dir, model, data := tinyTrainSetup(t, 40)
	out := filepath.Join(dir, "tuned")
	code, stdout, errOut := runCLI(t, "train", "--model", model, "--data", data, "--out", out, "--max-steps", "3",
		"--batch-size", "8", "--lr", "1e-3", "--test-fraction", "0.25", "--matryoshka-dims", "32,16")
	if code != 0 {
		t.Fatalf("train: %d\n%s\n%s", code, stdout, errOut)
	}
	checkCard(t, out, "sentence-similarity", "dim_16_cosine_ndcg@10", "held-out 0.25 of "+data, false)
	card, _ := os.ReadFile(filepath.Join(out, "README.md"))
	for _, want := range []string{"- Size: 30 training rows", "MatryoshkaLoss(MultipleNegativesRankingLoss)", "`max_steps`: 3", "Matryoshka: also 32, 16"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}

// `ragnb train-reranker` with only the required flags trains with workflow.DefaultTrainOptions (checkpoints
// beside --out): the flags' defaults are the workflow's. `ragnb train`'s follow the architecture
// (TestTrainFlagsDefaultToTheArchitecturesRecipe).
func TestTrainDefaultsAreTheWorkflowDefaults(t *testing.T) {
	required := []string{"--model", "m", "--data", "d.jsonl", "--out", "out"}
	want := workflow.DefaultTrainOptions()
	want.CheckpointDir = "out.checkpoints"

	rr := &rerankFlags{}
	fs := flag.NewFlagSet("train-reranker", flag.ContinueOnError)
	rr.register(fs)
	if err := fs.Parse(required); err != nil {
		t.Fatal(err)
	}
	if got, err := rr.options(); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("train-reranker's flags give\n%+v (%v)\nwant workflow.DefaultTrainOptions\n%+v", got, err, want)
	}
	// --score picks distillation's loss; --matryoshka-dims none the plain loss.
	if err := fs.Parse([]string{"--score", "teacher"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := rr.options(); got.Loss != train.LossMSE || got.Label != "teacher" {
		t.Errorf("--score teacher: loss %q label %q", got.Loss, got.Label)
	}
	fs = flag.NewFlagSet("train", flag.ContinueOnError)
	bi := &biFlags{}
	bi.register(fs)
	if err := fs.Parse(append(required, "--matryoshka-dims", "none")); err != nil {
		t.Fatal(err)
	}
	if got, _ := bi.options(fs, true); !got.NoMatryoshka || got.Dims != nil {
		t.Errorf("--matryoshka-dims none: %+v", got)
	}
}

// TestTripletAndRegressionEvaluatorsPickTheCheckpoint: `ragnb train --eval-triplets` evaluates
// triplet_cosine_accuracy at every evaluation and can choose the weights by it; `ragnb train-reranker
// --eval-scored` evaluates regression_mse/pearson/spearman on teacher-scored pairs, the MSE choosing with
// --lower-is-better. The returned weights are those of the history's best value.
func TestTripletAndRegressionEvaluatorsPickTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var trip, scored strings.Builder
	for i := range 40 {
		fmt.Fprintf(&trip, "{\"anchor\": \"what is item %d\", \"positive\": \"the item %d is here\", \"negative\": \"nothing about %d\"}\n", i, i, (i+7)%40)
		fmt.Fprintf(&scored, "{\"anchor\": \"what is item %d\", \"positive\": \"the item %d is here\", \"score\": 0.9}\n", i, i)
		fmt.Fprintf(&scored, "{\"anchor\": \"what is item %d\", \"positive\": \"nothing about %d\", \"score\": 0.1}\n", i, (i+7)%40)
	}
	data, dev := filepath.Join(dir, "triplets.jsonl"), filepath.Join(dir, "scored.jsonl")
	os.WriteFile(data, []byte(trip.String()), 0o644)
	os.WriteFile(dev, []byte(scored.String()), 0o644)
	best := func(out, metric string, lower bool, stdout string) {
		t.Helper()
		h, err := train.LoadHistory(filepath.Join(out, "training_history.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		n, b := 0, math.NaN()
		for _, r := range h.Records {
			if v, ok := r.Eval[metric]; ok {
				n++
				if math.IsNaN(b) || (lower && v < b) || (!lower && v > b) {
					b = v
				}
			}
		}
		if n < 2 {
			t.Fatalf("%s evaluated %d times", metric, n)
		}
		if want := fmt.Sprintf("best     %s = %.4f", metric, b); !strings.Contains(stdout, want) {
			t.Errorf("want %q (the history's best of %d evaluations):\n%s", want, n, stdout)
		}
	}
	model := staticModel(t, dir, "static")
	out := filepath.Join(dir, "bi")
	code, o, e := runCLI(t, "train", "--model", model, "--data", data, "--out", out, "--epochs", "2", "--batch-size", "8",
		"--matryoshka-dims", "none", "--eval-triplets", data, "--best-metric", "triplet_cosine_accuracy")
	if code != 0 || !strings.Contains(o, "best     triplet_cosine_accuracy") {
		t.Fatalf("train --eval-triplets: %d\n%s%s", code, o, e)
	}
	best(out, "triplet_cosine_accuracy", false, o)

	cross := filepath.Join(dir, "cross")
	if code, o, e := runCLI(t, "init-model", "--arch", "cross-encoder", "--tokenizer", sharedtest.BertTokenizer(t), "--layers", "1",
		"--hidden", "32", "--heads", "2", "--intermediate", "64", "--max-len", "64", "--seed", "2", "--out", cross); code != 0 {
		t.Fatalf("init-model: %d %s %s", code, o, e)
	}
	out = filepath.Join(dir, "ce")
	code, o, e = runCLI(t, "train-reranker", "--model", cross, "--data", data, "--out", out, "--epochs", "2", "--batch-size", "16",
		"--lr", "1e-3", "--eval-scored", dev, "--best-metric", "regression_mse", "--lower-is-better")
	if code != 0 || !strings.Contains(o, "best     regression_mse") {
		t.Fatalf("train-reranker --eval-scored: %d\n%s%s", code, o, e)
	}
	best(out, "regression_mse", true, o)
	h, _ := train.LoadHistory(filepath.Join(out, "training_history.jsonl"))
	if _, ok := h.Records[0].Eval["regression_spearman"]; !ok {
		t.Errorf("no regression_spearman in %v", h.Records[0].Eval)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"anchor\": \"a\", \"positive\": \"b\"}\n"), 0o644)
	if code, _, e := runCLI(t, "train", "--model", model, "--data", data, "--out", filepath.Join(dir, "x"), "--max-steps", "1", "--eval-triplets", bad); code == 0 || !strings.Contains(e, "negative") {
		t.Errorf("triplets without a negative column: exit %d %s", code, e)
	}
}

// --bf16 trains under bfloat16 autocast and says so in the card, as sentence-transformers' cards list bf16;
// --tf32 without a CUDA GPU is refused before anything is written.
func TestTrainBF16AndTF32Flags(t *testing.T) {
	dir, model, data := tinyTrainSetup(t, 40)
	out := filepath.Join(dir, "tuned")
	code, stdout, errOut := runCLI(t, "train", "--model", model, "--data", data, "--out", out, "--max-steps", "2",
		"--batch-size", "8", "--lr", "1e-3", "--bf16")
	if code != 0 {
		t.Fatalf("train --bf16: %d\n%s\n%s", code, stdout, errOut)
	}
	card, _ := os.ReadFile(filepath.Join(out, "README.md"))
	if !strings.Contains(string(card), "`bf16`: True") && !strings.Contains(string(card), "`bf16`: true") {
		t.Errorf("README.md does not list bf16 among the hyperparameters:\n%s", card)
	}
	out32 := filepath.Join(dir, "tf32")
	code, stdout, errOut = runCLI(t, "train", "--model", model, "--data", data, "--out", out32, "--max-steps", "2",
		"--batch-size", "8", "--tf32")
	if code == 0 || !strings.Contains(errOut, "TF32 needs XLA on a CUDA GPU") {
		t.Fatalf("train --tf32 on the pure-Go backend: exit %d\n%s\n%s", code, stdout, errOut)
	}
	if _, err := os.Stat(filepath.Join(out32, "model.safetensors")); err == nil {
		t.Error("train --tf32 failed but wrote a model")
	}
}

// tinyTrainSetup is a temporary folder with a tiny model (tinyTrainModel) and rows topic pairs (pairs.jsonl).
func tinyTrainSetup(t *testing.T, rows int) (dir, model, data string) {
	t.Helper()
	dir = t.TempDir()
	model = tinyTrainModel(t, dir)
	data = filepath.Join(dir, "pairs.jsonl")
	writePairs(t, data, rows)
	return dir, model, data
}
