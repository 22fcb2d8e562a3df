package prelude

import (
	"fmt"
	"html"

	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/workflow"
)

// MineOptions configure MineNegatives; zero values take workflow.DefaultMineOptions, the defaults `ragnb mine`
// has too (top 100, one negative, nearest first, triplets, BGE's window 0.4 < L2 distance ≤ 0.7, no margins). The semantics are sentence-transformers'
// mine_hard_negatives plus a distance window; see package mining.
type MineOptions struct {
	// Anchor and Positive name the columns (default "anchor", "positive").
	Anchor, Positive string
	// Corpus adds candidate passages from its CorpusColumn (default "text"); the positives are always
	// candidates.
	Corpus       *Dataset
	CorpusColumn string
	// TopK passages are retrieved per anchor (default 100); RangeMin / RangeMax select positions among the
	// candidates that pass the filters (RangeMax 0: TopK).
	TopK, RangeMin, RangeMax int
	// The window keeps MinDistance < d ≤ MaxDistance, Distance "l2" (default: √(2 − 2·cos) on unit
	// vectors) or "cosine" (1 − cos). Both bounds 0: BGE's window 0.4 < d ≤ 0.7; NoWindow turns the window
	// off.
	Distance                 string
	MinDistance, MaxDistance float64
	NoWindow                 bool
	// MaxScore, MinScore (cosine bounds) and AbsoluteMargin, RelativeMargin (to the positive's cosine) are
	// off when nil: set them with Float(0.8).
	MaxScore, MinScore, AbsoluteMargin, RelativeMargin *float64
	// NumNegatives per anchor (default 1); Sampling "top" (default) or "random" with Seed.
	NumNegatives int
	Sampling     string
	Seed         int
	// Fallback for anchors short of negatives: "fewer" (default), "nearest", "random" or "skip".
	Fallback string
	// Format of the table: "triplet" (default), "n-tuple" or "labeled-pair"; OutputScores adds the cosines.
	Format       string
	OutputScores bool
	// CrossEncoder vetoes likely false negatives: candidates it scores above the anchor's positive, or above
	// CEThreshold when set.
	CrossEncoder *Model
	CEThreshold  *float64
	// SuggestWindow mines with a window read off the data instead (workflow.MineOptions.SuggestWindow): the
	// positives' distances between the quantiles SuggestLow and SuggestHigh (both 0: 0.1 and 0.9), on
	// Distance; the display shows it and how many anchors it covers.
	SuggestWindow           bool
	SuggestLow, SuggestHigh float64
	// Weaviate, when set, mines from that collection (pushed with the same model, Model.PushIndex) instead of
	// the exact in-process search: each anchor's TopK come from its nearVector search, and the selection runs
	// over the passages retrieved plus the positives, so a corpus far larger than memory is mined where it is
	// served (Corpus must then be nil; a random Fallback draws from the retrieved passages). Nothing read from
	// the collection is cached.
	Weaviate *Weaviate
}

// Float returns a pointer to v, for the optional thresholds of MineOptions: MaxScore: prelude.Float(0.8).
func Float(v float64) *float64 { return &v }

// workflow turns the prelude's options into the workflow's: every zero field takes
// workflow.DefaultMineOptions, the one set of defaults the command line uses too.
func (o MineOptions) workflow() workflow.MineOptions {
	w := workflow.DefaultMineOptions()
	def := w.Mining
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	num := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	str(&w.Anchor, o.Anchor)
	str(&w.Positive, o.Positive)
	str(&w.CorpusColumn, o.CorpusColumn)
	mo := &w.Mining
	num(&mo.TopK, o.TopK)
	num(&mo.RangeMin, o.RangeMin)
	num(&mo.RangeMax, o.RangeMax)
	num(&mo.NumNegatives, o.NumNegatives)
	str(&mo.Sampling, o.Sampling)
	str(&mo.Fallback, o.Fallback)
	str(&mo.Format, o.Format)
	mo.Seed = uint64(o.Seed)
	mo.OutputScores = o.OutputScores
	mo.MaxScore, mo.MinScore, mo.AbsoluteMargin, mo.RelativeMargin = o.MaxScore, o.MinScore, o.AbsoluteMargin, o.RelativeMargin
	mo.CEThreshold = o.CEThreshold
	switch {
	case o.NoWindow:
		mo.Window = mining.Window{}
	case o.MinDistance != 0 || o.MaxDistance != 0:
		mo.Window = mining.Window{Distance: mining.Distance(o.Distance), Min: o.MinDistance, Max: o.MaxDistance}
		if o.Distance == "" {
			mo.Window.Distance = def.Window.Distance
		}
	case o.Distance != "" && o.Distance != string(def.Window.Distance):
		mo.Window.Distance = mining.Distance(o.Distance) // the default bounds read in another distance
	}
	w.SuggestWindow = o.SuggestWindow
	if o.SuggestLow != 0 || o.SuggestHigh != 0 {
		w.SuggestQuantiles = [2]float64{o.SuggestLow, o.SuggestHigh}
	}
	return w
}

// Mined is the outcome of MineNegatives: the mined table, the statistics and the distance histogram.
type Mined struct {
	chain string
	data  *Dataset
	r     *mining.Result
	s     *mining.Suggestion
	err   error
	// in and o are what mined it, kept for ExploreWindow's re-selection on the cached top-k.
	in workflow.MineInput
	o  workflow.MineOptions
}

// MineNegatives mines hard negatives for the (anchor, positive) rows with the bi-encoder m: each anchor's
// TopK nearest passages (exact search), filtered by rank range, score bounds, margins and the distance
// window, optionally checked by a cross-encoder; never a positive of the anchor or a copy of one.
//
// The embeddings (step "embed", shared with Evaluate) and the top-k (step "mine-topk") are memoised, so a
// sweep over windows re-runs only the selection, itself memoised as step "mine-select":
//
//	var mined = train.MineNegatives(model, prelude.MineOptions{MinDistance: 0.4, MaxDistance: 0.7, NumNegatives: 3})
//	var triplets = mined.Dataset()
//
//	%%
//	mined.Display()   // statistics and the histogram of positive vs candidate distances, window shaded
func (d *Dataset) MineNegatives(m *Model, opts MineOptions) *Mined {
	op := fmt.Sprintf("MineNegatives(%s)", m.Chain())
	n := d.next(op)
	out := &Mined{chain: n.chain, data: n}
	fail := func(err error) *Mined {
		out.err = fmt.Errorf("%s: %w", op, err)
		n.fail(op, err)
		return out
	}
	if n.err != nil {
		out.err = n.err
		return out
	}
	if m.Err() != nil {
		return fail(m.Err())
	}
	wo := opts.workflow()
	if _, err := wo.Check(); err != nil {
		return fail(err)
	}
	anchors, err := d.Strings(wo.Anchor)
	if err != nil {
		return fail(err)
	}
	positives, err := d.Strings(wo.Positive)
	if err != nil {
		return fail(err)
	}
	in := workflow.MineInput{Anchors: anchors, Positives: positives, DataID: d.Hash(), Model: m.handle()}
	if opts.Corpus != nil {
		if opts.Corpus.Err() != nil {
			return fail(opts.Corpus.Err())
		}
		if in.Corpus, err = opts.Corpus.Strings(wo.CorpusColumn); err != nil {
			return fail(err)
		}
		in.CorpusID = opts.Corpus.Hash()
	}
	if opts.Weaviate != nil {
		if in.Weaviate, err = opts.Weaviate.source(m); err != nil {
			return fail(err)
		}
	}
	if opts.CrossEncoder != nil {
		if opts.CrossEncoder.Err() != nil {
			return fail(opts.CrossEncoder.Err())
		}
		in.CrossEncoder = opts.CrossEncoder.handle()
	}
	env, err := stepEnv()
	if err != nil {
		return fail(err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	res, err := workflow.Mine(ctx, env, in, wo)
	if err != nil {
		return fail(err)
	}
	r, hit := res.Result, res.Cached
	out.r, out.in, out.o, out.s = r, in, wo, res.Suggestion
	n.df = r.Frame()
	if n.df.Err != nil {
		return fail(n.df.Err)
	}
	note := fmt.Sprintf("%s: %d negatives for %d anchors, %d with an empty window", op, r.Stats.Negatives,
		r.Stats.Queries, r.Stats.EmptyWindow)
	if res.Weaviate != nil {
		note += "; " + res.Weaviate.String()
	}
	if hit {
		note += " (from cache)"
	}
	n.notes = append(n.notes, note)
	return out
}

// Err is the error met mining (or earlier in the chain), or nil.
func (m *Mined) Err() error { return m.err }

// Dataset is the mined table in the chosen format (triplet: anchor, positive, negative; n-tuple: negative_1 …
// negative_n; labeled-pair: anchor, passage, label), carrying the chain's error if mining failed.
func (m *Mined) Dataset() *Dataset { return m.data }

// Result is the full outcome (negatives with their scores, distances and ranks; nil after an error).
func (m *Mined) Result() *mining.Result { return m.r }

// Stats are the mining statistics (zero after an error).
func (m *Mined) Stats() mining.Stats {
	if m.r == nil {
		return mining.Stats{}
	}
	return m.r.Stats
}

// Histogram draws the distances of the positives and of every retrieved candidate, the window shaded.
func (m *Mined) Histogram() *Chart {
	chain := m.chain + ".Histogram()"
	if m.err != nil {
		return &Chart{chain: chain, err: m.err}
	}
	c, err := workflow.MineHistogram(m.r, m.s, 0)
	return &Chart{chain: chain, c: c, err: err}
}

// Suggestion is the window MineOptions.SuggestWindow read off the data and mined with, with the anchors it
// covers (nil when not asked, or after an error).
func (m *Mined) Suggestion() *mining.Suggestion { return m.s }

// summary is the suggestion (when there is one) and the statistics.
func (m *Mined) summary() string {
	s := m.r.Stats.String()
	if m.s != nil {
		s = m.s.String() + "\n" + s
	}
	return s
}

// String is the suggested window and the statistics as text, or the error.
func (m *Mined) String() string {
	if m.err != nil {
		return textError(m.chain, m.err)
	}
	return m.chain + "\n" + m.summary()
}

// HTML is the suggested window and the statistics as HTML, or the error.
func (m *Mined) HTML() string {
	if m.err != nil {
		return tableError(m.chain, m.err)
	}
	return "<div>" + titleHTML("Mined negatives", m.chain) + "<pre>" + html.EscapeString(m.summary()) + "</pre></div>"
}

// Display shows the statistics and the distance histogram.
func (m *Mined) Display() {
	showHTML(m.HTML(), m.String())
	if m.err == nil {
		m.Histogram().Display()
	}
}
