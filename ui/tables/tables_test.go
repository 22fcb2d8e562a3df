package tables

import (
	"encoding/xml"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

func frame(n int) dataframe.DataFrame {
	q := make([]string, n)
	s := make([]float64, n)
	for i := range q {
		q[i] = "question " + Thousands(i)
		s[i] = float64(i) / 4
	}
	return dataframe.New(series.New(q, series.String, "anchor"), series.New(s, series.Float, "score"))
}

// wellFormed parses the HTML (without the <style> block) as XML: every tag closed, every entity valid.
func wellFormed(t *testing.T, h string) {
	t.Helper()
	if i := strings.Index(h, "</style>"); i >= 0 {
		h = h[i+len("</style>"):]
	}
	h = strings.ReplaceAll(h, "<br>", "<br/>")
	d := xml.NewDecoder(strings.NewReader("<root>" + h + "</root>"))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("HTML is not well formed: %v\n%s", err, h)
		}
	}
}

func TestHTMLHeadTailAndShape(t *testing.T) {
	h := HTML(frame(23), Options{Head: 3, Tail: 2, Caption: "pairs"})
	wellFormed(t, h)
	for _, want := range []string{"question 0", "question 2", "question 21", "question 22", "… 18 more rows …",
		"23 rows × 2 columns", `<div class="ragnb-caption">pairs</div>`, `<td class="idx">21</td>`, `<span class="type">float</span>`, ">5.25<"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, absent := range []string{"question 3<", "question 20<"} {
		if strings.Contains(h, absent) {
			t.Errorf("HTML shows hidden row %q", absent)
		}
	}
	if got := strings.Count(h, "<tr>"); got != 1+5 {
		t.Errorf("%d <tr> rows, want the header + 5", got)
	}
	// A short frame shows every row and no gap; one row says "row".
	h = HTML(frame(1), Options{})
	if strings.Contains(h, "more row") || !strings.Contains(h, "1 row × 2 columns") {
		t.Errorf("one-row frame: %s", h)
	}
}

func TestHTMLEscapesAndClips(t *testing.T) {
	long := strings.Repeat("révenue ", 40) + "end"
	df := dataframe.New(
		series.New([]string{`<script>alert("x")</script>`, long}, series.String, "a<b>"),
		series.New([]float64{math.NaN(), 1}, series.Float, "score"),
	)
	h := HTML(df, Options{MaxChars: 20})
	wellFormed(t, h)
	if strings.Contains(h, "<script>") || strings.Contains(h, "<b>") {
		t.Fatalf("unescaped data in HTML: %s", h)
	}
	if !strings.Contains(h, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") || !strings.Contains(h, "a&lt;b&gt;") {
		t.Errorf("escaped text missing: %s", h)
	}
	clipped := string([]rune(long)[:19]) + "…"
	if !strings.Contains(h, `title="`+long+`">`+clipped+"</td>") {
		t.Errorf("long cell should show %q with the full text in title", clipped)
	}
	if !strings.Contains(h, `<td class="na">NaN</td>`) {
		t.Errorf("NaN cell not marked: %s", h)
	}
	e := ErrorHTML(`Load("x") → Rename`, "no column <q>")
	wellFormed(t, e)
	if !strings.Contains(e, "no column &lt;q&gt;") {
		t.Errorf("error box: %s", e)
	}
}

func TestText(t *testing.T) {
	df := dataframe.New(
		series.New([]string{"a\nb", "ccc", "d", "e"}, series.String, "anchor"),
		series.New([]float64{1.5, 10, 100.25, math.NaN()}, series.Float, "score"),
	)
	got := Text(df, Options{Head: 1, Tail: 2, Caption: "t"})
	want := "t\n" +
		"   anchor   score\n" +
		"0  a b        1.5\n" +
		"… 1 more row …\n" +
		"2  d       100.25\n" +
		"3  e          NaN\n" +
		"4 rows × 2 columns\n"
	if got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseMetricKey(t *testing.T) {
	for key, want := range map[string]MetricKey{
		"dim_768_cosine_ndcg@10":     {Group: "dim_768_cosine", Dim: 768, Metric: "ndcg@10", Name: "ndcg", K: 10},
		"bm25_mrr@10":                {Group: "bm25", Metric: "mrr@10", Name: "mrr", K: 10},
		"map@100":                    {Metric: "map@100", Name: "map", K: 100},
		"eval_dim_64_cosine_map@100": {Group: "eval_dim_64_cosine", Dim: 64, Metric: "map@100", Name: "map", K: 100},
		"cosine_accuracy@1":          {Group: "cosine", Metric: "accuracy@1", Name: "accuracy", K: 1},
	} {
		want.Key = key
		if got := ParseMetricKey(key); got != want {
			t.Errorf("%s: %+v, want %+v", key, got, want)
		}
	}
}

func TestMetricGrid(t *testing.T) {
	m := map[string]float64{
		"dim_64_cosine_ndcg@10": 0.5, "dim_768_cosine_ndcg@10": 0.7, "dim_768_cosine_mrr@10": 0.65,
		"dim_768_cosine_accuracy@1": 0.55, "bm25_ndcg@10": 0.6, "dim_768_cosine_recall@10": 0.9,
	}
	g := MetricGrid(m)
	if !reflect.DeepEqual(g.Rows, []string{"accuracy@1", "recall@10", "ndcg@10", "mrr@10"}) || !reflect.DeepEqual(g.Cols, []string{"768", "64", "bm25"}) {
		t.Fatalf("rows %v cols %v", g.Rows, g.Cols)
	}
	if g.Cells[2][0] != 0.7 || g.Cells[2][1] != 0.5 || g.Cells[2][2] != 0.6 || !math.IsNaN(g.Cells[0][1]) {
		t.Errorf("cells %v", g.Cells)
	}
	want := "metric \\ dim     768      64    bm25\n" +
		"accuracy@1    0.5500\n" +
		"recall@10     0.9000\n" +
		"ndcg@10       0.7000  0.5000  0.6000\n" +
		"mrr@10        0.6500\n"
	if got := g.Text(); got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	wellFormed(t, g.HTML())
	only := MetricGrid(m, "ndcg@10")
	if len(only.Rows) != 1 || len(only.Cols) != 3 {
		t.Errorf("filtered grid %v × %v", only.Rows, only.Cols)
	}
}

func TestCompare(t *testing.T) {
	base := map[string]float64{"dim_768_cosine_ndcg@10": 0.5, "dim_64_cosine_ndcg@10": 0.4, "dim_768_cosine_mrr@10": 0.45, "bm25_ndcg@10": 0.6, "dim_128_cosine_map@100": 0}
	tuned := map[string]float64{"dim_768_cosine_ndcg@10": 0.6, "dim_64_cosine_ndcg@10": 0.38, "dim_768_cosine_mrr@10": 0.45, "dim_128_cosine_map@100": 0.1}
	c := Compare(base, tuned, "bge-base", "fine-tuned")
	var keys []string
	for _, r := range c.Rows {
		keys = append(keys, r.Key.Key)
	}
	if !reflect.DeepEqual(keys, []string{"dim_768_cosine_ndcg@10", "dim_768_cosine_mrr@10", "dim_128_cosine_map@100", "dim_64_cosine_ndcg@10"}) {
		t.Fatalf("rows %v (bm25 is only in base and must be left out)", keys)
	}
	r := c.Rows[0]
	if math.Abs(r.Delta-0.1) > 1e-12 || math.Abs(r.Percent-20) > 1e-9 {
		t.Errorf("0.5 → 0.6: Δ %v, %% %v", r.Delta, r.Percent)
	}
	if r := c.Rows[3]; math.Abs(r.Percent-(-5)) > 1e-9 {
		t.Errorf("0.4 → 0.38: %% %v, want -5", r.Percent)
	}
	if !math.IsNaN(c.Rows[2].Percent) {
		t.Errorf("a change from 0 has no %% change: %v", c.Rows[2].Percent)
	}
	h := c.HTML()
	wellFormed(t, h)
	for _, want := range []string{`<td class="num gain">+20.0%</td>`, `<td class="num loss">-5.0%</td>`, `<td class="num ">+0.0%</td>`, "<th>bge-base</th>", "—"} {
		if !strings.Contains(h, want) {
			t.Errorf("comparison HTML lacks %q:\n%s", want, h)
		}
	}
	txt := Compare(base, tuned, "", "", "ndcg@10").Text()
	want := "dim  metric     base  fine-tuned        Δ  % change\n" +
		"768  ndcg@10  0.5000      0.6000  +0.1000    +20.0%\n" +
		"64   ndcg@10  0.4000      0.3800  -0.0200     -5.0%\n"
	if txt != want {
		t.Errorf("text:\n%s\nwant\n%s", txt, want)
	}
}
