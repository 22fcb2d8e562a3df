package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/ui/tables"
)

// ComparisonRow is one question answered by both pipelines.
type ComparisonRow struct {
	Question string
	// Gold is the id of the passage that answers the question ("" when unknown).
	Gold        string
	Base, Tuned Answer
	// BaseScore and TunedScore are the answer judge's scores (JudgeAnswers; NaN when not judged).
	BaseScore, TunedScore float64
}

// Comparison is the same questions through a base and a fine-tuned pipeline.
type Comparison struct {
	BaseName, TunedName string
	Rows                []ComparisonRow
	// Judged says JudgeAnswers scored the answers.
	Judged bool
}

// Compare answers questions with both pipelines. gold, when not nil, holds each question's relevant
// document id ("" for unknown) and adds whether and where each pipeline put it among its sources. Per-question
// failures are kept in the answers (Answer.Error) and joined into the error; the comparison is returned
// either way.
func Compare(ctx context.Context, base, tuned *Pipeline, questions, gold []string, report progress.Func) (*Comparison, error) {
	if gold != nil && len(gold) != len(questions) {
		return nil, fmt.Errorf("pipeline: %d gold ids for %d questions", len(gold), len(questions))
	}
	c := &Comparison{BaseName: base.Name(), TunedName: tuned.Name(), Rows: make([]ComparisonRow, len(questions))}
	if c.BaseName == c.TunedName {
		c.BaseName, c.TunedName = c.BaseName+" (base)", c.TunedName+" (tuned)"
	}
	ba, berr := base.AskMany(ctx, questions, 0, report)
	ta, terr := tuned.AskMany(ctx, questions, 0, report)
	for i, q := range questions {
		c.Rows[i] = ComparisonRow{Question: q, Base: ba[i], Tuned: ta[i]}
		if gold != nil {
			c.Rows[i].Gold = gold[i]
		}
	}
	var errs []error
	if berr != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.BaseName, berr))
	}
	if terr != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.TunedName, terr))
	}
	return c, errors.Join(errs...)
}

// GoldRank is the rank (1-based) of the document id gold among a's sources, 0 when absent or gold is "".
func GoldRank(a Answer, gold string) int {
	if gold == "" {
		return 0
	}
	for _, s := range a.Sources {
		if s.DocID == gold {
			return s.Rank
		}
	}
	return 0
}

func (c *Comparison) hasGold() bool {
	for _, r := range c.Rows {
		if r.Gold != "" {
			return true
		}
	}
	return false
}

func (c *Comparison) hasText() bool {
	for _, r := range c.Rows {
		if r.Base.Text != "" || r.Tuned.Text != "" || r.Base.Error != "" || r.Tuned.Error != "" {
			return true
		}
	}
	return false
}

// Frame is the comparison as a table: the question, the gold id, then for each pipeline its source ids in
// order, the gold's rank among them ("–" when missed) and its answer (or error).
func (c *Comparison) Frame() dataframe.DataFrame {
	gold, text := c.hasGold(), c.hasText()
	col := map[string][]string{}
	var order []string
	add := func(name, v string) {
		if _, ok := col[name]; !ok {
			order = append(order, name)
		}
		col[name] = append(col[name], v)
	}
	for _, r := range c.Rows {
		add("question", r.Question)
		if gold {
			add("gold", r.Gold)
		}
		for _, side := range []struct {
			name string
			a    Answer
		}{{c.BaseName, r.Base}, {c.TunedName, r.Tuned}} {
			add(side.name+" sources", sourceIDs(side.a))
			if gold {
				add(side.name+" gold rank", rankText(GoldRank(side.a, r.Gold), r.Gold))
			}
			if text {
				ans := side.a.Text
				if side.a.Error != "" && ans == "" {
					ans = "error: " + side.a.Error
				}
				add(side.name+" answer", ans)
			}
		}
	}
	ss := make([]series.Series, len(order))
	for i, name := range order {
		ss[i] = series.New(col[name], series.String, name)
	}
	if len(ss) == 0 {
		return dataframe.New(series.New([]string{}, series.String, "question"))
	}
	return dataframe.New(ss...)
}

func sourceIDs(a Answer) string {
	ids := make([]string, len(a.Sources))
	for i, s := range a.Sources {
		ids[i] = s.DocID
	}
	return strings.Join(ids, " ")
}

func rankText(rank int, gold string) string {
	switch {
	case gold == "":
		return ""
	case rank == 0:
		return "–"
	}
	return strconv.Itoa(rank)
}

// Summary counts, for questions with a gold id, how often each pipeline had it among its sources and its
// mean reciprocal rank there (0 when missed): "base: gold in sources 12/20 (MRR 0.450); tuned: …".
func (c *Comparison) Summary() string {
	type acc struct {
		hits, n int
		rr      float64
	}
	var b, t acc
	for _, r := range c.Rows {
		if r.Gold == "" {
			continue
		}
		for _, x := range []struct {
			a   *acc
			ans Answer
		}{{&b, r.Base}, {&t, r.Tuned}} {
			x.a.n++
			if k := GoldRank(x.ans, r.Gold); k > 0 {
				x.a.hits++
				x.a.rr += 1 / float64(k)
			}
		}
	}
	if b.n == 0 {
		return fmt.Sprintf("%d questions, no gold ids", len(c.Rows))
	}
	f := func(name string, a acc) string {
		return fmt.Sprintf("%s: gold in sources %d/%d (MRR %.3f)", name, a.hits, a.n, a.rr/float64(a.n))
	}
	out := f(c.BaseName, b) + "; " + f(c.TunedName, t)
	if c.Judged {
		bm, bn := meanScores(c.Rows, false)
		tm, tn := meanScores(c.Rows, true)
		out += fmt.Sprintf("; answers judged (mean 0–1): %s %.3f over %d, %s %.3f over %d", c.BaseName, bm, bn, c.TunedName, tm, tn)
	}
	return out
}

// ShownRows is how many questions HTML and Text show: a comparison over a whole held-out set (hundreds of
// questions) is read from its summary, the rows are examples.
const ShownRows = 20

// tableOptions shows the first ShownRows questions, the summary, over every question, in the caption.
func (c *Comparison) tableOptions() tables.Options {
	return tables.Options{Head: ShownRows, Tail: -1, Caption: c.BaseName + " vs " + c.TunedName + " — " + c.Summary()}
}

// HTML renders the summary and the first ShownRows questions for a notebook.
func (c *Comparison) HTML() string { return tables.HTML(c.Frame(), c.tableOptions()) }

// Text renders the summary and the first ShownRows questions for a terminal.
func (c *Comparison) Text() string { return tables.Text(c.Frame(), c.tableOptions()) }

// JudgedPair is what an answer judge reads for a: the question as the query, and as the passage the answer
// followed by the numbered sources it was given, so a judge can tell a supported answer from an invented one.
func JudgedPair(a Answer) ir.Pair {
	var b strings.Builder
	b.WriteString("Answer: " + a.Text + "\n\nSources:")
	for _, s := range a.Sources {
		fmt.Fprintf(&b, "\n[%d] %s", s.Rank, s.Text)
	}
	return ir.Pair{Query: a.Question, Passage: b.String()}
}

// JudgeAnswers scores every answer of both pipelines with judge (an LLM judge asked how well the answer
// responds to the question from its sources, teacher.DefaultAnswerJudgeTemplate) into Rows[i].BaseScore and
// TunedScore; the summary then adds their means. Questions without an answer text (no LLM, a failure) are
// not sent and keep NaN; so do answers whose judging failed (the error names how many).
func (c *Comparison) JudgeAnswers(ctx context.Context, judge ir.Scorer, report progress.Func) error {
	var pairs []ir.Pair
	var dst []*float64
	for i := range c.Rows {
		r := &c.Rows[i]
		r.BaseScore, r.TunedScore = math.NaN(), math.NaN()
		for _, x := range []struct {
			a Answer
			s *float64
		}{{r.Base, &r.BaseScore}, {r.Tuned, &r.TunedScore}} {
			if x.a.Text != "" && x.a.Error == "" {
				pairs, dst = append(pairs, JudgedPair(x.a)), append(dst, x.s)
			}
		}
	}
	if len(pairs) == 0 {
		return fmt.Errorf("pipeline: no answers to judge (is an LLM configured?)")
	}
	scores, err := judge.ScorePairs(ctx, pairs, report)
	if len(scores) == len(dst) {
		for i, s := range scores {
			*dst[i] = s
		}
	}
	c.Judged = len(scores) == len(dst)
	return err
}

// meanScores is the mean of the judged scores (NaN ones left out) and how many there were.
func meanScores(rows []ComparisonRow, tuned bool) (float64, int) {
	var sum float64
	var n int
	for _, r := range rows {
		s := r.BaseScore
		if tuned {
			s = r.TunedScore
		}
		if !math.IsNaN(s) {
			sum, n = sum+s, n+1
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}
