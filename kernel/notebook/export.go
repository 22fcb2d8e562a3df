package notebook

import (
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/ragnb/ragnb/kernel"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// ModuleDir is the ragnb checkout the program builds against ("" finds it: kernel.FindModuleDir).
	ModuleDir string
	// ModuleName is the program's module path (default: the notebook's file name, sanitised).
	ModuleName string
	// Goimports is the goimports binary ("" uses the pinned one found by kernel.Check, else goimports on PATH).
	Goimports string
	// Source names the notebook in the generated header comment.
	Source string
}

// Dropped is a notebook line (or cell) that is not Go code and is left out of the program.
type Dropped struct {
	Cell int // 1-based index among all cells
	Line string
	Why  string
}

// Program is an exported notebook: a main package whose main calls one function per executed cell, in order.
type Program struct {
	Dir string
	// Cells are the 1-based indices of the cells that run code, in the order main calls them.
	Cells   []int
	Dropped []Dropped
	// Redefined names the declarations defined by more than one cell; the program keeps the last one.
	Redefined []string
}

// unit is one top-level declaration of the merged program.
type unit struct {
	keys []string // names it defines ("func f", "method T.m", "var x", "type T", "const c")
	src  string   // Go source, doc comment included
	cell int
}

// cellCode is what one code cell contributes.
type cellCode struct {
	index   int // 1-based among all cells
	imports []string
	units   []unit
	body    string // the block of the cell's main ("" when the cell only declares)
}

var specialCell = regexp.MustCompile(`^%(%|main)(\s|$)`)

// splitCell separates GoNB's special lines from Go code, like GoNB does: "%%" and "%main" start the body of
// main, "%exec f" makes main call f, other "%" and "!" lines (with "\" continuations) are kernel or shell
// commands, and "//gonb:" prefixes are removed. It returns the Go source of the cell as a file.
func splitCell(index int, src string) (code string, dropped []Dropped, skipCell string) {
	lines := strings.Split(src, "\n")
	var out []string
	open := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimPrefix(lines[i], "//gonb:")
		switch {
		case specialCell.MatchString(line):
			out = append(out, "func main() {")
			open = true
			if args := strings.Fields(line)[1:]; len(args) > 0 {
				dropped = append(dropped, Dropped{Cell: index, Line: line, Why: "program arguments (pass them to the exported program)"})
			}
			continue
		case strings.HasPrefix(line, "%exec "):
			f := strings.TrimSpace(strings.TrimPrefix(line, "%exec"))
			f, _, _ = strings.Cut(f, " ")
			out = append(out, "func main() { "+f+"() }")
			continue
		case strings.HasPrefix(line, "%test") || strings.HasPrefix(line, "%wasm"):
			return "", nil, strings.Fields(line)[0]
		case len(line) > 1 && (line[0] == '%' || line[0] == '!'):
			cmd := line
			out = append(out, "") // keep line numbers for error messages
			for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
				i++
				cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimPrefix(lines[i], "//gonb:")
				out = append(out, "")
			}
			why := "kernel command"
			if line[0] == '!' {
				why = "shell command"
			}
			dropped = append(dropped, Dropped{Cell: index, Line: cmd, Why: why})
			continue
		case strings.HasPrefix(strings.TrimSpace(line), "package "):
			out = append(out, "")
			continue
		}
		out = append(out, lines[i])
	}
	if open {
		out = append(out, "}")
	}
	return "package main\n" + strings.Join(out, "\n") + "\n", dropped, ""
}

// parseCell splits a cell's Go source into imports, declarations and the body of its main.
func parseCell(index int, code string) (cellCode, error) {
	cc := cellCode{index: index}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, fmt.Sprintf("cell%d.go", index), code, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		// Line numbers: the file starts with an added "package main" line.
		return cc, fmt.Errorf("cell %d: %w", index, shiftLines(err))
	}
	text := func(from, to token.Pos) string {
		return code[fset.Position(from).Offset:fset.Position(to).Offset]
	}
	withDoc := func(doc *ast.CommentGroup, n ast.Node) string {
		if doc != nil {
			return text(doc.Pos(), n.End())
		}
		return text(n.Pos(), n.End())
	}
	for _, imp := range f.Imports {
		cc.imports = append(cc.imports, text(imp.Pos(), imp.End()))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			switch {
			case d.Recv == nil && name == "main":
				cc.body = text(d.Body.Pos(), d.Body.End())
			case d.Recv != nil && len(d.Recv.List) > 0:
				cc.units = append(cc.units, unit{keys: []string{"method " + recvType(d.Recv.List[0].Type) + "." + name},
					src: withDoc(d.Doc, d), cell: index})
			case name == "init" || strings.HasPrefix(name, "init_"):
				// GoNB renders func init_xxx as func init (keyed by its own name, so several coexist).
				src := withDoc(d.Doc, d)
				if name != "init" {
					src = strings.Replace(src, "func "+name, "func init", 1)
				}
				cc.units = append(cc.units, unit{keys: []string{"func " + name}, src: src, cell: index})
			default:
				cc.units = append(cc.units, unit{keys: []string{"func " + name}, src: withDoc(d.Doc, d), cell: index})
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			kw := d.Tok.String()
			// A const block stays whole (iota and implicit repetition depend on its order); var and type
			// blocks split into one declaration per spec, as GoNB merges them.
			if d.Tok == token.CONST && d.Lparen.IsValid() {
				var keys []string
				for _, s := range d.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						keys = append(keys, "const "+n.Name)
					}
				}
				cc.units = append(cc.units, unit{keys: keys, src: withDoc(d.Doc, d), cell: index})
				continue
			}
			for _, s := range d.Specs {
				var keys []string
				var doc *ast.CommentGroup
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name != "_" {
							keys = append(keys, kw+" "+n.Name)
						}
					}
					doc = s.Doc
				case *ast.TypeSpec:
					keys = []string{"type " + s.Name.Name}
					doc = s.Doc
				}
				if len(d.Specs) == 1 && !d.Lparen.IsValid() {
					doc = d.Doc
				}
				src := kw + " " + text(s.Pos(), s.End())
				if doc != nil {
					src = text(doc.Pos(), doc.End()) + "\n" + src
				}
				cc.units = append(cc.units, unit{keys: keys, src: src, cell: index})
			}
		}
	}
	return cc, nil
}

var lineNumber = regexp.MustCompile(`(cell\d+\.go:)(\d+)`)

func shiftLines(err error) error {
	msg := lineNumber.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := lineNumber.FindStringSubmatch(m)
		var n int
		fmt.Sscan(sub[2], &n)
		return fmt.Sprintf("line %d", n-1)
	})
	return fmt.Errorf("%s", msg)
}

func recvType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvType(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvType(t.X)
	case *ast.IndexListExpr:
		return recvType(t.X)
	}
	return "?"
}

// Export writes nb as a standalone Go program into dir: main.go, go.mod (requiring ragnb, replaced by the
// checkout, so it builds offline) and the checkout's go.sum. Declarations of all cells are merged by name with
// later cells winning, as GoNB merges them; each cell with a body ("%%" or func main) becomes a function
// cellN called in notebook order from main; "%" and "!" lines are dropped and listed in a comment; goimports
// adds the imports cells leave out.
func Export(ctx context.Context, nb *Notebook, dir string, o ExportOptions) (*Program, error) {
	p := &Program{Dir: dir}
	var cells []cellCode
	for i, c := range nb.Cells {
		if c.CellType != "code" || strings.TrimSpace(c.Source) == "" {
			continue
		}
		code, dropped, skip := splitCell(i+1, c.Source)
		if skip != "" {
			p.Dropped = append(p.Dropped, Dropped{Cell: i + 1, Line: skip + " cell", Why: "the whole cell: not part of a program"})
			continue
		}
		p.Dropped = append(p.Dropped, dropped...)
		cc, err := parseCell(i+1, code)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", o.Source, err)
		}
		cells = append(cells, cc)
	}

	// Merge: a unit replaces every earlier unit that defines one of its names; the first definition's position
	// is kept so the program reads in notebook order.
	var units []*unit
	owner := map[string]*unit{}
	firstCell := map[string]int{}
	imports := map[string]bool{}
	var importList []string
	for _, cc := range cells {
		for _, imp := range cc.imports {
			if !imports[imp] {
				imports[imp] = true
				importList = append(importList, imp)
			}
		}
		for i := range cc.units {
			u := cc.units[i]
			// Every earlier unit defining one of u's names is replaced: the first keeps its slot for u, the others
			// are emptied (a multi-name var or const block goes whole, like GoNB's tuples).
			var replaced []*unit
			for _, k := range u.keys {
				old, ok := owner[k]
				if !ok {
					firstCell[k] = u.cell
					continue
				}
				if firstCell[k] != u.cell {
					p.Redefined = append(p.Redefined, fmt.Sprintf("%s (cells %d and %d)", k, firstCell[k], u.cell))
				}
				if !containsUnit(replaced, old) {
					replaced = append(replaced, old)
				}
			}
			for _, old := range replaced {
				for _, k := range old.keys {
					delete(owner, k)
				}
			}
			slot := &u
			if len(replaced) > 0 {
				slot = replaced[0]
				*slot = u
				for _, old := range replaced[1:] {
					*old = unit{}
				}
			} else {
				units = append(units, slot)
			}
			for _, k := range u.keys {
				owner[k] = slot
			}
		}
	}

	var src bytes.Buffer
	name := o.Source
	if name == "" {
		name = "a notebook"
	}
	fmt.Fprintf(&src, "// Command %s was exported by `ragnb export` from %s.\n//\n", programName(o), name)
	src.WriteString("// Build and run it with GOEXPERIMENT=simd go build -o prog . && ./prog\n")
	src.WriteString("// Each notebook cell that runs code became a function cellN (N counts all cells from 1), called in\n")
	src.WriteString("// order by main; declarations of all cells are merged by name, a later cell's winning as in GoNB.\n")
	if len(p.Dropped) > 0 {
		src.WriteString("//\n// Not exported (not Go code):\n//\n")
		for _, d := range p.Dropped {
			fmt.Fprintf(&src, "//\tcell %d, %s: %s\n", d.Cell, d.Why, d.Line)
		}
	}
	if len(p.Redefined) > 0 {
		src.WriteString("//\n// Defined by more than one cell (the program keeps the last definition):\n//\n")
		for _, r := range p.Redefined {
			fmt.Fprintf(&src, "//\t%s\n", r)
		}
	}
	src.WriteString("package main\n\n")
	if len(importList) > 0 {
		src.WriteString("import (\n")
		for _, imp := range importList {
			fmt.Fprintf(&src, "\t%s\n", imp)
		}
		src.WriteString(")\n\n")
	}
	for _, u := range units {
		if u.src != "" {
			fmt.Fprintf(&src, "%s\n\n", u.src)
		}
	}
	for _, cc := range cells {
		if cc.body == "" {
			continue
		}
		p.Cells = append(p.Cells, cc.index)
		fmt.Fprintf(&src, "// cell%d is notebook cell %d.\nfunc cell%d() %s\n\n", cc.index, cc.index, cc.index, cc.body)
	}
	src.WriteString("func main() {\n\tflag.Parse()\n")
	for _, c := range p.Cells {
		fmt.Fprintf(&src, "\tcell%d()\n", c)
	}
	src.WriteString("}\n")

	formatted, err := format.Source(src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("export %s: the merged program does not parse: %w", o.Source, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeModule(dir, o); err != nil {
		return nil, fmt.Errorf("export %s: %w", o.Source, err)
	}
	mainPath := filepath.Join(dir, "main.go")
	if err := os.WriteFile(mainPath, formatted, 0o644); err != nil {
		return nil, err
	}
	if err := goimports(ctx, dir, o.Goimports); err != nil {
		return p, fmt.Errorf("export %s: %w", o.Source, err)
	}
	return p, nil
}

// programName is the module path of the exported program.
func programName(o ExportOptions) string {
	if o.ModuleName != "" {
		return o.ModuleName
	}
	base := strings.TrimSuffix(filepath.Base(o.Source), filepath.Ext(o.Source))
	base = regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(base, "-")
	if base == "" || base == "." {
		base = "notebook"
	}
	return base
}

// writeModule writes go.mod and go.sum: the program requires ragnb, replaced by the checkout, plus every module
// the checkout requires at the checkout's versions, so the build list is the checkout's and builds offline.
func writeModule(dir string, o ExportOptions) error {
	mod := o.ModuleDir
	if mod == "" {
		wd, _ := os.Getwd()
		var err error
		if mod, err = kernel.FindModuleDir(wd); err != nil {
			return err
		}
	}
	mod, err := filepath.Abs(mod)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		return err
	}
	rf, err := modfile.Parse(filepath.Join(mod, "go.mod"), data, nil)
	if err != nil {
		return err
	}
	f := &modfile.File{}
	if err := f.AddModuleStmt(programName(o)); err != nil {
		return err
	}
	if rf.Go != nil {
		if err := f.AddGoStmt(rf.Go.Version); err != nil {
			return err
		}
	}
	if err := f.AddRequire(kernel.ModulePath, kernel.PreloadVersion); err != nil {
		return err
	}
	for _, r := range rf.Require {
		f.AddNewRequire(r.Mod.Path, r.Mod.Version, true)
	}
	if err := f.AddReplace(kernel.ModulePath, "", mod, ""); err != nil {
		return err
	}
	for _, r := range rf.Replace {
		newPath := r.New.Path
		if r.New.Version == "" && !filepath.IsAbs(newPath) { // a local directory, relative to the checkout
			newPath = filepath.Join(mod, newPath)
		}
		if err := f.AddReplace(r.Old.Path, r.Old.Version, newPath, r.New.Version); err != nil {
			return err
		}
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), out, 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// goimports adds the missing imports to dir/main.go with the pinned goimports (newer ones miss gota's packages).
func goimports(ctx context.Context, dir, bin string) error {
	if bin == "" {
		for _, s := range kernel.Check() {
			if s.Name == "goimports" && s.Path != "" {
				bin = s.Path
			}
		}
	}
	if bin == "" {
		return fmt.Errorf("goimports not found: install it with `ragnb kernel install` or %s", kernel.InstallHint)
	}
	cmd := exec.CommandContext(ctx, bin, "-w", "main.go")
	cmd.Dir = dir
	cmd.Env = offlineGoEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("goimports: %w\n%s", err, out)
	}
	return nil
}

// offlineGoEnv is the environment for go commands on an exported program: no module proxy, no workspace, and
// go.mod may be completed from the module cache.
func offlineGoEnv() []string {
	return append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local", "GOEXPERIMENT=simd")
}

func containsUnit(list []*unit, u *unit) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}
