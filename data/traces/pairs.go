package traces

import (
	"fmt"
	"math"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// The positive policies of Options.Positive.
const (
	// PositiveFeedback takes the top-ranked passage as the positive when the trace's feedback is positive,
	// and flags the row for review otherwise (the passage stays in the row as the candidate to judge).
	PositiveFeedback = "feedback"
	// PositiveTop1 takes the top-ranked passage whatever the feedback.
	PositiveTop1 = "top1"
	// PositiveNone leaves the positive empty and flags every row: the reviewer writes it (edited_passage).
	PositiveNone = "none"
)

// Options choose the positive and the negatives of each trace's pair.
type Options struct {
	// Positive is PositiveFeedback, PositiveTop1 or PositiveNone.
	Positive string `json:"positive"`
	// Negatives adds the trace's other retrieved passages as hard negatives: one (anchor, positive, negative)
	// row per negative, so no row carries an empty filler.
	Negatives bool `json:"negatives"`
	// MinFeedback is the feedback value at or above which a trace's feedback is positive (thumbs 0/1 and −1/1
	// both read 1 as positive; set it for a 1–5 scale).
	MinFeedback float64 `json:"min_feedback"`
	// FeedbackNames are the score names (feedback keys) that count; empty: every score on the trace.
	FeedbackNames []string `json:"feedback_names,omitempty"`
	// DropFlagged leaves the flagged rows out instead of marking them.
	DropFlagged bool `json:"drop_flagged"`
}

// Check validates the options.
func (o Options) Check() error {
	switch o.Positive {
	case PositiveFeedback, PositiveTop1, PositiveNone:
		return nil
	}
	return fmt.Errorf("positive %q: want %s, %s or %s", o.Positive, PositiveFeedback, PositiveTop1, PositiveNone)
}

// Pair is one trace's training row and its review state.
type Pair struct {
	Anchor, Positive string
	// PositiveScore is the retriever's score of the positive (NaN: none recorded).
	PositiveScore float64
	// Negative is one hard negative (with Options.Negatives), NegativeScore its retriever score.
	Negative      string
	NegativeScore float64
	Answer        string
	// Feedback is the mean of the trace's counted feedback (NaN: none).
	Feedback float64
	Tool     Format
	TraceID  string
	Source   string
	// Flagged rows need a reviewer's look; Reason says why ("; "-joined).
	Flagged bool
	Reason  string
}

// FeedbackValue is the N-weighted mean of the trace's feedback whose name is among names (all when names is
// empty), and whether there was any.
func (t Trace) FeedbackValue(names []string) (float64, bool) {
	sum, n := 0.0, 0
	for _, f := range t.Feedback {
		if len(names) > 0 && !contains(names, f.Name) {
			continue
		}
		w := max(f.N, 1)
		sum += f.Value * float64(w)
		n += w
	}
	if n == 0 {
		return math.NaN(), false
	}
	return sum / float64(n), true
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Pairs turns traces into training rows under o.
func Pairs(traces []Trace, o Options) ([]Pair, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	var out []Pair
	for _, t := range traces {
		p := Pair{Anchor: t.Question, Answer: t.Answer, Tool: t.Tool, TraceID: t.ID, Source: t.Source,
			PositiveScore: math.NaN(), NegativeScore: math.NaN()}
		var reasons []string
		fb, hasFB := t.FeedbackValue(o.FeedbackNames)
		p.Feedback = fb
		if t.Question == "" {
			reasons = append(reasons, "no question")
		}
		rest := t.Documents
		switch {
		case len(t.Documents) == 0:
			reasons = append(reasons, "no retrieved documents")
		case o.Positive == PositiveNone:
			reasons = append(reasons, "positive to choose (positive: none)")
			rest = nil // which passages are negatives depends on the positive the reviewer picks
		default:
			p.Positive, p.PositiveScore, rest = t.Documents[0].Text, scoreOf(t.Documents[0]), t.Documents[1:]
			if o.Positive == PositiveFeedback {
				switch {
				case !hasFB:
					reasons = append(reasons, "no feedback")
				case fb < o.MinFeedback:
					reasons = append(reasons, fmt.Sprintf("negative feedback (%.3g)", fb))
				}
			}
		}
		p.Flagged, p.Reason = len(reasons) > 0, strings.Join(reasons, "; ")
		if p.Flagged && o.DropFlagged {
			continue
		}
		if !o.Negatives || o.Positive == PositiveNone {
			out = append(out, p)
			continue
		}
		n := 0
		for _, d := range rest {
			if d.Text == "" || d.Text == p.Positive {
				continue
			}
			q := p
			q.Negative, q.NegativeScore = d.Text, scoreOf(d)
			out = append(out, q)
			n++
		}
		if n == 0 && !o.DropFlagged && o.Positive != PositiveNone {
			p.Flagged = true
			p.Reason = strings.TrimPrefix(p.Reason+"; no negatives", "; ")
			out = append(out, p)
		}
	}
	return out, nil
}

func scoreOf(d Document) float64 {
	if d.Score == nil {
		return math.NaN()
	}
	return *d.Score
}

// Frame is the pairs as a table: anchor, positive, [negative], answer, positive_score, [negative_score],
// feedback, tool, trace_id, source, flagged, reason (the review columns last).
func Frame(pairs []Pair, negatives bool) dataframe.DataFrame {
	str := func(name string, get func(Pair) string) series.Series {
		v := make([]string, len(pairs))
		for i, p := range pairs {
			v[i] = get(p)
		}
		return series.New(v, series.String, name)
	}
	num := func(name string, get func(Pair) float64) series.Series {
		v := make([]float64, len(pairs))
		for i, p := range pairs {
			v[i] = get(p)
		}
		return series.New(v, series.Float, name)
	}
	cols := []series.Series{str("anchor", func(p Pair) string { return p.Anchor }),
		str("positive", func(p Pair) string { return p.Positive })}
	if negatives {
		cols = append(cols, str("negative", func(p Pair) string { return p.Negative }))
	}
	cols = append(cols, str("answer", func(p Pair) string { return p.Answer }),
		num("positive_score", func(p Pair) float64 { return p.PositiveScore }))
	if negatives {
		cols = append(cols, num("negative_score", func(p Pair) float64 { return p.NegativeScore }))
	}
	flagged := make([]bool, len(pairs))
	for i, p := range pairs {
		flagged[i] = p.Flagged
	}
	cols = append(cols, num("feedback", func(p Pair) float64 { return p.Feedback }),
		str("tool", func(p Pair) string { return string(p.Tool) }),
		str("trace_id", func(p Pair) string { return p.TraceID }),
		str("source", func(p Pair) string { return p.Source }),
		series.New(flagged, series.Bool, "flagged"),
		str("reason", func(p Pair) string { return p.Reason }))
	return dataframe.New(cols...)
}
