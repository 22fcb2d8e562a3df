package workflow

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
)

// TestImportTracesReadsEitherToolWithTheDefaults: the default policy keeps the top passage of positively
// rated traces and flags the rest; a bad option fails before the file is read.
func TestImportTracesReadsEitherToolWithTheDefaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		file          string
		rows, flagged int
	}{{"langfuse-trace.json", 1, 0}, {"langfuse-traces.jsonl", 3, 2}, {"langsmith-run.json", 1, 0}, {"langsmith-runs.jsonl", 3, 2}} {
		r, err := ImportTraces(ctx, Env{}, ImportTracesInput{Path: filepath.Join("..", "testdata", "traces", tc.file)}, DefaultImportOptions())
		if err != nil {
			t.Fatal(err)
		}
		if r.Table.Nrow() != tc.rows || r.Flagged != tc.flagged {
			t.Errorf("%s: %s", tc.file, r.Summary())
		}
	}
	o := DefaultImportOptions()
	o.Format = "phoenix"
	if _, err := ImportTraces(ctx, Env{}, ImportTracesInput{Path: "does-not-exist.json"}, o); err == nil || !strings.Contains(err.Error(), "phoenix") {
		t.Errorf("unknown format: %v", err)
	}
}

// TestReviewAndApplyReviewWithTheDefaults: the default checks flag the synthetic fixture's six suspect rows,
// and an unedited export applied back drops exactly those.
func TestReviewAndApplyReviewWithTheDefaults(t *testing.T) {
	ctx := context.Background()
	df, err := datasets.Load(filepath.Join("..", "testdata", "review", "synthetic-pairs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Review(ctx, Env{}, ReviewInput{Table: df}, DefaultReviewOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Stats.Flagged != 6 {
		t.Errorf("review: %s", r.Stats)
	}
	var csv strings.Builder
	if err := datasets.Write(&csv, r.Table, datasets.CSV); err != nil {
		t.Fatal(err)
	}
	a, err := ApplyReview(ctx, Env{}, ApplyReviewInput{Table: df, CSV: strings.NewReader(csv.String()), CSVName: "review.csv"}, DefaultReviewOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Table.Nrow() != 3 || a.Applied.Dropped != 6 || a.Table.Ncol() != df.Ncol() {
		t.Errorf("apply: %s, %d columns", a.Applied, a.Table.Ncol())
	}
}
