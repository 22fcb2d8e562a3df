package prelude

import (
	"errors"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ui/tables"
)

// Dataset is a table (a gota DataFrame) with a name, the chain of calls that made it, and the first error
// met along that chain. Every method returns a new *Dataset and leaves its receiver unchanged, so a chain
// reads top to bottom and intermediate values can be reused. Once a step fails, later steps do nothing but
// count themselves, and the error shows where the chain is displayed (Display, String) or checked (Err).
type Dataset struct {
	name    string
	chain   string // `Load("financial").Rename("question", "anchor")`
	df      dataframe.DataFrame
	err     error
	skipped int      // steps after the failing one
	notes   []string // what the steps did (`Dedupe("context"): 7,000 → 6,757 rows`)
	hash    string   // content hash, computed on first use
}

// FromFrame wraps a gota DataFrame (built with dataframe.New, or returned by your own code).
func FromFrame(name string, df dataframe.DataFrame) *Dataset {
	d := &Dataset{name: name, chain: fmt.Sprintf("FromFrame(%q)", name), df: df}
	if df.Err != nil {
		d.err = fmt.Errorf("FromFrame(%q): %w", name, df.Err)
	}
	return d
}

// Errorf returns a Dataset that failed with the given error: helpers built on the prelude use it to report
// a problem through the usual chain.
func Errorf(chain string, format string, args ...any) *Dataset {
	return &Dataset{name: chain, chain: chain, err: fmt.Errorf(format, args...)}
}

func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, ", ")
}

// next starts the dataset produced by a step named op from d; the caller fills in df or err.
func (d *Dataset) next(op string) *Dataset {
	n := &Dataset{name: d.name, chain: d.chain + "." + op, df: d.df, err: d.err, skipped: d.skipped,
		notes: append([]string(nil), d.notes...)}
	if d.err != nil {
		n.chain = d.chain
		n.skipped++
	}
	return n
}

func (d *Dataset) fail(op string, err error) *Dataset {
	d.err = fmt.Errorf("%s: %w", op, err)
	d.df = dataframe.DataFrame{}
	return d
}

// Err is the first error met along the chain, or nil.
func (d *Dataset) Err() error { return d.err }

// Must returns d, or panics with its error: for programs that should stop at the first failure.
func (d *Dataset) Must() *Dataset {
	if d.err != nil {
		panic(fmt.Errorf("%s: %w", d.chain, d.err))
	}
	return d
}

// Name is what the data is ("financial", "train.jsonl").
func (d *Dataset) Name() string { return d.name }

// Chain is the prelude calls that produced d.
func (d *Dataset) Chain() string { return d.chain }

// Notes are what the chain's filtering steps did, one line each.
func (d *Dataset) Notes() []string { return append([]string(nil), d.notes...) }

// Frame returns the gota DataFrame (its Err field carries the chain's error, if any).
func (d *Dataset) Frame() dataframe.DataFrame {
	if d.err != nil {
		return dataframe.DataFrame{Err: d.err}
	}
	return d.df
}

// Len is the number of rows (0 after an error).
func (d *Dataset) Len() int {
	if d.err != nil {
		return 0
	}
	return d.df.Nrow()
}

// Columns are the column names (nil after an error).
func (d *Dataset) Columns() []string {
	if d.err != nil {
		return nil
	}
	return d.df.Names()
}

// Column returns a column's values as text; nil when there is no such column or the chain failed (Strings
// says why).
func (d *Dataset) Column(name string) []string {
	v, _ := d.Strings(name)
	return v
}

// Strings returns a column's values as text, or an error naming the columns that exist.
func (d *Dataset) Strings(name string) ([]string, error) {
	if d.err != nil {
		return nil, d.err
	}
	return datasets.Strings(d.df, name)
}

// Floats returns a numeric column's values (NaN for missing ones).
func (d *Dataset) Floats(name string) ([]float64, error) {
	if d.err != nil {
		return nil, d.err
	}
	if !d.has(name) {
		return nil, fmt.Errorf("no column %q (columns: %s)", name, strings.Join(d.df.Names(), ", "))
	}
	return d.df.Col(name).Float(), nil
}

func (d *Dataset) has(name string) bool {
	for _, n := range d.df.Names() {
		if n == name {
			return true
		}
	}
	return false
}

func (d *Dataset) missing(cols []string) error {
	var miss []string
	for _, c := range cols {
		if !d.has(c) {
			miss = append(miss, strconv.Quote(c))
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("no column %s (columns: %s)", strings.Join(miss, ", "), strings.Join(d.df.Names(), ", "))
}

// build assembles a frame from series, keeping an empty frame's columns.
func build(cols []series.Series) dataframe.DataFrame {
	return dataframe.New(cols...)
}

func (d *Dataset) columns() []series.Series {
	names := d.df.Names()
	out := make([]series.Series, len(names))
	for i, n := range names {
		out[i] = d.df.Col(n)
	}
	return out
}

// Rename renames column old to new (sentence-transformers wants anchor / positive / negative…).
func (d *Dataset) Rename(old, new string) *Dataset {
	op := fmt.Sprintf("Rename(%q, %q)", old, new)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if err := d.missing([]string{old}); err != nil {
		return n.fail(op, err)
	}
	if old != new && d.has(new) {
		return n.fail(op, fmt.Errorf("column %q already exists", new))
	}
	cols := d.columns()
	for i := range cols {
		if cols[i].Name == old {
			c := cols[i].Copy()
			c.Name = new
			cols[i] = c
		}
	}
	n.df = build(cols)
	return n
}

// Select keeps the named columns, in that order.
func (d *Dataset) Select(cols ...string) *Dataset {
	op := fmt.Sprintf("Select(%s)", quote(cols))
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if len(cols) == 0 {
		return n.fail(op, errors.New("no columns given"))
	}
	if err := d.missing(cols); err != nil {
		return n.fail(op, err)
	}
	seen := map[string]bool{}
	var out []series.Series
	for _, c := range cols {
		if seen[c] {
			return n.fail(op, fmt.Errorf("column %q given twice", c))
		}
		seen[c] = true
		out = append(out, d.df.Col(c))
	}
	n.df = build(out)
	return n
}

// Drop removes the named columns.
func (d *Dataset) Drop(cols ...string) *Dataset {
	op := fmt.Sprintf("Drop(%s)", quote(cols))
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if err := d.missing(cols); err != nil {
		return n.fail(op, err)
	}
	drop := map[string]bool{}
	for _, c := range cols {
		drop[c] = true
	}
	var out []series.Series
	for _, c := range d.columns() {
		if !drop[c.Name] {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return n.fail(op, errors.New("that would drop every column"))
	}
	n.df = build(out)
	return n
}

// isEmpty is true for missing values, NaN, and strings that are empty or only white space.
func isEmpty(s series.Series, i int) bool {
	e := s.Elem(i)
	if e.IsNA() {
		return true
	}
	switch s.Type() {
	case series.Float:
		return math.IsNaN(e.Float())
	case series.String:
		return strings.TrimSpace(e.String()) == ""
	}
	return false
}

// keepRows subsets the rows where keep is true and records a note.
func (d *Dataset) keepRows(op string, keep []bool) *Dataset {
	n := d
	var idx []int
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	before := n.df.Nrow()
	if len(idx) == before {
		n.notes = append(n.notes, fmt.Sprintf("%s: kept all %s rows", op, tables.Thousands(before)))
		return n
	}
	if len(idx) == 0 {
		// gota cannot subset to zero rows; build empty columns of the same types.
		var cols []series.Series
		for _, c := range n.columns() {
			cols = append(cols, series.New([]string{}, c.Type(), c.Name))
		}
		n.df = build(cols)
	} else {
		n.df = n.df.Subset(idx)
	}
	n.notes = append(n.notes, fmt.Sprintf("%s: %s → %s rows", op, tables.Thousands(before), tables.Thousands(len(idx))))
	return n
}

// DropEmpty removes rows where any of the named columns (all columns when none are named) is missing, NaN,
// or text that is empty or only white space.
func (d *Dataset) DropEmpty(cols ...string) *Dataset {
	op := fmt.Sprintf("DropEmpty(%s)", quote(cols))
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if err := d.missing(cols); err != nil {
		return n.fail(op, err)
	}
	if len(cols) == 0 {
		cols = d.df.Names()
	}
	keep := make([]bool, d.df.Nrow())
	for i := range keep {
		keep[i] = true
	}
	for _, c := range cols {
		s := d.df.Col(c)
		for i := range keep {
			if keep[i] && isEmpty(s, i) {
				keep[i] = false
			}
		}
	}
	return n.keepRows(op, keep)
}

// Dedupe keeps the first row of each distinct combination of the named columns (all columns when none are
// named); values are compared as exact text.
func (d *Dataset) Dedupe(cols ...string) *Dataset {
	op := fmt.Sprintf("Dedupe(%s)", quote(cols))
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if err := d.missing(cols); err != nil {
		return n.fail(op, err)
	}
	if len(cols) == 0 {
		cols = d.df.Names()
	}
	recs := make([][]string, len(cols))
	for j, c := range cols {
		recs[j] = datasets.Texts(d.df.Col(c))
	}
	seen := map[string]bool{}
	keep := make([]bool, d.df.Nrow())
	var b strings.Builder
	for i := range keep {
		b.Reset()
		for j := range cols {
			v := recs[j][i]
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		}
		k := b.String()
		keep[i] = !seen[k]
		seen[k] = true
	}
	return n.keepRows(op, keep)
}

// Filter keeps the rows whose value in column col satisfies keep.
func (d *Dataset) Filter(col string, keep func(value string) bool) *Dataset {
	op := fmt.Sprintf("Filter(%q, …)", col)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	vals, err := d.Strings(col)
	if err != nil {
		return n.fail(op, err)
	}
	k := make([]bool, len(vals))
	for i, v := range vals {
		k[i] = keep(v)
	}
	return n.keepRows(op, k)
}

// Head keeps the first n rows.
func (d *Dataset) Head(rows int) *Dataset {
	return d.rowRange(fmt.Sprintf("Head(%d)", rows), 0, rows)
}

// Tail keeps the last n rows.
func (d *Dataset) Tail(rows int) *Dataset {
	return d.rowRange(fmt.Sprintf("Tail(%d)", rows), d.Len()-rows, d.Len())
}

func (d *Dataset) rowRange(op string, from, to int) *Dataset {
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if to < from {
		return n.fail(op, errors.New("the row count must not be negative"))
	}
	keep := make([]bool, d.df.Nrow())
	for i := max(from, 0); i < min(to, len(keep)); i++ {
		keep[i] = true
	}
	n = n.keepRows(op, keep)
	n.notes = n.notes[:len(n.notes)-1] // a row range is not worth a note
	return n
}

// Split shuffles the rows with a seeded generator and returns (train, test), test holding
// ceil(testFraction × rows) rows, like Hugging Face datasets' train_test_split. The same seed always gives the
// same split; each part keeps the original row order.
func (d *Dataset) Split(testFraction float64, seed int) (train, test *Dataset) {
	op := fmt.Sprintf("Split(%v, %d)", testFraction, seed)
	train, test = d.next(op), d.next(op)
	train.name, test.name = d.name+" (train)", d.name+" (test)"
	if d.err != nil {
		return train, test
	}
	if seed < 0 {
		err := errors.New("the seed must not be negative")
		return train.fail(op, err), test.fail(op, err)
	}
	tr, te, err := datasets.Split(d.df, testFraction, uint64(seed))
	if err != nil {
		return train.fail(op, err), test.fail(op, err)
	}
	train.df, test.df = tr, te
	return train, test
}

// SplitDevTest is the honest protocol's three-way split (datasets.SplitDevTest): test is exactly
// Split(testFraction, seed)'s test side, and dev (devFraction of all rows) is carved from the training side
// with its own seeded split. Choose weights, checkpoints and thresholds on dev; report on test.
func (d *Dataset) SplitDevTest(devFraction, testFraction float64, seed int) (train, dev, test *Dataset) {
	op := fmt.Sprintf("SplitDevTest(%v, %v, %d)", devFraction, testFraction, seed)
	train, dev, test = d.next(op), d.next(op), d.next(op)
	train.name, dev.name, test.name = d.name+" (train)", d.name+" (dev)", d.name+" (test)"
	if d.err != nil {
		return train, dev, test
	}
	if seed < 0 {
		err := errors.New("the seed must not be negative")
		return train.fail(op, err), dev.fail(op, err), test.fail(op, err)
	}
	tr, dv, te, err := datasets.SplitDevTest(d.df, devFraction, testFraction, uint64(seed))
	if err != nil {
		return train.fail(op, err), dev.fail(op, err), test.fail(op, err)
	}
	train.df, dev.df, test.df = tr, dv, te
	return train, dev, test
}

// Save writes the table to path as CSV, TSV or JSONL (by extension), atomically.
func (d *Dataset) Save(path string) error {
	if d.err != nil {
		return fmt.Errorf("save %s: %w", path, d.err)
	}
	return datasets.Save(d.df, path)
}

// Hash is the content hash of the table: its column names and types and every cell. Two datasets with the
// same content have the same hash however they were made, which is what the step cache keys on. Empty after
// an error.
func (d *Dataset) Hash() string {
	if d.err != nil {
		return ""
	}
	if d.hash == "" {
		d.hash = datasets.Hash(d.df)
	}
	return d.hash
}

// caption is the title line of a display.
func (d *Dataset) caption() string {
	return d.name
}

// HTML renders the dataset as a table (head and tail rows, counts), or its error.
func (d *Dataset) HTML() string {
	if d.err != nil {
		return tables.ErrorHTML(d.failure(), d.err.Error())
	}
	h := tables.HTML(d.df, tables.Options{Caption: d.caption()}) + lineageHTML(d.name, d.chain)
	if len(d.notes) > 0 {
		h += `<div class="ragnb-shape">` + html.EscapeString(strings.Join(d.notes, " · ")) + `</div>`
	}
	return h
}

// failure describes where the chain failed.
func (d *Dataset) failure() string {
	s := d.chain + " failed"
	if d.skipped > 0 {
		s += fmt.Sprintf(" (%d later %s skipped)", d.skipped, map[bool]string{true: "step", false: "steps"}[d.skipped == 1])
	}
	return s
}

// String renders the dataset as text (head and tail rows, counts), or its error.
func (d *Dataset) String() string {
	if d.err != nil {
		return "✗ " + d.failure() + "\n  " + d.err.Error() + "\n"
	}
	s := tables.Text(d.df, tables.Options{Caption: d.caption()})
	for _, note := range d.notes {
		s += note + "\n"
	}
	return s
}

// Display shows the dataset in the notebook (an HTML table) or the terminal (text); a failed chain shows its
// error instead.
func (d *Dataset) Display() { showHTML(d.HTML(), d.String()) }
