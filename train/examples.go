package train

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
)

// Examples are training rows as texts by column, in the order the loss reads them: for a bi-encoder
// anchor, positive, then hard negatives; for a cross-encoder query and passage, with Labels (0/1 labels or
// teacher scores) per row.
type Examples struct {
	// Names are the columns' names (messages, fingerprints).
	Names   []string
	Columns [][]string
	Labels  []float64
	// Groups, when set, are the per-row pools each epoch's group is drawn from (FlagEmbedding's
	// train_group_size); Columns then hold epoch 0's draw.
	Groups *Groups
}

// Rows is the number of rows.
func (ex *Examples) Rows() int {
	if ex == nil || len(ex.Columns) == 0 {
		return 0
	}
	return len(ex.Columns[0])
}

func (ex *Examples) check() error {
	if ex.Rows() == 0 {
		return fmt.Errorf("no training rows")
	}
	if len(ex.Names) != len(ex.Columns) {
		return fmt.Errorf("examples: %d names for %d columns", len(ex.Names), len(ex.Columns))
	}
	for i, c := range ex.Columns {
		if len(c) != ex.Rows() {
			return fmt.Errorf("examples: column %q has %d rows, %q has %d", ex.Names[i], len(c), ex.Names[0], ex.Rows())
		}
	}
	if ex.Labels != nil && len(ex.Labels) != ex.Rows() {
		return fmt.Errorf("examples: %d labels for %d rows", len(ex.Labels), ex.Rows())
	}
	return nil
}

var negativeName = regexp.MustCompile(`^negative(?:_(\d+))?$`)

// NegativeColumns finds a table's hard-negative columns: "negative", or "negative_1" … "negative_n" in
// numeric order.
func NegativeColumns(df dataframe.DataFrame) []string {
	type col struct {
		name string
		n    int
	}
	var cols []col
	for _, name := range df.Names() {
		m := negativeName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		n := 0
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		cols = append(cols, col{name, n})
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].n < cols[j].n })
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// BiEncoderExamples takes (anchor, positive, negatives…) columns from a table (pairs, triplets or
// n-tuples). negatives nil finds them with NegativeColumns; pass an empty non-nil slice for none.
func BiEncoderExamples(df dataframe.DataFrame, anchor, positive string, negatives []string) (*Examples, error) {
	if negatives == nil {
		negatives = NegativeColumns(df)
	}
	names := append([]string{anchor, positive}, negatives...)
	ex := &Examples{Names: names}
	for _, n := range names {
		c, err := datasets.Strings(df, n)
		if err != nil {
			return nil, err
		}
		ex.Columns = append(ex.Columns, c)
	}
	if err := ex.check(); err != nil {
		return nil, err
	}
	return ex, ex.checkFilled()
}

// checkFilled refuses empty cells, naming the first (1-based row, column) and how many rows have one: an
// empty anchor or positive (missing or null in the file) would train on "", and so would the filler of a
// ragged negatives list (FlagEmbedding JSONL whose rows have fewer "neg" than others spreads into
// negative_1 … negative_n with "" where a row has none).
func (ex *Examples) checkFilled() error {
	first, firstCol, rows := -1, 0, 0
	for r := range ex.Rows() {
		for c := range ex.Columns {
			if strings.TrimSpace(ex.Columns[c][r]) == "" {
				if first < 0 {
					first, firstCol = r, c
				}
				rows++
				break
			}
		}
	}
	if first < 0 {
		return nil
	}
	name := ex.Names[firstCol]
	if firstCol < 2 {
		return fmt.Errorf("row %d column %q is empty (missing or null), and %d of %d rows have an empty cell: fill or drop them", first+1, name, rows, ex.Rows())
	}
	return fmt.Errorf("row %d column %q is empty: %d of %d rows have fewer negatives than the %d columns %s…%s (a ragged negatives list); "+
		"train on fewer negative columns, or drop or fill those rows", first+1, name, rows, ex.Rows(), len(ex.Names)-2, ex.Names[2], ex.Names[len(ex.Names)-1])
}

// CrossEncoderExamples takes (query, passage, label) rows from a table; label is a column of 0/1 labels
// (bce) or teacher scores (mse). Numbers may be written as text ("1", "0.73", "true"/"false").
func CrossEncoderExamples(df dataframe.DataFrame, query, passage, label string) (*Examples, error) {
	ex := &Examples{Names: []string{query, passage}}
	for _, n := range ex.Names {
		c, err := datasets.Strings(df, n)
		if err != nil {
			return nil, err
		}
		ex.Columns = append(ex.Columns, c)
	}
	raw, err := datasets.Strings(df, label)
	if err != nil {
		return nil, err
	}
	ex.Labels = make([]float64, len(raw))
	for i, s := range raw {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "", "nan", "null":
			return nil, fmt.Errorf("row %d column %q: no label (missing, null or NaN: a pair the teacher did not score?)", i+1, label)
		case "true":
			ex.Labels[i] = 1
			continue
		case "false":
			ex.Labels[i] = 0
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("row %d column %q: %q is not a number", i+1, label, s)
		}
		ex.Labels[i] = v
	}
	if err := ex.check(); err != nil {
		return nil, err
	}
	return ex, ex.checkFilled()
}

// LabeledPairs turns (anchor, positive, negatives…) rows into cross-encoder pairs: (anchor, positive) with
// label 1 and (anchor, negative_i) with label 0, row by row. negatives nil finds them with NegativeColumns.
func LabeledPairs(df dataframe.DataFrame, anchor, positive string, negatives []string) (*Examples, error) {
	bi, err := BiEncoderExamples(df, anchor, positive, negatives)
	if err != nil {
		return nil, err
	}
	ex := &Examples{Names: []string{anchor, "passage"}, Columns: [][]string{nil, nil}}
	for r := range bi.Rows() {
		for c := 1; c < len(bi.Columns); c++ {
			ex.Columns[0] = append(ex.Columns[0], bi.Columns[0][r])
			ex.Columns[1] = append(ex.Columns[1], bi.Columns[c][r])
			if c == 1 {
				ex.Labels = append(ex.Labels, 1)
			} else {
				ex.Labels = append(ex.Labels, 0)
			}
		}
	}
	return ex, ex.check()
}
