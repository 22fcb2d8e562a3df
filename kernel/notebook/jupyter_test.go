package notebook_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/nbtest"
	"github.com/ragnb/ragnb/kernel/notebook"
)

const smoke = "../../notebooks/smoke.ipynb"

// TestSmokeNotebookInJupyterAndHeadless executes notebooks/smoke.ipynb in real Jupyter with the kernel (no error
// outputs, HTML tables from package display and from the prelude, an image, the printed results), then runs the same notebook headless as an exported
// program and checks it printed every line the notebook printed, in order, and saved the table and the chart.
func TestSmokeNotebookInJupyterAndHeadless(t *testing.T) {
	res := nbtest.RunJupyter(t, smoke,
		nbtest.AtLeast("text/html", 3), // the two tables and the progress bar
		nbtest.AnyOf(nbtest.AtLeast("image/svg+xml", 1), nbtest.AtLeast("image/png", 1)),
		nbtest.Stdout(2, "backend: "),
		nbtest.Stdout(4, "sum of the first 10 squares: 385"),
		nbtest.Stdout(5, "counted to 20"),
		nbtest.Stdout(6, "plotted 10 points"),
	)
	// The executed notebook is signed, as an interactive run leaves it: it opens trusted; an edited copy does not.
	if ok, err := notebook.Trusted(context.Background(), res.Path, res.DataDir); err != nil || !ok {
		t.Errorf("the executed notebook is not trusted (%v)", err)
	}
	edited := filepath.Join(t.TempDir(), "edited.ipynb")
	if b, err := os.ReadFile(res.Path); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(edited, bytes.Replace(b, []byte("385"), []byte("386"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := notebook.Trusted(context.Background(), edited, res.DataDir); err != nil || ok {
		t.Errorf("an edited copy of the signed notebook is trusted (%v)", err)
	}
	html := ""
	for _, o := range res.Cells[3].Outputs {
		html += o.DataText("text/html")
	}
	if !strings.Contains(html, "<tr><td>5</td><td>25</td></tr>") {
		t.Errorf("cell 4 HTML table: %q", html)
	}
	var dataset string
	for _, o := range res.Cells[6].Outputs {
		dataset += o.DataText("text/html")
	}
	if !strings.Contains(dataset, "HVMS") || !strings.Contains(dataset, "<table") {
		t.Errorf("cell 7 (prelude Dataset.Display) HTML: %q", dataset)
	}
	var bar string
	for _, o := range res.Cells[4].Outputs {
		bar += o.DataText("text/html")
	}
	if !strings.Contains(bar, `<progress value="20" max="20"`) || !strings.Contains(bar, "20/20 items") {
		t.Errorf("cell 5 progress bar did not reach 20/20: %q", bar)
	}

	var stdout, stderr bytes.Buffer
	outDir := t.TempDir()
	programs := t.TempDir()
	t.Setenv("RAGNB_CELL_CACHE", programs)
	run, err := notebook.Run(context.Background(), smoke, notebook.RunOptions{OutDir: outDir, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("headless run: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("headless: export %v, build %v, run %v", run.Export, run.Build, run.Exec)
	if !strings.HasPrefix(run.Binary, programs+string(filepath.Separator)) {
		t.Errorf("the program was built in %s, not in the programs cache %s", run.Binary, programs)
	}
	first, err := os.Stat(run.Binary)
	if err != nil {
		t.Fatal(err)
	}
	// Run again, unchanged: Go finds the cached program up to date and does not link a new file.
	var again bytes.Buffer
	outDir2 := t.TempDir()
	rerun, err := notebook.Run(context.Background(), smoke, notebook.RunOptions{OutDir: outDir2, Stdout: &again, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatalf("second headless run: %v\n%s", err, again.String())
	}
	t.Logf("headless again: export %v, build %v, run %v", rerun.Export, rerun.Build, rerun.Exec)
	if second, err := os.Stat(rerun.Binary); err != nil || !os.SameFile(first, second) {
		t.Errorf("the unchanged notebook's program was linked again (%s, then %s: %v)", run.Binary, rerun.Binary, err)
	}
	if missing := notSubsequence(stdout.String(), strings.ReplaceAll(again.String(), outDir2, outDir)); missing != "" {
		t.Errorf("the second headless run did not print %q", missing)
	}
	if missing := notSubsequence(nbtest.AllStdout(res.Notebook), stdout.String()); missing != "" {
		t.Errorf("the headless run did not print %q\nJupyter printed:\n%s\nheadless printed:\n%s", missing, nbtest.AllStdout(res.Notebook), stdout.String())
	}
	var names []string
	for _, f := range run.Files {
		names = append(names, filepath.Base(f))
	}
	if strings.Join(names, " ") != "0001.html 0002.svg 0003.html" {
		t.Errorf("saved displays %v", names)
	}
	table, _ := os.ReadFile(filepath.Join(outDir, "0001.html"))
	if !strings.Contains(string(table), "<tr><td>5</td><td>25</td></tr>") {
		t.Errorf("saved table %q", table)
	}
	if !strings.Contains(stderr.String(), "count 100% · 20/20 items") {
		t.Errorf("headless progress final line missing from stderr: %q", stderr.String())
	}
}

// notSubsequence returns the first line of want that does not appear in got after the previous one ("" if all do).
func notSubsequence(want, got string) string {
	lines := strings.Split(got, "\n")
	i := 0
	for _, w := range strings.Split(strings.TrimSpace(want), "\n") {
		for i < len(lines) && lines[i] != w {
			i++
		}
		if i == len(lines) {
			return w
		}
		i++
	}
	return ""
}

// TestKernelCompletesPrelude: the kernel completes prelude.X in a cell with no import line (gopls finds the
// preloaded module through the cell module's replace directive).
func TestKernelCompletesPrelude(t *testing.T) {
	matches := nbtest.Complete(t, "%%\nfmt.Println(prelude.Backend")
	// gopls sometimes lists the same candidate twice (seen in about half of loaded runs); what matters is
	// the set of names offered.
	slices.Sort(matches)
	matches = slices.Compact(matches)
	if strings.Join(matches, " ") != "BackendInfo" {
		t.Errorf("completions %q, want [BackendInfo]", matches)
	}
}

// TestKernelMapsErrorsToCells: through the kernel's go wrapper (which builds cells in the programs cache), GoNB
// still maps a compile error and a runtime panic to the cell and line in the HTML error report users see.
func TestKernelMapsErrorsToCells(t *testing.T) {
	tags := regexp.MustCompile(`<[^>]*>`)
	report := func(msgs []nbtest.Message) string {
		var b strings.Builder
		for _, m := range msgs {
			if m.Type == "display_data" {
				b.WriteString(tags.ReplaceAllString(m.HTML, " "))
			}
		}
		return b.String()
	}
	cells := nbtest.Execute(t,
		"%%\nx := 1\nundefinedThing(x)",
		"func boom() { var m map[string]int; m[\"a\"] = 1 }\n\n%%\nboom()",
	)
	compile := report(cells[0])
	if !strings.Contains(compile, "Cell[1]: Line 3") || !strings.Contains(compile, "undefined: undefinedThing") {
		t.Errorf("compile error report lacks the cell line:\n%s", compile)
	}
	panicked := report(cells[1])
	if !strings.Contains(panicked, "Cell[2]: Line 1") || !strings.Contains(panicked, "Cell[2]: Line 4") {
		t.Errorf("panic report lacks the cell lines:\n%s", panicked)
	}
}
