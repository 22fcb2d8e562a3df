package tables

import (
	"fmt"
	"html"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MetricKey is an evaluator key split into its parts: "dim_768_cosine_ndcg@10" is group "dim_768_cosine"
// (Dim 768), metric "ndcg@10" (Name "ndcg", K 10); "bm25_mrr@10" is group "bm25"; "map@100" has no group.
type MetricKey struct {
	Key    string
	Group  string
	Dim    int // the Matryoshka dimension when the group names one ("dim_<d>"), else 0
	Metric string
	Name   string
	K      int // 0 when the metric has no @k
}

var dimGroup = regexp.MustCompile(`(?:^|_)dim_(\d+)(?:_|$)`)

// ParseMetricKey splits an evaluator key; the metric is the part after the last '_'.
func ParseMetricKey(key string) MetricKey {
	m := MetricKey{Key: key, Metric: key}
	if i := strings.LastIndexByte(key, '_'); i >= 0 {
		m.Group, m.Metric = key[:i], key[i+1:]
	}
	m.Name = m.Metric
	if i := strings.IndexByte(m.Metric, '@'); i >= 0 {
		m.Name = m.Metric[:i]
		m.K, _ = strconv.Atoi(m.Metric[i+1:])
	}
	if s := dimGroup.FindStringSubmatch(m.Group); s != nil {
		m.Dim, _ = strconv.Atoi(s[1])
	}
	return m
}

// GroupLabel is how a group is shown: "768" for dim_768_cosine, "hybrid 768" for hybrid_dim_768 (a prefix
// before dim_ names another system at that dimension), the group itself otherwise ("bm25"), and "value" for
// keys without a group.
func (m MetricKey) GroupLabel() string {
	switch {
	case m.Dim > 0 && !strings.HasPrefix(m.Group, "dim_"):
		prefix, _, _ := strings.Cut(m.Group, "dim_")
		return strings.TrimSuffix(prefix, "_") + " " + strconv.Itoa(m.Dim)
	case m.Dim > 0:
		return strconv.Itoa(m.Dim)
	case m.Group == "":
		return "value"
	}
	return m.Group
}

// metricRank orders metrics as sentence-transformers' InformationRetrievalEvaluator reports them.
var metricRank = map[string]int{"accuracy": 0, "precision": 1, "recall": 2, "ndcg": 3, "mrr": 4, "map": 5}

func lessMetric(a, b MetricKey) bool {
	ra, oka := metricRank[a.Name]
	rb, okb := metricRank[b.Name]
	if !oka {
		ra = 100
	}
	if !okb {
		rb = 100
	}
	if ra != rb {
		return ra < rb
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.K < b.K
}

// lessGroup puts Matryoshka dimensions first, largest first, then other groups by name.
func lessGroup(a, b MetricKey) bool {
	if (a.Dim > 0) != (b.Dim > 0) {
		return a.Dim > 0
	}
	if a.Dim != b.Dim {
		return a.Dim > b.Dim
	}
	return a.Group < b.Group
}

// Grid is a table of numbers with row and column labels; NaN cells are shown empty.
type Grid struct {
	Title     string
	Corner    string // the label above the row labels
	Rows      []string
	Cols      []string
	Cells     [][]float64 // [row][col]
	Precision int         // digits after the point; 0 means 4
}

// MetricGrid lays out a metric set with one row per metric (ndcg@10, mrr@10, …, in the evaluator's order)
// and one column per group (Matryoshka dimensions, largest first, then bm25 and others). Only the metrics
// named are kept when any are given (e.g. "ndcg@10", "mrr@10", "map@100").
func MetricGrid(m map[string]float64, metrics ...string) Grid {
	keep := map[string]bool{}
	for _, x := range metrics {
		keep[x] = true
	}
	var keys []MetricKey
	for k := range m {
		p := ParseMetricKey(k)
		if len(keep) == 0 || keep[p.Metric] {
			keys = append(keys, p)
		}
	}
	rows := uniqueSorted(keys, func(p MetricKey) string { return p.Metric }, lessMetric)
	cols := uniqueSorted(keys, func(p MetricKey) string { return p.GroupLabel() }, lessGroup)
	g := Grid{Corner: "metric", Rows: rows, Cols: cols, Cells: make([][]float64, len(rows))}
	ri, ci := index(rows), index(cols)
	for r := range g.Cells {
		g.Cells[r] = make([]float64, len(cols))
		for c := range g.Cells[r] {
			g.Cells[r][c] = math.NaN()
		}
	}
	for _, p := range keys {
		g.Cells[ri[p.Metric]][ci[p.GroupLabel()]] = m[p.Key]
	}
	if len(cols) > 0 && keys != nil && anyDim(keys) {
		g.Corner = "metric \\ dim"
	}
	return g
}

func anyDim(keys []MetricKey) bool {
	for _, k := range keys {
		if k.Dim > 0 {
			return true
		}
	}
	return false
}

func uniqueSorted(keys []MetricKey, label func(MetricKey) string, less func(a, b MetricKey) bool) []string {
	sorted := append([]MetricKey(nil), keys...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if less(sorted[i], sorted[j]) {
			return true
		}
		if less(sorted[j], sorted[i]) {
			return false
		}
		return label(sorted[i]) < label(sorted[j])
	})
	var out []string
	seen := map[string]bool{}
	for _, k := range sorted {
		if l := label(k); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func index(labels []string) map[string]int {
	m := make(map[string]int, len(labels))
	for i, l := range labels {
		m[l] = i
	}
	return m
}

func (g Grid) format(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	p := g.Precision
	if p == 0 {
		p = 4
	}
	return strconv.FormatFloat(v, 'f', p, 64)
}

// HTML renders the grid.
func (g Grid) HTML() string {
	var b strings.Builder
	b.WriteString(Style)
	if g.Title != "" {
		fmt.Fprintf(&b, `<div class="ragnb-caption">%s</div>`, html.EscapeString(g.Title))
	}
	fmt.Fprintf(&b, `<table class="ragnb-table"><thead><tr><th>%s</th>`, html.EscapeString(g.Corner))
	for _, c := range g.Cols {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(c))
	}
	b.WriteString("</tr></thead><tbody>")
	for r, row := range g.Rows {
		fmt.Fprintf(&b, "<tr><th>%s</th>", html.EscapeString(row))
		for c := range g.Cols {
			fmt.Fprintf(&b, `<td class="num">%s</td>`, g.format(g.Cells[r][c]))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// Text renders the grid as aligned text.
func (g Grid) Text() string {
	lines := [][]string{append([]string{g.Corner}, g.Cols...)}
	for r, row := range g.Rows {
		line := []string{row}
		for c := range g.Cols {
			line = append(line, g.format(g.Cells[r][c]))
		}
		lines = append(lines, line)
	}
	return alignText(g.Title, lines, 1)
}

// alignText left-aligns the first `left` columns and right-aligns the others; trailing blanks are trimmed.
func alignText(title string, lines [][]string, left int) string {
	var widths []int
	for _, l := range lines {
		for j, c := range l {
			if j >= len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	if title != "" {
		b.WriteString(title + "\n")
	}
	for _, l := range lines {
		var line strings.Builder
		for j, c := range l {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if j > 0 {
				line.WriteString("  ")
			}
			if j < left {
				line.WriteString(c + pad)
			} else {
				line.WriteString(pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

// ComparisonRow is one metric of a comparison.
type ComparisonRow struct {
	Key         MetricKey
	Base, Tuned float64
	// Delta is Tuned − Base; Percent is 100 × Delta / Base (NaN when Base is 0).
	Delta, Percent float64
}

// Comparison sets a fine-tuned model's metrics against its base model's.
type Comparison struct {
	Title     string
	BaseName  string
	TunedName string
	Rows      []ComparisonRow
}

// Compare pairs the keys present in both metric sets (optionally only the named metrics, e.g. "ndcg@10"),
// ordered by Matryoshka dimension (largest first) then by metric.
func Compare(base, tuned map[string]float64, baseName, tunedName string, metrics ...string) Comparison {
	keep := map[string]bool{}
	for _, x := range metrics {
		keep[x] = true
	}
	c := Comparison{BaseName: baseName, TunedName: tunedName}
	if c.BaseName == "" {
		c.BaseName = "base"
	}
	if c.TunedName == "" {
		c.TunedName = "fine-tuned"
	}
	for k, b := range base {
		t, ok := tuned[k]
		p := ParseMetricKey(k)
		if !ok || (len(keep) > 0 && !keep[p.Metric]) {
			continue
		}
		row := ComparisonRow{Key: p, Base: b, Tuned: t, Delta: t - b, Percent: math.NaN()}
		if b != 0 {
			row.Percent = 100 * (t - b) / math.Abs(b)
		}
		c.Rows = append(c.Rows, row)
	}
	sort.Slice(c.Rows, func(i, j int) bool {
		a, b := c.Rows[i].Key, c.Rows[j].Key
		if lessGroup(a, b) || lessGroup(b, a) {
			return lessGroup(a, b)
		}
		if lessMetric(a, b) || lessMetric(b, a) {
			return lessMetric(a, b)
		}
		return a.Key < b.Key
	})
	return c
}

func (r ComparisonRow) label() (group, metric string) {
	return r.Key.GroupLabel(), r.Key.Metric
}

func signed(v float64, digits int, suffix string) string {
	if math.IsNaN(v) {
		return "—"
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if v > 0 || (v == 0 && !math.Signbit(v)) {
		s = "+" + s
	}
	return s + suffix
}

func changeClass(d float64) string {
	switch {
	case d > 0:
		return "gain"
	case d < 0:
		return "loss"
	}
	return ""
}

// HTML renders the comparison: dim, metric, base, fine-tuned, Δ and % change, gains in green and losses
// in red.
func (c Comparison) HTML() string {
	var b strings.Builder
	b.WriteString(Style)
	if c.Title != "" {
		fmt.Fprintf(&b, `<div class="ragnb-caption">%s</div>`, html.EscapeString(c.Title))
	}
	fmt.Fprintf(&b, `<table class="ragnb-table"><thead><tr><th>dim</th><th>metric</th><th>%s</th><th>%s</th><th>Δ</th><th>%% change</th></tr></thead><tbody>`,
		html.EscapeString(c.BaseName), html.EscapeString(c.TunedName))
	for _, r := range c.Rows {
		g, m := r.label()
		cls := changeClass(r.Delta)
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td class="num">%.4f</td><td class="num">%.4f</td><td class="num %s">%s</td><td class="num %s">%s</td></tr>`,
			html.EscapeString(g), html.EscapeString(m), r.Base, r.Tuned, cls, signed(r.Delta, 4, ""), cls, signed(r.Percent, 1, "%"))
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// Text renders the comparison as aligned text.
func (c Comparison) Text() string {
	lines := [][]string{{"dim", "metric", c.BaseName, c.TunedName, "Δ", "% change"}}
	for _, r := range c.Rows {
		g, m := r.label()
		lines = append(lines, []string{g, m, strconv.FormatFloat(r.Base, 'f', 4, 64), strconv.FormatFloat(r.Tuned, 'f', 4, 64),
			signed(r.Delta, 4, ""), signed(r.Percent, 1, "%")})
	}
	return alignText(c.Title, lines, 2)
}
