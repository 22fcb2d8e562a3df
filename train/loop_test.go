package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/optim"
)

// topicPairs are n (anchor, positive) rows where an anchor shares two words with its own positive only.
func topicPairs(n int) *Examples {
	ex := &Examples{Names: []string{"anchor", "positive"}, Columns: [][]string{nil, nil}}
	for i := range n {
		ex.Columns[0] = append(ex.Columns[0], fmt.Sprintf("what about k%d j%d", i, i))
		ex.Columns[1] = append(ex.Columns[1], fmt.Sprintf("the passage on k%d and j%d here", i, i))
	}
	return ex
}

// top1 is the fraction of anchors whose own positive is the most similar positive (cosine).
func top1(ctx context.Context, m *encoder.BiEncoder, ex *Examples) (float64, error) {
	q, err := m.EmbedQueries(ctx, ex.Columns[0], nil)
	if err != nil {
		return 0, err
	}
	d, err := m.EmbedDocuments(ctx, ex.Columns[1], nil)
	if err != nil {
		return 0, err
	}
	unit := func(v []float32) []float64 {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / math.Sqrt(n)
		}
		return out
	}
	hits := 0
	for i := range ex.Rows() {
		qi := unit(q.Row(i))
		best, arg := math.Inf(-1), -1
		for j := range ex.Rows() {
			dj := unit(d.Row(j))
			var s float64
			for k := range qi {
				s += qi[k] * dj[k]
			}
			if s > best {
				best, arg = s, j
			}
		}
		if arg == i {
			hits++
		}
	}
	return float64(hits) / float64(ex.Rows()), nil
}

func top1Evaluator(m *encoder.BiEncoder, ex *Examples) Evaluator {
	return EvalFunc(func(ctx context.Context, _ progress.Func) (map[string]float64, error) {
		v, err := top1(ctx, m, ex)
		return map[string]float64{"top1": v}, err
	})
}

func TestTrainBiEncoderLearnsAndRecords(t *testing.T) {
	ctx := context.Background()
	ex := topicPairs(40)
	m := tinyBERT(t, 11)
	var reports []progress.Report
	cfg := Config{Epochs: 3, BatchSize: 16, LearningRate: 3e-3, WarmupRatio: 0.2, Seed: 4, EvalEvery: 4,
		MatryoshkaDims: []int{16, 32}, Evaluator: top1Evaluator(m, ex)}
	res, err := TrainBiEncoder(ctx, m, ex, cfg, func(r progress.Report) {
		if r.Stage == "train" {
			reports = append(reports, r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// 40 rows in batches of 16: 3 batches (16, 16, 8) per epoch, 9 steps.
	if res.TotalSteps != 9 || res.Steps != 9 || math.Abs(res.Epochs-3) > 1e-9 {
		t.Fatalf("steps %d of %d, epochs %v; want 9 of 9, 3", res.Steps, res.TotalSteps, res.Epochs)
	}
	recs := res.History.Records
	if len(recs) != 10 || recs[0].Step != 0 || recs[9].Step != 9 {
		t.Fatalf("history has %d records (steps %d..%d), want 10 (0..9)", len(recs), recs[0].Step, recs[len(recs)-1].Step)
	}
	sched := optim.Schedule{Kind: optim.Linear, Warmup: 2, Total: 9} // warmup ceil(0.2 × 9) = 2
	for _, r := range recs[1:] {
		want := 3e-3 * sched.Factor(r.Step-1)
		if math.Abs(r.LearningRate-want) > 1e-12 {
			t.Errorf("step %d: learning rate %v, want %v", r.Step, r.LearningRate, want)
		}
		if !(r.Loss > 0) || !(r.GradNorm > 0) {
			t.Errorf("step %d: loss %v, grad norm %v", r.Step, r.Loss, r.GradNorm)
		}
	}
	// Evaluations: before training, every 4 steps and at the end.
	var evalSteps []int
	for _, r := range res.History.Evals() {
		evalSteps = append(evalSteps, r.Step)
	}
	if fmt.Sprint(evalSteps) != "[0 4 8 9]" {
		t.Errorf("evaluated at steps %v, want [0 4 8 9]", evalSteps)
	}
	first, last := recs[0].Eval["top1"], res.Final["top1"]
	if !(last > first) || last < 0.5 {
		t.Errorf("top-1 accuracy %.2f before training, %.2f after: no learning", first, last)
	}
	firstEpoch := (recs[1].Loss + recs[2].Loss + recs[3].Loss) / 3
	lastEpoch := (recs[7].Loss + recs[8].Loss + recs[9].Loss) / 3
	if !(lastEpoch < firstEpoch) {
		t.Errorf("mean loss %v in epoch 1, %v in epoch 3", firstEpoch, lastEpoch)
	}
	if len(reports) == 0 || reports[len(reports)-1].Done != 9 || reports[len(reports)-1].Total != 9 {
		t.Errorf("progress reports end at %+v", reports[len(reports)-1])
	}
	// The bar's loss is the epoch's mean so far: after step 3 (the end of epoch 1) the mean of steps 1–3, after
	// step 7 step 7's own.
	for _, r := range reports {
		want := map[int]float64{3: firstEpoch, 7: recs[7].Loss}[r.Done]
		if got, ok := r.Values["loss"]; want != 0 && (!ok || math.Abs(got-want) > 1e-9) {
			t.Errorf("progress after step %d shows loss %v, want the epoch's mean so far %v", r.Done, got, want)
		}
	}
	df := res.History.Frame()
	if df.Nrow() != 10 || !contains(df.Names(), "eval_top1") || !contains(df.Names(), "learning_rate") {
		t.Errorf("history frame: %d rows, columns %v", df.Nrow(), df.Names())
	}
	// The trainer leaves no optimizer variables in the model's store.
	for v := range m.Store().IterVariables() {
		if strings.HasPrefix(v.Path(), stateScope) {
			t.Errorf("variable %s left in the store", v.Path())
		}
	}
	t.Logf("top-1 %.2f → %.2f; loss %.3f → %.3f", first, last, firstEpoch, lastEpoch)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A run cancelled midway and resumed from its checkpoint ends with the weights and history of an
// uninterrupted run.
func TestResumeContinuesExactly(t *testing.T) {
	ctx := context.Background()
	ex := topicPairs(40)
	cfg := Config{Epochs: 2, BatchSize: 8, LearningRate: 1e-3, WarmupRatio: 0.1, Seed: 7, GradAccum: 2,
		CheckpointEvery: 2, KeepCheckpoints: 2, EvalEvery: 3}
	full := tinyBERT(t, 5)
	cfg.Evaluator = top1Evaluator(full, ex)
	cfg.BestMetric = "top1"
	cfg.CheckpointDir = t.TempDir()
	want, err := TrainBiEncoder(ctx, full, ex, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	resumed := tinyBERT(t, 5)
	cfg.Evaluator = top1Evaluator(resumed, ex)
	cfg.CheckpointDir = t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	_, err = TrainBiEncoder(cctx, resumed, ex, cfg, func(r progress.Report) {
		if r.Stage == "train" && r.Done == 3 {
			cancel() // after step 3; the newest checkpoint is step 2
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	again := tinyBERT(t, 99) // other initial weights: everything must come from the checkpoint
	cfg.Evaluator = top1Evaluator(again, ex)
	cfg.Resume = true
	got, err := TrainBiEncoder(ctx, again, ex, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ResumedFrom != 2 {
		t.Errorf("resumed from step %d, want 2", got.ResumedFrom)
	}
	wf, _ := full.Weights()
	gf, _ := again.Weights()
	a, b := map[string][]float32{}, map[string][]float32{}
	for _, x := range wf {
		a[x.Name] = x.Data
	}
	for _, x := range gf {
		b[x.Name] = x.Data
	}
	if d, where := maxRelDiff(b, a); d > 1e-6 {
		t.Errorf("resumed weights differ from the uninterrupted run's by %.2g in %s", d, where)
	}
	if len(got.History.Records) != len(want.History.Records) {
		t.Fatalf("history: %d records, uninterrupted %d", len(got.History.Records), len(want.History.Records))
	}
	for i, r := range want.History.Records {
		g := got.History.Records[i]
		if g.Step != r.Step || !same(g.Loss, r.Loss) || !same(g.LearningRate, r.LearningRate) || fmt.Sprint(g.Eval) != fmt.Sprint(r.Eval) {
			t.Errorf("history record %d: %+v, uninterrupted %+v", i, g, r)
		}
	}
	if got.BestStep != want.BestStep || got.BestValue != want.BestValue {
		t.Errorf("best step %d (%v), uninterrupted %d (%v)", got.BestStep, got.BestValue, want.BestStep, want.BestValue)
	}
	// 40 rows in batches of 8, two per step: 3 steps per epoch (2, 2, 1 batches), 6 in all; checkpoints every
	// 2 steps, the newest two kept.
	steps, _ := checkpoints(cfg.CheckpointDir)
	if fmt.Sprint(steps) != "[4 6]" || got.Steps != 6 {
		t.Errorf("checkpoints kept: %v, want [4 6]; %d steps", steps, got.Steps)
	}
}

func same(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-6*math.Abs(b)
}

// A diverging run stops with a clear error, keeps finite weights (those of the last good step) and the last
// checkpoint.
func TestNonFiniteLossStops(t *testing.T) {
	ex := topicPairs(16)
	m := tinyBERT(t, 2)
	dir := t.TempDir()
	cfg := Config{Epochs: 50, BatchSize: 8, LearningRate: 1e30, MaxGradNorm: -1, Seed: 1, CheckpointDir: dir, CheckpointEvery: 1}
	res, err := TrainBiEncoder(context.Background(), m, ex, cfg, nil)
	if err == nil {
		t.Fatal("a learning rate of 1e30 trained without error")
	}
	if !strings.Contains(err.Error(), "training stopped") || !strings.Contains(err.Error(), "checkpoint-") {
		t.Errorf("error: %v", err)
	}
	ws, _ := m.Weights()
	for _, w := range ws {
		for _, x := range w.Data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("weight %s is %v after the stop", w.Name, x)
			}
		}
	}
	if res == nil || res.Steps < 1 || len(res.History.Records) != res.Steps {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, checkpointName(res.Steps), stateFile)); err != nil {
		t.Errorf("the last good checkpoint (step %d) is missing: %v", res.Steps, err)
	}
	t.Logf("stopped after %d good steps: %v", res.Steps, err)
}

func TestTrainCrossEncoderLearns(t *testing.T) {
	ex := &Examples{Names: []string{"query", "passage"}, Columns: [][]string{nil, nil}}
	for i := range 24 {
		ex.Columns[0] = append(ex.Columns[0], fmt.Sprintf("about k%d", i))
		ex.Columns[1] = append(ex.Columns[1], fmt.Sprintf("relevant text of k%d here", i))
		ex.Labels = append(ex.Labels, 1)
		ex.Columns[0] = append(ex.Columns[0], fmt.Sprintf("about k%d", i))
		ex.Columns[1] = append(ex.Columns[1], fmt.Sprintf("unrelated text of k%d here", (i+5)%24))
		ex.Labels = append(ex.Labels, 0)
	}
	m, err := encoder.NewBERTCrossEncoder(idTokenizer{100}, tokFiles(t), encoder.BERTSpec{Layers: 2, Hidden: 32, Heads: 4,
		Intermediate: 64, MaxLength: 64, Seed: 3}, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := TrainCrossEncoder(context.Background(), m, ex, Config{Epochs: 15, BatchSize: 16, LearningRate: 1e-2, Seed: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := res.History.Records
	first := (r[0].Loss + r[1].Loss + r[2].Loss) / 3
	last := (r[len(r)-1].Loss + r[len(r)-2].Loss + r[len(r)-3].Loss) / 3
	if !(last < 0.5*first) {
		t.Errorf("BCE loss %.3f in the first epoch, %.3f in the last", first, last)
	}
	if _, err := TrainCrossEncoder(context.Background(), m, ex, Config{Loss: LossMNRL}, nil); err == nil {
		t.Error("a cross-encoder accepted mnrl")
	}
	t.Logf("BCE loss %.3f → %.3f", first, last)
}

// An empty text (no tokens: a zero static embedding) in a normalising model trains without NaN, as in torch.
func TestEmptyTextTrainsFinite(t *testing.T) {
	m, err := encoder.NewStatic(context.Background(), idTokenizer{100}, tokFiles(t), encoder.StaticSpec{Dim: 8, Normalize: true, Seed: 1}, encoder.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := topicPairs(8)
	ex.Columns[1][3] = ""
	res, err := TrainBiEncoder(context.Background(), m, ex, Config{Epochs: 2, BatchSize: 4, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.History.Records {
		if !finite(r.Loss) || !finite(r.GradNorm) {
			t.Fatalf("step %d: loss %v, grad norm %v", r.Step, r.Loss, r.GradNorm)
		}
	}
}
