package repl

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// extractedPackages reads the package list from the go:generate line of generate.go, the one source of truth.
func extractedPackages(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract -name repl "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("no yaegi extract line in generate.go")
	return nil
}

// exportedNames lists the exported, non-generic top-level names of the package in dir (files as go list
// selects them for this platform), which is what yaegi extract records.
func exportedNames(t *testing.T, dir string, files []string) []string {
	t.Helper()
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && d.Type.TypeParams == nil {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && s.TypeParams == nil {
							names = append(names, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names = append(names, n.Name)
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(names)
	return names
}

// TestSymbolsUpToDate fails when an extracted package's exported API no longer matches the generated symbols:
// run `go generate ./repl`.
func TestSymbolsUpToDate(t *testing.T) {
	pkgs := extractedPackages(t)
	out, err := exec.Command("go", append([]string{"list", "-f", `{{.ImportPath}}|{{.Name}}|{{.Dir}}|{{join .GoFiles ","}}`}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		path, name, dir, files := parts[0], parts[1], parts[2], strings.Split(parts[3], ",")
		want := exportedNames(t, dir, files)
		syms, ok := Symbols[path+"/"+name]
		if !ok {
			t.Errorf("%s was never extracted: run go generate ./repl", path)
			continue
		}
		var got []string
		for k := range syms {
			if !strings.HasPrefix(k, "_") { // interface wrappers
				got = append(got, k)
			}
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: extracted symbols are stale, run go generate ./repl\nextracted: %v\nexported:  %v", path, got, want)
		}
	}
	if len(Symbols) != len(pkgs) {
		t.Errorf("%d packages extracted, %d listed in generate.go: run go generate ./repl", len(Symbols), len(pkgs))
	}
}
