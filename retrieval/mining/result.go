package mining

import (
	"bufio"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// Result is the outcome of Select.
type Result struct {
	Set *Set
	// Options are the options used, defaults filled in.
	Options Options
	// Queries holds, per Set query, its negatives and its positives' scores.
	Queries []QueryResult
	// PositiveDistances are the distances of every (query, positive) pair; CandidateDistances those of every
	// retrieved candidate that is not a positive of its query, before any filter. They are what Histogram
	// draws.
	PositiveDistances, CandidateDistances []float64
	Stats                                 Stats
}

// Stats summarise a mining run. Every retrieved candidate that is not chosen is counted once, under the
// first filter it failed, in the order the fields are listed.
type Stats struct {
	// Rows are the input rows, SkippedRows those without an anchor or a positive; Queries and Passages the
	// distinct anchors and passages; TopK the hits examined per query; Candidates their total.
	Rows        int `json:"rows"`
	SkippedRows int `json:"skipped_rows"`
	Queries     int `json:"queries"`
	Passages    int `json:"passages"`
	TopK        int `json:"top_k"`
	Candidates  int `json:"candidates"`
	// Dropped counts, per filter, in order: a positive of the query (or a copy of one), the query's own
	// text, absolute margin, relative margin, max score, min score, the window's lower bound (d ≤ Min: too
	// close), its upper bound (d > Max: too far), the rank range, the cross-encoder check.
	Positive       int `json:"dropped_positive"`
	Anchor         int `json:"dropped_anchor"`
	AbsoluteMargin int `json:"dropped_absolute_margin"`
	RelativeMargin int `json:"dropped_relative_margin"`
	MaxScore       int `json:"dropped_max_score"`
	MinScore       int `json:"dropped_min_score"`
	TooClose       int `json:"dropped_too_close"`
	TooFar         int `json:"dropped_too_far"`
	Range          int `json:"dropped_range"`
	CrossEncoder   int `json:"dropped_cross_encoder"`
	// CEScored is the number of (query, candidate) pairs the cross-encoder scored.
	CEScored int `json:"ce_scored"`
	// Eligible is the number of candidates that passed every filter within the rank range.
	Eligible int `json:"eligible"`
	// Negatives is the number of negatives in the output (skipped queries excluded).
	Negatives int `json:"negatives"`
	// EmptyWindow is the number of queries with no eligible candidate; Short the number with fewer than
	// NumNegatives negatives before the fallback (EmptyWindow included).
	EmptyWindow int `json:"empty_window_queries"`
	Short       int `json:"short_queries"`
	// Fallback is the fallback used; FromFallback the negatives it added; SkippedQueries the queries it
	// left out (FallbackSkip); StillShort the queries in the output with fewer than NumNegatives negatives
	// (an n-tuple table leaves them out).
	Fallback       string `json:"fallback"`
	FromFallback   int    `json:"fallback_negatives"`
	SkippedQueries int    `json:"skipped_queries"`
	StillShort     int    `json:"still_short_queries"`
	// PositiveScores, NegativeScores and Difference summarise the cosines of the (query, positive) pairs,
	// of the chosen negatives, and positive − negative per (query, positive, negative), as
	// sentence-transformers prints them.
	PositiveScores Summary `json:"positive_scores"`
	NegativeScores Summary `json:"negative_scores"`
	Difference     Summary `json:"difference"`
	// Window is the window used; PositiveDistances and CandidateDistances summarise the distances that
	// Result.Histogram draws (every retrieved non-positive candidate, before filters), to choose a window.
	Window             Window  `json:"window"`
	PositiveDistances  Summary `json:"positive_distances"`
	CandidateDistances Summary `json:"candidate_distances"`
}

// Summary describes a sample of numbers.
type Summary struct {
	Count  int     `json:"count"`
	Mean   float64 `json:"mean"`
	Std    float64 `json:"std"`
	Min    float64 `json:"min"`
	Q25    float64 `json:"q25"`
	Median float64 `json:"median"`
	Q75    float64 `json:"q75"`
	Max    float64 `json:"max"`
}

// Summarize computes a Summary (quantiles by linear interpolation, as numpy's default; Std with n − 1, as
// pandas).
func Summarize(xs []float64) Summary {
	s := Summary{Count: len(xs)}
	if len(xs) == 0 {
		return s
	}
	v := append([]float64(nil), xs...)
	sort.Float64s(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	s.Mean = sum / float64(len(v))
	if len(v) > 1 {
		var ss float64
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Std = math.Sqrt(ss / float64(len(v)-1))
	}
	s.Min, s.Q25, s.Median, s.Q75, s.Max = v[0], quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75), v[len(v)-1]
	return s
}

func (s *selector) stats() Stats {
	set := s.p.Set
	st := Stats{Rows: len(set.Rows) + len(set.Skipped), SkippedRows: len(set.Skipped), Queries: len(set.Queries),
		Passages: len(set.Corpus), TopK: s.k, Fallback: s.o.Fallback}
	var pos, neg, diff []float64
	for q, qs := range s.st {
		st.Candidates += qs.candidates
		st.Positive += qs.positive
		st.Anchor += qs.anchor
		st.AbsoluteMargin += qs.absMargin
		st.RelativeMargin += qs.relMargin
		st.MaxScore += qs.maxScore
		st.MinScore += qs.minScore
		st.TooClose += qs.tooClose
		st.TooFar += qs.tooFar
		st.Range += qs.rangeOut
		st.CrossEncoder += qs.ceDropped
		st.CEScored += qs.ceScored
		st.EmptyWindow += qs.empty
		st.Short += qs.short
		r := s.res[q]
		st.Eligible += r.Eligible
		if r.Skipped {
			st.SkippedQueries++
			continue
		}
		st.FromFallback += qs.fromFallback
		st.Negatives += len(r.Negatives)
		if len(r.Negatives) < s.o.NumNegatives {
			st.StillShort++
		}
		pos = append(pos, r.PositiveScores...)
		for _, n := range r.Negatives {
			neg = append(neg, n.Score)
			for _, p := range r.PositiveScores {
				diff = append(diff, p-n.Score)
			}
		}
	}
	st.PositiveScores, st.NegativeScores, st.Difference = Summarize(pos), Summarize(neg), Summarize(diff)
	return st
}

// String is a report in the spirit of sentence-transformers' printout: score statistics, then what each
// filter dropped and how many queries came up short.
func (st Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d queries (%d rows, %d skipped), %d passages, top %d: %d candidates, %d eligible, %d negatives mined\n",
		st.Queries, st.Rows, st.SkippedRows, st.Passages, st.TopK, st.Candidates, st.Eligible, st.Negatives)
	fmt.Fprintf(&b, "%-8s %10s %10s %10s\n", "cosine", "positive", "negative", "difference")
	row := func(name string, f func(Summary) float64) {
		fmt.Fprintf(&b, "%-8s %10.4f %10.4f %10.4f\n", name, f(st.PositiveScores), f(st.NegativeScores), f(st.Difference))
	}
	fmt.Fprintf(&b, "%-8s %10d %10d %10d\n", "count", st.PositiveScores.Count, st.NegativeScores.Count, st.Difference.Count)
	if st.PositiveScores.Count > 0 {
		row("mean", func(s Summary) float64 { return s.Mean })
		row("std", func(s Summary) float64 { return s.Std })
		row("min", func(s Summary) float64 { return s.Min })
		row("25%", func(s Summary) float64 { return s.Q25 })
		row("median", func(s Summary) float64 { return s.Median })
		row("75%", func(s Summary) float64 { return s.Q75 })
		row("max", func(s Summary) float64 { return s.Max })
	}
	for _, d := range []struct {
		name string
		n    int
	}{{"positive or a copy of one", st.Positive}, {"the query's own text", st.Anchor},
		{"absolute margin", st.AbsoluteMargin}, {"relative margin", st.RelativeMargin}, {"max score", st.MaxScore},
		{"min score", st.MinScore}, {"window: too close (d ≤ min)", st.TooClose}, {"window: too far (d > max)", st.TooFar},
		{"rank range", st.Range}, {"cross-encoder (likely false negative)", st.CrossEncoder}} {
		if d.n > 0 {
			fmt.Fprintf(&b, "dropped %d candidates (%.2f%%): %s\n", d.n, 100*float64(d.n)/float64(max(st.Candidates, 1)), d.name)
		}
	}
	if st.CEScored > 0 {
		fmt.Fprintf(&b, "cross-encoder scored %d pairs\n", st.CEScored)
	}
	fmt.Fprintf(&b, "%d queries had no eligible candidate; %d had fewer negatives than asked; fallback %q added %d negatives",
		st.EmptyWindow, st.Short, st.Fallback, st.FromFallback)
	if st.SkippedQueries > 0 {
		fmt.Fprintf(&b, ", skipped %d queries", st.SkippedQueries)
	}
	fmt.Fprintf(&b, "; %d queries still short\n", st.StillShort)
	if st.CandidateDistances.Count > 0 {
		fmt.Fprintf(&b, "%s: %v; candidates median %.3f (25–75%%: %.3f–%.3f, min %.3f), positives median %.3f (25–75%%: %.3f–%.3f)\n",
			st.Window.Kind().Label(), st.Window, st.CandidateDistances.Median, st.CandidateDistances.Q25, st.CandidateDistances.Q75,
			st.CandidateDistances.Min, st.PositiveDistances.Median, st.PositiveDistances.Q25, st.PositiveDistances.Q75)
	}
	return b.String()
}

// Frame is the mined table in Options.Format.
func (r *Result) Frame() dataframe.DataFrame { return r.FrameAs(r.Options.Format) }

// FrameAs lays the result out in a format (Triplet, NTuple, LabeledPair) with the columns of the data
// contract: anchor, positive, negative / negative_1 … negative_n, or anchor, passage, label. Rows follow the
// distinct (query, positive) pairs in input order; negatives are listed highest score first. Skipped queries
// have no rows.
func (r *Result) FrameAs(format string) dataframe.DataFrame {
	set, o := r.Set, r.Options
	var anchor, positive []string
	var posScore []float64
	type slot struct {
		texts  []string
		scores []float64
	}
	switch format {
	case Triplet:
		var neg slot
		for q, qr := range r.Queries {
			for i, p := range set.Positives[q] {
				for _, n := range qr.Negatives {
					anchor = append(anchor, set.Queries[q])
					positive = append(positive, set.Corpus[p])
					posScore = append(posScore, qr.PositiveScores[i])
					neg.texts = append(neg.texts, set.Corpus[n.Passage])
					neg.scores = append(neg.scores, n.Score)
				}
			}
		}
		cols := []series.Series{str(anchor, "anchor"), str(positive, "positive"), str(neg.texts, "negative")}
		if o.OutputScores {
			cols = append(cols, flt(posScore, "positive_score"), flt(neg.scores, "negative_score"))
		}
		return dataframe.New(cols...)
	case NTuple:
		negs := make([]slot, o.NumNegatives)
		for q, qr := range r.Queries {
			if qr.Skipped || len(qr.Negatives) < o.NumNegatives {
				continue
			}
			for i, p := range set.Positives[q] {
				anchor = append(anchor, set.Queries[q])
				positive = append(positive, set.Corpus[p])
				posScore = append(posScore, qr.PositiveScores[i])
				for j := range negs {
					n := qr.Negatives[j]
					negs[j].texts = append(negs[j].texts, set.Corpus[n.Passage])
					negs[j].scores = append(negs[j].scores, n.Score)
				}
			}
		}
		cols := []series.Series{str(anchor, "anchor"), str(positive, "positive")}
		for j, n := range negs {
			cols = append(cols, str(n.texts, fmt.Sprintf("negative_%d", j+1)))
		}
		if o.OutputScores {
			cols = append(cols, flt(posScore, "positive_score"))
			for j, n := range negs {
				cols = append(cols, flt(n.scores, fmt.Sprintf("negative_%d_score", j+1)))
			}
		}
		return dataframe.New(cols...)
	case LabeledPair:
		var passage []string
		var label []float64
		var score []float64
		for q, qr := range r.Queries {
			if qr.Skipped {
				continue
			}
			for i, p := range set.Positives[q] {
				anchor = append(anchor, set.Queries[q])
				passage = append(passage, set.Corpus[p])
				label = append(label, 1)
				score = append(score, qr.PositiveScores[i])
			}
			for _, n := range qr.Negatives {
				anchor = append(anchor, set.Queries[q])
				passage = append(passage, set.Corpus[n.Passage])
				label = append(label, 0)
				score = append(score, n.Score)
			}
		}
		last := series.New(label, series.Int, "label")
		if o.OutputScores {
			last = flt(score, "score")
		}
		return dataframe.New(str(anchor, "anchor"), str(passage, "passage"), last)
	}
	return dataframe.DataFrame{Err: fmt.Errorf("mine: unknown format %q (want triplet, n-tuple or labeled-pair)", format)}
}

func str(v []string, name string) series.Series {
	if v == nil {
		v = []string{}
	}
	return series.New(v, series.String, name)
}

func flt(v []float64, name string) series.Series {
	if v == nil {
		v = []float64{}
	}
	return series.New(v, series.Float, name)
}

// Histogram is what a distance histogram of a mining run draws: the distances of the positives and of every
// retrieved candidate, on the window's distance, with the window itself (Lo = Hi = 0 when there is none).
// Drawing it is package plots' concern (workflow.MineHistogram).
type Histogram struct {
	Positives, Candidates []float64
	// Label names the distance ("L2 distance", "cosine distance").
	Label  string
	Lo, Hi float64
}

// Histogram returns the data of the result's distance histogram.
func (r *Result) Histogram() Histogram {
	w := r.Options.Window
	h := Histogram{Positives: r.PositiveDistances, Candidates: r.CandidateDistances, Label: w.Kind().Label()}
	if w.Enabled() {
		h.Lo, h.Hi = w.Min, w.Max
	}
	return h
}

// Mine deduplicates the pairs, embeds queries and passages with e, retrieves each query's TopK nearest
// passages and selects negatives: NewSet, Prepare and Select in one call, without caching.
func Mine(ctx context.Context, e vector.Embedder, anchors, positives, corpus []string, opts Options, report progress.Func) (*Result, error) {
	o, err := opts.WithDefaults()
	if err != nil {
		return nil, err
	}
	set, err := NewSet(anchors, positives, corpus)
	if err != nil {
		return nil, err
	}
	p, err := Prepare(ctx, set, Static(e), PrepareOptions{TopK: o.TopK}, report)
	if err != nil {
		return nil, err
	}
	return Select(ctx, p, opts, report)
}

// Save writes the result (its set, options without the cross-encoder, negatives, distances and stats) to
// path, atomically, for a step cache: LoadResult reads it back identical.
func (r *Result) Save(path string) error {
	c := *r
	c.Options.CrossEncoder = nil
	return atomicfile.Write(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		if err := gob.NewEncoder(w).Encode(&c); err != nil {
			return err
		}
		return w.Flush()
	})
}

// LoadResult reads a result written by Save.
func LoadResult(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r Result
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &r, nil
}
