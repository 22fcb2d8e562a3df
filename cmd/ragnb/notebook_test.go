package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/nbtest"
)

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	o := fs.String("o", "", "")
	b := fs.Bool("build", false, "")
	pos, err := parseInterspersed(fs, []string{"nb.ipynb", "-o", "dir", "second", "--build", "--", "-not-a-flag"})
	if err != nil || *o != "dir" || !*b || strings.Join(pos, " ") != "nb.ipynb second -not-a-flag" {
		t.Errorf("pos %q o %q build %v err %v", pos, *o, *b, err)
	}
}

func TestKernelInstallUninstallCLI(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI(t, "kernel", "install", "--data-dir", data, "--no-jupyter", "--no-go-tools", "--dry-run")
	if code != 0 || !strings.Contains(out, "kernelspec would write") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "kernel", "install", "--data-dir", data, "--no-jupyter", "--no-go-tools")
	if code != 0 || !strings.Contains(out, "kernelspec written: "+filepath.Join(data, "kernels", "ragnb", "kernel.json")) {
		t.Fatalf("install: %d\n%s%s", code, out, errOut)
	}
	if code, out, _ = runCLI(t, "kernel", "uninstall", "--data-dir", data); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("uninstall: %d %s", code, out)
	}
	if code, _, errOut = runCLI(t, "kernel", "reinstall"); code != 2 || !strings.Contains(errOut, `unknown action "reinstall"`) {
		t.Errorf("bad action: %d %s", code, errOut)
	}
}

func TestExportAndRunCLI(t *testing.T) {
	nbtest.RequireGoTool(t, "goimports")
	nb := "../../kernel/notebook/testdata/export.ipynb"
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "export", nb); code != 2 || !strings.Contains(errOut, "-o DIR") {
		t.Errorf("export without -o: %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "export", nb, "-o", dir)
	if code != 0 || !strings.Contains(out, "4 cells run from main, 3 lines dropped, 2 redefinitions") {
		t.Fatalf("export: %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		t.Error(err)
	}
	outDir := t.TempDir()
	t.Setenv("RAGNB_CELL_CACHE", t.TempDir()) // the built program stays with the test
	code, out, errOut = runCLI(t, "run", "--out-dir", outDir, nb)
	if code != 0 || out != "init runs first\nhi?\nx? 3 1 n 20\ntrue\nhello from exec\n" || !strings.Contains(errOut, "ran 4 cells") {
		t.Errorf("run: %d\n%s%s", code, out, errOut)
	}
}

func TestReplScriptCLI(t *testing.T) {
	code, out, errOut := runCLI(t, "repl", "../../kernel/repl/testdata/script.repl")
	if code != 0 || out != "sum 1..10 = 55\nbackend known: true\n" {
		t.Errorf("script: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "repl", "../../kernel/repl/testdata/failing.repl")
	if code != 1 || out != "before\n" || !strings.Contains(errOut, "failing.repl:2") {
		t.Errorf("failing script: %d %q %q", code, out, errOut)
	}
}
