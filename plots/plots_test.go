package plots

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// svgDoc parses an SVG document, returning its text labels and its paths' d attributes with their styles.
type svgPath struct{ d, style string }

func parseSVG(t *testing.T, b []byte) (texts []string, paths []svgPath) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "text":
				inText = true
			case "path":
				var p svgPath
				for _, a := range e.Attr {
					switch a.Name.Local {
					case "d":
						p.d = a.Value
					case "style":
						p.style = a.Value
					}
				}
				paths = append(paths, p)
			}
		case xml.EndElement:
			if e.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(e))
			}
		}
	}
	return texts, paths
}

func has(texts []string, s string) bool {
	for _, t := range texts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

var num = regexp.MustCompile(`-?[0-9.]+(?:e-?[0-9]+)?`)

// points returns the x,y coordinates of a path made of M and L commands.
func points(d string) [][2]float64 {
	var out [][2]float64
	for _, seg := range regexp.MustCompile(`[ML]`).Split(d, -1) {
		xy := num.FindAllString(seg, -1)
		if len(xy) == 2 {
			x, _ := strconv.ParseFloat(xy[0], 64)
			y, _ := strconv.ParseFloat(xy[1], 64)
			out = append(out, [2]float64{x, y})
		}
	}
	return out
}

// strokes counts stroked paths of a colour (lines), and filled ones.
func countStyle(paths []svgPath, substr string) int {
	n := 0
	for _, p := range paths {
		if strings.Contains(p.style, substr) {
			n++
		}
	}
	return n
}

func TestMetricsByDimension(t *testing.T) {
	base := Series{"bge-base", map[string]float64{"dim_768_cosine_ndcg@10": 0.70, "dim_256_cosine_ndcg@10": 0.66, "dim_64_cosine_ndcg@10": 0.55,
		"dim_768_cosine_mrr@10": 0.6, "bm25_ndcg@10": 0.62}}
	tuned := Series{"fine-tuned", map[string]float64{"dim_768_cosine_ndcg@10": 0.78, "dim_256_cosine_ndcg@10": 0.77, "dim_64_cosine_ndcg@10": 0.71}}
	c, err := MetricsByDimension("ndcg@10", base, tuned)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	texts, paths := parseSVG(t, svg)
	for _, want := range []string{"embedding dimension", "ndcg@10", "bge-base", "fine-tuned", "BM25 (0.620)", "768", "256", "64"} {
		if !has(texts, want) {
			t.Errorf("SVG lacks the text %q (texts: %q)", want, texts)
		}
	}
	// One stroked 3-point polyline per model, in the first two palette colours.
	for i, s := range []Series{base, tuned} {
		col := colorHex(palette[i])
		var lines int
		for _, p := range paths {
			if strings.Contains(p.style, "stroke:"+col) && strings.Contains(p.style, "fill:none") && len(points(p.d)) == 3 {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s: %d three-point lines in %s, want 1", s.Name, lines, col)
		}
	}
	// The BM25 line is dashed and horizontal.
	var dashed int
	for _, p := range paths {
		if strings.Contains(p.style, "stroke-dasharray") {
			pts := points(p.d)
			if len(pts) == 2 && pts[0][1] == pts[1][1] {
				dashed++
			}
		}
	}
	if dashed < 1 {
		t.Error("no dashed horizontal BM25 line")
	}
	again, _ := c.SVG()
	c2, _ := MetricsByDimension("ndcg@10", base, tuned)
	again2, _ := c2.SVG()
	if !bytes.Equal(svg, again) || !bytes.Equal(svg, again2) {
		t.Error("the same input gave different SVG bytes")
	}
	if _, err := MetricsByDimension("recall@5", base); err == nil {
		t.Error("a metric with no values must be an error")
	}
	if _, err := MetricsByDimension("ndcg@10", Series{"bm25 only", map[string]float64{"bm25_ndcg@10": 0.5}}); err == nil {
		t.Error("only a BM25 value: want an error")
	}
}

func colorHex(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return "#" + strings.ToUpper(strconv.FormatUint(uint64(r>>8)<<16|uint64(g>>8)<<8|uint64(b>>8)|1<<24, 16)[1:])
}

func TestDistanceHistogramShadesTheWindow(t *testing.T) {
	var pos, cand []float64
	for i := 0; i < 200; i++ {
		pos = append(pos, 0.6+0.3*float64(i%20)/20)
		cand = append(cand, 0.05+0.7*float64(i)/200)
	}
	o := HistogramOptions{Lo: 0.35, Hi: 0.55, Bins: 20}
	c, err := DistanceHistogram(pos, cand, o)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := c.SVG()
	texts, paths := parseSVG(t, svg)
	for _, want := range []string{"cosine similarity", "density", "window [0.35, 0.55]", "positives (n=200)", "candidates (n=200)"} {
		if !has(texts, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// Where the window must be: the data area's transform for x = 0.35 and 0.55.
	p := c.Panels()[0]
	dc := draw.New(vgsvg.New(vg.Length(c.Width), vg.Length(c.Height)))
	da := p.DataCanvas(dc)
	trX, _ := p.Transforms(&da)
	wantLo, wantHi := trX(0.35).Points(), trX(0.55).Points()
	// Independent check of the same thing: the fraction of the axis the window covers.
	if frac := (wantHi - wantLo) / (da.Max.X - da.Min.X).Points(); math.Abs(frac-0.2/(p.X.Max-p.X.Min)) > 1e-9 {
		t.Fatalf("window fraction %v", frac)
	}
	var shades int
	for _, sp := range paths {
		if !strings.Contains(sp.style, "fill:"+colorHex(windowColor)) {
			continue
		}
		pts := points(sp.d)
		if len(pts) < 4 {
			continue // the legend swatch is a polygon too; only the band spans the data area
		}
		minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, q := range pts {
			minX, maxX = math.Min(minX, q[0]), math.Max(maxX, q[0])
			minY, maxY = math.Min(minY, q[1]), math.Max(maxY, q[1])
		}
		if math.Abs(minX-wantLo) < 0.01 && math.Abs(maxX-wantHi) < 0.01 && math.Abs((maxY-minY)-(da.Max.Y-da.Min.Y).Points()) < 0.01 {
			shades++
		}
	}
	if shades != 1 {
		t.Errorf("%d shaded rectangles spanning x %.2f–%.2f over the full data height, want 1", shades, wantLo, wantHi)
	}
	png1, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(png1))
	if err != nil || img.Bounds().Dx() != 864 || img.Bounds().Dy() != 576 {
		t.Fatalf("PNG: %v %v (want 6×4 in at 144 dpi)", err, img.Bounds())
	}
	png2, _ := c.PNG()
	if !bytes.Equal(png1, png2) {
		t.Error("PNG bytes differ between two writes")
	}
	if _, err := DistanceHistogram([]float64{math.NaN()}, nil, o); err == nil {
		t.Error("NaN distance accepted")
	}
	// The legend goes away from the positives: left for similarities, right for distances.
	if !c.Panels()[0].Legend.Left {
		t.Error("similarity histogram: legend not on the left")
	}
	o.LegendRight = true
	if c, err := DistanceHistogram(pos, cand, o); err != nil || c.Panels()[0].Legend.Left {
		t.Errorf("LegendRight: legend on the left (%v)", err)
	}
}

func TestHistogramUnitArea(t *testing.T) {
	bins := densityBins([]float64{0, 0.1, 0.25, 0.99, 1}, 0, 0.25, 4)
	// Counts 2, 1, 0, 2 (1 falls in the last bin); density = count / (5 × 0.25).
	for j, want := range []float64{1.6, 0.8, 0, 1.6} {
		if math.Abs(bins[j].Weight-want) > 1e-12 {
			t.Errorf("bin %d: %v, want %v", j, bins[j].Weight, want)
		}
	}
	c, err := DistanceHistogram([]float64{0.1, 0.2, 0.2, 0.9}, []float64{0, 1, 0.5}, HistogramOptions{Bins: 10})
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := c.SVG()
	texts, _ := parseSVG(t, svg)
	if bytes.Contains(svg, []byte(colorHex(windowColor))) || has(texts, "window") {
		t.Error("window shaded although none was given")
	}
}

func TestTrainingCurves(t *testing.T) {
	loss := []Curve{{Name: "MNRL loss", Steps: []float64{0, 10, 20, 30, 40}, Values: []float64{2.1, 1.5, 1.1, 0.9, 0.8}}}
	eval := []Curve{{Name: "ndcg@10 (dim 768)", Steps: []float64{0, 20, 40}, Values: []float64{0.55, 0.64, 0.68}},
		{Name: "ndcg@10 (dim 64)", Steps: []float64{0, 20, 40}, Values: []float64{0.45, 0.58, 0.63}}}
	c, err := TrainingCurves(loss, eval, "ndcg@10")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Panels()) != 2 || c.Height != 432 {
		t.Fatalf("%d panels, height %v", len(c.Panels()), c.Height)
	}
	svg, _ := c.SVG()
	texts, paths := parseSVG(t, svg)
	for _, want := range []string{"loss", "ndcg@10", "step", "MNRL loss", "ndcg@10 (dim 768)", "ndcg@10 (dim 64)"} {
		if !has(texts, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	var five, three int
	for _, p := range paths {
		if !strings.Contains(p.style, "fill:none") {
			continue
		}
		switch len(points(p.d)) {
		case 5:
			five++
		case 3:
			three++
		}
	}
	if five != 1 || three != 2 {
		t.Errorf("%d five-point loss lines and %d three-point eval lines, want 1 and 2", five, three)
	}
	if c.Panels()[0].X.Max != 40 || c.Panels()[1].X.Min != 0 {
		t.Error("panels do not share the step range")
	}
	if _, err := TrainingCurves([]Curve{{Name: "x", Steps: []float64{1}, Values: nil}}, nil, ""); err == nil {
		t.Error("mismatched curve accepted")
	}
	one, err := TrainingCurves(loss, nil, "")
	if err != nil || len(one.Panels()) != 1 {
		t.Errorf("loss only: %v", err)
	}
}
