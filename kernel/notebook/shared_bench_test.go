package notebook_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/nbtest"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/kernel/notebook"
)

// sharedLines are the notebook's result lines the shared-set benchmark reports, in the notebook's order.
var sharedLines = []*regexp.Regexp{
	regexp.MustCompile(`\d+ training pairs, \d+ dev questions.*`),
	ndcgLine,
	hybridLine,
	regexp.MustCompile(`retention: fine-tuned at .*`),
	regexp.MustCompile(`suggested window .*`),
	regexp.MustCompile(`\d+ training questions, \d+ negatives .*`),
	regexp.MustCompile(`NDCG@10 on test at \d+ dims: in-batch negatives only .*`),
	regexp.MustCompile(`NDCG@10 on dev: retriever .*`),
	regexp.MustCompile(`NDCG@10 on test: retriever .*`),
	regexp.MustCompile(`every test question \(\d+\): .*`),
}

// BenchmarkFinancialNotebookShared runs notebooks/financial-sec.ipynb headless and cold (a fresh step cache) on
// the shared financial 10-K set (RAGNB_DATA = ../shared/data/financial-qa-10k/qa.csv, the static default model,
// no LLM) and prints its result lines — the train/dev/test sizes, NDCG@10 of BM25, base, fine-tuned and hybrid
// on test, the retrain on hard negatives, the reranker, the pipeline comparison — and the wall time. Run it
// with
//
//	go test ./kernel/notebook -run '^$' -bench FinancialNotebookShared -benchtime 1x -timeout 60m
//
// It is a benchmark, not a test: the figures go in the docs and the note; nothing here asserts a speed.
func BenchmarkFinancialNotebookShared(b *testing.B) {
	nbtest.RequireTools(b)
	data := sharedtest.FinancialQA(b)
	for _, k := range []string{"RAGNB_MODEL", "RAGNB_RERANKER", "RAGNB_LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"} {
		b.Setenv(k, "")
	}
	b.Setenv("RAGNB_DATA", data)
	b.Setenv("RAGNB_CELL_CACHE", b.TempDir())
	for range b.N {
		b.Setenv("RAGNB_CACHE", b.TempDir())
		var stdout, stderr bytes.Buffer
		start := time.Now()
		run, err := notebook.Run(context.Background(), financial, notebook.RunOptions{OutDir: b.TempDir(), Stdout: &stdout, Stderr: &stderr})
		took := time.Since(start)
		if err != nil {
			b.Fatalf("headless run on %s: %v\n%s\n%s", data, err, stdout.String(), stderr.String())
		}
		out := stdout.String()
		var report strings.Builder
		fmt.Fprintf(&report, "financial-sec.ipynb on %s, headless, cold cache: %.1f s (export %v, build %v, run %v)\n",
			data, took.Seconds(), run.Export.Round(time.Millisecond), run.Build.Round(time.Millisecond), run.Exec.Round(time.Millisecond))
		for _, re := range sharedLines {
			if m := re.FindString(out); m != "" {
				report.WriteString("  " + m + "\n")
			} else {
				fmt.Fprintf(&report, "  (no line %q)\n", re)
			}
		}
		fmt.Fprint(os.Stdout, report.String())
		b.ReportMetric(took.Seconds(), "s/run")
	}
}
