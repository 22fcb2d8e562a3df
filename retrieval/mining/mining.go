// Package mining finds hard negatives for (anchor, positive) pairs: passages close to a query in a
// bi-encoder's embedding space that are not its positive. It embeds the distinct queries and passages once
// (cacheable), retrieves each query's top-k passages exactly with bounded memory (package search), and then
// selects negatives by rank range, score bounds, margin to the positive, a distance window and an optional
// cross-encoder check, sampling the nearest or at random. The selection is cheap and separate from the
// embedding and retrieval, so a threshold sweep re-runs only the selection.
//
// The parameters and their semantics follow sentence-transformers' mine_hard_negatives (range_min,
// range_max, max_score, min_score, absolute_margin, relative_margin, num_negatives, sampling_strategy,
// output_format "triplet" / "n-tuple" / "labeled-pair"); the distance window, the fallback for queries whose
// window is empty, and the cross-encoder threshold are ragnb's additions. See Options for every deviation.
//
// # Scores and distances
//
// A score is the cosine similarity of the query's and the passage's embeddings, computed in float64 from the
// float32 embeddings (vector.Cosine; a zero vector scores 0). Distances are defined on unit vectors:
//
//	L2 (default):  d = ‖q/‖q‖ − p/‖p‖‖ = sqrt(2 − 2·cos)   ∈ [0, 2]
//	cosine:        d = 1 − cos                           ∈ [0, 2]
//
// The window keeps Min < d ≤ Max. The BGE recipe's "0.4 < d ≤ 0.7" (DefaultWindow) is an L2 window, i.e.
// 0.755 ≤ cos < 0.92; read as a cosine distance it would mean 0.3 ≤ cos < 0.6.
//
// It owns selection, its statistics and the mined tables. It does not own embedding (encoder), exact search
// (search), cross-encoder scoring (relevance.Scorer implementations) or drawing (plots).
package mining

import (
	"fmt"
	"math"

	"github.com/ragnb/ragnb/ir"
)

// Distance names how a cosine similarity becomes a distance.
type Distance string

const (
	// L2 is the Euclidean distance of the L2-normalised vectors, sqrt(2 − 2·cos).
	L2 Distance = "l2"
	// CosineDistance is 1 − cos.
	CosineDistance Distance = "cosine"
)

// Of returns the distance of two vectors whose cosine similarity is cos. Rounding can put a cosine slightly
// above 1; the L2 distance is then 0, not NaN.
func (k Distance) Of(cos float64) float64 {
	if k == CosineDistance {
		return 1 - cos
	}
	return math.Sqrt(math.Max(0, 2-2*cos))
}

// Cosine is the inverse of Of: the cosine similarity at distance d.
func (k Distance) Cosine(d float64) float64 {
	if k == CosineDistance {
		return 1 - d
	}
	return 1 - d*d/2
}

// Label is the axis label for distances of this kind.
func (k Distance) Label() string {
	if k == CosineDistance {
		return "cosine distance 1 − cos"
	}
	return "L2 distance of unit vectors √(2 − 2·cos)"
}

// Window keeps candidates whose distance d to the query satisfies Min < d ≤ Max. The zero Window (Max = 0)
// keeps every distance.
type Window struct {
	// Distance is L2 (default) or CosineDistance.
	Distance Distance `json:"distance,omitempty"`
	Min      float64  `json:"min"`
	Max      float64  `json:"max"`
}

// DefaultWindow is the window of the BGE fine-tuning experience: L2 distance 0.4 < d ≤ 0.7 on unit vectors
// (0.755 ≤ cos < 0.92): far enough from the query not to be a paraphrase of the positive, close enough to be
// hard.
func DefaultWindow() Window { return Window{Distance: L2, Min: 0.4, Max: 0.7} }

// Enabled reports whether the window filters anything.
func (w Window) Enabled() bool { return w.Max != 0 }

// Kind is the window's distance, L2 when unset.
func (w Window) Kind() Distance {
	if w.Distance == "" {
		return L2
	}
	return w.Distance
}

// Contains reports whether distance d is inside the window (always true for the zero Window).
func (w Window) Contains(d float64) bool { return !w.Enabled() || (d > w.Min && d <= w.Max) }

func (w Window) validate() error {
	switch w.Distance {
	case "", L2, CosineDistance:
	default:
		return fmt.Errorf("window: unknown distance %q (want l2 or cosine)", w.Distance)
	}
	if !w.Enabled() {
		if w.Min != 0 {
			return fmt.Errorf("window: min %v without a max (set max, or both to 0 for no window)", w.Min)
		}
		return nil
	}
	if math.IsNaN(w.Min) || math.IsNaN(w.Max) || w.Min < 0 || w.Max <= w.Min || w.Max > 2 {
		return fmt.Errorf("window: want 0 ≤ min < max ≤ 2, got min %v, max %v", w.Min, w.Max)
	}
	return nil
}

func (w Window) String() string {
	if !w.Enabled() {
		return "no window"
	}
	return fmt.Sprintf("%g < %s distance ≤ %g", w.Min, w.Kind(), w.Max)
}

// Sampling strategies (sentence-transformers' sampling_strategy).
const (
	// SampleTop takes the nearest candidates that pass every filter.
	SampleTop = "top"
	// SampleRandom draws uniformly, without replacement, among the candidates that pass every filter.
	SampleRandom = "random"
)

// Output formats (sentence-transformers' output_format).
const (
	// Triplet: one row per (anchor, positive, negative).
	Triplet = "triplet"
	// NTuple: one row per (anchor, positive) with columns negative_1 … negative_n; a query with fewer than n
	// negatives has no row (as in sentence-transformers).
	NTuple = "n-tuple"
	// LabeledPair: rows (anchor, passage, label), label 1 for each positive and 0 for each negative.
	LabeledPair = "labeled-pair"
)

// Fallbacks say what happens to a query with fewer than NumNegatives candidates passing the filters.
const (
	// FallbackFewer keeps the negatives that were found (possibly none).
	FallbackFewer = "fewer"
	// FallbackNearest fills up with the candidates that failed only the distance window, nearest to the
	// window first (smallest distance outside [Min, Max]); they still pass every other filter, the
	// cross-encoder check included. Such negatives are marked Fallback.
	FallbackNearest = "nearest"
	// FallbackRandom fills up with passages drawn uniformly from the whole corpus (FlagEmbedding's old
	// behaviour), never a positive or the query itself; marked Fallback.
	FallbackRandom = "random"
	// FallbackSkip leaves the query out of the output entirely.
	FallbackSkip = "skip"
)

// Options configure the selection of negatives. The zero value is sentence-transformers' defaults except
// NumNegatives (1): no window, no margins, no score bounds, the nearest candidates first, triplets.
// DefaultOptions adds the BGE window.
type Options struct {
	// TopK is how many nearest passages are retrieved per query, positives included (default 100). Prepare
	// retrieves this many; Select may use fewer than were prepared.
	TopK int `json:"top_k"`
	// RangeMin and RangeMax select positions [RangeMin, RangeMax) of the candidates that survive the
	// positive exclusion and every score filter (margins, max/min score, window), ordered by score, as
	// sentence-transformers' range_min / range_max do: RangeMin = 10 skips the 10 nearest eligible
	// candidates. RangeMax 0 means TopK. FlagEmbedding's range_for_sampling "10-100" is close to RangeMin 10,
	// RangeMax 100 (FlagEmbedding counts the positive among the first ten).
	RangeMin int `json:"range_min"`
	RangeMax int `json:"range_max"`
	// RetrievedRanks makes the range FlagEmbedding's range_for_sampling "a-b" exactly: positions [RangeMin,
	// RangeMax) of the retrieved list itself (by score, positives and the query's own text counted), applied
	// before the other filters, as hn_mine slices its search results before removing the positives.
	RetrievedRanks bool `json:"retrieved_ranks,omitempty"`
	// Window keeps Min < distance ≤ Max (see Window; zero: no window).
	Window Window `json:"window"`
	// MaxScore drops candidates with cosine > MaxScore; MinScore drops those with cosine < MinScore. nil
	// means no bound (use Float to set one).
	MaxScore *float64 `json:"max_score,omitempty"`
	MinScore *float64 `json:"min_score,omitempty"`
	// AbsoluteMargin drops candidates with cosine + AbsoluteMargin > the positive's cosine; RelativeMargin
	// drops those with cosine > positive − |positive|·RelativeMargin. With several positives the lowest
	// positive score counts (sentence-transformers). nil means no margin; 0 is a real margin (the negative
	// must not score above the positive).
	AbsoluteMargin *float64 `json:"absolute_margin,omitempty"`
	RelativeMargin *float64 `json:"relative_margin,omitempty"`
	// NumNegatives is the number of negatives per query (default 1).
	NumNegatives int `json:"num_negatives"`
	// Sampling is SampleTop (default) or SampleRandom. Random draws are seeded per query with (Seed, the
	// query's index), so they do not depend on concurrency; chosen negatives are listed by score, highest
	// first, either way.
	Sampling string `json:"sampling,omitempty"`
	Seed     uint64 `json:"seed"`
	// Fallback is FallbackFewer (default), FallbackNearest, FallbackRandom or FallbackSkip.
	Fallback string `json:"fallback,omitempty"`
	// Format is the layout of Result.Frame: Triplet (default), NTuple or LabeledPair.
	Format string `json:"format,omitempty"`
	// OutputScores adds the bi-encoder cosines to Frame: positive_score and negative_score (triplet),
	// positive_score and negative_<i>_score (n-tuple); for labeled pairs a score column replaces label
	// (as sentence-transformers' output_scores does).
	OutputScores bool `json:"output_scores,omitempty"`

	// CrossEncoder, when set, checks the candidates that pass every other filter, in the order they would be
	// taken, and drops likely false negatives: a candidate whose cross-encoder score is above CEThreshold, or,
	// with CEThreshold nil, above the score it gives the query's lowest-scored positive. Only as many
	// candidates as needed are scored (rounds of one ScorePairs call each). Unlike sentence-transformers,
	// the cross-encoder does not replace the bi-encoder scores that the margins and bounds use: it is a veto.
	CrossEncoder ir.Scorer `json:"-"`
	CEThreshold  *float64  `json:"ce_threshold,omitempty"`
}

// Float returns a pointer to v, for the optional fields of Options: Options{MaxScore: mining.Float(0.8)}.
func Float(v float64) *float64 { return &v }

// DefaultOptions are ragnb's defaults: sentence-transformers' (top 100, nearest first, one negative,
// triplets) plus DefaultWindow.
func DefaultOptions() Options {
	return Options{TopK: 100, Window: DefaultWindow(), NumNegatives: 1, Sampling: SampleTop,
		Fallback: FallbackFewer, Format: Triplet}
}

// WithDefaults returns o with its zero fields set to their defaults, or an error naming the invalid field.
func (o Options) WithDefaults() (Options, error) {
	if o.TopK == 0 {
		o.TopK = 100
	}
	if o.NumNegatives == 0 {
		o.NumNegatives = 1
	}
	if o.RangeMax == 0 {
		o.RangeMax = o.TopK
	}
	if o.Sampling == "" {
		o.Sampling = SampleTop
	}
	if o.Fallback == "" {
		o.Fallback = FallbackFewer
	}
	if o.Format == "" {
		o.Format = Triplet
	}
	if o.Window.Enabled() && o.Window.Distance == "" {
		o.Window.Distance = L2
	}
	switch {
	case o.TopK < 1:
		return o, fmt.Errorf("mine: top-k %d, want at least 1", o.TopK)
	case o.NumNegatives < 1:
		return o, fmt.Errorf("mine: num_negatives %d, want at least 1", o.NumNegatives)
	case o.RangeMin < 0:
		return o, fmt.Errorf("mine: range_min %d, want ≥ 0", o.RangeMin)
	case o.RangeMin >= o.RangeMax:
		return o, fmt.Errorf("mine: range_min %d must be smaller than range_max %d", o.RangeMin, o.RangeMax)
	case o.RetrievedRanks && o.RangeMax > o.TopK:
		return o, fmt.Errorf("mine: ranks up to %d of the retrieved list need top-k ≥ %d, got %d", o.RangeMax, o.RangeMax, o.TopK)
	case o.NumNegatives > o.RangeMax-o.RangeMin:
		return o, fmt.Errorf("mine: cannot take %d negatives per query from ranks [%d, %d): only %d candidates remain",
			o.NumNegatives, o.RangeMin, o.RangeMax, o.RangeMax-o.RangeMin)
	}
	if err := o.Window.validate(); err != nil {
		return o, fmt.Errorf("mine: %w", err)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"max_score", o.MaxScore}, {"min_score", o.MinScore}, {"absolute_margin", o.AbsoluteMargin},
		{"relative_margin", o.RelativeMargin}, {"ce_threshold", o.CEThreshold}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			return o, fmt.Errorf("mine: %s %v is not a finite number", f.name, *f.v)
		}
	}
	if o.CEThreshold != nil && o.CrossEncoder == nil {
		return o, fmt.Errorf("mine: ce_threshold without a cross-encoder")
	}
	switch o.Sampling {
	case SampleTop, SampleRandom:
	default:
		return o, fmt.Errorf("mine: unknown sampling %q (want top or random)", o.Sampling)
	}
	switch o.Fallback {
	case FallbackFewer, FallbackNearest, FallbackRandom, FallbackSkip:
	default:
		return o, fmt.Errorf("mine: unknown fallback %q (want fewer, nearest, random or skip)", o.Fallback)
	}
	if o.Fallback == FallbackNearest && !o.Window.Enabled() {
		return o, fmt.Errorf("mine: fallback nearest fills from outside the distance window, but there is no window")
	}
	switch o.Format {
	case Triplet, NTuple, LabeledPair:
	default:
		return o, fmt.Errorf("mine: unknown format %q (want triplet, n-tuple or labeled-pair)", o.Format)
	}
	return o, nil
}
