// Package repl is ragnb's terminal REPL and script runner: a yaegi interpreter with the prelude (and the
// display and progress packages it hands out) compiled in, so `prelude.X` works at the prompt with no import.
// It owns reading input (multi-line while brackets are open, a history file), evaluating it without ending
// the session on errors or interpreter panics, and printing values. It does not own the prelude's API.
//
// yaegi v0.16.1 limits, which the session reports rather than crashes on: generic declarations of compiled
// packages are invisible, interpreted min/max are undefined, range over int or func panics inside the
// interpreter (use a classic for loop), and one evaluation cannot mix imports, declarations and statements
// (the session evaluates each complete top-level input on its own).
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Options configure a Session.
type Options struct {
	// Stdout and Stderr receive the interpreted program's output, printed values and errors (default os.Stdout
	// and os.Stderr).
	Stdout, Stderr io.Writer
	// GoPath is yaegi's GOPATH for source imports ("" = none).
	GoPath string
}

// Session is one interpreter with the prelude loaded.
type Session struct {
	i      *interp.Interpreter
	o      Options
	errors int
}

// New starts an interpreter with the standard library and the extracted packages (see Symbols) imported under
// their package names, so `prelude.BackendInfo()` and `fmt.Println` work without import lines.
func New(o Options) (*Session, error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	i := interp.New(interp.Options{Stdout: o.Stdout, Stderr: o.Stderr, GoPath: o.GoPath})
	if err := i.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("repl: load the standard library: %w", err)
	}
	if err := i.Use(Symbols); err != nil {
		return nil, fmt.Errorf("repl: load the prelude: %w", err)
	}
	i.ImportUsed()
	return &Session{i: i, o: o}, nil
}

// Errors counts the inputs that failed so far.
func (s *Session) Errors() int { return s.errors }

// Eval evaluates one complete input. Interpreter panics (yaegi has a few, e.g. range over int) come back as
// errors; the session stays usable.
func (s *Session) Eval(ctx context.Context, src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = reflect.Value{}, fmt.Errorf("interpreter panic: %v (yaegi v0.16.1 cannot run this construct; see `ragnb repl --help`)", r)
		}
	}()
	return s.i.EvalWithContext(ctx, src)
}

// Complete reports whether src is a complete input: its brackets are balanced and it does not end inside a
// raw string. Incomplete input keeps being read (multi-line input).
func Complete(src string) bool {
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var sc scanner.Scanner
	unterminated := false
	sc.Init(file, []byte(src), func(_ token.Position, msg string) {
		if strings.Contains(msg, "not terminated") {
			unterminated = true
		}
	}, 0)
	depth := 0
	for {
		_, tok, _ := sc.Scan()
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			depth--
		}
		if tok == token.EOF {
			break
		}
	}
	return depth <= 0 && !unterminated
}

// incomplete reports whether err, from parsing src as statements in a function body, says the input ended
// too early (an operator or a comma at the end of its last line).
func incomplete(err error, src string) bool {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return false
	}
	msg := list[len(list)-1].Msg
	return strings.HasSuffix(msg, "found 'EOF'") || strings.Contains(msg, "not terminated") ||
		(strings.HasPrefix(msg, "expected operand, found '}'") && !strings.HasSuffix(strings.TrimSpace(src), "}"))
}

// Exec evaluates one complete input and prints its value (for an expression) or its error; it reports whether
// it succeeded.
func (s *Session) Exec(ctx context.Context, src string) bool {
	v, err := s.Eval(ctx, src)
	if err != nil {
		s.errors++
		fmt.Fprintln(s.o.Stderr, "error:", errorText(err))
		return false
	}
	if showValue(src, v) {
		fmt.Fprintf(s.o.Stdout, "%v\n", v)
	}
	return true
}

// position matches the "line:col: " prefix of yaegi's messages, which counts in yaegi's wrapped source.
var position = regexp.MustCompile(`^(` + regexp.QuoteMeta(interp.DefaultSourceName) + `:)?\d+:\d+: `)

func errorText(err error) string {
	var p interp.Panic
	if errors.As(err, &p) {
		return fmt.Sprintf("panic: %v", p.Value)
	}
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return position.ReplaceAllString(list[0].Error(), "")
	}
	return position.ReplaceAllString(err.Error(), "")
}

// showValue: the value of an expression is printed, except for calls of functions without results (yaegi
// returns an invalid value) and fmt/log printing calls, whose output is already there.
func showValue(src string, v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	if _, err := parser.ParseExpr(strings.TrimSpace(src)); err != nil {
		return false
	}
	s := strings.TrimSpace(src)
	for _, p := range []string{"fmt.Print", "fmt.Fprint", "log.", "print(", "println("} {
		if strings.HasPrefix(s, p) {
			return false
		}
	}
	if v.Kind() == reflect.Interface && v.IsNil() {
		return false
	}
	return true
}

// Run reads inputs from in until EOF, evaluating each complete one; errors are printed and the session goes
// on. prompt, when not nil, is called before each line with whether an input is in progress.
func (s *Session) Run(ctx context.Context, in io.Reader, prompt func(continued bool)) error {
	r := bufio.NewReader(in)
	var pending strings.Builder
	for {
		if prompt != nil {
			prompt(pending.Len() > 0)
		}
		line, err := r.ReadString('\n')
		if line != "" {
			s.feed(ctx, &pending, strings.TrimSuffix(line, "\n"))
		}
		if err == io.EOF {
			if strings.TrimSpace(pending.String()) != "" {
				s.Exec(ctx, pending.String())
			}
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// feed adds a line to the pending input and evaluates it once complete. It returns whether an input was
// evaluated and whether it succeeded.
func (s *Session) feed(ctx context.Context, pending *strings.Builder, line string) (evaluated, ok bool) {
	pending.WriteString(line)
	pending.WriteString("\n")
	src := pending.String()
	if strings.TrimSpace(src) == "" {
		pending.Reset()
		return false, true
	}
	if !Complete(src) {
		return false, true
	}
	if _, err := parser.ParseExpr(strings.TrimSpace(src)); err != nil {
		// Not a lone expression: ask the parser whether statements or declarations end early.
		if perr := parseAsInput(src); perr != nil && incomplete(perr, src) {
			return false, true
		}
	}
	pending.Reset()
	return true, s.Exec(ctx, src)
}

// parseAsInput parses src as declarations or, failing that, as statements in a function body.
func parseAsInput(src string) error {
	fset := token.NewFileSet()
	if _, err := parser.ParseFile(fset, "", "package p\n"+src, 0); err == nil {
		return nil
	}
	_, err := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+src+"\n}", 0)
	return err
}

// RunScript runs a script file: a `package main` program is run as a whole (its main is called); otherwise the
// file is a sequence of REPL inputs evaluated in order. The first error stops the script and is returned.
func (s *Session) RunScript(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := parser.ParseFile(token.NewFileSet(), path, data, parser.PackageClauseOnly); err == nil {
		if _, err := s.evalPath(ctx, path); err != nil {
			return fmt.Errorf("%s: %s", path, errorText(err))
		}
		return nil
	}
	var pending strings.Builder
	lines := strings.Split(string(data), "\n")
	start := 1
	for n, line := range lines {
		if pending.Len() == 0 {
			start = n + 1
		}
		evaluated, ok := s.feed(ctx, &pending, line)
		if evaluated && !ok {
			return fmt.Errorf("%s:%d: the input starting here failed", path, start)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if strings.TrimSpace(pending.String()) != "" {
		if !s.Exec(ctx, pending.String()) {
			return fmt.Errorf("%s:%d: the input starting here failed", path, start)
		}
	}
	return nil
}

func (s *Session) evalPath(ctx context.Context, path string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("interpreter panic: %v", r)
		}
	}()
	return s.i.EvalPathWithContext(ctx, path)
}
