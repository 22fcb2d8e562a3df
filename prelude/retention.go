package prelude

import (
	"fmt"
	"math"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/ui/tables"
)

// RetentionView is the bge Matryoshka recipe's retention view: for each model, the metric at every
// dimension, the share of its own full-dimension score it keeps, and its score against the first model's
// (the base's) full-dimension score — so "fine-tuned at 64-d vs base at full dimension" is one cell.
type RetentionView struct {
	df    dataframe.DataFrame
	title string
	err   error
}

// Retention builds the retention view of metric (e.g. "ndcg@10") for the metric sets, the first being the
// reference (the base model) whose full dimension the last column divides by (evaluate.Retention).
func Retention(metric string, sets ...*Metrics) *RetentionView {
	v := &RetentionView{title: fmt.Sprintf("Retention of %s by Matryoshka dimension", metric)}
	if len(sets) == 0 {
		v.err = fmt.Errorf("Retention: no metric sets")
		return v
	}
	var names, dims []string
	var scores, shares, vsBase []float64
	ref := math.NaN()
	for i, m := range sets {
		if m == nil || m.err != nil {
			v.err = fmt.Errorf("Retention: metric set %d: %v", i+1, m.Err())
			return v
		}
		rs, err := evaluate.Retention(m.report(metric), "", "cosine", metric)
		if err != nil {
			v.err = fmt.Errorf("Retention: %s: %w", m.name, err)
			return v
		}
		if i == 0 {
			ref = rs[0].Score
		}
		for _, r := range rs {
			names, dims = append(names, m.name), append(dims, fmt.Sprint(r.Dim))
			scores, shares, vsBase = append(scores, r.Score), append(shares, r.Share), append(vsBase, r.Score/ref)
		}
	}
	v.df = dataframe.New(series.New(names, series.String, "model"), series.New(dims, series.String, "dim"),
		series.New(scores, series.Float, metric), series.New(shares, series.Float, "share of own full dim"),
		series.New(vsBase, series.Float, "vs "+sets[0].name+" full dim"))
	return v
}

// report is the model columns of the metric set (keys dim_<d>_<similarity>_<metric>) as an evaluate.Report.
func (m *Metrics) report(metric string) *evaluate.Report {
	r := &evaluate.Report{}
	for _, k := range m.Keys() {
		p := tables.ParseMetricKey(k)
		if p.Metric != metric || !strings.HasPrefix(p.Group, "dim_") {
			continue
		}
		r.Columns = append(r.Columns, evaluate.Column{Label: p.Group,
			Metrics: ir.Metrics{Names: []string{metric}, Values: map[string]float64{metric: m.values[k]}}})
	}
	return r
}

// Err is the error met building the view, or nil.
func (v *RetentionView) Err() error { return v.err }

// Frame is the view as a table (model, dim, metric, share of own full dim, vs base full dim).
func (v *RetentionView) Frame() dataframe.DataFrame { return v.df }

// HTML renders the table, or the error.
func (v *RetentionView) HTML() string {
	if v.err != nil {
		return tables.ErrorHTML("Retention failed", v.err.Error())
	}
	return tables.HTML(v.df, tables.Options{Head: 50, Caption: v.title})
}

// String renders the table as text, or the error.
func (v *RetentionView) String() string {
	if v.err != nil {
		return textError("Retention", v.err)
	}
	return tables.Text(v.df, tables.Options{Head: 50, Caption: v.title})
}

// Display shows the table.
func (v *RetentionView) Display() { showHTML(v.HTML(), v.String()) }
