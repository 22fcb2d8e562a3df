package notebook_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/nbtest"
	"github.com/ragnb/ragnb/kernel/notebook"
)

// TestExportBuildsOfflineAndRuns exports testdata/export.ipynb (every cell form), checks the merged source,
// builds it with the module proxy off and go.mod read-only, and runs it. The expected output follows GoNB's
// merge rule: the later shout and counter win everywhere, also in cell 3, which ran before them in the notebook.
func TestExportBuildsOfflineAndRuns(t *testing.T) {
	nbtest.RequireGoTool(t, "goimports")
	nb, err := notebook.Read("testdata/export.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := notebook.Export(context.Background(), nb, dir, notebook.ExportOptions{Source: "testdata/export.ipynb"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Cells); got != "[3 6 8 9]" {
		t.Errorf("cells run: %v", p.Cells)
	}
	if len(p.Dropped) != 3 || len(p.Redefined) != 2 {
		t.Errorf("dropped %+v\nredefined %v", p.Dropped, p.Redefined)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	for _, want := range []string{
		"//\tcell 2, shell command: !echo hello    world",
		"//\tcell 2, kernel command: %env FOO=bar",
		"//\tcell 7, the whole cell: not part of a program: %test cell",
		"//\tfunc shout (cells 2 and 5)",
		"//\tvar counter (cells 4 and 5)",
		"// shout asks instead.\nfunc shout(s string) string { return s + \"?\" }",
		"func (p point) sum() int",
		"const (\n\ta = iota\n\tb\n)",
		"func init() { fmt.Println(\"init runs first\") }",
		"\"github.com/ragnb/ragnb/prelude\"",
		"func main() {\n\tflag.Parse()\n\tcell3()\n\tcell6()\n\tcell8()\n\tcell9()\n}",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("main.go lacks %q", want)
		}
	}
	if strings.Contains(string(src), "ToUpper") || strings.Count(string(src), "counter =") != 1 {
		t.Errorf("the earlier shout and counter must be gone:\n%s", src)
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !strings.Contains(string(gomod), "module export\n") || !strings.Contains(string(gomod), "replace github.com/ragnb/ragnb => /") {
		t.Errorf("go.mod:\n%s", gomod)
	}

	build := exec.Command("go", "build", "-o", "prog", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off", "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s\n%s", err, out, src)
	}
	out, err := exec.Command(filepath.Join(dir, "prog")).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	want := "init runs first\nhi?\nx? 3 1 n 20\ntrue\nhello from exec\n"
	if string(out) != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}
