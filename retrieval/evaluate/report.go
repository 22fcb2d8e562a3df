package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/ir"
)

// Column is one evaluated system: a model at one dimension and similarity, BM25, a run, a reranker.
type Column struct {
	// Label prefixes the column's flat keys: "dim_768_cosine" gives dim_768_cosine_ndcg@10, "bm25" gives
	// bm25_ndcg@10, and "" (a plain run) gives ndcg@10.
	Label   string
	Metrics ir.Metrics
	// Run is the ranking the metrics were computed from (nil when the column was built from metrics alone):
	// what `ragnb eval --save-run` writes, for a model as for BM25.
	Run ir.Run
}

// Key is the flat key of one of the column's metrics.
func (c Column) Key(metric string) string {
	if c.Label == "" {
		return metric
	}
	return c.Label + "_" + metric
}

// Report is an evaluation's result: named columns of metrics. It flattens to sentence-transformers-style keys
// (Keys, Get, JSON), to a DataFrame of metrics × columns (Frame) and to a text table (Table).
type Report struct {
	Columns []Column
}

// SaveRun writes the run of the report's first column that has one to path in TREC format (tag names the
// system in the file) and returns that column's label. A report without runs is an error.
func (r *Report) SaveRun(path, tag string) (string, error) {
	for _, c := range r.Columns {
		if c.Run != nil {
			return c.Label, ir.SaveRun(path, c.Run, tag)
		}
	}
	return "", fmt.Errorf("evaluate: save run %s: the report holds no run", path)
}

// Merge puts the columns of several reports side by side, in order.
func Merge(reports ...*Report) *Report {
	out := &Report{}
	for _, r := range reports {
		if r != nil {
			out.Columns = append(out.Columns, r.Columns...)
		}
	}
	return out
}

// WithPrefix returns a copy whose labels start with prefix + "_" (e.g. "base" → base_dim_768_cosine_ndcg@10),
// so two models' reports can be merged without clashing keys.
func (r *Report) WithPrefix(prefix string) *Report {
	out := &Report{}
	for _, c := range r.Columns {
		if c.Label == "" {
			c.Label = prefix
		} else {
			c.Label = prefix + "_" + c.Label
		}
		out.Columns = append(out.Columns, c)
	}
	return out
}

// Keys lists every flat key, column by column, metrics in report order.
func (r *Report) Keys() []string {
	var keys []string
	for _, c := range r.Columns {
		for _, m := range c.Metrics.Names {
			keys = append(keys, c.Key(m))
		}
	}
	return keys
}

// Get returns a flat key's value ("dim_256_cosine_ndcg@10").
func (r *Report) Get(key string) (float64, bool) {
	for _, c := range r.Columns {
		for _, m := range c.Metrics.Names {
			if c.Key(m) == key {
				return c.Metrics.Values[m], true
			}
		}
	}
	return 0, false
}

// Flat returns every flat key and its value.
func (r *Report) Flat() map[string]float64 {
	out := map[string]float64{}
	for _, c := range r.Columns {
		for _, m := range c.Metrics.Names {
			out[c.Key(m)] = c.Metrics.Values[m]
		}
	}
	return out
}

// MarshalJSON writes the flat keys as one JSON object, in Keys order.
func (r *Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	for i, k := range r.Keys() {
		if i > 0 {
			b.WriteString(",")
		}
		v, _ := r.Get(k)
		key, _ := json.Marshal(k)
		b.WriteString("\n  ")
		b.Write(key)
		b.WriteString(": ")
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// WriteJSON writes the flat JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// SaveJSON writes the flat JSON object to path atomically.
func (r *Report) SaveJSON(path string) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, b)
}

// LoadFlatJSON reads a flat metrics JSON object (as written by SaveJSON or by sentence-transformers) into a
// report with a single column labelled "", so its keys stay exactly as in the file. Non-numeric values are an
// error naming the key.
func LoadFlatJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("read %s: want a JSON object of metrics", path)
	}
	m := ir.Metrics{Values: map[string]float64{}}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		key := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("read %s key %q: %w", path, key, err)
		}
		var f float64
		switch x := v.(type) {
		case json.Number:
			f, err = x.Float64()
			if err != nil {
				return nil, fmt.Errorf("read %s key %q: %w", path, key, err)
			}
		case nil:
			f = math.NaN()
		default:
			return nil, fmt.Errorf("read %s key %q: value %v is not a number", path, key, v)
		}
		if _, dup := m.Values[key]; !dup {
			m.Names = append(m.Names, key)
		}
		m.Values[key] = f
	}
	return &Report{Columns: []Column{{Metrics: m}}}, nil
}

// metricRows lists the metric names of all columns, first-seen order.
func (r *Report) metricRows() []string {
	var rows []string
	seen := map[string]bool{}
	for _, c := range r.Columns {
		for _, m := range c.Metrics.Names {
			if !seen[m] {
				seen[m] = true
				rows = append(rows, m)
			}
		}
	}
	return rows
}

func (r *Report) columnLabel(i int) string {
	if l := r.Columns[i].Label; l != "" {
		return l
	}
	return "run"
}

// Frame is the report as a DataFrame: a "metric" column, then one float column per report column
// (labelled as in the keys; "run" for an unlabelled one). A metric a column lacks is NaN.
func (r *Report) Frame() dataframe.DataFrame {
	rows := r.metricRows()
	cols := []series.Series{series.New(rows, series.String, "metric")}
	for i, c := range r.Columns {
		vals := make([]float64, len(rows))
		for j, m := range rows {
			v, ok := c.Metrics.Values[m]
			if !ok {
				v = math.NaN()
			}
			vals[j] = v
		}
		cols = append(cols, series.New(vals, series.Float, r.columnLabel(i)))
	}
	return dataframe.New(cols...)
}

// Table renders the report as an aligned text table (metrics as rows, columns as columns, 4 decimals).
func (r *Report) Table() string {
	rows := r.metricRows()
	header := []string{"metric"}
	for i := range r.Columns {
		header = append(header, r.columnLabel(i))
	}
	cells := [][]string{header}
	for _, m := range rows {
		line := []string{m}
		for _, c := range r.Columns {
			if v, ok := c.Metrics.Values[m]; ok {
				line = append(line, strconv.FormatFloat(v, 'f', 4, 64))
			} else {
				line = append(line, "-")
			}
		}
		cells = append(cells, line)
	}
	return renderTable(cells)
}

// renderTable aligns cells: the first column left, the others right.
func renderTable(cells [][]string) string {
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for j, c := range row {
			widths[j] = max(widths[j], len([]rune(c)))
		}
	}
	var sb strings.Builder
	for _, row := range cells {
		for j, c := range row {
			pad := strings.Repeat(" ", widths[j]-len([]rune(c)))
			switch {
			case j == 0:
				sb.WriteString(c + pad)
			default:
				sb.WriteString("  " + pad + c)
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// Change is one metric compared between a base and a fine-tuned evaluation.
type Change struct {
	Key         string
	Base, Tuned float64
	// Abs is Tuned − Base; Pct is 100·(Tuned − Base)/Base (NaN when Base is 0).
	Abs, Pct float64
}

// Compare pairs the flat keys present in both reports, in base's key order.
func Compare(base, tuned *Report) ([]Change, error) {
	tv := tuned.Flat()
	var out []Change
	for _, k := range base.Keys() {
		t, ok := tv[k]
		if !ok {
			continue
		}
		b, _ := base.Get(k)
		pct := math.NaN()
		if b != 0 {
			pct = 100 * (t - b) / b
		}
		out = append(out, Change{Key: k, Base: b, Tuned: t, Abs: t - b, Pct: pct})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("compare: the reports have no metric key in common")
	}
	return out, nil
}

// ChangesFrame is a comparison as a DataFrame with columns key, base, tuned, abs_change, pct_change.
func ChangesFrame(changes []Change) dataframe.DataFrame {
	keys := make([]string, len(changes))
	var b, t, a, p []float64
	for i, c := range changes {
		keys[i] = c.Key
		b, t, a, p = append(b, c.Base), append(t, c.Tuned), append(a, c.Abs), append(p, c.Pct)
	}
	return dataframe.New(
		series.New(keys, series.String, "key"),
		series.New(b, series.Float, "base"),
		series.New(t, series.Float, "tuned"),
		series.New(a, series.Float, "abs_change"),
		series.New(p, series.Float, "pct_change"),
	)
}

// ChangesTable renders a comparison as an aligned text table.
func ChangesTable(changes []Change) string {
	cells := [][]string{{"key", "base", "tuned", "change", "% change"}}
	for _, c := range changes {
		pct := "n/a"
		if !math.IsNaN(c.Pct) {
			pct = fmt.Sprintf("%+.1f%%", c.Pct)
		}
		cells = append(cells, []string{c.Key, strconv.FormatFloat(c.Base, 'f', 4, 64),
			strconv.FormatFloat(c.Tuned, 'f', 4, 64), fmt.Sprintf("%+.4f", c.Abs), pct})
	}
	return renderTable(cells)
}
