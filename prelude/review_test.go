package prelude

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/workflow"
)

// TestTraceAndReviewOptionsDefaultToTheWorkflowDefaults: zero options are the workflow's defaults, the ones
// `ragnb import-traces` and `ragnb review` have; a negative threshold turns its check off.
func TestTraceAndReviewOptionsDefaultToTheWorkflowDefaults(t *testing.T) {
	if got, want := (TraceOptions{}).workflow(), workflow.DefaultImportOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero trace options give %+v\nworkflow default %+v", got, want)
	}
	want := workflow.DefaultImportOptions()
	want.Pairs.MinFeedback = 0
	if got := (TraceOptions{MinFeedback: Float(0)}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("MinFeedback 0 gives %+v", got)
	}
	if got, want := (ReviewOptions{}).workflow(), workflow.DefaultReviewOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero review options give %+v\nworkflow default %+v", got, want)
	}
	rw := workflow.DefaultReviewOptions()
	rw.MinScore, rw.NearDuplicate = 0, 0.9
	if got := (ReviewOptions{MinScore: -1, NearDuplicate: 0.9}).workflow(); !reflect.DeepEqual(got, rw) {
		t.Errorf("MinScore -1, NearDuplicate 0.9 give %+v", got)
	}
}

// TestImportTracesReviewAndApplyReviewInAChain: a LangSmith export becomes pairs, Review flags them, the
// saved CSV edited like a spreadsheet merges back.
func TestImportTracesReviewAndApplyReviewInAChain(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs := ImportTraces(filepath.Join("..", "testdata", "traces", "langsmith-runs.jsonl"), TraceOptions{Positive: "top1"})
	if pairs.Err() != nil || pairs.Len() != 3 || pairs.Column("flagged")[2] != "true" {
		t.Fatalf("import: %v\n%s", pairs.Err(), pairs)
	}
	rv := pairs.Review(ReviewOptions{})
	if rv.Err() != nil || rv.Columns()[0] != "review_id" || !strings.Contains(strings.Join(rv.Notes(), "\n"), "2 of 3 rows flagged: 0 duplicates, 0 near-duplicates, 1 with terms not in the passage") {
		t.Fatalf("review: %v %v %v", rv.Err(), rv.Columns(), rv.Notes())
	}
	csvPath := filepath.Join(t.TempDir(), "review.csv")
	if err := rv.Save(csvPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines[1] = strings.Replace(lines[1], ",false,", ",true,", 1) // the answer paraphrases its passage: keep it
	lines[2] = strings.Replace(lines[2], ",true,", ",false,", 1) // the reviewer drops the Japanese row
	if err := os.WriteFile(csvPath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := pairs.ApplyReview(csvPath)
	if out.Err() != nil || out.Len() != 1 || out.Column("trace_id")[0] != "ls-root-1" {
		t.Errorf("apply: %v\n%s", out.Err(), out)
	}
	if bad := pairs.ApplyReview(filepath.Join(t.TempDir(), "none.csv")); bad.Err() == nil {
		t.Error("a missing CSV was accepted")
	}
}
