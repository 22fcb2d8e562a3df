// Package plots draws the charts of a fine-tuning run with gonum/plot: retrieval metrics by Matryoshka
// dimension (one line per model, BM25 as a horizontal reference), training loss and evaluation curves over
// steps, and the distance histograms of hard-negative mining with the chosen window shaded. Each chart is a
// *Chart that writes SVG or PNG bytes; the same input always gives the same bytes. Showing a chart (in a
// notebook, a file) is the caller's business, and so is computing what it shows.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart is a figure of one or more panels stacked vertically.
type Chart struct {
	// Width and Height are the figure's size in points (1/72 inch).
	Width, Height float64
	// DPI is the PNG resolution (144 unless set): a 6-inch-wide chart is then 864 pixels wide.
	DPI    int
	panels []*plot.Plot
}

// Panels returns the gonum plots (top to bottom) for further styling before writing.
func (c *Chart) Panels() []*plot.Plot { return c.panels }

func newChart(panels ...*plot.Plot) *Chart {
	h := 288.0
	if len(panels) > 1 {
		h = 216 * float64(len(panels))
	}
	return &Chart{Width: 432, Height: h, DPI: 144, panels: panels}
}

func (c *Chart) draw(cv vg.CanvasSizer) {
	dc := draw.New(cv)
	if len(c.panels) == 1 {
		c.panels[0].Draw(dc)
		return
	}
	grid := make([][]*plot.Plot, len(c.panels))
	for i, p := range c.panels {
		grid[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(c.panels), Cols: 1, PadX: vg.Millimeter, PadY: 3 * vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(grid, tiles, dc)
	for i, p := range c.panels {
		p.Draw(canvases[i][0])
	}
}

// SVG writes the chart as an SVG document.
func (c *Chart) SVG() ([]byte, error) {
	cv := vgsvg.New(vg.Length(c.Width), vg.Length(c.Height))
	c.draw(cv)
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("plots: write SVG: %w", err)
	}
	return b.Bytes(), nil
}

// PNG writes the chart as a PNG image.
func (c *Chart) PNG() ([]byte, error) {
	dpi := c.DPI
	if dpi <= 0 {
		dpi = 144
	}
	cv := vgimg.NewWith(vgimg.UseWH(vg.Length(c.Width), vg.Length(c.Height)), vgimg.UseDPI(dpi))
	c.draw(cv)
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("plots: write PNG: %w", err)
	}
	return b.Bytes(), nil
}

// Save writes the chart to path as SVG or PNG, chosen by the extension.
func (c *Chart) Save(path string) error {
	var b []byte
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		b, err = c.SVG()
	case ".png":
		b, err = c.PNG()
	default:
		return fmt.Errorf("plots: %s: want a .svg or .png file", path)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// palette is a fixed colour cycle (colour-blind friendly, after Okabe and Ito).
var palette = []color.NRGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // green
	{204, 121, 167, 255}, // purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{240, 228, 66, 255},  // yellow
}

// Color returns the i-th colour of the charts' cycle.
func Color(i int) color.Color { return palette[i%len(palette)] }

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Add(gridLines())
	return p
}
