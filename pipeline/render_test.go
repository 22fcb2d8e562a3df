package pipeline

import (
	"strings"
	"testing"
	"time"
)

func TestRendering(t *testing.T) {
	a := Answer{Question: "Is <b> safe?", Text: "Yes [1], see [3] and [9].", Retrieved: 10, Reranked: true, Cited: []int{1, 3},
		Sources: []Source{
			{Rank: 1, DocID: "d<1>", Text: "first & foremost", RetrieveRank: 4, RetrieveScore: 0.5, RerankScore: 2.25},
			{Rank: 2, DocID: "d2", Title: "T", Text: strings.Repeat("long ", 100), RetrieveRank: 1, RetrieveScore: 0.9, RerankScore: 1},
			{Rank: 3, DocID: "d3", Text: "third", RetrieveRank: 2, RetrieveScore: 0.7, RerankScore: -1},
		},
		Timings: Timings{Embed: 3 * time.Millisecond, Search: 400 * time.Microsecond, Rerank: 12 * time.Millisecond, Total: 1500 * time.Millisecond}}
	txt := SourcesText(a)
	for _, want := range []string{"sources (3 of 10 retrieved, reranked):", " *[1] d<1>  retrieved #4 0.5000  rerank 2.2500  first & foremost",
		"  [2] d2  retrieved #1 0.9000", "T long long", "…", " *[3] d3"} {
		if !strings.Contains(txt, want) {
			t.Errorf("SourcesText lacks %q:\n%s", want, txt)
		}
	}
	if got := TimingsText(a.Timings); got != "embed 3.0 ms, search 0.4 ms, rerank 12.0 ms, total 1.50 s" {
		t.Errorf("TimingsText %q", got)
	}
	h := a.HTML()
	for _, want := range []string{"Is &lt;b&gt; safe?", "d&lt;1&gt;", "first &amp; foremost", "<b>[1]</b>", "<b>[3]</b>", "[9]."} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h, "<b>[9]</b>") || strings.Contains(h, "Is <b> safe") {
		t.Error("HTML marks an out-of-range citation or leaves data unescaped")
	}
	if s := a.String(); !strings.HasPrefix(s, "Q: Is <b> safe?\nYes [1]") || !strings.Contains(s, "timings: ") {
		t.Errorf("String:\n%s", s)
	}
}
