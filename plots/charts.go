package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ragnb/ragnb/ui/tables"
)

func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	return g
}

// Series is one model's metric set as the evaluator returns it (keys such as "dim_768_cosine_ndcg@10",
// "bm25_ndcg@10").
type Series struct {
	Name    string
	Metrics map[string]float64
}

// MetricsByDimension plots one metric (e.g. "ndcg@10") against the Matryoshka dimension: a line with markers
// per series that has dim_<d>_… keys for it, and a dashed horizontal line for every BM25 value found
// ("bm25_<metric>" in any series; a series with only that key is drawn as a line named after it). The x axis
// is logarithmic with a tick at each dimension.
func MetricsByDimension(metric string, series ...Series) (*Chart, error) {
	p := newPlot(metric+" by embedding dimension", "embedding dimension", metric)
	p.X.Scale = plot.LogScale{}
	dimSet := map[int]bool{}
	lines, refs := 0, 0
	seenRef := map[string]bool{}
	for _, s := range series {
		byDim := map[int]float64{}
		for k, v := range s.Metrics {
			mk := tables.ParseMetricKey(k)
			if mk.Metric != metric {
				continue
			}
			if mk.Dim > 0 {
				byDim[mk.Dim] = v
			} else if mk.Group == "bm25" {
				name := "BM25"
				if seenRef[name] {
					continue
				}
				seenRef[name] = true
				h := &hline{Y: v, Style: draw.LineStyle{Color: color.Gray{Y: 90}, Width: vg.Points(1.5),
					Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
				p.Add(h)
				p.Legend.Add(fmt.Sprintf("%s (%.3f)", name, v), h)
				refs++
			}
		}
		if len(byDim) == 0 {
			continue
		}
		dims := make([]int, 0, len(byDim))
		for d := range byDim {
			dims = append(dims, d)
			dimSet[d] = true
		}
		sort.Ints(dims)
		xys := make(plotter.XYs, len(dims))
		for i, d := range dims {
			xys[i] = plotter.XY{X: float64(d), Y: byDim[d]}
		}
		l, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		c := Color(lines)
		l.Color, l.Width = c, vg.Points(2)
		sc.Color, sc.Shape, sc.Radius = c, draw.CircleGlyph{}, vg.Points(3)
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
		lines++
	}
	if lines == 0 && refs == 0 {
		return nil, fmt.Errorf("plots: no %q values in the metric sets (keys look like dim_768_cosine_%s)", metric, metric)
	}
	if lines == 0 {
		return nil, fmt.Errorf("plots: no per-dimension %q values (only BM25)", metric)
	}
	dims := make([]int, 0, len(dimSet))
	for d := range dimSet {
		dims = append(dims, d)
	}
	sort.Ints(dims)
	ticks := make(plot.ConstantTicks, len(dims))
	for i, d := range dims {
		ticks[i] = plot.Tick{Value: float64(d), Label: strconv.Itoa(d)}
	}
	p.X.Tick.Marker = ticks
	// A little room either side of the first and last dimension.
	p.X.Min, p.X.Max = float64(dims[0])/1.15, float64(dims[len(dims)-1])*1.15
	p.Legend.Left = false
	p.Legend.Top = false
	p.Legend.YOffs = vg.Points(4)
	padY(p)
	return newChart(p), nil
}

// padY widens the y range by 8% each side so lines and markers never sit on the frame.
func padY(p *plot.Plot) {
	lo, hi := p.Y.Min, p.Y.Max
	pad := 0.08 * (hi - lo)
	if pad == 0 {
		pad = 0.05 * math.Max(math.Abs(hi), 1)
	}
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
}

// hline is a horizontal line across the whole data area at Y.
type hline struct {
	Y     float64
	Style draw.LineStyle
}

func (h *hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.Y)
	c.StrokeLine2(h.Style, c.Min.X, y, c.Max.X, y)
}

func (h *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.Y, h.Y
}

func (h *hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.Style, c.Min.X, y, c.Max.X, y)
}

// Curve is one named series of values over training steps.
type Curve struct {
	Name   string
	Steps  []float64
	Values []float64
}

// TrainingCurves draws the loss curves in a top panel and the evaluation curves (e.g. ndcg@10 on the
// held-out split, measured every N steps) in a bottom panel sharing the step axis. evalLabel names the
// evaluation metric on the bottom panel's y axis. With no eval curves there is one panel.
func TrainingCurves(loss []Curve, eval []Curve, evalLabel string) (*Chart, error) {
	if len(loss) == 0 && len(eval) == 0 {
		return nil, fmt.Errorf("plots: no curves to draw")
	}
	var panels []*plot.Plot
	addCurves := func(p *plot.Plot, curves []Curve, first int, markers bool) error {
		for i, c := range curves {
			if len(c.Steps) != len(c.Values) {
				return fmt.Errorf("plots: curve %q has %d steps but %d values", c.Name, len(c.Steps), len(c.Values))
			}
			if len(c.Steps) == 0 {
				return fmt.Errorf("plots: curve %q is empty", c.Name)
			}
			xys := make(plotter.XYs, len(c.Steps))
			for j := range c.Steps {
				xys[j] = plotter.XY{X: c.Steps[j], Y: c.Values[j]}
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return fmt.Errorf("plots: curve %q: %w", c.Name, err)
			}
			col := Color(first + i)
			l.Color, l.Width = col, vg.Points(1.5)
			p.Add(l)
			if markers {
				sc, _ := plotter.NewScatter(xys)
				sc.Color, sc.Shape, sc.Radius = col, draw.CircleGlyph{}, vg.Points(2.5)
				p.Add(sc)
				p.Legend.Add(c.Name, l, sc)
			} else {
				p.Legend.Add(c.Name, l)
			}
		}
		return nil
	}
	if len(loss) > 0 {
		xl := "step"
		if len(eval) > 0 {
			xl = ""
		}
		p := newPlot("training", xl, "loss")
		if err := addCurves(p, loss, 0, false); err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	if len(eval) > 0 {
		if evalLabel == "" {
			evalLabel = "eval"
		}
		title := ""
		if len(loss) == 0 {
			title = "evaluation"
		}
		p := newPlot(title, "step", evalLabel)
		p.Legend.Top = false
		if err := addCurves(p, eval, len(loss), true); err != nil {
			return nil, err
		}
		padY(p)
		panels = append(panels, p)
	}
	// Panels share the step range.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		lo, hi = math.Min(lo, p.X.Min), math.Max(hi, p.X.Max)
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = lo, hi
	}
	return newChart(panels...), nil
}

// HistogramOptions configures DistanceHistogram.
type HistogramOptions struct {
	Title string
	// XLabel names the distance or score (default "cosine similarity").
	XLabel string
	// Bins is the number of bins over the common range of both samples (default 40).
	Bins int
	// Lo and Hi are the mining window; the band [Lo, Hi] is shaded when Hi > Lo.
	Lo, Hi float64
	// SuggestLo and SuggestHi are a suggested window (e.g. quantiles of the positives' distances), drawn as
	// dashed bounds when SuggestHi > SuggestLo, labelled SuggestLabel (default "suggested window").
	SuggestLo, SuggestHi float64
	SuggestLabel         string
	// LegendRight puts the legend on the right: for distances, where the positives sit on the left (for
	// similarities they sit on the right, and the legend goes left).
	LegendRight bool
}

// windowColor is the fill of the shaded mining window (drawn under the histograms).
var windowColor = color.NRGBA{R: 255, G: 236, B: 179, A: 255}

// DistanceHistogram draws the distribution of query–positive scores and of query–candidate scores with the
// same bins, each normalised to unit area so the two are comparable however many candidates there are, over
// a shaded band marking the window [Lo, Hi] that negatives are mined from.
func DistanceHistogram(positives, candidates []float64, o HistogramOptions) (*Chart, error) {
	if len(positives) == 0 && len(candidates) == 0 {
		return nil, fmt.Errorf("plots: no distances to draw")
	}
	if o.Bins <= 0 {
		o.Bins = 40
	}
	if o.XLabel == "" {
		o.XLabel = "cosine similarity"
	}
	if o.Title == "" {
		o.Title = "positives vs candidates"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range [][]float64{positives, candidates} {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("plots: distance %v is not finite", x)
			}
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	width := (hi - lo) / float64(o.Bins)
	p := newPlot(o.Title, o.XLabel, "density")
	p.Legend.Left = !o.LegendRight // away from the positives
	if o.Hi > o.Lo {
		b := &band{Lo: o.Lo, Hi: o.Hi, Color: windowColor}
		p.Add(b)
		p.Legend.Add(fmt.Sprintf("window [%.3g, %.3g]", o.Lo, o.Hi), b)
	}
	if o.SuggestHi > o.SuggestLo {
		if o.SuggestLabel == "" {
			o.SuggestLabel = "suggested window"
		}
		b := &bounds{Lo: o.SuggestLo, Hi: o.SuggestHi, Style: draw.LineStyle{Color: palette[2], Width: vg.Points(1.2),
			Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}}
		p.Add(b)
		p.Legend.Add(fmt.Sprintf("%s [%.3g, %.3g]", o.SuggestLabel, o.SuggestLo, o.SuggestHi), b)
	}
	for i, s := range []struct {
		name string
		xs   []float64
	}{{"candidates", candidates}, {"positives", positives}} {
		if len(s.xs) == 0 {
			continue
		}
		bins := densityBins(s.xs, lo, width, o.Bins)
		c := palette[[]int{1, 0}[i]]
		fill := color.NRGBA{R: c.R, G: c.G, B: c.B, A: 110}
		h := &plotter.Histogram{Bins: bins, Width: width, FillColor: fill,
			LineStyle: draw.LineStyle{Color: c, Width: vg.Points(0.6)}}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", s.name, len(s.xs)), h)
	}
	p.Y.Min = 0
	return newChart(p), nil
}

// densityBins counts xs into n bins of the given width from lo (the last bin includes its right edge) and
// scales the counts to densities: the bars' total area is 1.
func densityBins(xs []float64, lo, width float64, n int) []plotter.HistogramBin {
	bins := make([]plotter.HistogramBin, n)
	for j := range bins {
		bins[j].Min = lo + float64(j)*width
		bins[j].Max = lo + float64(j+1)*width
	}
	for _, x := range xs {
		j := int((x - lo) / width)
		if j >= n {
			j = n - 1
		}
		bins[j].Weight++
	}
	for j := range bins {
		bins[j].Weight /= float64(len(xs)) * width
	}
	return bins
}

// bounds draws two vertical lines at Lo and Hi across the whole data area.
type bounds struct {
	Lo, Hi float64
	Style  draw.LineStyle
}

func (b *bounds) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, x := range []float64{b.Lo, b.Hi} {
		if v := trX(x); v >= c.Min.X && v <= c.Max.X {
			c.StrokeLine2(b.Style, v, c.Min.Y, v, c.Max.Y)
		}
	}
}

// DataRange makes the x axis include both bounds.
func (b *bounds) DataRange() (xmin, xmax, ymin, ymax float64) {
	return b.Lo, b.Hi, math.Inf(1), math.Inf(-1)
}

func (b *bounds) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(b.Style, c.Min.X, y, c.Max.X, y)
}

// band shades the vertical strip Lo ≤ x ≤ Hi across the whole data area.
type band struct {
	Lo, Hi float64
	Color  color.Color
}

func (b *band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x0, x1 := trX(b.Lo), trX(b.Hi)
	x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
	if x1 <= x0 {
		return
	}
	c.FillPolygon(b.Color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
}

// DataRange makes the x axis include the window; the band has no y extent of its own.
func (b *band) DataRange() (xmin, xmax, ymin, ymax float64) {
	return b.Lo, b.Hi, math.Inf(1), math.Inf(-1)
}

func (b *band) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.Color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}
