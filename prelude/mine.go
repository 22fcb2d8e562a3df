package prelude

import (
	"context"
	"fmt"
	"html"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

// MineOptions configure MineNegatives; zero values take package mining's defaults (top 100, one negative,
// nearest first, triplets, no window, no margins). The semantics are sentence-transformers'
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
	// vectors; BGE's window is 0.4 < d ≤ 0.7) or "cosine" (1 − cos). MaxDistance 0: no window.
	Distance                 string
	MinDistance, MaxDistance float64
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
}

// Float returns a pointer to v, for the optional thresholds of MineOptions: MaxScore: prelude.Float(0.8).
func Float(v float64) *float64 { return &v }

func (o MineOptions) mining() mining.Options {
	mo := mining.Options{TopK: o.TopK, RangeMin: o.RangeMin, RangeMax: o.RangeMax,
		MaxScore: o.MaxScore, MinScore: o.MinScore, AbsoluteMargin: o.AbsoluteMargin, RelativeMargin: o.RelativeMargin,
		NumNegatives: o.NumNegatives, Sampling: o.Sampling, Seed: uint64(o.Seed), Fallback: o.Fallback,
		Format: o.Format, OutputScores: o.OutputScores, CEThreshold: o.CEThreshold}
	if o.MaxDistance != 0 || o.MinDistance != 0 {
		mo.Window = mining.Window{Distance: mining.Distance(o.Distance), Min: o.MinDistance, Max: o.MaxDistance}
	}
	return mo
}

// Mined is the outcome of MineNegatives: the mined table, the statistics and the distance histogram.
type Mined struct {
	chain string
	data  *Dataset
	r     *mining.Result
	err   error
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
	if opts.Anchor == "" {
		opts.Anchor = "anchor"
	}
	if opts.Positive == "" {
		opts.Positive = "positive"
	}
	if opts.CorpusColumn == "" {
		opts.CorpusColumn = "text"
	}
	mo := opts.mining()
	if opts.CrossEncoder != nil {
		mo.CEThreshold = nil // the cross-encoder is loaded only on a cache miss; the pairing is fine
	}
	mo, err := mo.WithDefaults()
	if err != nil {
		return fail(err)
	}
	mo.CEThreshold = opts.CEThreshold
	anchors, err := d.Strings(opts.Anchor)
	if err != nil {
		return fail(err)
	}
	positives, err := d.Strings(opts.Positive)
	if err != nil {
		return fail(err)
	}
	inputs := []string{m.ID(), d.Hash(), ""}
	var corpus []string
	if opts.Corpus != nil {
		if opts.Corpus.Err() != nil {
			return fail(opts.Corpus.Err())
		}
		if corpus, err = opts.Corpus.Strings(opts.CorpusColumn); err != nil {
			return fail(err)
		}
		inputs[2] = opts.Corpus.Hash()
	}
	if opts.CrossEncoder != nil {
		if opts.CrossEncoder.Err() != nil {
			return fail(opts.CrossEncoder.Err())
		}
		inputs = append(inputs, opts.CrossEncoder.ID())
	}
	params := map[string]any{"anchor": opts.Anchor, "positive": opts.Positive, "corpus_column": opts.CorpusColumn,
		"options": mo}
	var r *mining.Result
	dir, _, hit, err := cachedDir(cache.Key{Step: "mine-select", Version: 1, Inputs: inputs, Params: params},
		func(ctx context.Context, dir string) error {
			set, err := mining.NewSet(anchors, positives, corpus)
			if err != nil {
				return err
			}
			st, err := store()
			if err != nil {
				return err
			}
			p, err := mining.Prepare(ctx, set, func() (vector.Embedder, error) { return m.BiEncoder() },
				mining.PrepareOptions{TopK: mo.TopK, Cache: st, ModelID: m.ID()}, display.Progress())
			if err != nil {
				return err
			}
			if opts.CrossEncoder != nil {
				ce, err := opts.CrossEncoder.CrossEncoder()
				if err != nil {
					return err
				}
				mo.CrossEncoder = ce
			}
			if r, err = mining.Select(ctx, p, mo, display.Progress()); err != nil {
				return err
			}
			return r.Save(filepath.Join(dir, "result.gob"))
		})
	if err != nil {
		return fail(err)
	}
	if r == nil {
		if r, err = mining.LoadResult(filepath.Join(dir, "result.gob")); err != nil {
			return fail(err)
		}
	}
	out.r = r
	n.df = r.Frame()
	if n.df.Err != nil {
		return fail(n.df.Err)
	}
	note := fmt.Sprintf("%s: %d negatives for %d anchors, %d with an empty window", op, r.Stats.Negatives,
		r.Stats.Queries, r.Stats.EmptyWindow)
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
	c, err := m.r.Histogram(0)
	return &Chart{chain: chain, c: c, err: err}
}

// String is the statistics as text, or the error.
func (m *Mined) String() string {
	if m.err != nil {
		return textError(m.chain, m.err)
	}
	return m.chain + "\n" + m.r.Stats.String()
}

// HTML is the statistics as HTML, or the error.
func (m *Mined) HTML() string {
	if m.err != nil {
		return tableError(m.chain, m.err)
	}
	return "<div><b>" + html.EscapeString(m.chain) + "</b><pre>" + html.EscapeString(m.r.Stats.String()) + "</pre></div>"
}

// Display shows the statistics and the distance histogram.
func (m *Mined) Display() {
	showHTML(m.HTML(), m.String())
	if m.err == nil {
		m.Histogram().Display()
	}
}
