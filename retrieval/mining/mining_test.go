package mining

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// fakeEmbedder maps each text to a fixed vector and counts the texts it embeds.
type fakeEmbedder struct {
	vecs     map[string][]float32
	embedded int
}

func (f *fakeEmbedder) embed(texts []string) (*vector.Matrix, error) {
	rows := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := f.vecs[t]
		if !ok {
			return nil, fmt.Errorf("no vector for %q", t)
		}
		rows[i] = v
	}
	f.embedded += len(texts)
	return vector.FromRows(rows)
}

func (f *fakeEmbedder) EmbedQueries(ctx context.Context, texts []string, r progress.Func) (*vector.Matrix, error) {
	return f.embed(texts)
}

func (f *fakeEmbedder) EmbedDocuments(ctx context.Context, texts []string, r progress.Func) (*vector.Matrix, error) {
	return f.embed(texts)
}

// The toy world: the query "q" is (1, 0); passages are integer vectors whose cosine with it is an exact
// ratio (Pythagorean triples), so every score below is known by hand.
//
//	pos (24,7) .96 | A (40,9) .976 | B (12,5) .923 | C (15,8) .882 | D (4,3) .8 | E (21,20) .724
//	F (20,21) .690 | G (3,4) .6    | H (8,15) .471 | I (5,12) .385 | J (7,24) .28
var toy = map[string][]float32{
	"q": {1, 0}, "pos": {24, 7}, "A": {40, 9}, "B": {12, 5}, "C": {15, 8}, "D": {4, 3}, "E": {21, 20},
	"F": {20, 21}, "G": {3, 4}, "H": {8, 15}, "I": {5, 12}, "J": {7, 24},
}

var toyCos = map[string]float64{
	"pos": 24.0 / 25, "A": 40.0 / 41, "B": 12.0 / 13, "C": 15.0 / 17, "D": 4.0 / 5, "E": 21.0 / 29,
	"F": 20.0 / 29, "G": 3.0 / 5, "H": 8.0 / 17, "I": 5.0 / 13, "J": 7.0 / 25,
}

var toyCorpus = []string{"J", "A", "I", "B", "H", "C", "G", "D", "F", "E"}

func mineToy(t *testing.T, opts Options) *Result {
	t.Helper()
	r, err := Mine(context.Background(), &fakeEmbedder{vecs: toy}, []string{"q"}, []string{"pos"}, toyCorpus, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func names(r *Result, q int) []string {
	var out []string
	for _, n := range r.Queries[q].Negatives {
		out = append(out, r.Set.Corpus[n.Passage])
	}
	return out
}

func TestSelectionByHand(t *testing.T) {
	cosd := func(name string) float64 { return CosineDistance.Of(toyCos[name]) }
	l2 := func(name string) float64 { return L2.Of(toyCos[name]) }
	for _, c := range []struct {
		name string
		opts Options
		want []string
	}{
		{"nearest first", Options{}, []string{"A"}},
		{"three nearest", Options{NumNegatives: 3}, []string{"A", "B", "C"}},
		// cos + 0 > .96 drops A only; cos + .05 > .96 drops A and B (.923 + .05 > .96).
		{"absolute margin 0", Options{NumNegatives: 3, AbsoluteMargin: Float(0)}, []string{"B", "C", "D"}},
		{"absolute margin .05", Options{NumNegatives: 3, AbsoluteMargin: Float(0.05)}, []string{"C", "D", "E"}},
		// .96 − .96·.05 = .912: drops A (.976) and B (.923).
		{"relative margin", Options{NumNegatives: 2, RelativeMargin: Float(0.05)}, []string{"C", "D"}},
		// max score equal to B's score keeps B (only scores above are dropped).
		{"max score bound is inclusive", Options{NumNegatives: 2, MaxScore: Float(12.0 / 13)}, []string{"B", "C"}},
		{"min score bound is inclusive", Options{NumNegatives: 10, RangeMax: 10, MinScore: Float(3.0 / 5)},
			[]string{"A", "B", "C", "D", "E", "F", "G"}},
		// Window min < d ≤ max: C sits exactly on min (out), G exactly on max (in).
		{"cosine window", Options{NumNegatives: 10, RangeMax: 10, Window: Window{Distance: CosineDistance, Min: cosd("C"), Max: cosd("G")}},
			[]string{"D", "E", "F", "G"}},
		{"l2 window", Options{NumNegatives: 10, RangeMax: 10, Window: Window{Distance: L2, Min: l2("C"), Max: l2("G")}},
			[]string{"D", "E", "F", "G"}},
		// Rank range positions count among the candidates that pass the filters (sentence-transformers).
		{"rank range", Options{NumNegatives: 2, RangeMin: 1, RangeMax: 3}, []string{"B", "C"}},
		{"rank range after the window", Options{NumNegatives: 3, RangeMin: 1, RangeMax: 10,
			Window: Window{Distance: L2, Min: l2("C"), Max: l2("G")}}, []string{"E", "F", "G"}},
		// FlagEmbedding's range_for_sampling slices the retrieved list itself: ranks 1..3 are pos, B, C (A is
		// rank 0), and the positive is removed afterwards; among eligible candidates ranks 1..3 are B, C, D.
		{"retrieved ranks count the positive (hn_mine)", Options{NumNegatives: 3, RangeMin: 1, RangeMax: 4, RetrievedRanks: true}, []string{"B", "C"}},
		{"eligible ranks skip the positive", Options{NumNegatives: 3, RangeMin: 1, RangeMax: 4}, []string{"B", "C", "D"}},
		{"top-k limits the candidates", Options{TopK: 4, NumNegatives: 5, RangeMax: 5}, []string{"A", "B", "C"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mineToy(t, c.opts)
			if got := names(r, 0); !reflect.DeepEqual(got, c.want) {
				t.Errorf("negatives %v, want %v", got, c.want)
			}
			for _, n := range r.Queries[0].Negatives {
				want := toyCos[r.Set.Corpus[n.Passage]]
				if n.Score != want {
					t.Errorf("%s: score %.17g, want %.17g", r.Set.Corpus[n.Passage], n.Score, want)
				}
				if d := r.Options.Window.Kind().Of(want); n.Distance != d {
					t.Errorf("%s: distance %v, want %v", r.Set.Corpus[n.Passage], n.Distance, d)
				}
			}
		})
	}
}

func TestDistances(t *testing.T) {
	for _, c := range []struct {
		cos, l2, cosd float64
	}{{1, 0, 0}, {0, math.Sqrt2, 1}, {-1, 2, 2}, {0.5, 1, 0.5}, {1 + 1e-12, 0, -1e-12}} {
		if got := L2.Of(c.cos); math.Abs(got-c.l2) > 1e-15 {
			t.Errorf("L2(%v) = %v, want %v", c.cos, got, c.l2)
		}
		if got := CosineDistance.Of(c.cos); math.Abs(got-c.cosd) > 1e-15 {
			t.Errorf("cosine distance(%v) = %v, want %v", c.cos, got, c.cosd)
		}
	}
	// The default window is the L2 one: 0.4 < d ≤ 0.7 means 0.755 ≤ cos < 0.92.
	w := DefaultWindow()
	if w.Kind() != L2 || L2.Cosine(w.Max) != 0.755 || math.Abs(L2.Cosine(w.Min)-0.92) > 1e-15 {
		t.Errorf("default window %v: cos from %v to %v", w, L2.Cosine(w.Max), L2.Cosine(w.Min))
	}
	if !w.Contains(0.7) || w.Contains(0.4) || w.Contains(0.7000001) || !(Window{}).Contains(5) {
		t.Error("Contains does not implement min < d ≤ max")
	}
}

func TestStatsCountEachDropOnce(t *testing.T) {
	l2 := func(name string) float64 { return L2.Of(toyCos[name]) }
	// Margin 0 drops A; max score .9 drops B; window (C, G] drops C (too close) and H, I, J (too far);
	// the rank range [1, 10) then skips D. Left: E, F, G.
	r := mineToy(t, Options{NumNegatives: 2, AbsoluteMargin: Float(0), MaxScore: Float(0.9), RangeMin: 1, RangeMax: 10,
		Window: Window{Min: l2("C"), Max: l2("G")}})
	st := r.Stats
	want := Stats{Rows: 1, Queries: 1, Passages: 11, TopK: 11, Candidates: 11, Positive: 1, AbsoluteMargin: 1, MaxScore: 1,
		TooClose: 1, TooFar: 3, Range: 1, Eligible: 3, Negatives: 2, Fallback: FallbackFewer}
	st.PositiveScores, st.NegativeScores, st.Difference = Summary{}, Summary{}, Summary{}
	st.PositiveDistances, st.CandidateDistances, st.Window = Summary{}, Summary{}, Window{}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats\n%+v\nwant\n%+v", st, want)
	}
	if got := names(r, 0); !reflect.DeepEqual(got, []string{"E", "F"}) {
		t.Errorf("negatives %v", got)
	}
	s := r.Stats.NegativeScores
	if s.Count != 2 || s.Max != toyCos["E"] || s.Min != toyCos["F"] || math.Abs(s.Mean-(toyCos["E"]+toyCos["F"])/2) > 1e-15 {
		t.Errorf("negative score summary %+v", s)
	}
	if d := r.Stats.Difference; d.Count != 2 || math.Abs(d.Max-(0.96-toyCos["F"])) > 1e-15 {
		t.Errorf("difference summary %+v", d)
	}
	// Candidate distances: every retrieved passage but the positive, before filters.
	if len(r.CandidateDistances) != 10 || len(r.PositiveDistances) != 1 || r.PositiveDistances[0] != L2.Of(0.96) {
		t.Errorf("%d candidate distances, positives %v", len(r.CandidateDistances), r.PositiveDistances)
	}
	if !strings.Contains(st.String(), "window: too far (d > max)") {
		t.Errorf("report lacks the window line:\n%s", st.String())
	}
}

func TestFallbacks(t *testing.T) {
	l2 := func(name string) float64 { return L2.Of(toyCos[name]) }
	// The window (B, C] holds C only; two negatives are asked for.
	win := Window{Min: l2("B"), Max: l2("C")}
	for _, c := range []struct {
		fallback string
		want     []string
		fromFB   int
		skipped  int
	}{
		{FallbackFewer, []string{"C"}, 0, 0},
		// Nearest outside: B is on the lower bound (gap 0), D is .082 in cosine beyond the upper one.
		{FallbackNearest, []string{"B", "C"}, 1, 0},
		{FallbackSkip, nil, 0, 1},
	} {
		t.Run(c.fallback, func(t *testing.T) {
			r := mineToy(t, Options{NumNegatives: 2, Window: win, Fallback: c.fallback})
			if got := names(r, 0); !reflect.DeepEqual(got, c.want) {
				t.Errorf("negatives %v, want %v", got, c.want)
			}
			st := r.Stats
			if st.Short != 1 || st.EmptyWindow != 0 || st.FromFallback != c.fromFB || st.SkippedQueries != c.skipped {
				t.Errorf("stats %+v", st)
			}
			for _, n := range r.Queries[0].Negatives {
				if n.Fallback != !win.Contains(n.Distance) {
					t.Errorf("%s at distance %v marked fallback=%v", r.Set.Corpus[n.Passage], n.Distance, n.Fallback)
				}
			}
			if c.fallback == FallbackSkip && r.Frame().Nrow() != 0 {
				t.Errorf("a skipped query has rows:\n%v", r.Frame())
			}
		})
	}
	// An empty window is counted; the random fill draws from outside the top-k, never a positive.
	empty := Window{Min: l2("A"), Max: l2("pos")}
	for seed := uint64(0); seed < 20; seed++ {
		r := mineToy(t, Options{TopK: 4, NumNegatives: 2, RangeMax: 4, Window: empty, Fallback: FallbackRandom, Seed: seed})
		st := r.Stats
		if st.EmptyWindow != 1 || st.Short != 1 || st.FromFallback != 2 || st.TooClose+st.TooFar != 3 {
			t.Fatalf("seed %d: stats %+v", seed, st)
		}
		for _, n := range r.Queries[0].Negatives {
			name := r.Set.Corpus[n.Passage]
			if !strings.Contains("DEFGHIJ", name) || n.Rank != 0 || !n.Fallback || n.Score != toyCos[name] {
				t.Errorf("seed %d: random fill %s %+v (top 4 are pos, A, B, C)", seed, name, n)
			}
		}
	}
}

func TestRandomSamplingIsSeeded(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(0); seed < 30; seed++ {
		opts := Options{NumNegatives: 3, Sampling: SampleRandom, Seed: seed, RangeMin: 2, RangeMax: 8}
		a, b := mineToy(t, opts), mineToy(t, opts)
		if !reflect.DeepEqual(names(a, 0), names(b, 0)) {
			t.Fatalf("seed %d: %v then %v", seed, names(a, 0), names(b, 0))
		}
		got := names(a, 0)
		// Eligible ranks 2..7 of A B C D E F G H I J: C D E F G H.
		for _, n := range got {
			if !strings.Contains("CDEFGH", n) {
				t.Errorf("seed %d drew %s outside the rank range", seed, n)
			}
		}
		if !slices.IsSortedFunc(a.Queries[0].Negatives, func(x, y Negative) int {
			return cmp.Compare(y.Score, x.Score)
		}) {
			t.Errorf("seed %d: negatives not by score: %v", seed, got)
		}
		seen[strings.Join(got, "")] = true
	}
	if len(seen) < 5 { // C(6,3) = 20 possible draws
		t.Errorf("30 seeds gave only %d distinct draws: %v", len(seen), seen)
	}
}

func TestPositivesAndCopiesAreNeverNegatives(t *testing.T) {
	vecs := map[string][]float32{"q": {1, 0}, "q2": {0, 1}, "p1": {24, 7}, "p2": {40, 9}, "x": {12, 5}, "y": {3, 4}}
	// The anchor q appears twice with two positives; p1 is also in the corpus, twice; the corpus holds the
	// text of the query q2 too.
	anchors := []string{"q", "q", "q2", ""}
	positives := []string{"p1", "p2", "y", "x"}
	corpus := []string{"p1", "x", "p1", "q2", "y", ""}
	vecs["q2"] = []float32{0, 1}
	r, err := Mine(context.Background(), &fakeEmbedder{vecs: vecs}, anchors, positives, corpus, Options{NumNegatives: 2, RangeMax: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Set
	if !reflect.DeepEqual(s.Corpus, []string{"p1", "x", "q2", "y", "p2"}) || !reflect.DeepEqual(s.Queries, []string{"q", "q2"}) ||
		!reflect.DeepEqual(s.Positives, [][]int{{0, 4}, {3}}) || !reflect.DeepEqual(s.Skipped, []int{3}) {
		t.Fatalf("set %+v", s)
	}
	// q: candidates by score p2 .976, p1 .96, x .923, y .6, q2 0 → positives out → x, y.
	if got := names(r, 0); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("q: %v", got)
	}
	// q2 = (0, 1): its own text is in the corpus (dropped), y is its positive → x, then p1 or p2.
	if got := names(r, 1); len(got) != 2 || got[0] == "q2" || got[1] == "q2" || slices.Contains(got, "y") {
		t.Errorf("q2: %v", got)
	}
	if r.Stats.Anchor != 1 || r.Stats.Positive != 3 || r.Stats.SkippedRows != 1 || r.Stats.Rows != 4 {
		t.Errorf("stats %+v", r.Stats)
	}
	// Triplets: q has two positives × two negatives, q2 one × two.
	tr := r.FrameAs(Triplet)
	if tr.Nrow() != 6 || !reflect.DeepEqual(tr.Names(), []string{"anchor", "positive", "negative"}) {
		t.Fatalf("triplets:\n%v", tr)
	}
	for i := 0; i < tr.Nrow(); i++ {
		a, p, n := tr.Elem(i, 0).String(), tr.Elem(i, 1).String(), tr.Elem(i, 2).String()
		if n == p || (a == "q" && (n == "p1" || n == "p2")) || (a == "q2" && n == "y") {
			t.Errorf("row %d: %s %s %s", i, a, p, n)
		}
	}
}

func TestFormats(t *testing.T) {
	vecs := map[string][]float32{"q": {1, 0}, "r": {0, 1}, "p": {24, 7}, "s": {7, 24}, "a": {40, 9}, "b": {12, 5}, "c": {5, 12}}
	mine := func(o Options) *Result {
		r, err := Mine(context.Background(), &fakeEmbedder{vecs: vecs}, []string{"q", "r"}, []string{"p", "s"},
			[]string{"a", "b", "c"}, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := mine(Options{NumNegatives: 2, OutputScores: true})
	// q = (1,0): a .976, b .923 ; r = (0,1): c .923 (12/13), b .385 (5/13).
	nt := r.FrameAs(NTuple)
	want := [][]string{{"q", "p", "a", "b"}, {"r", "s", "c", "b"}}
	if !reflect.DeepEqual(nt.Names(), []string{"anchor", "positive", "negative_1", "negative_2", "positive_score", "negative_1_score", "negative_2_score"}) {
		t.Fatalf("n-tuple columns %v", nt.Names())
	}
	for i, w := range want {
		for j, v := range w {
			if got := nt.Elem(i, j).String(); got != v {
				t.Errorf("n-tuple row %d col %d = %q, want %q", i, j, got, v)
			}
		}
	}
	if got := nt.Col("negative_2_score").Float()[1]; got != 5.0/13 {
		t.Errorf("negative_2_score %v", got)
	}
	lp := r.FrameAs(LabeledPair)
	if !reflect.DeepEqual(lp.Names(), []string{"anchor", "passage", "score"}) || lp.Nrow() != 6 {
		t.Fatalf("labeled pairs with scores:\n%v", lp)
	}
	r = mine(Options{NumNegatives: 2})
	lp = r.FrameAs(LabeledPair)
	if !reflect.DeepEqual(lp.Names(), []string{"anchor", "passage", "label"}) {
		t.Fatalf("labeled pairs:\n%v", lp)
	}
	if got := lp.Col("label").Records(); !reflect.DeepEqual(got, []string{"1", "0", "0", "1", "0", "0"}) {
		t.Errorf("labels %v", got)
	}
	if got := lp.Col("passage").Records(); !reflect.DeepEqual(got, []string{"p", "a", "b", "s", "c", "b"}) {
		t.Errorf("passages %v", got)
	}
	// A query short of negatives has no n-tuple row but keeps its triplets.
	// With min score .5, r keeps only c (b scores 5/13 for it).
	r = mine(Options{NumNegatives: 2, MinScore: Float(0.5)})
	if nt := r.FrameAs(NTuple); nt.Nrow() != 1 || nt.Elem(0, 0).String() != "q" {
		t.Errorf("n-tuple with a short query:\n%v", nt)
	}
	if tr := r.FrameAs(Triplet); tr.Nrow() != 3 || r.Stats.StillShort != 1 {
		t.Errorf("triplets with a short query:\n%v\n%+v", tr, r.Stats)
	}
	if df := r.FrameAs("labeled-list"); df.Err == nil {
		t.Error("unknown format accepted")
	}
}

// tableScorer scores a pair from a table (the query is ignored); it records how many pairs it scored.
type tableScorer struct {
	scores map[string]float64
	calls  []int
	fail   bool
}

func (s *tableScorer) ScorePairs(ctx context.Context, pairs []ir.Pair, r progress.Func) ([]float64, error) {
	if s.fail {
		return nil, errors.New("cross-encoder down")
	}
	s.calls = append(s.calls, len(pairs))
	out := make([]float64, len(pairs))
	for i, p := range pairs {
		out[i] = s.scores[p.Passage]
	}
	return out, nil
}

func TestCrossEncoderDropsLikelyFalseNegatives(t *testing.T) {
	// The cross-encoder thinks A and B are more relevant than the positive (.5): likely false negatives.
	ce := &tableScorer{scores: map[string]float64{"pos": 0.5, "A": 0.9, "B": 0.7, "C": 0.5, "D": 0.1, "E": 0.2}}
	r := mineToy(t, Options{NumNegatives: 2, CrossEncoder: ce})
	if got := names(r, 0); !reflect.DeepEqual(got, []string{"C", "D"}) {
		t.Errorf("negatives %v, want C, D (C ties the positive and is kept)", got)
	}
	// One call for the positives, then rounds: [A B] both dropped, then [C D] both kept.
	if !reflect.DeepEqual(ce.calls, []int{1, 2, 2}) || r.Stats.CEScored != 4 || r.Stats.CrossEncoder != 2 {
		t.Errorf("calls %v, stats %+v", ce.calls, r.Stats)
	}
	if n := r.Queries[0].Negatives[0]; n.CEScore != 0.5 {
		t.Errorf("CE score of C: %v", n.CEScore)
	}
	// An explicit threshold replaces the positive's score.
	ce.calls = nil
	r = mineToy(t, Options{NumNegatives: 2, CrossEncoder: ce, CEThreshold: Float(0.75)})
	if got := names(r, 0); !reflect.DeepEqual(got, []string{"B", "C"}) || !reflect.DeepEqual(ce.calls, []int{2, 1}) {
		t.Errorf("threshold .75: negatives %v, calls %v", got, ce.calls)
	}
	// Without a cross-encoder, the CE score is NaN.
	if n := mineToy(t, Options{}).Queries[0].Negatives[0]; !math.IsNaN(n.CEScore) {
		t.Errorf("CE score without a cross-encoder: %v", n.CEScore)
	}
	if _, err := Mine(context.Background(), &fakeEmbedder{vecs: toy}, []string{"q"}, []string{"pos"}, toyCorpus,
		Options{CrossEncoder: &tableScorer{fail: true}}, nil); err == nil || !strings.Contains(err.Error(), "cross-encoder down") {
		t.Errorf("a failing cross-encoder: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{RangeMin: 5, RangeMax: 5}, "range_min 5 must be smaller"},
		{Options{NumNegatives: 4, RangeMin: 8, RangeMax: 10}, "cannot take 4 negatives"},
		{Options{RangeMin: -1}, "range_min -1"},
		{Options{Sampling: "hardest"}, "unknown sampling"},
		{Options{Format: "labeled-list"}, "unknown format"},
		{Options{Fallback: "nearest"}, "no window"},
		{Options{Window: Window{Min: 0.7, Max: 0.4}}, "0 ≤ min < max ≤ 2"},
		{Options{Window: Window{Min: 0.3}}, "without a max"},
		{Options{Window: Window{Distance: "manhattan", Max: 1}}, "unknown distance"},
		{Options{MaxScore: Float(math.NaN())}, "max_score NaN"},
		{Options{CEThreshold: Float(0)}, "without a cross-encoder"},
		{Options{TopK: -3}, "top-k -3"},
	} {
		if _, err := c.opts.WithDefaults(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.want)
		}
	}
	if _, err := NewSet([]string{"a"}, []string{"b", "c"}, nil); err == nil {
		t.Error("mismatched columns accepted")
	}
	if _, err := NewSet([]string{""}, []string{"b"}, nil); err == nil {
		t.Error("a set without one usable row accepted")
	}
}

// Prepare with a cache embeds and searches once; a second Prepare (another process would do the same)
// loads both, and Select on the cached data gives the same negatives.
func TestPrepareCache(t *testing.T) {
	st, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet([]string{"q"}, []string{"pos"}, toyCorpus)
	if err != nil {
		t.Fatal(err)
	}
	fe := &fakeEmbedder{vecs: toy}
	loads := 0
	load := func() (vector.Embedder, error) { loads++; return fe, nil }
	o := PrepareOptions{TopK: 5, Cache: st, ModelID: "toy-model"}
	p1, err := Prepare(context.Background(), set, load, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Prepare(context.Background(), set, load, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if loads != 1 || fe.embedded != 12 || p1.EmbedCached || !p2.EmbedCached || !p2.RetrieveCached {
		t.Errorf("loads %d, embedded %d texts, cached %v/%v %v/%v", loads, fe.embedded, p1.EmbedCached, p1.RetrieveCached, p2.EmbedCached, p2.RetrieveCached)
	}
	if !reflect.DeepEqual(p1.Hits, p2.Hits) || !reflect.DeepEqual(p1.Corpus.Data, p2.Corpus.Data) {
		t.Error("cached preparation differs")
	}
	r, err := Select(context.Background(), p2, Options{TopK: 5, NumNegatives: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(r, 0); !reflect.DeepEqual(got, []string{"A", "B"}) {
		t.Errorf("negatives %v", got)
	}
	if _, err := Select(context.Background(), p2, Options{TopK: 8}, nil); err == nil || !strings.Contains(err.Error(), "only 5 hits") {
		t.Errorf("top-k above the prepared hits: %v", err)
	}
	// Another model id misses.
	o.ModelID = "other"
	if p3, err := Prepare(context.Background(), set, load, o, nil); err != nil || p3.EmbedCached || loads != 2 {
		t.Errorf("another model hit the cache: %v %v", err, loads)
	}
	// Hits files round-trip.
	path := filepath.Join(t.TempDir(), "hits.bin")
	if err := SaveHits(path, p1.Hits); err != nil {
		t.Fatal(err)
	}
	if h, err := LoadHits(path); err != nil || !reflect.DeepEqual(h, p1.Hits) {
		t.Errorf("hits round trip: %v %v", h, err)
	}
}

func TestResultSaveLoad(t *testing.T) {
	ce := &tableScorer{scores: map[string]float64{"pos": 0.5, "A": 0.9}}
	r := mineToy(t, Options{NumNegatives: 3, CrossEncoder: ce, Window: Window{Max: 1.9}, MaxScore: Float(0.99)})
	path := filepath.Join(t.TempDir(), "r.gob")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadResult(path)
	if err != nil {
		t.Fatal(err)
	}
	want := *r
	want.Options.CrossEncoder = nil
	// With a cross-encoder every CEScore is a number (no NaN), so a deep comparison works.
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip differs:\n%+v\n%+v", got, &want)
	}
	if got.Queries[0].Negatives[0].CEScore != 0 || *got.Options.MaxScore != 0.99 {
		t.Errorf("loaded %+v", got.Queries[0].Negatives[0])
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{4, 1, 3, 2})
	// numpy: mean 2.5, std(ddof=1) 1.2910, quantiles 1.75 / 2.5 / 3.25.
	if s.Count != 4 || s.Mean != 2.5 || math.Abs(s.Std-math.Sqrt(5.0/3)) > 1e-15 || s.Q25 != 1.75 || s.Median != 2.5 || s.Q75 != 3.25 || s.Min != 1 || s.Max != 4 {
		t.Errorf("%+v", s)
	}
}
