package train

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/weights"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train/optim"
	"github.com/ragnb/ragnb/train/sampler"
)

// Result is what a run did.
type Result struct {
	// Steps is the number of optimizer steps done (including those before a resume), of TotalSteps.
	Steps, TotalSteps int
	// Epochs is the fractional number of epochs done.
	Epochs float64
	// ResumedFrom is the checkpoint step the run continued from (0: a fresh run), and Checkpoint the last
	// checkpoint written or resumed from ("" when none).
	ResumedFrom int
	Checkpoint  string
	// History holds every step's loss, learning rate and gradient norm, and the evaluations.
	History *History
	// BestMetric, BestValue and BestStep name the best evaluation (BestValue NaN without one); Best is its
	// model directory when a CheckpointDir is set.
	BestMetric string
	BestValue  float64
	BestStep   int
	Best       string
	// Final is the last evaluation's metrics (nil without an evaluator).
	Final map[string]float64
	// Elapsed is the training time over all runs of a resumed training; StepTime the mean wall time of an
	// optimizer step in this process (evaluations and checkpoints excluded).
	Elapsed, StepTime time.Duration
	// StepTimes are this process's optimizer steps' wall times in order: the first includes compiling the
	// programs, so MedianStepTime is the steady pace.
	StepTimes []time.Duration
}

// MedianStepTime is the median of StepTimes (0 without steps): the pace once the programs are compiled.
func (r *Result) MedianStepTime() time.Duration {
	if len(r.StepTimes) == 0 {
		return 0
	}
	s := slices.Clone(r.StepTimes)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// plan is the run's data order: a pure function of the examples, config and epoch.
type plan struct {
	cfg    Config
	values func(row int) []int32
	rows   int
	cache  map[int][][]int
}

func newPlan(ex *Examples, cfg Config) *plan {
	p := &plan{cfg: cfg, rows: ex.Rows(), cache: map[int][][]int{}}
	if cfg.Sampler == SamplerNoDuplicates {
		in := sampler.NewInterner()
		ids := make([][]int32, ex.Rows())
		for r := range ids {
			ids[r] = make([]int32, len(ex.Columns))
			for c, col := range ex.Columns {
				ids[r][c] = in.ID(col[r])
			}
		}
		p.values = func(row int) []int32 { return ids[row] }
	}
	return p
}

// batches of epoch e (row indices).
func (p *plan) batches(e int) ([][]int, error) {
	if b, ok := p.cache[e]; ok {
		return b, nil
	}
	order := sampler.Permutation(p.rows, p.cfg.Seed, e)
	var b [][]int
	var err error
	if p.values != nil {
		b, err = sampler.NoDuplicates(order, p.values, p.cfg.BatchSize, p.cfg.DropLast)
	} else {
		b, err = sampler.Batches(order, p.cfg.BatchSize, p.cfg.DropLast)
	}
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("epoch %d has no batch: %d rows, batch size %d, drop last %v", e, p.rows, p.cfg.BatchSize, p.cfg.DropLast)
	}
	clear(p.cache) // keep one epoch
	p.cache[e] = b
	return b, nil
}

// stepsIn is the number of optimizer steps of epoch e (gradient accumulation groups; the last may be smaller).
func (p *plan) stepsIn(e int) (int, error) {
	b, err := p.batches(e)
	if err != nil {
		return 0, err
	}
	return (len(b) + p.cfg.GradAccum - 1) / p.cfg.GradAccum, nil
}

// total is the run's number of optimizer steps.
func (p *plan) total() (int, error) {
	if p.cfg.MaxSteps > 0 {
		return p.cfg.MaxSteps, nil
	}
	n := 0
	for e := range p.cfg.Epochs {
		s, err := p.stepsIn(e)
		if err != nil {
			return 0, err
		}
		n += s
	}
	return n, nil
}

// fingerprint identifies what a checkpoint was trained on: the config fields that shape the run and the
// examples' texts, so that a resume with other data or settings is refused.
func fingerprint(t *task, cfg Config) string {
	h := fnv.New128a()
	c := cfg
	c.Evaluator, c.CheckpointDir, c.Resume, c.KeepCheckpoints = nil, "", false, 0
	c.EvalEvery, c.CheckpointEvery, c.SkipInitialEval = 0, 0, false
	b, _ := json.Marshal(c)
	h.Write(b)
	fmt.Fprintf(h, "|%s|%d|", t.kind, t.ex.Rows())
	for _, col := range t.ex.Columns {
		for _, s := range col {
			fmt.Fprintf(h, "%d:%s", len(s), s)
		}
	}
	for _, y := range t.ex.Labels {
		fmt.Fprintf(h, "%g,", y)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// runState is the loop's mutable state.
type runState struct {
	st        trainerState
	bestW     []safetensors.Float32Tensor
	evaluated int // step of the last evaluation (-1: none)
	final     map[string]float64
}

func run(ctx context.Context, t *task, cfg Config, report progress.Func) (*Result, error) {
	backend, err := backendOf()
	if err != nil {
		return nil, err
	}
	p := newPlan(t.ex, cfg)
	total, err := p.total()
	if err != nil {
		return nil, err
	}
	sched := optim.Schedule{Kind: cfg.Schedule, Warmup: optim.WarmupSteps(cfg.WarmupRatio, total), Total: total}
	maxNorm := cfg.MaxGradNorm
	if maxNorm < 0 {
		maxNorm = 0
	}
	if cfg.TF32 {
		restore, err := gpu.SetTF32(backend, true)
		if err != nil {
			return nil, fmt.Errorf("train: tf32: %w", err)
		}
		defer restore()
	}
	computeDType := dtypes.Float32
	if cfg.BF16 {
		computeDType = dtypes.BFloat16
	}
	e, err := newEngine(backend, t.store, t.forward, t.loss, t.numCols, t.labels, cfg.adamW(), maxNorm, cfg.Seed, computeDType)
	if err != nil {
		return nil, err
	}
	defer e.close()
	sh := shape{rows: cfg.BatchSize, maxLen: t.maxLen, padID: t.padID}
	if cfg.Loss == LossCachedMNRL {
		sh.miniRows = min(cfg.MiniBatchSize, cfg.BatchSize)
	}

	fp := fingerprint(t, cfg)
	rs := &runState{evaluated: -1, st: trainerState{TotalSteps: total, Fingerprint: fp, BestMetric: cfg.BestMetric}}
	res := &Result{TotalSteps: total, History: &History{}, BestMetric: cfg.BestMetric, BestValue: math.NaN()}
	if cfg.Resume {
		if err := resume(t, e, cfg, rs, res); err != nil {
			return nil, err
		}
	}
	res.History.Records = rs.st.History

	start := time.Now()
	base := time.Duration(rs.st.ElapsedSeconds * float64(time.Second)) // training time before a resume
	elapsed := func() time.Duration { return base + time.Since(start) }
	send := func(values map[string]float64) {
		report.Send(progress.Report{Stage: "train", Done: rs.st.Step, Total: total, Unit: "steps", Elapsed: elapsed(), Values: values})
	}
	finish := func(err error) (*Result, error) {
		res.Steps, res.Epochs = rs.st.Step, rs.st.Epoch
		res.History.Records = rs.st.History
		res.Final = rs.final
		res.Elapsed = elapsed()
		if n := len(res.StepTimes); n > 0 {
			var sum time.Duration
			for _, d := range res.StepTimes {
				sum += d
			}
			res.StepTime = sum / time.Duration(n)
		}
		if rs.st.BestValue != nil {
			res.BestValue, res.BestStep = *rs.st.BestValue, rs.st.BestStep
		}
		return res, err
	}
	evaluate := func() error {
		if cfg.Evaluator == nil || rs.evaluated == rs.st.Step {
			return nil
		}
		m, err := cfg.Evaluator.Evaluate(ctx, report)
		if err != nil {
			return fmt.Errorf("evaluate at step %d: %w", rs.st.Step, err)
		}
		rs.evaluated, rs.final = rs.st.Step, m
		h := History{Records: rs.st.History}
		h.add(Record{Step: rs.st.Step, Epoch: rs.st.Epoch, Loss: math.NaN(), LearningRate: math.NaN(), GradNorm: math.NaN(), Eval: m})
		rs.st.History = h.Records
		if cfg.BestMetric == "" {
			return nil
		}
		v, ok := m[cfg.BestMetric]
		if !ok {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return fmt.Errorf("best metric %q is not among the evaluator's metrics (%s)", cfg.BestMetric, strings.Join(keys, ", "))
		}
		better := rs.st.BestValue == nil || (v > *rs.st.BestValue && !cfg.LowerIsBetter) || (v < *rs.st.BestValue && cfg.LowerIsBetter)
		if !better {
			return nil
		}
		rs.st.BestValue, rs.st.BestStep = &v, rs.st.Step
		if rs.bestW, err = t.weights(); err != nil {
			return err
		}
		if cfg.CheckpointDir != "" {
			dir := filepath.Join(cfg.CheckpointDir, bestDir)
			if err := t.save(dir); err != nil {
				return err
			}
			b, _ := json.Marshal(bestRecord{Step: rs.st.Step, Metric: cfg.BestMetric, Value: v})
			if err := writeAtomic(filepath.Join(cfg.CheckpointDir, bestFile), b); err != nil {
				return err
			}
			res.Best = dir
		}
		return nil
	}
	checkpoint := func() error {
		if cfg.CheckpointDir == "" {
			return nil
		}
		st := rs.st
		st.ElapsedSeconds = elapsed().Seconds()
		path, err := saveCheckpoint(cfg.CheckpointDir, t, e, st, cfg.KeepCheckpoints)
		if err != nil {
			return err
		}
		res.Checkpoint = path
		return nil
	}
	if rs.st.Step == 0 && !cfg.SkipInitialEval {
		if err := evaluate(); err != nil {
			return finish(err)
		}
	}
	send(nil)
	// Find the epoch and accumulation group of the next step.
	epoch, done := 0, 0
	for rs.st.Step < total {
		n, err := p.stepsIn(epoch)
		if err != nil {
			return finish(err)
		}
		if rs.st.Step >= done+n {
			done += n
			epoch++
			continue
		}
		batches, err := p.batches(epoch)
		if err != nil {
			return finish(err)
		}
		// The bar shows the epoch's mean loss so far (as the Trainer logs a mean): a single step's loss jumps
		// around, and an epoch's last, smaller batch can have a loss near 0 from having few in-batch negatives.
		var epochLoss float64
		var epochSteps int
		for g := rs.st.Step - done; g < n && rs.st.Step < total; g++ {
			if err := ctx.Err(); err != nil {
				return finish(err)
			}
			group := batches[g*cfg.GradAccum : min((g+1)*cfg.GradAccum, len(batches))]
			micros := make([]Batch, len(group))
			for i, rows := range group {
				if micros[i], err = t.tokenize(rows, epoch); err != nil {
					return finish(err)
				}
			}
			lr := cfg.LearningRate * sched.Factor(rs.st.Step)
			t0 := time.Now()
			loss, norm, err := e.step(micros, rs.st.Step, lr, sh)
			if err != nil {
				return finish(fmt.Errorf("step %d (epoch %d): %w", rs.st.Step+1, epoch+1, err))
			}
			if !finite(loss) || !finite(norm) {
				where := "no checkpoint was written"
				if res.Checkpoint != "" {
					where = "the last checkpoint is " + res.Checkpoint
				}
				return finish(fmt.Errorf("step %d (epoch %d): loss %v, gradient norm %v: training stopped; the weights are those after step %d; %s (try a lower learning rate, or check the data)",
					rs.st.Step+1, epoch+1, loss, norm, rs.st.Step, where))
			}
			res.StepTimes = append(res.StepTimes, time.Since(t0))
			rs.st.Step++
			rs.st.Epoch = float64(epoch) + float64(g+1)/float64(n)
			rs.st.History = append(rs.st.History, Record{Step: rs.st.Step, Epoch: rs.st.Epoch, Loss: loss, LearningRate: lr, GradNorm: norm})
			epochLoss += loss
			epochSteps++
			vals := map[string]float64{"loss": epochLoss / float64(epochSteps), "lr": lr, "epoch": rs.st.Epoch}
			if rs.st.BestValue != nil {
				vals[cfg.BestMetric] = *rs.st.BestValue
			}
			send(vals)
			endOfEpoch := g == n-1
			last := rs.st.Step == total
			if (cfg.EvalEvery > 0 && rs.st.Step%cfg.EvalEvery == 0) || (cfg.EvalEvery == 0 && endOfEpoch) || last {
				if err := evaluate(); err != nil {
					return finish(err)
				}
			}
			if (cfg.CheckpointEvery > 0 && rs.st.Step%cfg.CheckpointEvery == 0) || (cfg.CheckpointEvery == 0 && endOfEpoch) || last {
				if err := checkpoint(); err != nil {
					return finish(err)
				}
			}
		}
	}
	if cfg.BestMetric != "" && !cfg.KeepLast && rs.bestW != nil && rs.st.BestStep != rs.st.Step {
		if err := weights.ToStore(t.store, "/", rs.bestW); err != nil {
			return finish(fmt.Errorf("restore the best weights (step %d): %w", rs.st.BestStep, err))
		}
	}
	return finish(nil)
}

// resume loads the newest checkpoint of cfg.CheckpointDir into the engine and the run state (a fresh start
// when there is none), and the best model's weights when best/ belongs to the checkpoint's best step.
func resume(t *task, e *engine, cfg Config, rs *runState, res *Result) error {
	steps, err := checkpoints(cfg.CheckpointDir)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if len(steps) == 0 {
		return nil
	}
	path := filepath.Join(cfg.CheckpointDir, checkpointName(steps[len(steps)-1]))
	st, err := loadCheckpoint(path, e)
	if err != nil {
		return err
	}
	if st.Fingerprint != rs.st.Fingerprint {
		return fmt.Errorf("resume from %s: it was trained with other data or settings (fingerprint %s, this run %s); use another checkpoint directory",
			path, st.Fingerprint, rs.st.Fingerprint)
	}
	if st.TotalSteps != rs.st.TotalSteps {
		return fmt.Errorf("resume from %s: %d total steps there, %d now", path, st.TotalSteps, rs.st.TotalSteps)
	}
	rs.st = st
	res.ResumedFrom, res.Checkpoint = st.Step, path
	if st.BestValue != nil {
		b, err := os.ReadFile(filepath.Join(cfg.CheckpointDir, bestFile))
		var br bestRecord
		if err == nil && json.Unmarshal(b, &br) == nil && br.Step == st.BestStep {
			dir := filepath.Join(cfg.CheckpointDir, bestDir)
			ts, err := readModelWeights(dir, e)
			if err != nil {
				return fmt.Errorf("resume: best model: %w", err)
			}
			rs.bestW, res.Best = ts, dir
		}
	}
	return nil
}

// readModelWeights reads the engine's parameters from a model directory's weights file.
func readModelWeights(dir string, e *engine) ([]safetensors.Float32Tensor, error) {
	l, err := readLayout(dir)
	if err != nil {
		return nil, err
	}
	f, err := safetensors.ReadFile(l)
	if err != nil {
		return nil, err
	}
	var out []safetensors.Float32Tensor
	for _, p := range e.params {
		data, shape, err := f.Float32(p.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		out = append(out, safetensors.Float32Tensor{Name: p.name, Shape: shape, Data: data})
	}
	return out, nil
}
