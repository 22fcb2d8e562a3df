package mining

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestSuggestWindowByHand: two queries of the toy world, q1 = (1, 0) with positive "pos" (cosine distance
// 1 − 24/25 = 0.04) and q2 = (0, 1) with positive "H" (1 − 15/17 ≈ 0.1176). The positives' full range is
// (0.04, 0.1176]: q1's candidates B (0.0769) and C (0.1176) fall in it, q2's only I (0.0769; J sits at 0.04,
// not above the bound). From the median up, (0.0788, 0.1176] keeps C for q1 and nothing for q2.
func TestSuggestWindowByHand(t *testing.T) {
	vecs := map[string][]float32{"q2": {0, 1}}
	for k, v := range toy {
		vecs[k] = v
	}
	set, err := NewSet([]string{"q", "q2"}, []string{"pos", "H"}, toyCorpus)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), set, Static(&fakeEmbedder{vecs: vecs}), PrepareOptions{TopK: 12}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := 1-24.0/25, 1-15.0/17
	for _, c := range []struct {
		lo, hi   float64
		neg      int
		min, max float64
		covered  int
	}{
		{0, 1, 2, d1, d2, 1},
		{0, 1, 1, d1, d2, 2},
		{0.5, 1, 1, (d1 + d2) / 2, d2, 1},
	} {
		s, err := SuggestWindow(p, CosineDistance, c.lo, c.hi, c.neg)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.Window.Min-c.min) > 1e-6 || math.Abs(s.Window.Max-c.max) > 1e-6 || s.Window.Distance != CosineDistance {
			t.Errorf("q%v–q%v: window %v, want (%.4f, %.4f]", c.lo, c.hi, s.Window, c.min, c.max)
		}
		if s.Covered != c.covered || s.Queries != 2 {
			t.Errorf("q%v–q%v, %d negatives: %d of %d covered, want %d", c.lo, c.hi, c.neg, s.Covered, s.Queries, c.covered)
		}
		if !strings.Contains(s.String(), "of 2 queries") {
			t.Errorf("String %q", s)
		}
	}
	for _, bad := range [][2]float64{{0.9, 0.1}, {-0.1, 0.5}, {0.2, 1.5}} {
		if _, err := SuggestWindow(p, L2, bad[0], bad[1], 1); err == nil {
			t.Errorf("quantiles %v accepted", bad)
		}
	}
}
