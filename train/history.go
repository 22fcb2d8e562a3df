package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Record is one optimizer step of a run: the step's mean loss, learning rate and gradient norm (before
// clipping), and the evaluation metrics when the run evaluated after it. Step 0 holds the evaluation before
// training. Fields that do not apply are NaN (and absent from JSON).
type Record struct {
	Step         int
	Epoch        float64
	Loss         float64
	LearningRate float64
	GradNorm     float64
	Eval         map[string]float64
}

// MarshalJSON writes a flat object: step, epoch, loss, learning_rate, grad_norm and eval_<key> (the names of
// transformers' log_history), leaving out NaN fields.
func (r Record) MarshalJSON() ([]byte, error) {
	m := map[string]any{"step": r.Step, "epoch": r.Epoch}
	put := func(k string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[k] = v
		}
	}
	put("loss", r.Loss)
	put("learning_rate", r.LearningRate)
	put("grad_norm", r.GradNorm)
	for k, v := range r.Eval {
		put("eval_"+k, v)
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads MarshalJSON's form.
func (r *Record) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = Record{Step: int(m["step"]), Epoch: m["epoch"], Loss: math.NaN(), LearningRate: math.NaN(), GradNorm: math.NaN()}
	get := func(k string, dst *float64) {
		if v, ok := m[k]; ok {
			*dst = v
		}
	}
	get("loss", &r.Loss)
	get("learning_rate", &r.LearningRate)
	get("grad_norm", &r.GradNorm)
	for k, v := range m {
		if len(k) > 5 && k[:5] == "eval_" {
			if r.Eval == nil {
				r.Eval = map[string]float64{}
			}
			r.Eval[k[5:]] = v
		}
	}
	return nil
}

// History is a run's records in step order.
type History struct {
	Records []Record
}

// add appends a step's record, or merges eval metrics into the record of the same step.
func (h *History) add(r Record) {
	if n := len(h.Records); n > 0 && h.Records[n-1].Step == r.Step {
		last := &h.Records[n-1]
		if r.Eval != nil {
			if last.Eval == nil {
				last.Eval = map[string]float64{}
			}
			for k, v := range r.Eval {
				last.Eval[k] = v
			}
		}
		return
	}
	h.Records = append(h.Records, r)
}

// EvalKeys lists the evaluation metric names that appear, sorted.
func (h *History) EvalKeys() []string {
	seen := map[string]bool{}
	for _, r := range h.Records {
		for k := range r.Eval {
			seen[k] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Evals returns the records that hold evaluation metrics.
func (h *History) Evals() []Record {
	var out []Record
	for _, r := range h.Records {
		if r.Eval != nil {
			out = append(out, r)
		}
	}
	return out
}

// Frame is the history as a gota DataFrame: one row per record, columns step, epoch, loss, learning_rate,
// grad_norm and eval_<key> for every metric (NaN where absent).
func (h *History) Frame() dataframe.DataFrame {
	n := len(h.Records)
	step := make([]int, n)
	cols := map[string][]float64{}
	order := []string{"epoch", "loss", "learning_rate", "grad_norm"}
	keys := h.EvalKeys()
	for _, k := range keys {
		order = append(order, "eval_"+k)
	}
	for _, c := range order {
		cols[c] = make([]float64, n)
	}
	for i, r := range h.Records {
		step[i] = r.Step
		cols["epoch"][i], cols["loss"][i], cols["learning_rate"][i], cols["grad_norm"][i] = r.Epoch, r.Loss, r.LearningRate, r.GradNorm
		for _, k := range keys {
			v, ok := r.Eval[k]
			if !ok {
				v = math.NaN()
			}
			cols["eval_"+k][i] = v
		}
	}
	ss := []series.Series{series.New(step, series.Int, "step")}
	for _, c := range order {
		ss = append(ss, series.New(cols[c], series.Float, c))
	}
	return dataframe.New(ss...)
}

// WriteJSONL writes one JSON object per record (see Record.MarshalJSON).
func (h *History) WriteJSONL(out io.Writer) error {
	w := bufio.NewWriter(out)
	for _, r := range h.Records {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return w.Flush()
}

// SaveJSONL writes the history to path atomically.
func (h *History) SaveJSONL(path string) error {
	var buf bytes.Buffer
	if err := h.WriteJSONL(&buf); err != nil {
		return fmt.Errorf("history %s: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}

// LoadHistory reads a history written by SaveJSONL.
func LoadHistory(path string) (*History, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h := &History{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("history %s line %d: %w", path, i+1, err)
		}
		h.Records = append(h.Records, r)
	}
	return h, nil
}

// writeAtomic writes data to path atomically and durably (synced before the rename: a checkpoint's state
// must survive a SIGKILL or a power cut), creating its folder.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(f *os.File) error {
		if _, err := f.Write(data); err != nil {
			return err
		}
		return f.Sync()
	})
}
