package traces

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "traces", name) }

func read(t *testing.T, name string, f Format) []Trace {
	t.Helper()
	tr, err := ReadFile(fixture(name), f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTracesReadFromEachExportShape reads a trace's Download JSON, a JSONL table export with embedded and
// separate observations, a JSON array of observations and scores, LangSmith runs flat and nested: each
// trace's question, passages in rank order, answer and feedback.
func TestTracesReadFromEachExportShape(t *testing.T) {
	type want struct {
		id, question, firstDoc, answer string
		docs                           int
		firstScore                     float64 // NaN: none recorded
		feedback                       float64 // NaN: none
	}
	nan := math.NaN()
	for _, tc := range []struct {
		file string
		tool Format
		want []want
	}{
		{"langfuse-trace.json", Langfuse, []want{{"lf-trace-1", "What was Acme's revenue in fiscal 2023?",
			"Total revenue for fiscal 2023 was $4.2 billion", "Acme reported revenue of $4.2 billion in fiscal 2023.", 3, 0.83, 1}}},
		{"langfuse-traces.jsonl", Langfuse, []want{
			{"lf-a", "Quel est le chiffre d'affaires d'Acme en 2023 ?", "Le chiffre d'affaires de l'exercice 2023",
				"Le chiffre d'affaires s'élève à 4,2 milliards de dollars.", 2, nan, 0},
			{"lf-b", "Who audits Acme?", "", "", 0, nan, nan},
			{"lf-c", "Wie hoch war die Dividende je Aktie?", "Die Dividende betrug", "0,92 US-Dollar je Aktie.", 2, 0.91, 1}}},
		{"langfuse-observations.json", Langfuse, []want{{"lf-x", "How many employees does Acme have?",
			"As of December 31, 2023", "About 12,400 full-time employees.", 2, 12.5, 0.7}}},
		// The traces table's batch export gives scores as {name: [values]} and no observations; those come from
		// the observations table's export, appended here.
		{"langfuse-traces-table.jsonl", Langfuse, []want{
			{"lf-t1", "What is Acme's fiscal year end?", "Our fiscal year ends", "The last Saturday of September.", 1, nan, 1},
			{"lf-t2", "Does Acme pay a dividend?", "", "Yes, $0.92 per share.", 0, nan, 1.0 / 3}}},
		{"langfuse-session.json", Langfuse, []want{
			{"st-1", "Who is Acme's auditor?", "Ernst & Young LLP has served", "Ernst & Young LLP.", 1, 0.9, 1},
			{"st-2", "And since when?", "", "Since 2002.", 0, nan, nan}}},
		{"langsmith-runs.jsonl", LangSmith, []want{
			{"ls-root-1", "What risks does Acme list first?", "Risk factors: our supply chain",
				"Supply chain concentration is listed first.", 3, 0.88, 1},
			{"ls-root-2", "アクメの本社はどこにありますか？", "当社の本社は", "本社はオースティンにあります。", 1, nan, 0},
			{"ls-root-3", "What is Acme's debt?", "", "", 0, nan, nan}}},
		{"langsmith-run.json", LangSmith, []want{{"ls-nested", "When does Acme's fiscal year end?",
			"Our fiscal year ends on the last Saturday", "It ends on the last Saturday of September.", 2, nan, 1}}},
	} {
		for _, f := range []Format{Auto, tc.tool} {
			got := read(t, tc.file, f)
			if len(got) != len(tc.want) {
				t.Fatalf("%s (%s): %d traces, want %d", tc.file, f, len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				where := tc.file + " " + w.id
				if g.Tool != tc.tool || g.ID != w.id || g.Question != w.question || g.Answer != w.answer || len(g.Documents) != w.docs {
					t.Errorf("%s: got %s %q question %q answer %q with %d documents", where, g.Tool, g.ID, g.Question, g.Answer, len(g.Documents))
					continue
				}
				if w.docs > 0 {
					d := g.Documents[0]
					if !strings.HasPrefix(d.Text, w.firstDoc) {
						t.Errorf("%s: first passage %q, want %q…", where, d.Text, w.firstDoc)
					}
					if (d.Score == nil) != math.IsNaN(w.firstScore) || (d.Score != nil && *d.Score != w.firstScore) {
						t.Errorf("%s: first score %v, want %v", where, d.Score, w.firstScore)
					}
				}
				fb, ok := g.FeedbackValue(nil)
				if ok == math.IsNaN(w.feedback) || (ok && math.Abs(fb-w.feedback) > 1e-9) {
					t.Errorf("%s: feedback %v (%v), want %v", where, fb, ok, w.feedback)
				}
				if !strings.HasPrefix(g.Source, fixture(tc.file)+" line ") {
					t.Errorf("%s: source %q", where, g.Source)
				}
			}
		}
	}
}

// TestTracesMalformedExportsNameFileLineAndField: a broken line, a field of the wrong type, a record of neither
// tool and a record of the other tool each fail with the file, the line and the field.
func TestTracesMalformedExportsNameFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		format     Format
		want       string
	}{
		{"malformed-line.jsonl", "", Auto, "malformed-line.jsonl line 3: not JSON"},
		{"malformed-field.json", "", Auto, "malformed-field.json line 3: field scores[0].value: want a number, got an object"},
		{"obs.json", "[\n{\"id\":\"o\",\"type\":\"RETRIEVER\",\"startTime\":\"t\",\"output\":[]}\n]", Langfuse, "obs.json line 2: field traceId: missing"},
		{"docs.jsonl", "{\"id\":\"r\",\"run_type\":\"retriever\",\"trace_id\":\"r\",\"outputs\":{\"documents\":[\"a\",7]}}", Auto,
			"docs.jsonl line 1: field outputs.documents[1]: want a document (string or object), got a number"},
		{"stats.jsonl", "{\"id\":\"r\",\"run_type\":\"chain\"}\n{\"id\":\"s\",\"run_type\":\"chain\",\"feedback_stats\":{\"thumbs\":{\"n\":1,\"avg\":\"up\"}}}", Auto,
			"stats.jsonl line 2: field feedback_stats.thumbs.avg: want a number, got a string"},
		{"odd.jsonl", "{\"foo\":1}", Auto, "odd.jsonl line 1: neither a Langfuse trace"},
		{"mixed.jsonl", "{\"id\":\"t\",\"input\":\"q\",\"observations\":[]}", LangSmith, "mixed.jsonl line 1: a Langfuse trace in a LangSmith export"},
		{"pretty.json", "{\n  \"id\": \"t\",\n  \"input\": \"q\",\n  \"observations\": [,]\n}", Auto, "pretty.json line 4: not JSON"},
		{"table.jsonl", "{\"id\":\"t\",\"input\":\"q\",\"scores\":{\"user-feedback\":[1,{\"x\":1}]}}", Auto,
			"table.jsonl line 1: field scores.user-feedback[1]: want a number or a category, got an object"},
		{"child.json", "{\"id\":\"r\",\"run_type\":\"chain\",\"child_runs\":[{\"id\":5,\"run_type\":[]}]}", Auto,
			"child.json line 1: field child_runs[0].run_type: want a string, got an array"},
	} {
		var err error
		if tc.data == "" {
			_, err = ReadFile(fixture(tc.name), tc.format)
		} else {
			_, err = Parse(strings.NewReader(tc.data), tc.name, tc.format)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestTracePairsChooseThePositiveByPolicy: by default the top passage is the positive only for positive
// feedback and everything else is flagged with its reason; top1 trusts the retriever; none leaves the
// positive to the reviewer; negatives are the other passages, one row each.
func TestTracePairsChooseThePositiveByPolicy(t *testing.T) {
	tr := append(read(t, "langfuse-traces.jsonl", Auto), read(t, "langsmith-runs.jsonl", Auto)...)
	flags := func(ps []Pair) map[string]string {
		m := map[string]string{}
		for _, p := range ps {
			m[p.TraceID] = p.Reason
			if p.Flagged != (p.Reason != "") {
				t.Errorf("%s: flagged %v with reason %q", p.TraceID, p.Flagged, p.Reason)
			}
		}
		return m
	}
	def := Options{Positive: PositiveFeedback, MinFeedback: 0.5}
	ps, err := Pairs(tr, def)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"lf-a": "negative feedback (0)", "lf-b": "no retrieved documents", "lf-c": "",
		"ls-root-1": "", "ls-root-2": "negative feedback (0)", "ls-root-3": "no retrieved documents"}
	if got := flags(ps); len(ps) != 6 || !equal(got, want) {
		t.Errorf("feedback policy: %v\nwant %v", got, want)
	}
	if ps[2].Positive != "Die Dividende betrug 0,92 US-Dollar je Aktie." || ps[2].PositiveScore != 0.91 {
		t.Errorf("lf-c positive %q (%v)", ps[2].Positive, ps[2].PositiveScore)
	}
	if ps[0].Positive == "" {
		t.Errorf("a flagged row keeps its candidate positive for the reviewer")
	}

	top1 := def
	top1.Positive = PositiveTop1
	ps, _ = Pairs(tr, top1)
	want = map[string]string{"lf-a": "", "lf-b": "no retrieved documents", "lf-c": "", "ls-root-1": "", "ls-root-2": "", "ls-root-3": "no retrieved documents"}
	if got := flags(ps); !equal(got, want) {
		t.Errorf("top1 policy: %v\nwant %v", got, want)
	}

	none := def
	none.Positive, none.DropFlagged = PositiveNone, true
	if ps, _ = Pairs(tr, none); len(ps) != 0 {
		t.Errorf("none with DropFlagged kept %d rows", len(ps))
	}

	neg := def
	neg.Negatives, neg.DropFlagged = true, true
	ps, _ = Pairs(tr, neg)
	var got []string
	for _, p := range ps {
		got = append(got, p.TraceID+": "+p.Negative)
	}
	wantNeg := []string{"lf-c: Der Aktienrückkauf umfasste 2 Milliarden US-Dollar.",
		"ls-root-1: Currency fluctuations may affect results.", "ls-root-1: We may face litigation."}
	if strings.Join(got, "\n") != strings.Join(wantNeg, "\n") {
		t.Errorf("negatives:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantNeg, "\n"))
	}

	// Only the named feedback counts: lf-x's judge gave 0.4, its user 1.
	x := read(t, "langfuse-observations.json", Auto)
	judged := def
	judged.FeedbackNames = []string{"faithfulness"}
	if ps, _ = Pairs(x, judged); ps[0].Reason != "negative feedback (0.4)" {
		t.Errorf("faithfulness only: %q", ps[0].Reason)
	}
	if _, err := Pairs(x, Options{Positive: "best"}); err == nil {
		t.Error("an unknown positive policy was accepted")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTraceFrameHasTheReviewColumns: the table has the pairs' columns and flagged / reason last.
func TestTraceFrameHasTheReviewColumns(t *testing.T) {
	ps, err := Pairs(read(t, "langfuse-trace.json", Auto), Options{Positive: PositiveFeedback, MinFeedback: 0.5, Negatives: true})
	if err != nil {
		t.Fatal(err)
	}
	df := Frame(ps, true)
	if got := strings.Join(df.Names(), ","); got != "anchor,positive,negative,answer,positive_score,negative_score,feedback,tool,trace_id,source,flagged,reason" {
		t.Errorf("columns %s", got)
	}
	if df.Nrow() != 2 || df.Col("negative_score").Float()[1] != 0.52 || df.Col("flagged").Records()[0] != "false" {
		t.Errorf("table:\n%v", df)
	}
}
