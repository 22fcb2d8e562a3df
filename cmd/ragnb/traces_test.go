package main

import (
	"encoding/csv"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/workflow"
)

// TestImportTracesFlagsDefaultToTheWorkflowDefaults: `ragnb import-traces` with only its required flags asks
// for exactly workflow.DefaultImportOptions, the defaults of the prelude's ImportTraces.
func TestImportTracesFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("import-traces", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := newImportTracesArgs(fs)
	if err := fs.Parse([]string{"--in", "t.jsonl", "--out", "p.jsonl"}); err != nil {
		t.Fatal(err)
	}
	got, err := a.options()
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultImportOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("flags give %+v\nworkflow default %+v", got, want)
	}
}

// TestReviewFlagsDefaultToTheWorkflowDefaults: the same for `ragnb review` and workflow.DefaultReviewOptions.
func TestReviewFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := newReviewArgs(fs)
	if err := fs.Parse([]string{"--in", "p.jsonl", "--out", "r.csv"}); err != nil {
		t.Fatal(err)
	}
	got, err := a.options()
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultReviewOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("flags give %+v\nworkflow default %+v", got, want)
	}
}

func fixturePath(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata"}, parts...)...)
}

// TestImportTracesWritesPairsAndNamesBadLines: LangSmith runs become pairs with the review columns; a broken
// export fails with its file and line.
func TestImportTracesWritesPairsAndNamesBadLines(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pairs.jsonl")
	code, stdout, stderr := runCLI(t, "import-traces", "--in", fixturePath("traces", "langsmith-runs.jsonl"), "--out", out, "--negatives")
	if code != 0 || !strings.Contains(stdout, "3 traces → 4 rows, 2 flagged for review") {
		t.Fatalf("code %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(strings.SplitN(string(b), "\n", 2)[0], `"flagged":false,"reason":""}`) {
		t.Errorf("first line %q (%v)", strings.SplitN(string(b), "\n", 2)[0], err)
	}
	df, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	neg, reason := df.Col("negative").Records(), df.Col("reason").Records()
	if neg[0] != "Currency fluctuations may affect results." || neg[1] != "We may face litigation." || reason[0] != "" ||
		reason[2] != "negative feedback (0); no negatives" || reason[3] != "no retrieved documents; no negatives" {
		t.Errorf("negatives %q reasons %q", neg, reason)
	}
	code, _, stderr = runCLI(t, "import-traces", "--in", fixturePath("traces", "malformed-line.jsonl"), "--out", out)
	if code != 1 || !strings.Contains(stderr, "malformed-line.jsonl line 3: not JSON") {
		t.Errorf("malformed: code %d %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "import-traces", "--in", fixturePath("traces", "langsmith-runs.jsonl"), "--out", out, "--positive", "best")
	if code != 2 || !strings.Contains(stderr, `positive "best"`) {
		t.Errorf("bad --positive: code %d %q", code, stderr)
	}
}

// TestReviewExportEditApplyRoundTrip: imported traces with no positive chosen are exported for review, the
// reviewer writes a positive and drops a row in the CSV, and apply merges it; an unknown id is refused.
func TestReviewExportEditApplyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	pairs, reviewCSV, reviewed := filepath.Join(dir, "pairs.jsonl"), filepath.Join(dir, "review.csv"), filepath.Join(dir, "reviewed.jsonl")
	if code, out, errOut := runCLI(t, "import-traces", "--in", fixturePath("traces", "langfuse-traces.jsonl"), "--out", pairs, "--positive", "none"); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "review", "export", "--in", pairs, "--out", reviewCSV)
	if code != 0 || !strings.Contains(out, "3 of 3 rows flagged") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	f, err := os.Open(reviewCSV)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]int{}
	for j, n := range recs[0] {
		h[n] = j
	}
	if recs[1][h["keep"]] != "false" || !strings.Contains(recs[1][h["drop_reason"]], "positive to choose (positive: none)") {
		t.Fatalf("exported row %q", recs[1])
	}
	// Keep the French and the German traces with a passage the reviewer chose; lf-b stays dropped.
	recs[1][h["keep"]], recs[1][h["edited_passage"]] = "TRUE", "Le chiffre d'affaires de l'exercice 2023 s'élève à 4,2 milliards de dollars."
	recs[3][h["keep"]], recs[3][h["edited_passage"]] = "TRUE", "Die Dividende betrug 0,92 US-Dollar je Aktie."
	writeCSV(t, reviewCSV, recs)
	code, out, errOut = runCLI(t, "review", "apply", "--in", pairs, "--review", reviewCSV, "--out", reviewed)
	if code != 0 || !strings.Contains(out, "2 of 3 rows kept, 1 dropped; 0 questions and 2 passages edited") {
		t.Fatalf("apply: %d %s %s", code, out, errOut)
	}
	df, err := datasets.Load(reviewed)
	if err != nil {
		t.Fatal(err)
	}
	if got := df.Col("positive").Records(); len(got) != 2 || got[1] != "Die Dividende betrug 0,92 US-Dollar je Aktie." {
		t.Errorf("reviewed positives %q", got)
	}
	if strings.Contains(strings.Join(df.Names(), ","), "review_id") {
		t.Errorf("review columns left in %v", df.Names())
	}

	recs[2][h["review_id"]] = "0000deadbeef"
	writeCSV(t, reviewCSV, recs)
	code, _, errOut = runCLI(t, "review", "apply", "--in", pairs, "--review", reviewCSV, "--out", reviewed)
	if code != 1 || !strings.Contains(errOut, "review.csv row 3, column review_id: unknown id \"0000deadbeef\"") {
		t.Errorf("unknown id: %d %q", code, errOut)
	}
	if code, _, _ = runCLI(t, "review", "export", "--in", pairs, "--review", reviewCSV, "--out", reviewed); code != 2 {
		t.Errorf("export with --review: code %d", code)
	}
}

func writeCSV(t *testing.T, path string, recs [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
