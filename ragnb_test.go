package ragnb

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFinancialSampleIsTheCommittedCopy(t *testing.T) {
	for _, name := range []string{"pairs.csv", "companies.csv", "filings/HVMS_2023_10K.md"} {
		got, err := fs.ReadFile(FinancialSample(), name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile("testdata/financial-sample/" + name)
		if string(got) != string(want) || len(got) == 0 {
			t.Errorf("%s: embedded copy differs from the file", name)
		}
	}
	filings, _ := fs.Glob(FinancialSample(), "filings/*.md")
	if len(filings) != 14 {
		t.Errorf("%d filings embedded", len(filings))
	}
}

const module = "github.com/ragnb/ragnb/"

// imports maps each package directory of the module (relative, "/"-separated) to the module packages its
// non-test files import, read from the sources themselves.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if rel, ok := strings.CutPrefix(p, module); ok && !slices.Contains(out[dir], rel) {
				out[dir] = append(out[dir], rel)
			}
		}
		if _, ok := out[dir]; !ok {
			out[dir] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wing is the group a package belongs to for the layering rules: its first path element, except that the test
// helpers (internal/testkit, which import high floors) are apart from the runtime utilities (internal/*).
func wing(pkg string) string {
	if strings.HasPrefix(pkg, "internal/testkit/") {
		return "internal/testkit"
	}
	w, _, _ := strings.Cut(pkg, "/")
	return w
}

// TestLayoutKeepsItsLayers checks the rules docs/architecture.md states: nothing below the workflow layer
// imports it; no two wings import each other both ways; test helpers are imported by tests and tools only.
func TestLayoutKeepsItsLayers(t *testing.T) {
	im := imports(t)
	faces := []string{"cmd", "prelude", "kernel", "tools"} // the faces, and what runs them
	edges := map[[2]string]string{}
	for pkg, deps := range im {
		for _, dep := range deps {
			if dep == "workflow" && !slices.Contains(faces, wing(pkg)) {
				t.Errorf("%s imports workflow: only the faces stand on it", pkg)
			}
			if strings.HasPrefix(dep, "internal/testkit/") && wing(pkg) != "tools" && !strings.HasPrefix(pkg, "internal/testkit/") {
				t.Errorf("%s imports the test helper %s outside a test", pkg, dep)
			}
			if a, b := wing(pkg), wing(dep); a != b {
				edges[[2]string{a, b}] = pkg + " → " + dep
			}
		}
	}
	for e, why := range edges {
		if back, ok := edges[[2]string{e[1], e[0]}]; ok && e[0] < e[1] {
			t.Errorf("wings %s and %s import each other: %s, and %s", e[0], e[1], why, back)
		}
	}
}

// TestTopLevelStaysSmall: the top level shows the design's folders, not every package (at most 30 entries,
// hidden ones included).
func TestTopLevelStaysSmall(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	// Build outputs the top-level .gitignore names (/bin/, /ragnb: `make build`, `go build ./cmd/ragnb`) are not
	// part of the layout.
	ignored := map[string]bool{}
	if b, err := os.ReadFile(".gitignore"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(strings.TrimSpace(l), "/"); ok {
				ignored[strings.TrimSuffix(name, "/")] = true
			}
		}
	}
	var names []string
	for _, e := range entries {
		if e.Name() != ".git" && !ignored[e.Name()] { // .ci and .gitignore count: they are in every checkout
			names = append(names, e.Name())
		}
	}
	if len(names) > 30 {
		t.Errorf("%d top-level entries (at most 30): %v", len(names), names)
	}
	for _, want := range []string{"cmd", "kernel", "notebooks", "prelude", "plots", "gpu", "testdata", "workflow", "docs"} {
		if !slices.Contains(names, want) {
			t.Errorf("no top-level %s/", want)
		}
	}
}
