package prelude

import (
	"fmt"

	"github.com/ragnb/ragnb/plots"
)

// Chart is a figure (see package plots) that displays as SVG in the notebook.
type Chart struct {
	chain string
	c     *plots.Chart
	err   error
}

// Err is the error met drawing the chart, or nil.
func (c *Chart) Err() error { return c.err }

// SVG writes the chart as SVG.
func (c *Chart) SVG() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	return c.c.SVG()
}

// PNG writes the chart as PNG.
func (c *Chart) PNG() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	return c.c.PNG()
}

// Save writes the chart to a .svg or .png file.
func (c *Chart) Save(path string) error {
	if c.err != nil {
		return fmt.Errorf("save %s: %w", path, c.err)
	}
	return c.c.Save(path)
}

// Display shows the chart, or its error.
func (c *Chart) Display() {
	if c.err != nil {
		showError(c.chain, c.err)
		return
	}
	svg, err := c.c.SVG()
	if err != nil {
		showHTML(tableError(c.chain, err), "✗ "+err.Error()+"\n")
		return
	}
	png, _ := c.c.PNG()
	showImage(svg, png, fmt.Sprintf("[chart: %s — save it with .Save(\"chart.svg\")]\n", c.chain))
}

// PlotByDimension draws one metric (e.g. "ndcg@10") against the Matryoshka dimension, a line per metric set
// with per-dimension values and BM25 as a dashed reference line.
func PlotByDimension(metric string, sets ...*Metrics) *Chart {
	chain := fmt.Sprintf("PlotByDimension(%q, …)", metric)
	var series []plots.Series
	for _, m := range sets {
		if m == nil || m.err != nil {
			err := fmt.Errorf("a metric set is nil")
			if m != nil {
				err = fmt.Errorf("%s: %w", m.chain, m.err)
			}
			return &Chart{chain: chain, err: err}
		}
		series = append(series, plots.Series{Name: m.name, Metrics: m.values})
	}
	c, err := plots.MetricsByDimension(metric, series...)
	return &Chart{chain: chain, c: c, err: err}
}

// PlotTraining draws loss curves over steps above evaluation curves (evalLabel names their metric).
func PlotTraining(loss, eval []plots.Curve, evalLabel string) *Chart {
	c, err := plots.TrainingCurves(loss, eval, evalLabel)
	return &Chart{chain: "PlotTraining(…)", c: c, err: err}
}

// PlotDistances draws the query–positive and query–candidate score distributions with the mining window
// [lo, hi] shaded.
func PlotDistances(positives, candidates []float64, lo, hi float64) *Chart {
	c, err := plots.DistanceHistogram(positives, candidates, plots.HistogramOptions{Lo: lo, Hi: hi})
	return &Chart{chain: fmt.Sprintf("PlotDistances(…, %v, %v)", lo, hi), c: c, err: err}
}
