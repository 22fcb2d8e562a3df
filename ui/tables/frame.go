// Package tables renders tables for people: gota DataFrames as HTML (for notebooks) and aligned text (for
// terminals), head and tail with the row count; metric sets from the evaluators (map[string]float64 with
// sentence-transformers key names) as metric × dimension grids; and base-versus-fine-tuned comparisons with
// the absolute change and the % change. Every function returns a string; showing it (a notebook display, a
// terminal) is the caller's business. All text from the data is HTML-escaped.
package tables

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Options controls how much of a DataFrame is shown.
type Options struct {
	// Head and Tail are the rows shown from each end when the frame is longer than Head+Tail; the rest is
	// summarised as "… N more rows …". Zero means 5 each; a negative value shows none from that end.
	Head, Tail int
	// MaxChars clips longer cells with "…" (the HTML keeps the full text in a tooltip). Zero means 160 for
	// HTML and 48 for text.
	MaxChars int
	// Caption is a title shown above the table (e.g. the dataset's name).
	Caption string
}

func (o Options) ends() (head, tail int) {
	head, tail = o.Head, o.Tail
	if head == 0 {
		head = 5
	}
	if tail == 0 {
		tail = 5
	}
	return max(head, 0), max(tail, 0)
}

// rowsShown returns the row indexes to show and where the gap goes (-1 when every row is shown).
func rowsShown(n int, o Options) (rows []int, gapAfter int, hidden int) {
	head, tail := o.ends()
	if n <= head+tail {
		for i := 0; i < n; i++ {
			rows = append(rows, i)
		}
		return rows, -1, 0
	}
	for i := 0; i < head; i++ {
		rows = append(rows, i)
	}
	for i := n - tail; i < n; i++ {
		rows = append(rows, i)
	}
	return rows, head, n - head - tail
}

// Cell formats one value: floats with up to 6 significant digits, missing values as NaN.
func Cell(s series.Series, i int) (text string, missing bool) {
	e := s.Elem(i)
	if e.IsNA() {
		return "NaN", true
	}
	if s.Type() == series.Float {
		f := e.Float()
		if math.IsNaN(f) {
			return "NaN", true
		}
		return strconv.FormatFloat(f, 'g', 6, 64), false
	}
	return e.String(), false
}

func typeLabel(t series.Type) string {
	switch t {
	case series.Float:
		return "float"
	case series.Int:
		return "int"
	case series.Bool:
		return "bool"
	}
	return "str"
}

// clipRunes shortens s to at most n runes, ending in "…" when clipped.
func clipRunes(s string, n int) (string, bool) {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	return string(r[:n-1]) + "…", true
}

// Shape is "7,000 rows × 5 columns".
func Shape(rows, cols int) string {
	return fmt.Sprintf("%s %s × %d %s", Thousands(rows), plural(rows, "row", "rows"), cols, plural(cols, "column", "columns"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Thousands writes n with comma separators (7000 → "7,000").
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Style is the CSS the HTML tables use, scoped to the ragnb-* classes; it is included in every table so a
// cell's output stands alone.
const Style = `<style>
.ragnb-table{border-collapse:collapse;font-size:12px;font-family:var(--jp-code-font-family,monospace)}
.ragnb-table th,.ragnb-table td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top;max-width:40em}
.ragnb-table th{background:#f4f4f4}
.ragnb-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.ragnb-table td.idx,.ragnb-table th.idx{color:#888;text-align:right}
.ragnb-table td.na{color:#aaa;font-style:italic}
.ragnb-table tr.gap td{text-align:center;color:#888;font-style:italic;background:#fafafa}
.ragnb-table .type{color:#999;font-weight:normal;font-size:10px}
.ragnb-table td.gain{color:#18794e}.ragnb-table td.loss{color:#c62828}
.ragnb-caption{font-weight:bold;margin:4px 0}.ragnb-shape{color:#666;font-size:11px;margin:2px 0 8px}
.ragnb-error{border-left:4px solid #c62828;background:#fdecea;padding:6px 10px;font-family:var(--jp-code-font-family,monospace);white-space:pre-wrap}
</style>`

// HTML renders df as an HTML table: a caption, the head and tail rows with the original row numbers, a
// "… N more rows …" line between them, column types under the names, long cells clipped with the full text
// in a title attribute, and "R rows × C columns" below.
func HTML(df dataframe.DataFrame, o Options) string {
	var b strings.Builder
	b.WriteString(Style)
	b.WriteString(`<div class="ragnb-frame">`)
	if o.Caption != "" {
		fmt.Fprintf(&b, `<div class="ragnb-caption">%s</div>`, html.EscapeString(o.Caption))
	}
	if df.Err != nil {
		b.WriteString(ErrorHTML("DataFrame", df.Err.Error()))
		b.WriteString("</div>")
		return b.String()
	}
	maxChars := o.MaxChars
	if maxChars == 0 {
		maxChars = 160
	}
	names, types := df.Names(), df.Types()
	cols := make([]series.Series, len(names))
	for j, n := range names {
		cols[j] = df.Col(n)
	}
	b.WriteString(`<table class="ragnb-table"><thead><tr><th class="idx"></th>`)
	for j, n := range names {
		fmt.Fprintf(&b, `<th>%s<br><span class="type">%s</span></th>`, html.EscapeString(n), typeLabel(types[j]))
	}
	b.WriteString("</tr></thead><tbody>")
	rows, gapAfter, hidden := rowsShown(df.Nrow(), o)
	for r, i := range rows {
		if r == gapAfter {
			fmt.Fprintf(&b, `<tr class="gap"><td colspan="%d">… %s more %s …</td></tr>`, len(names)+1,
				Thousands(hidden), plural(hidden, "row", "rows"))
		}
		fmt.Fprintf(&b, `<tr><td class="idx">%d</td>`, i)
		for j, c := range cols {
			text, missing := Cell(c, i)
			class := ""
			switch {
			case missing:
				class = ` class="na"`
			case types[j] == series.Float || types[j] == series.Int:
				class = ` class="num"`
			}
			shown, clipped := clipRunes(text, maxChars)
			if clipped {
				fmt.Fprintf(&b, `<td%s title="%s">%s</td>`, class, html.EscapeString(text), html.EscapeString(shown))
			} else {
				fmt.Fprintf(&b, `<td%s>%s</td>`, class, html.EscapeString(shown))
			}
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	fmt.Fprintf(&b, `<div class="ragnb-shape">%s</div></div>`, Shape(df.Nrow(), df.Ncol()))
	return b.String()
}

// Text renders df as aligned plain text for terminals, with the same head / gap / tail and shape line as
// HTML; newlines and tabs inside cells are shown as spaces.
func Text(df dataframe.DataFrame, o Options) string {
	var b strings.Builder
	if o.Caption != "" {
		b.WriteString(o.Caption + "\n")
	}
	if df.Err != nil {
		return b.String() + "error: " + df.Err.Error() + "\n"
	}
	maxChars := o.MaxChars
	if maxChars == 0 {
		maxChars = 48
	}
	names := df.Names()
	rows, gapAfter, hidden := rowsShown(df.Nrow(), o)
	grid := [][]string{append([]string{""}, names...)}
	numeric := make([]bool, len(names)+1)
	numeric[0] = true
	for j, t := range df.Types() {
		numeric[j+1] = t == series.Float || t == series.Int
	}
	cols := make([]series.Series, len(names))
	for j, n := range names {
		cols[j] = df.Col(n)
	}
	for _, i := range rows {
		line := []string{strconv.Itoa(i)}
		for _, c := range cols {
			text, _ := Cell(c, i)
			text = strings.Join(strings.Fields(text), " ")
			text, _ = clipRunes(text, maxChars)
			line = append(line, text)
		}
		grid = append(grid, line)
	}
	widths := make([]int, len(names)+1)
	for _, line := range grid {
		for j, c := range line {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	writeLine := func(line []string) {
		for j, c := range line {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if j > 0 {
				b.WriteString("  ")
			}
			if numeric[j] {
				b.WriteString(pad + c)
			} else if j < len(line)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		b.WriteString("\n")
	}
	for r, line := range grid {
		if r-1 == gapAfter && gapAfter >= 0 {
			fmt.Fprintf(&b, "… %s more %s …\n", Thousands(hidden), plural(hidden, "row", "rows"))
		}
		writeLine(line)
	}
	b.WriteString(Shape(df.Nrow(), df.Ncol()) + "\n")
	return b.String()
}

// ErrorHTML renders an error box: what failed (e.g. the chain that failed) and the message.
func ErrorHTML(what, msg string) string {
	return fmt.Sprintf(`%s<div class="ragnb-error"><b>✗ %s</b>
%s</div>`, Style, html.EscapeString(what), html.EscapeString(msg))
}
