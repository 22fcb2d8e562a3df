package review

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
)

func opts() Options {
	return Options{Question: "anchor", Passage: "positive", Answer: "answer", Score: "score", NearDuplicate: 0.8,
		MinQuestionOverlap: 0.25, MinAnswerOverlap: 0.5, MinScore: 0.5}
}

func load(t *testing.T, name string) dataframe.DataFrame {
	t.Helper()
	df, err := datasets.Load(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// TestReviewFlagsDuplicatesUnanswerableAndLowScores on a generated table (data/synth's columns plus a teacher's
// score): each row's reasons, the duplicate's pointer to its first copy, and stable ids.
func TestReviewFlagsDuplicatesUnanswerableAndLowScores(t *testing.T) {
	df := load(t, "review/synthetic-pairs.jsonl")
	out, st, err := Flag(df, opts())
	if err != nil {
		t.Fatal(err)
	}
	ids := out.Col(ColID).Records()
	want := []string{
		"",
		"duplicate of " + ids[0] + " (same passage)",
		"near-duplicate of " + ids[0] + " (jaccard 0.80, same passage)",
		"question terms not in passage (overlap 0.00); answer terms not in passage (overlap 0.00); low judge score (0.12 < 0.5)",
		"answer terms not in passage (overlap 0.00)",
		"not scored",
		"",
		"low judge score (0.35 < 0.5)",
		"", // German: its words are in its passage
	}
	reasons := out.Col(ColReason).Records()
	keep := out.Col(ColKeep).Records()
	for i, w := range want {
		if reasons[i] != w {
			t.Errorf("row %d: reason %q, want %q", i+1, reasons[i], w)
		}
		if keep[i] != map[bool]string{true: "true", false: "false"}[w == ""] {
			t.Errorf("row %d: keep %s with reason %q", i+1, keep[i], w)
		}
	}
	if d := out.Col(ColDuplicateOf).Records(); d[1] != ids[0] || d[2] != ids[0] || d[3] != "" {
		t.Errorf("duplicate_of %q", d[:4])
	}
	if st != (Stats{Rows: 9, Flagged: 6, Duplicates: 1, NearDuplicates: 1, NotAnswerable: 2, LowScore: 3}) {
		t.Errorf("stats %+v", st)
	}
	if got := strings.Join(out.Names()[:9], ","); got != strings.Join(Columns(), ",") {
		t.Errorf("leading columns %s", got)
	}
	if out.Ncol() != 9+df.Ncol() {
		t.Errorf("%d columns, want the %d review columns and the %d of the table", out.Ncol(), 9, df.Ncol())
	}
	again, _, _ := Flag(df, opts())
	if strings.Join(again.Col(ColID).Records(), ",") != strings.Join(ids, ",") {
		t.Error("ids differ between two exports of the same table")
	}
	// Re-flagging the review table keeps its ids; a threshold of 0 turns its check off.
	o := opts()
	o.NearDuplicate, o.MinScore, o.MinAnswerOverlap, o.MinQuestionOverlap = 0, 0, 0, 0
	re, st, err := Flag(out, o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(re.Col(ColID).Records(), ",") != strings.Join(ids, ",") || st.Flagged != 6 || st.Duplicates != 1 || st.NearDuplicates+st.LowScore+st.NotAnswerable != 0 {
		t.Errorf("re-flagged: %+v", st)
	}
}

// spreadsheet is what a reviewer's spreadsheet saves: a byte-order mark, CRLF, TRUE/FALSE.
func spreadsheet(t *testing.T, table dataframe.DataFrame, edit func(header []string, rows [][]string)) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := datasets.Write(&b, table, datasets.CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		r[1] = strings.ToUpper(r[1])
	}
	edit(recs[0], recs[1:])
	var out bytes.Buffer
	out.WriteString("\xef\xbb\xbf")
	w := csv.NewWriter(&out)
	w.UseCRLF = true
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestReviewCSVRoundTripDropsKeepsAndEdits: flagged rows are dropped unless the reviewer keeps them, edits replace
// the question and the passage, rows left out of the CSV stay, and the review columns are gone.
func TestReviewCSVRoundTripDropsKeepsAndEdits(t *testing.T) {
	df := load(t, "review/synthetic-pairs.jsonl")
	table, _, err := Flag(df, opts())
	if err != nil {
		t.Fatal(err)
	}
	col := func(header []string, name string) int {
		for j, h := range header {
			if h == name {
				return j
			}
		}
		t.Fatalf("no column %s in %v", name, header)
		return -1
	}
	csvData := spreadsheet(t, table, func(h []string, rows [][]string) {
		rows[5][col(h, ColKeep)] = "TRUE" // "not scored" is fine: keep it
		rows[4][col(h, ColKeep)] = "TRUE" // fix the answerless one by rewriting its passage
		rows[4][col(h, ColEditedPassage)] = "Operating expenses rose, driven by marketing campaigns in Europe."
		rows[6][col(h, ColKeep)] = "FALSE" // a clean row the reviewer drops
		rows[6][col(h, ColDropReason)] = "too easy"
		rows[0][col(h, ColEditedQuestion)] = "What revenue did Acme report for fiscal 2023?"
		rows[0][col(h, "positive")] = "an edit outside the review columns is ignored"
	})
	// The reviewer deleted the last row of the sheet: that row is kept as it was.
	lines := bytes.Split(bytes.TrimRight(csvData, "\r\n"), []byte("\r\n"))
	csvData = append(bytes.Join(lines[:len(lines)-1], []byte("\r\n")), '\r', '\n')

	out, st, err := Apply(df, bytes.NewReader(csvData), "review.csv", opts())
	if err != nil {
		t.Fatal(err)
	}
	wantQ := []string{"What revenue did Acme report for fiscal 2023?", "What drove the rise in operating expenses?",
		"How much did operating expenses rise to?", "Wo befindet sich der Hauptsitz von Acme?"}
	if got := out.Col("anchor").Records(); strings.Join(got, "|") != strings.Join(wantQ, "|") {
		t.Errorf("kept questions %q\nwant %q", got, wantQ)
	}
	if p := out.Col("positive").Records()[0]; p != df.Col("positive").Records()[0] {
		t.Errorf("an edit outside the review columns was applied: %q", p)
	}
	if p := out.Col("positive").Records()[1]; p != "Operating expenses rose, driven by marketing campaigns in Europe." {
		t.Errorf("edited passage %q", p)
	}
	if st != (Applied{Rows: 9, Kept: 4, Dropped: 5, Reviewed: 8, Unreviewed: 1, EditedQuestions: 1, EditedPassages: 1}) {
		t.Errorf("applied %+v", st)
	}
	if strings.Join(out.Names(), ",") != strings.Join(df.Names(), ",") {
		t.Errorf("columns %v, want the table's %v", out.Names(), df.Names())
	}

	// Applying to the review table itself works the same (its review_id column is the identity).
	if out2, _, err := Apply(table, bytes.NewReader(csvData), "review.csv", opts()); err != nil || out2.Nrow() != 4 || out2.Ncol() != df.Ncol() {
		t.Errorf("apply to the review table: %v rows %d cols %d", err, out2.Nrow(), out2.Ncol())
	}

	// Semicolon-separated (a European spreadsheet) reads the same.
	semi := []byte(strings.NewReplacer(",", ";").Replace("review_id,keep\r\n" + table.Col(ColID).Records()[0] + ",no\r\n"))
	if out3, _, err := Apply(df, bytes.NewReader(semi), "semi.csv", opts()); err != nil || out3.Nrow() != 8 {
		t.Errorf("semicolon CSV: %v, %d rows", err, out3.Nrow())
	}
}

// TestReviewApplyErrorsNameTheRowAndColumn: unknown ids are refused, and every bad cell is named.
func TestReviewApplyErrorsNameTheRowAndColumn(t *testing.T) {
	df := load(t, "review/synthetic-pairs.jsonl")
	table, _, _ := Flag(df, opts())
	id := table.Col(ColID).Records()
	for _, tc := range []struct{ csv, want string }{
		{"review_id,keep\n" + id[0] + ",true\nnot-an-id,false\n", "r.csv row 3, column review_id: unknown id \"not-an-id\""},
		{"review_id,keep\n" + id[0] + ",true\n" + id[1] + ",maybe\n", "r.csv row 3, column keep: \"maybe\" is neither true nor false"},
		{"review_id,keep\n" + id[0] + ",\n", "r.csv row 2, column keep: empty"},
		{"review_id,keep\n" + id[0] + ",true\n" + id[0] + ",false\n", "r.csv row 3, column review_id: \"" + id[0] + "\" again (first at row 2)"},
		{"id,keep\nx,true\n", "r.csv row 1: no column review_id"},
		{"review_id,keep\n,true\n", "r.csv row 2, column review_id: empty"},
		{"review_id,keep\n\"" + id[0] + ",true\n", "r.csv row 2"},
		{"", "r.csv: empty file"},
	} {
		_, _, err := Apply(df, strings.NewReader(tc.csv), "r.csv", opts())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.csv, err, tc.want)
		}
	}
	if _, _, err := Flag(df, Options{Question: "question", Passage: "positive"}); err == nil || !strings.Contains(err.Error(), `no column "question"`) {
		t.Errorf("missing question column: %v", err)
	}
}

// TestReviewComparesUnspacedScriptsByBigrams: a Japanese question is answerable from its passage and not from
// an unrelated one, though neither has spaces between words.
func TestReviewComparesUnspacedScriptsByBigrams(t *testing.T) {
	df := dataframe.LoadRecords([][]string{{"anchor", "positive"},
		{"アクメの本社はどこにありますか？", "当社の本社はテキサス州オースティンにあります。"},
		{"アクメの本社はどこにありますか", "営業費用は31億ドルに増加しました。"}})
	out, _, err := Flag(df, opts())
	if err != nil {
		t.Fatal(err)
	}
	r := out.Col(ColReason).Records()
	if r[0] != "" || !strings.HasPrefix(r[1], "duplicate of "+out.Col(ColID).Records()[0]+" (another passage: ambiguous)") || !strings.Contains(r[1], "question terms not in passage") {
		t.Errorf("reasons %q", r)
	}
}
