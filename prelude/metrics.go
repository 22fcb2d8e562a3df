package prelude

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/ui/tables"
	"github.com/ragnb/ragnb/workflow"
)

// Metrics is a named metric set as the evaluators produce it: sentence-transformers key names such as
// "dim_768_cosine_ndcg@10" and "bm25_ndcg@10" mapped to values.
type Metrics struct {
	name   string
	chain  string
	values map[string]float64
	err    error
	// notes say how the figures were made (the hybrid's weights and where they were chosen); hybrid holds
	// the fusion chosen at each dimension.
	notes  []string
	hybrid []workflow.HybridChoice
}

// HybridAlpha is the convex weight the hybrid used at dimension dim (chosen on the dev set when Evaluate had
// one), NaN when the metrics have no hybrid at that dimension.
func (m *Metrics) HybridAlpha(dim int) float64 {
	for _, c := range m.hybrid {
		if c.Dim == dim {
			return c.Fusion.Alpha
		}
	}
	return math.NaN()
}

// Notes say how the figures were made (e.g. which hybrid weight, chosen where).
func (m *Metrics) Notes() []string { return slices.Clone(m.notes) }

// NewMetrics wraps a metric set (e.g. one computed by your own code) for display and comparison.
func NewMetrics(name string, values map[string]float64) *Metrics {
	v := make(map[string]float64, len(values))
	for k, x := range values {
		v[k] = x
	}
	return &Metrics{name: name, chain: fmt.Sprintf("NewMetrics(%q)", name), values: v}
}

// LoadMetrics reads a JSON object of metric name → number, as written by `ragnb eval --json`.
func LoadMetrics(path string) *Metrics {
	m := &Metrics{name: path, chain: fmt.Sprintf("LoadMetrics(%q)", path)}
	b, err := os.ReadFile(path)
	if err != nil {
		m.err = err
		return m
	}
	if err := json.Unmarshal(b, &m.values); err != nil {
		m.err = fmt.Errorf("%s: want a JSON object of metric name → number: %w", path, err)
	}
	return m
}

// Name is the metric set's label ("bge-base", "fine-tuned").
func (m *Metrics) Name() string { return m.name }

// Err is the error met producing the metrics, or nil.
func (m *Metrics) Err() error { return m.err }

// Values returns a copy of the metrics (nil after an error).
func (m *Metrics) Values() map[string]float64 {
	if m.err != nil {
		return nil
	}
	v := make(map[string]float64, len(m.values))
	for k, x := range m.values {
		v[k] = x
	}
	return v
}

// Get returns one metric, NaN when absent.
func (m *Metrics) Get(key string) float64 {
	if x, ok := m.values[key]; ok && m.err == nil {
		return x
	}
	return math.NaN()
}

// Keys are the metric names, sorted.
func (m *Metrics) Keys() []string {
	var k []string
	for key := range m.values {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// Grid lays the metrics out as metric × dimension (see tables.MetricGrid); name metrics to keep only those.
func (m *Metrics) Grid(metrics ...string) tables.Grid {
	g := tables.MetricGrid(m.values, metrics...)
	g.Title = m.name
	return g
}

// HTML renders the metric × dimension table, or the error.
func (m *Metrics) HTML() string {
	if m.err != nil {
		return tables.ErrorHTML(m.chain+" failed", m.err.Error())
	}
	out := m.Grid().HTML()
	for _, n := range m.notes {
		out += "<p>" + html.EscapeString(n) + "</p>"
	}
	return out
}

// String renders the metric × dimension table as text, or the error.
func (m *Metrics) String() string {
	if m.err != nil {
		return textError(m.chain, m.err)
	}
	out := m.Grid().Text()
	for _, n := range m.notes {
		out += "\n" + n
	}
	return out
}

// Display shows the metric × dimension table.
func (m *Metrics) Display() { showHTML(m.HTML(), m.String()) }

// Comparison is a fine-tuned model's metrics set against its base model's.
type Comparison struct {
	c   tables.Comparison
	err error
}

// Compare sets tuned against base: absolute values, Δ and % change for every metric both have (only the
// named metrics, e.g. "ndcg@10", when given), by dimension.
func Compare(base, tuned *Metrics, metrics ...string) *Comparison {
	for _, m := range []*Metrics{base, tuned} {
		if m == nil {
			return &Comparison{err: fmt.Errorf("Compare: a metric set is nil")}
		}
		if m.err != nil {
			return &Comparison{err: fmt.Errorf("Compare: %s: %w", m.chain, m.err)}
		}
	}
	c := tables.Compare(base.values, tuned.values, base.name, tuned.name, metrics...)
	c.Title = fmt.Sprintf("%s vs %s", tuned.name, base.name)
	if len(c.Rows) == 0 {
		return &Comparison{err: fmt.Errorf("Compare: %s and %s have no metric in common%s", base.name, tuned.name, only(metrics))}
	}
	return &Comparison{c: c}
}

func only(metrics []string) string {
	if len(metrics) == 0 {
		return ""
	}
	return " among " + strings.Join(metrics, ", ")
}

// Err is the comparison's error, or nil.
func (c *Comparison) Err() error { return c.err }

// Rows are the compared metrics.
func (c *Comparison) Rows() []tables.ComparisonRow { return c.c.Rows }

// HTML renders the comparison table (gains green, losses red), or the error.
func (c *Comparison) HTML() string {
	if c.err != nil {
		return tables.ErrorHTML("Compare failed", c.err.Error())
	}
	return c.c.HTML()
}

// String renders the comparison as text, or the error.
func (c *Comparison) String() string {
	if c.err != nil {
		return "✗ " + c.err.Error() + "\n"
	}
	return c.c.Text()
}

// Display shows the comparison.
func (c *Comparison) Display() { showHTML(c.HTML(), c.String()) }

func tableError(chain string, err error) string {
	return tables.ErrorHTML(chain+" failed", err.Error())
}

// textError is tableError for a terminal.
func textError(chain string, err error) string {
	return "✗ " + chain + " failed\n  " + err.Error() + "\n"
}

// showError shows that chain failed with err.
func showError(chain string, err error) { showHTML(tableError(chain, err), textError(chain, err)) }
