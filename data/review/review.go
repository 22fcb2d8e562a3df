// Package review is the human pass over training pairs before they are trained on: it flags the rows worth a
// look — duplicates (the same question once case, punctuation and spacing are ignored) and near-duplicates
// (token Jaccard of the questions' content words at or above a threshold), questions or answers whose key
// terms are not in the passage, and low judge scores — and round-trips the table through a CSV a reviewer
// edits in a spreadsheet (keep, drop_reason, edited_question, edited_passage), merging the decisions back by a
// stable row id. It owns the checks and the CSV's columns; it does not generate, score or train.
//
// The answerability check is lexical and cheap: the share of the question's (answer's) content words —
// synth.ContentWords: lower-cased words minus English function words, plurals folded; character bigrams for
// scripts written without spaces — that occur in the passage. It misses paraphrases and is blind to meaning; a judge score (data/teacher) is the semantic check,
// and this one catches the pairs whose passage plainly is about something else.
package review

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/synth"
)

// The columns the review adds, in the order they lead the table.
const (
	ColID             = "review_id"
	ColKeep           = "keep"
	ColDropReason     = "drop_reason"
	ColEditedQuestion = "edited_question"
	ColEditedPassage  = "edited_passage"
	ColFlagged        = "flagged"
	ColReason         = "reason"
	ColDuplicateOf    = "duplicate_of"
	ColOverlap        = "overlap"
)

// Columns are the review's columns; Apply removes them from the merged table.
func Columns() []string {
	return []string{ColID, ColKeep, ColDropReason, ColEditedQuestion, ColEditedPassage, ColFlagged, ColReason, ColDuplicateOf, ColOverlap}
}

// Options name the table's columns and set the checks' thresholds; a threshold of 0 turns its check off.
type Options struct {
	// Question and Passage name the pair's columns; Answer and Score are used when the table has them.
	Question string `json:"question"`
	Passage  string `json:"passage"`
	Answer   string `json:"answer"`
	Score    string `json:"score"`
	// NearDuplicate flags a question whose content words have a Jaccard similarity at or above it with an
	// earlier question's.
	NearDuplicate float64 `json:"near_duplicate"`
	// MinQuestionOverlap and MinAnswerOverlap flag rows where a smaller share of the question's (answer's)
	// content words occurs in the passage.
	MinQuestionOverlap float64 `json:"min_question_overlap"`
	MinAnswerOverlap   float64 `json:"min_answer_overlap"`
	// MinScore flags rows whose judge score is below it (and rows the judge left unscored).
	MinScore float64 `json:"min_score"`
}

// Check validates the options against a table's columns.
func (o Options) Check(df dataframe.DataFrame) error {
	for _, c := range []struct {
		what, name string
	}{{"question", o.Question}, {"passage", o.Passage}} {
		if c.name == "" {
			return fmt.Errorf("no %s column named", c.what)
		}
		if !hasCol(df, c.name) {
			return fmt.Errorf("no column %q (the %s; columns: %s)", c.name, c.what, strings.Join(df.Names(), ", "))
		}
	}
	if o.NearDuplicate < 0 || o.NearDuplicate > 1 {
		return fmt.Errorf("near-duplicate threshold %g: want a Jaccard similarity in [0, 1]", o.NearDuplicate)
	}
	return nil
}

func hasCol(df dataframe.DataFrame, name string) bool {
	for _, n := range df.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// Stats count the flags by check (a row can have several).
type Stats struct {
	Rows, Flagged, Duplicates, NearDuplicates, NotAnswerable, LowScore int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d of %d rows flagged: %d duplicates, %d near-duplicates, %d with terms not in the passage, %d low or missing judge scores",
		s.Flagged, s.Rows, s.Duplicates, s.NearDuplicates, s.NotAnswerable, s.LowScore)
}

// IDs are the rows' stable ids: the table's review_id column when it has one, else a hash of the question
// and the passage (with -2, -3 … for repeats of the same pair), so the same table gets the same ids on every
// export.
func IDs(df dataframe.DataFrame, o Options) ([]string, error) {
	if hasCol(df, ColID) {
		ids := df.Col(ColID).Records()
		seen := map[string]int{}
		for i, id := range ids {
			if id == "" {
				return nil, fmt.Errorf("row %d: column %s is empty", i+1, ColID)
			}
			if j, ok := seen[id]; ok {
				return nil, fmt.Errorf("row %d: column %s: %q is also row %d's", i+1, ColID, id, j+1)
			}
			seen[id] = i
		}
		return ids, nil
	}
	q, p := df.Col(o.Question).Records(), df.Col(o.Passage).Records()
	ids := make([]string, len(q))
	count := map[string]int{}
	for i := range q {
		h := sha256.Sum256([]byte(q[i] + "\x00" + p[i]))
		id := hex.EncodeToString(h[:6])
		count[id]++
		if n := count[id]; n > 1 {
			id = fmt.Sprintf("%s-%d", id, n)
		}
		ids[i] = id
	}
	return ids, nil
}

// Flag runs the checks and returns the table led by the review columns: review_id, keep (false for flagged
// rows, so an unedited review drops them), drop_reason (the flags' reasons), edited_question and
// edited_passage (empty, for the reviewer), flagged, reason, duplicate_of (the id of the earlier copy) and
// overlap (the question's term overlap). A table that already has flagged and reason columns (trace imports)
// keeps their flags, joined with the new ones.
func Flag(df dataframe.DataFrame, o Options) (dataframe.DataFrame, Stats, error) {
	if err := o.Check(df); err != nil {
		return df, Stats{}, err
	}
	ids, err := IDs(df, o)
	if err != nil {
		return df, Stats{}, err
	}
	n := df.Nrow()
	q, p := df.Col(o.Question).Records(), df.Col(o.Passage).Records()
	var answers []string
	if o.Answer != "" && hasCol(df, o.Answer) {
		answers = df.Col(o.Answer).Records()
	}
	var scores []float64
	if o.Score != "" && o.MinScore != 0 && hasCol(df, o.Score) {
		scores = df.Col(o.Score).Float()
	}
	reasons := make([][]string, n)
	if hasCol(df, ColFlagged) && hasCol(df, ColReason) {
		prior := df.Col(ColReason).Records()
		for i, f := range df.Col(ColFlagged).Records() {
			if strings.EqualFold(f, "true") && prior[i] != "" {
				reasons[i] = append(reasons[i], prior[i])
			}
		}
	}
	st := Stats{Rows: n}
	dupOf := make([]string, n)
	overlaps := make([]float64, n)
	first := map[string]int{}
	near := newJaccardIndex()
	for i := 0; i < n; i++ {
		if strings.TrimSpace(q[i]) == "" {
			reasons[i] = append(reasons[i], "empty question")
		}
		if strings.TrimSpace(p[i]) == "" {
			reasons[i] = append(reasons[i], "empty passage")
		}
		key := synth.NormalizeQuestion(q[i])
		if j, ok := first[key]; ok && key != "" {
			dupOf[i] = ids[j]
			reasons[i] = append(reasons[i], fmt.Sprintf("duplicate of %s (%s)", ids[j], samePassage(p[i], p[j])))
			st.Duplicates++
		} else {
			if key != "" {
				first[key] = i
			}
			words := terms(q[i])
			if o.NearDuplicate > 0 {
				if j, sim := near.best(words); j >= 0 && sim >= o.NearDuplicate {
					dupOf[i] = ids[j]
					reasons[i] = append(reasons[i], fmt.Sprintf("near-duplicate of %s (jaccard %.2f, %s)", ids[j], sim, samePassage(p[i], p[j])))
					st.NearDuplicates++
				}
			}
			near.add(i, words)
		}
		overlaps[i] = overlap(q[i], p[i])
		lexical := false
		if o.MinQuestionOverlap > 0 && p[i] != "" && overlaps[i] < o.MinQuestionOverlap {
			reasons[i] = append(reasons[i], fmt.Sprintf("question terms not in passage (overlap %.2f)", overlaps[i]))
			lexical = true
		}
		if answers != nil && o.MinAnswerOverlap > 0 && p[i] != "" && len(terms(answers[i])) > 0 {
			if a := overlap(answers[i], p[i]); a < o.MinAnswerOverlap {
				reasons[i] = append(reasons[i], fmt.Sprintf("answer terms not in passage (overlap %.2f)", a))
				lexical = true
			}
		}
		if lexical {
			st.NotAnswerable++
		}
		if scores != nil {
			switch s := scores[i]; {
			case math.IsNaN(s):
				reasons[i] = append(reasons[i], "not scored")
				st.LowScore++
			case s < o.MinScore:
				reasons[i] = append(reasons[i], fmt.Sprintf("low judge score (%.3g < %g)", s, o.MinScore))
				st.LowScore++
			}
		}
	}
	keep, flagged := make([]bool, n), make([]bool, n)
	reason, empty := make([]string, n), make([]string, n)
	for i := range reasons {
		reason[i] = strings.Join(reasons[i], "; ")
		flagged[i] = len(reasons[i]) > 0
		keep[i] = !flagged[i]
		if flagged[i] {
			st.Flagged++
		}
	}
	cols := []series.Series{
		series.New(ids, series.String, ColID),
		series.New(keep, series.Bool, ColKeep),
		series.New(reason, series.String, ColDropReason),
		series.New(empty, series.String, ColEditedQuestion),
		series.New(empty, series.String, ColEditedPassage),
		series.New(flagged, series.Bool, ColFlagged),
		series.New(reason, series.String, ColReason),
		series.New(dupOf, series.String, ColDuplicateOf),
		series.New(overlaps, series.Float, ColOverlap),
	}
	for _, name := range df.Names() {
		if !isReviewColumn(name) {
			cols = append(cols, df.Col(name))
		}
	}
	out := dataframe.New(cols...)
	return out, st, out.Err
}

// samePassage tells a redundant copy (the same passage) from an ambiguous question (the same question asked
// of another passage, which no retriever can answer from the question alone).
func samePassage(a, b string) string {
	if a == b {
		return "same passage"
	}
	return "another passage: ambiguous"
}

func isReviewColumn(name string) bool {
	for _, c := range Columns() {
		if c == name {
			return true
		}
	}
	return false
}

// jaccardIndex finds, among the questions added so far, the one whose content words are most similar to a
// new question's, counting shared words through an inverted index instead of comparing every pair.
type jaccardIndex struct {
	posting map[string][]int
	size    map[int]int
}

func newJaccardIndex() *jaccardIndex {
	return &jaccardIndex{posting: map[string][]int{}, size: map[int]int{}}
}

func distinct(words []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func (x *jaccardIndex) add(row int, words []string) {
	words = distinct(words)
	x.size[row] = len(words)
	for _, w := range words {
		x.posting[w] = append(x.posting[w], row)
	}
}

// best is the earliest most similar row and its similarity; -1 when none shares a word.
func (x *jaccardIndex) best(words []string) (int, float64) {
	words = distinct(words)
	shared := map[int]int{}
	for _, w := range words {
		for _, r := range x.posting[w] {
			shared[r]++
		}
	}
	best, sim := -1, 0.0
	for r, s := range shared {
		j := float64(s) / float64(len(words)+x.size[r]-s)
		if j > sim || (j == sim && r < best) {
			best, sim = r, j
		}
	}
	return best, sim
}
