package plots

import (
	"strings"
	"testing"
)

// TestDistanceHistogramDrawsTheSuggestedWindowAsDashedBounds: a suggested window adds a legend entry with its
// bounds and two dashed vertical lines spanning the data area's height; without one there is no dashed line.
func TestDistanceHistogramDrawsTheSuggestedWindowAsDashedBounds(t *testing.T) {
	pos, cand := []float64{0.2, 0.3, 0.35, 0.4}, []float64{0.1, 0.5, 0.6, 0.9}
	dashed := func(o HistogramOptions) (texts []string, lines int) {
		c, err := DistanceHistogram(pos, cand, o)
		if err != nil {
			t.Fatal(err)
		}
		svg, _ := c.SVG()
		texts, paths := parseSVG(t, svg)
		for _, p := range paths {
			if strings.Contains(p.style, "stroke-dasharray") && len(points(p.d)) == 2 && points(p.d)[0][0] == points(p.d)[1][0] {
				lines++ // vertical and dashed: a bound (the legend swatch is horizontal)
			}
		}
		return texts, lines
	}
	texts, lines := dashed(HistogramOptions{Lo: 0.4, Hi: 0.7, SuggestLo: 0.25, SuggestHi: 0.38, SuggestLabel: "suggested (q10–q90)"})
	if lines != 2 {
		t.Errorf("%d dashed vertical lines, want the 2 bounds", lines)
	}
	if !has(texts, "suggested (q10–q90) [0.25, 0.38]") || !has(texts, "window [0.4, 0.7]") {
		t.Errorf("legend %q lacks the suggested window or the window", texts)
	}
	if _, lines := dashed(HistogramOptions{Lo: 0.4, Hi: 0.7}); lines != 0 {
		t.Errorf("no suggestion drew %d dashed lines", lines)
	}
}
