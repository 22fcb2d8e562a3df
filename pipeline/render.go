package pipeline

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// snippet clips s to n runes with "…", newlines as spaces.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// SourcesText lists an answer's sources for a terminal, one per line: number (marked * when cited), document
// id, retrieval rank and score, rerank score, and the start of the passage.
func SourcesText(a Answer) string {
	if len(a.Sources) == 0 {
		return "no passages retrieved\n"
	}
	cited := map[int]bool{}
	for _, c := range a.Cited {
		cited[c] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sources (%d of %d retrieved", len(a.Sources), a.Retrieved)
	if a.Reranked {
		b.WriteString(", reranked")
	}
	b.WriteString("):\n")
	for _, s := range a.Sources {
		mark := " "
		if cited[s.Rank] {
			mark = "*"
		}
		fmt.Fprintf(&b, " %s[%d] %s  retrieved #%d %.4f", mark, s.Rank, s.DocID, s.RetrieveRank, s.RetrieveScore)
		if a.Reranked {
			fmt.Fprintf(&b, "  rerank %.4f", s.RerankScore)
		}
		fmt.Fprintf(&b, "  %s\n", snippet(content(s), 100))
	}
	return b.String()
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/1e6)
}

// TimingsText is "embed 3.1 ms, search 0.4 ms, rerank 12.0 ms, generate 820.0 ms, total 836.2 ms" (stages
// that did not run are left out).
func TimingsText(t Timings) string {
	var parts []string
	for _, x := range []struct {
		name string
		d    time.Duration
	}{{"embed", t.Embed}, {"search", t.Search}, {"rerank", t.Rerank}, {"generate", t.Generate}} {
		if x.d > 0 {
			parts = append(parts, x.name+" "+ms(x.d))
		}
	}
	return strings.Join(append(parts, "total "+ms(t.Total)), ", ")
}

// String renders the answer for a terminal: question, answer (or error), sources and timings.
func (a Answer) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Q: %s\n", a.Question)
	if a.Text != "" {
		b.WriteString(a.Text + "\n")
	}
	if a.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", a.Error)
	}
	b.WriteString(SourcesText(a))
	b.WriteString("timings: " + TimingsText(a.Timings) + "\n")
	return b.String()
}

// HTML renders the answer for a notebook: the answer with its citations linked to the sources, a sources
// table (cited ones marked), and the timings. Everything from the data is escaped.
func (a Answer) HTML() string {
	var b strings.Builder
	b.WriteString(`<div class="ragnb-answer" style="font-family:var(--jp-ui-font-family,sans-serif)">`)
	fmt.Fprintf(&b, `<div style="font-weight:bold;margin:4px 0">Q: %s</div>`, html.EscapeString(a.Question))
	if a.Text != "" {
		fmt.Fprintf(&b, `<div style="white-space:pre-wrap;margin:6px 0">%s</div>`, AnswerHTML(a.Text, len(a.Sources)))
	}
	if a.Error != "" {
		fmt.Fprintf(&b, `<div style="border-left:4px solid #c62828;background:#fdecea;padding:4px 8px">%s</div>`, html.EscapeString(a.Error))
	}
	cited := map[int]bool{}
	for _, c := range a.Cited {
		cited[c] = true
	}
	b.WriteString(`<table style="border-collapse:collapse;font-size:12px;margin-top:6px"><tr>` +
		`<th style="text-align:left;padding:2px 6px">#</th><th style="text-align:left;padding:2px 6px">document</th>` +
		`<th style="text-align:right;padding:2px 6px">retrieved</th>`)
	if a.Reranked {
		b.WriteString(`<th style="text-align:right;padding:2px 6px">rerank</th>`)
	}
	b.WriteString(`<th style="text-align:left;padding:2px 6px">passage</th></tr>`)
	for _, s := range a.Sources {
		style := ""
		if cited[s.Rank] {
			style = ` style="background:#eef6ee"`
		}
		fmt.Fprintf(&b, `<tr%s id="src-%d"><td style="padding:2px 6px">[%d]</td><td style="padding:2px 6px">%s</td>`+
			`<td style="text-align:right;padding:2px 6px">#%d %.4f</td>`, style, s.Rank, s.Rank, html.EscapeString(s.DocID), s.RetrieveRank, s.RetrieveScore)
		if a.Reranked {
			fmt.Fprintf(&b, `<td style="text-align:right;padding:2px 6px">%.4f</td>`, s.RerankScore)
		}
		fmt.Fprintf(&b, `<td style="padding:2px 6px" title="%s">%s</td></tr>`, html.EscapeString(content(s)), html.EscapeString(snippet(content(s), 200)))
	}
	b.WriteString(`</table>`)
	fmt.Fprintf(&b, `<div style="color:#666;font-size:11px;margin:4px 0">%d of %d retrieved passages; %s</div></div>`,
		len(a.Sources), a.Retrieved, html.EscapeString(TimingsText(a.Timings)))
	return b.String()
}

// AnswerHTML escapes answer text and turns its citations [n] (1 ≤ n ≤ sources) into bold markers, for
// showing an answer while it streams.
func AnswerHTML(text string, sources int) string {
	esc := html.EscapeString(text)
	return citation.ReplaceAllStringFunc(esc, func(m string) string {
		if len(Citations(m, sources)) == 0 {
			return m
		}
		return "<b>" + m + "</b>"
	})
}
