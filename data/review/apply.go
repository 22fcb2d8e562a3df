package review

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Applied counts what a review changed.
type Applied struct {
	// Rows is the table's size before, Kept after; Reviewed the rows the CSV decided on; Unreviewed the rows it
	// did not mention (kept unchanged).
	Rows, Kept, Dropped, Reviewed, Unreviewed int
	EditedQuestions, EditedPassages           int
}

func (a Applied) String() string {
	s := fmt.Sprintf("%d of %d rows kept, %d dropped; %d questions and %d passages edited", a.Kept, a.Rows, a.Dropped,
		a.EditedQuestions, a.EditedPassages)
	if a.Unreviewed > 0 {
		s += fmt.Sprintf("; %d rows not in the review kept unchanged", a.Unreviewed)
	}
	return s
}

// decision is one CSV row's verdict.
type decision struct {
	row                    int
	keep                   bool
	editQuestion, editPass string
}

// Apply merges a reviewed CSV (as Flag wrote it, edited in a spreadsheet) into df, the table it was exported
// from: rows with keep false are removed, edited_question and edited_passage replace the question and the
// passage when not empty, rows the CSV leaves out are kept as they were. The review columns are removed, so
// the result is training data again. Rows are matched by review_id (IDs); an id that is not a row of df, a
// repeated id, a keep that is neither true nor false, or a missing column fails with name's row and column
// (rows numbered as a spreadsheet shows them: the header is row 1). Only the review columns are read: edits
// to other columns of the CSV are ignored.
func Apply(df dataframe.DataFrame, r io.Reader, name string, o Options) (dataframe.DataFrame, Applied, error) {
	if err := o.Check(df); err != nil {
		return df, Applied{}, err
	}
	ids, err := IDs(df, o)
	if err != nil {
		return df, Applied{}, err
	}
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	decisions, err := readDecisions(r, name, index)
	if err != nil {
		return df, Applied{}, err
	}
	st := Applied{Rows: df.Nrow(), Reviewed: len(decisions)}
	q, p := df.Col(o.Question).Records(), df.Col(o.Passage).Records()
	var keep []int
	for i := range ids {
		d, ok := decisions[i]
		if !ok {
			st.Unreviewed++
			keep = append(keep, i)
			continue
		}
		if !d.keep {
			st.Dropped++
			continue
		}
		keep = append(keep, i)
		if d.editQuestion != "" && d.editQuestion != q[i] {
			q[i] = d.editQuestion
			st.EditedQuestions++
		}
		if d.editPass != "" && d.editPass != p[i] {
			p[i] = d.editPass
			st.EditedPassages++
		}
	}
	st.Kept = len(keep)
	var cols []series.Series
	for _, n := range df.Names() {
		switch {
		case isReviewColumn(n):
			continue
		case n == o.Question:
			cols = append(cols, series.New(q, series.String, n))
		case n == o.Passage:
			cols = append(cols, series.New(p, series.String, n))
		default:
			cols = append(cols, df.Col(n))
		}
	}
	out := dataframe.New(cols...)
	if out.Err != nil {
		return out, st, out.Err
	}
	out = out.Subset(keep)
	return out, st, out.Err
}

// readDecisions reads the reviewed CSV. Spreadsheets save it with a byte-order mark, CRLF line ends, TRUE /
// FALSE, and in some locales ';' or tab as the separator: all are accepted.
func readDecisions(r io.Reader, name string, index map[string]int) (map[int]decision, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, _ := br.Peek(4096) // fewer bytes at the end of a short file
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	first := head
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	if !bytes.ContainsRune(first, ',') {
		switch {
		case bytes.ContainsRune(first, ';'):
			cr.Comma = ';'
		case bytes.ContainsRune(first, '\t'):
			cr.Comma = '\t'
		}
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file (want the CSV `review export` wrote)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s row 1: %w", name, err)
	}
	col := map[string]int{}
	for j, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = j
	}
	for _, need := range []string{ColID, ColKeep} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s row 1: no column %s (columns: %s)", name, need, strings.Join(header, ", "))
		}
	}
	get := func(rec []string, c string) string {
		j, ok := col[c]
		if !ok || j >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[j])
	}
	out := map[int]decision{}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", name, row, err)
		}
		id := get(rec, ColID)
		if id == "" {
			if strings.Join(rec, "") == "" {
				continue // a blank line a spreadsheet left at the end
			}
			return nil, fmt.Errorf("%s row %d, column %s: empty", name, row, ColID)
		}
		i, ok := index[id]
		if !ok {
			return nil, fmt.Errorf("%s row %d, column %s: unknown id %q (not a row of the table it is applied to)", name, row, ColID, id)
		}
		if prev, dup := out[i]; dup {
			return nil, fmt.Errorf("%s row %d, column %s: %q again (first at row %d)", name, row, ColID, id, prev.row)
		}
		k, err := parseKeep(get(rec, ColKeep))
		if err != nil {
			return nil, fmt.Errorf("%s row %d, column %s: %w", name, row, ColKeep, err)
		}
		// Cells are trimmed for the id and keep only: an edited text keeps its spacing but not a
		// spreadsheet's trailing newline.
		raw := func(c string) string {
			j, ok := col[c]
			if !ok || j >= len(rec) {
				return ""
			}
			return strings.TrimRight(rec[j], "\r\n")
		}
		out[i] = decision{row: row, keep: k, editQuestion: raw(ColEditedQuestion), editPass: raw(ColEditedPassage)}
	}
	return out, nil
}

func parseKeep(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "keep", "x", "✓":
		return true, nil
	case "false", "no", "n", "0", "drop":
		return false, nil
	case "":
		return false, errors.New("empty (write true to keep the row or false to drop it)")
	}
	return false, fmt.Errorf("%q is neither true nor false", s)
}
