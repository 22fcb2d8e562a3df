package workflow

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/plots"
	"github.com/ragnb/ragnb/retrieval/mining"
)

// MineOptions configure Mine. The semantics are sentence-transformers' mine_hard_negatives plus a distance
// window; see package mining for each knob.
type MineOptions struct {
	// Anchor and Positive name the pair table's columns; CorpusColumn the extra corpus table's.
	Anchor       string `json:"anchor"`
	Positive     string `json:"positive"`
	CorpusColumn string `json:"corpus_column"`
	// Mining are the selection's options: top-k, rank range, window, bounds, margins, sampling, fallback,
	// format. Its CrossEncoder is set by Mine from MineInput.CrossEncoder.
	Mining mining.Options `json:"options"`
	// SuggestWindow replaces Mining.Window by one read off the data (mining.SuggestWindow on the prepared
	// top-k: the positives' distances between the quantiles SuggestQuantiles, on Mining.Window's distance) and
	// mines with it; Mined.Suggestion says what it was and how many queries it covers.
	SuggestWindow    bool       `json:"suggest_window"`
	SuggestQuantiles [2]float64 `json:"suggest_quantiles"`
}

// DefaultMineOptions are ragnb's mining defaults, the same on the command line and in the prelude: the
// columns anchor / positive / text, and mining.DefaultOptions (top 100, one negative, nearest first, triplets,
// BGE's window 0.4 < L2 distance ≤ 0.7); a suggested window, when asked for, spans the positives' distances
// from their 10th to their 90th percentile (hard like a real positive, but not closer than nearly all of
// them, where unlabelled positives sit).
func DefaultMineOptions() MineOptions {
	return MineOptions{Anchor: "anchor", Positive: "positive", CorpusColumn: "text", Mining: mining.DefaultOptions(),
		SuggestQuantiles: [2]float64{0.1, 0.9}}
}

// Check validates the options as Mine will use them, before any model is loaded (a cross-encoder threshold is
// checked against the cross-encoder Mine is given).
func (o MineOptions) Check() (mining.Options, error) {
	mo := o.selection().Mining
	ce := mo.CEThreshold
	mo.CEThreshold = nil // pairing with a cross-encoder is checked by Mine, which knows whether there is one
	mo, err := mo.WithDefaults()
	mo.CEThreshold = ce
	return mo, err
}

// WithRangeForSampling is o with FlagEmbedding hn_mine's range_for_sampling "a-b": negatives sampled at
// random from ranks a..b of the retrieved list (positives counted, then excluded: mining.Options.RetrievedRanks),
// top-k raised to b when smaller, and its fallback — random passages from the corpus when a query is short.
// The distance window and the margins still apply as o sets them (a zero window is hn_mine's behaviour). Two
// differences stay: the random fallback draws outside the top-k and keeps the margins and max score, where
// hn_mine draws from the whole corpus, positives excluded.
func (o MineOptions) WithRangeForSampling(spec string) (MineOptions, error) {
	a, b, ok := strings.Cut(spec, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 0 || hi <= lo {
		return o, fmt.Errorf("range_for_sampling %q: want \"a-b\" with 0 ≤ a < b (e.g. 10-100)", spec)
	}
	m := &o.Mining
	m.RetrievedRanks, m.RangeMin, m.RangeMax = true, lo, hi
	m.TopK = max(m.TopK, hi)
	m.Sampling, m.Fallback = mining.SampleRandom, mining.FallbackRandom
	return o, nil
}

// selection is o as the selection sees it: FlagEmbedding's output (Format mining.Flag) selects as n-tuples do
// — all of a query's negatives — and Mined.Save writes them as FlagEmbedding lines.
func (o MineOptions) selection() MineOptions {
	if o.Mining.Format == mining.Flag {
		o.Mining.Format = mining.NTuple
	}
	return o
}

// MineInput is what Mine reads: the pairs, the extra candidate passages and the models.
type MineInput struct {
	Anchors, Positives []string
	// Corpus adds candidate passages; the positives are always candidates.
	Corpus []string
	// DataID and CorpusID are the content identities of the pair table and of the corpus table (a table's
	// datasets.Hash) for the cache key; "" hashes the texts themselves.
	DataID, CorpusID string
	// Model embeds queries and passages; CrossEncoder (optional) vetoes likely false negatives.
	Model        *Model
	CrossEncoder *Model
	// Weaviate, when set, is the corpus: each anchor's top-k comes from a nearVector search of that
	// collection (written with Model) instead of the exact search over Corpus (which must then be empty),
	// and the selection runs over the passages retrieved plus the positives. A random fallback then
	// draws from that pool, not from the whole collection. Nothing read from a collection is cached: it
	// changes in place.
	Weaviate *WeaviateSource
}

// Mined is Mine's outcome.
type Mined struct {
	*mining.Result
	// EmbedCached and RetrieveCached say whether the embeddings and the top-k came from the cache (false when
	// the whole selection did); Cached says the selection itself did.
	EmbedCached, RetrieveCached, Cached bool
	// Suggestion is the window MineOptions.SuggestWindow read off the data and mined with (nil: not asked).
	Suggestion *mining.Suggestion
	// Format is the output's layout: the selection's, or mining.Flag.
	Format string
	// Weaviate says how the search through a collection went (nil: the exact search).
	Weaviate *WeaviateMined
}

// Save writes the mined rows to path in r.Format: a table (datasets.Save, by the file's extension) or, for
// mining.Flag, FlagEmbedding JSONL (one line per query with all its positives and negatives). It returns the
// rows (lines) written.
func (r *Mined) Save(path string) (int, error) {
	if r.Format == mining.Flag {
		return r.SaveFlag(path)
	}
	table := r.Frame()
	return table.Nrow(), datasets.Save(table, path)
}

// Mine mines hard negatives: each anchor's TopK nearest passages (exact search, or a Weaviate collection's
// nearVector search: MineInput.Weaviate), filtered by rank range, score
// bounds, margins and the distance window, optionally checked by a cross-encoder; never a positive of the
// anchor or a copy of one. With a cache the embeddings (step "embed", shared with evaluation), the top-k
// ("mine-topk") and the selection ("mine-select") are memoised, so a sweep over windows re-runs only the
// selection.
func Mine(ctx context.Context, env Env, in MineInput, o MineOptions) (*Mined, error) {
	if in.Model == nil {
		return nil, fmt.Errorf("mine: no bi-encoder")
	}
	mo, err := o.Check()
	if err != nil {
		return nil, err
	}
	if mo.CEThreshold != nil && in.CrossEncoder == nil {
		return nil, fmt.Errorf("mine: ce_threshold without a cross-encoder")
	}
	dataID, corpusID := in.DataID, in.CorpusID
	if dataID == "" {
		dataID = cache.HashStrings(append(append([]string{"anchors"}, in.Anchors...), append([]string{"positives"}, in.Positives...)...)...)
	}
	if corpusID == "" && len(in.Corpus) > 0 {
		corpusID = cache.HashStrings(in.Corpus...)
	}
	inputs := []string{in.Model.EmbedID(), dataID, corpusID}
	if in.CrossEncoder != nil {
		inputs = append(inputs, in.CrossEncoder.ID)
	}
	out := &Mined{Format: mo.Format}
	if o.Mining.Format == mining.Flag {
		out.Format = mining.Flag
	}
	var prepared *mining.Prepared // the embeddings and top-k, prepared at most once (memoised themselves)
	prepare := func(ctx context.Context) (*mining.Prepared, error) {
		if prepared != nil {
			return prepared, nil
		}
		p, w, err := prepareMine(ctx, env, in, o)
		if err != nil {
			return nil, err
		}
		out.EmbedCached, out.RetrieveCached, prepared, out.Weaviate = p.EmbedCached, p.RetrieveCached, p, w
		return p, nil
	}
	if o.SuggestWindow {
		p, err := prepare(ctx)
		if err != nil {
			return nil, err
		}
		s, err := mining.SuggestWindow(p, mo.Window.Distance, o.SuggestQuantiles[0], o.SuggestQuantiles[1], mo.NumNegatives)
		if err != nil {
			return nil, err
		}
		mo.Window, out.Suggestion = s.Window, &s
	}
	// The key is the one the prelude has used since its first release: its cached selections stay valid (a
	// suggested window is keyed as the window it is).
	key := cache.Key{Step: "mine-select", Version: 1, Inputs: inputs,
		Params: map[string]any{"anchor": o.Anchor, "positive": o.Positive, "corpus_column": o.CorpusColumn, "options": mo}}
	compute := func(ctx context.Context, dir string) error {
		p, err := prepare(ctx)
		if err != nil {
			return err
		}
		sel := mo
		if out.Weaviate != nil {
			sel.TopK = min(sel.TopK, p.K()) // a collection smaller than top-k
		}
		if in.CrossEncoder != nil {
			if sel.CrossEncoder, err = in.CrossEncoder.CrossEncoder(); err != nil {
				return err
			}
		}
		if out.Result, err = mining.Select(ctx, p, sel, env.Progress); err != nil {
			return err
		}
		if dir == "" {
			return nil
		}
		return out.Result.Save(filepath.Join(dir, "result.gob"))
	}
	if in.Weaviate != nil {
		if err := compute(ctx, ""); err != nil {
			return nil, err
		}
		return out, nil
	}
	out.Cached, err = env.memo(ctx, key, compute, func(dir string) (err error) {
		out.Result, err = mining.LoadResult(filepath.Join(dir, "result.gob"))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MineHistogram draws a mining run's distance histogram: positives vs candidates, each normalised to unit
// area, the window shaded, and a suggested window (when s is not nil) as dashed bounds; bins 0 takes plots'
// default.
func MineHistogram(r *mining.Result, s *mining.Suggestion, bins int) (*plots.Chart, error) {
	h := r.Histogram()
	o := plots.HistogramOptions{Title: "positives vs candidates", XLabel: h.Label, Bins: bins, LegendRight: true, Lo: h.Lo, Hi: h.Hi}
	if s != nil {
		o.SuggestLo, o.SuggestHi = s.Window.Min, s.Window.Max
		o.SuggestLabel = fmt.Sprintf("suggested (positives' q%.0f–q%.0f)", 100*s.LowQuantile, 100*s.HighQuantile)
	}
	return plots.DistanceHistogram(h.Positives, h.Candidates, o)
}
