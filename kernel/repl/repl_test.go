package repl

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newSession(t *testing.T, out *bytes.Buffer) *Session {
	t.Helper()
	s, err := New(Options{Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSessionTranscript replays testdata/session.txt through a piped session and compares the output.
func TestSessionTranscript(t *testing.T) {
	f, err := os.Open("testdata/session.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var input, want strings.Builder
	inputs := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#") || line == "":
		case strings.HasPrefix(line, "> "):
			inputs++
			input.WriteString(line[2:] + "\n")
		case strings.HasPrefix(line, ". "):
			input.WriteString(line[2:] + "\n")
		default:
			want.WriteString(line + "\n")
		}
	}
	var out bytes.Buffer
	s := newSession(t, &out)
	if err := s.Run(context.Background(), strings.NewReader(input.String()), nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("session output:\n%s\nwant:\n%s", out.String(), want.String())
	}
	if s.Errors() != 2 {
		t.Errorf("%d failed inputs, want 2", s.Errors())
	}
	t.Logf("%d inputs replayed", inputs)
}

func TestComplete(t *testing.T) {
	for src, want := range map[string]bool{
		"x := 1":                  true,
		"func f() {":              false,
		"func f() {\n}":           true,
		"s := []int{1,":           false,
		"s := \"{\"":              true,
		"// {":                    true,
		"r := `raw":               false,
		"r := `raw\nstring`":      true,
		"f(g(1), h(2)":            false,
		"if x > 0 { y() } else {": false,
	} {
		if got := Complete(src); got != want {
			t.Errorf("Complete(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestRunScript(t *testing.T) {
	var out bytes.Buffer
	if err := newSession(t, &out).RunScript(context.Background(), "testdata/script.repl"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if want := "sum 1..10 = 55\nbackend known: true\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	out.Reset()
	err := newSession(t, &out).RunScript(context.Background(), "testdata/failing.repl")
	if err == nil || !strings.Contains(err.Error(), "testdata/failing.repl:2") {
		t.Errorf("want an error at line 2, got %v", err)
	}
	if want := "before\nerror: undefined: notDefined\n"; out.String() != want {
		t.Errorf("a failing script must stop at the error: %q, want %q", out.String(), want)
	}

	// A package main file is run as a program.
	main := filepath.Join(t.TempDir(), "prog.go")
	data, _ := os.ReadFile("testdata/main.go.txt")
	os.WriteFile(main, data, 0o644)
	out.Reset()
	if err := newSession(t, &out).RunScript(context.Background(), main); err != nil || out.String() != "main ran\n" {
		t.Errorf("package main script: %v %q", err, out.String())
	}
}

func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	os.WriteFile(path, []byte("old 1\nold 2\nold 3\n"), 0o600)
	h, err := LoadHistory(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	h.Add("new")
	h.Add("new") // repeat: skipped
	h.Add("  ")  // blank: skipped
	if h.Len() != 3 || h.At(0) != "new" || h.At(2) != "old 2" {
		t.Errorf("history %v", h.lines)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "old 1\nold 2\nold 3\nnew\n" {
		t.Errorf("file %q", data)
	}
	if h, err := LoadHistory(filepath.Join(t.TempDir(), "missing"), 10); err != nil || h.Len() != 0 {
		t.Errorf("missing file: %v %v", h, err)
	}
}

// TestMain doubles as the interactive REPL for TestTerminalSession, which runs this binary in a terminal.
func TestMain(m *testing.M) {
	if hist := os.Getenv("RAGNB_REPL_TEST_TERMINAL"); hist != "" {
		s, err := New(Options{})
		if err == nil {
			err = s.RunTerminal(context.Background(), os.Stdin, os.Stdout, hist)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTerminalSession types into a real terminal (tmux) running the interactive REPL: prompts, a multi-line
// function, an error that does not end the session, recalling the previous line with the up arrow, and the
// history file.
func TestTerminalSession(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; the piped session (TestSessionTranscript) covers evaluation")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(t.TempDir(), "history")
	sock := fmt.Sprintf("ragnb-repl-test-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", "repl", "-x", "100", "-y", "40",
		fmt.Sprintf("env RAGNB_REPL_TEST_TERMINAL=%s %s; sleep 30", hist, exe))
	defer exec.Command("tmux", "-L", sock, "kill-server").Run()
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			screen := tmux("capture-pane", "-p", "-t", "repl")
			if strings.Contains(screen, want) {
				return screen
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %q:\n%s", want, screen)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor(strings.TrimSpace(Prompt)) // capture-pane drops trailing spaces
	for _, line := range []string{"func triple(n int) int {", "return 3 * n", "}", "triple(14)"} {
		tmux("send-keys", "-t", "repl", "-l", line)
		tmux("send-keys", "-t", "repl", "Enter")
	}
	waitFor("\n42")
	tmux("send-keys", "-t", "repl", "-l", "nope()")
	tmux("send-keys", "-t", "repl", "Enter")
	waitFor("error: undefined: nope")
	// Up twice recalls "triple(14)"; edit it to triple(5).
	tmux("send-keys", "-t", "repl", "Up", "Up", "BSpace", "BSpace", "BSpace")
	tmux("send-keys", "-t", "repl", "-l", "5)")
	tmux("send-keys", "-t", "repl", "Enter")
	screen := waitFor("\n15")
	if !strings.Contains(screen, PromptContinue+"return 3 * n") {
		t.Errorf("no continuation prompt:\n%s", screen)
	}
	tmux("send-keys", "-t", "repl", "C-d")
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(hist)
		if strings.HasSuffix(string(data), "triple(5)\n") {
			if !strings.Contains(string(data), "func triple(n int) int {\nreturn 3 * n\n}\ntriple(14)\nnope()\n") {
				t.Errorf("history file:\n%s", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history file:\n%s", data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
