package train

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
)

// Checkpoint files beside the model files of a checkpoint-<step> directory.
const (
	optimizerFile = "optimizer.safetensors"
	stateFile     = "trainer_state.json"
	bestDir       = "best"
	bestFile      = "best.json"
)

// trainerState is trainer_state.json: where the run is, so that a resume continues exactly.
type trainerState struct {
	Step           int      `json:"global_step"`
	TotalSteps     int      `json:"total_steps"`
	Epoch          float64  `json:"epoch"`
	BestMetric     string   `json:"best_metric_name,omitempty"`
	BestValue      *float64 `json:"best_metric,omitempty"`
	BestStep       int      `json:"best_step"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	Fingerprint    string   `json:"fingerprint"`
	History        []Record `json:"log_history"`
}

// bestRecord is best.json beside best/: which step the best model is from.
type bestRecord struct {
	Step   int     `json:"step"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
}

func checkpointName(step int) string { return fmt.Sprintf("checkpoint-%d", step) }

// checkpoints lists the complete checkpoints under dir (those with a trainer_state.json), oldest first.
func checkpoints(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "checkpoint-")
		if !ok || !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), stateFile)); err == nil {
			steps = append(steps, n)
		}
	}
	sort.Ints(steps)
	return steps, nil
}

// saveCheckpoint writes checkpoint-<step> atomically (a temporary directory renamed into place) and keeps the
// newest keep checkpoints.
func saveCheckpoint(dir string, t *task, e *engine, st trainerState, keep int) (string, error) {
	final := filepath.Join(dir, checkpointName(st.Step))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	tmp, err := atomicfile.MkdirTemp(dir, "."+checkpointName(st.Step)+".tmp")
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	if err := t.save(tmp); err != nil {
		return fail(err)
	}
	var moments []safetensors.Float32Tensor
	for _, p := range e.params {
		for _, x := range []struct {
			prefix string
			v      interface {
				Value() (*tensors.Tensor, error)
			}
		}{{"exp_avg.", p.m}, {"exp_avg_sq.", p.s}} {
			val, err := x.v.Value()
			if err != nil {
				return fail(err)
			}
			data, err := tensors.CopyFlatData[float32](val)
			if err != nil {
				return fail(err)
			}
			moments = append(moments, safetensors.Float32Tensor{Name: x.prefix + p.name, Shape: slices.Clone(val.Shape().Dimensions), Data: data})
		}
	}
	if err := safetensors.WriteFile(filepath.Join(tmp, optimizerFile), moments, safetensors.WriteOptions{}); err != nil {
		return fail(err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := writeAtomic(filepath.Join(tmp, stateFile), b); err != nil {
		return fail(err)
	}
	if err := os.RemoveAll(final); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	steps, err := checkpoints(dir)
	if err != nil {
		return final, err
	}
	for len(steps) > keep {
		if steps[0] != st.Step {
			if err := os.RemoveAll(filepath.Join(dir, checkpointName(steps[0]))); err != nil {
				return final, err
			}
		}
		steps = steps[1:]
	}
	return final, nil
}

// loadCheckpoint restores weights and optimizer moments from a checkpoint directory and returns its state.
func loadCheckpoint(path string, e *engine) (trainerState, error) {
	var st trainerState
	b, err := os.ReadFile(filepath.Join(path, stateFile))
	if err != nil {
		return st, fmt.Errorf("resume from %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("resume from %s: %s: %w", path, stateFile, err)
	}
	l, err := modeldir.Read(path)
	if err != nil {
		return st, fmt.Errorf("resume from %s: %w", path, err)
	}
	if err := loadTensors(l.WeightsFile(path), e, ""); err != nil {
		return st, fmt.Errorf("resume from %s: %w", path, err)
	}
	if err := loadTensors(filepath.Join(path, optimizerFile), e, "exp_avg."); err != nil {
		return st, fmt.Errorf("resume from %s: %w", path, err)
	}
	if err := loadTensors(filepath.Join(path, optimizerFile), e, "exp_avg_sq."); err != nil {
		return st, fmt.Errorf("resume from %s: %w", path, err)
	}
	return st, nil
}

// loadTensors sets every parameter (prefix "") or moment (prefix "exp_avg." / "exp_avg_sq.") from file.
func loadTensors(file string, e *engine, prefix string) error {
	f, err := safetensors.ReadFile(file)
	if err != nil {
		return err
	}
	for _, p := range e.params {
		name := prefix + p.name
		data, shape, err := f.Float32(name)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		v := p.v
		switch prefix {
		case "exp_avg.":
			v = p.m
		case "exp_avg_sq.":
			v = p.s
		}
		if !slices.Equal(shape, v.Shape().Dimensions) {
			return fmt.Errorf("%s: tensor %q has shape %v, the model's is %v", file, name, shape, v.Shape().Dimensions)
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(data, shape...)); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", file, name, err)
		}
	}
	return nil
}

// readLayout returns the weights file of a model directory.
func readLayout(dir string) (string, error) {
	l, err := modeldir.Read(dir)
	if err != nil {
		return "", err
	}
	return l.WeightsFile(dir), nil
}
