package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"golang.org/x/term"
)

// Prompts shown by interactive sessions.
const (
	Prompt         = "ragnb> "
	PromptContinue = "...... "
)

// History is the input history kept in a file, one input line per file line, most recent last. It implements
// x/term's History (index 0 is the most recent entry).
type History struct {
	path  string
	lines []string
	max   int
}

// LoadHistory reads the history file at path (missing is empty), keeping the last max lines.
func LoadHistory(path string, max int) (*History, error) {
	h := &History{path: path, max: max}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			h.lines = append(h.lines, sc.Text())
		}
	}
	if len(h.lines) > max {
		h.lines = h.lines[len(h.lines)-max:]
	}
	return h, sc.Err()
}

// Add records a line in memory and appends it to the file. Blank lines and repeats of the last line are skipped.
func (h *History) Add(line string) {
	if strings.TrimSpace(line) == "" || strings.Contains(line, "\n") || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == line) {
		return
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > h.max {
		h.lines = h.lines[1:]
	}
	if h.path == "" {
		return
	}
	if f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

// Len is the number of lines kept.
func (h *History) Len() int { return len(h.lines) }

// At returns the line idx steps back (0 is the most recent).
func (h *History) At(idx int) string { return h.lines[len(h.lines)-1-idx] }

// RunTerminal runs an interactive session on the terminal in/out: line editing, the history (arrow keys) saved
// in historyFile ("" keeps it in memory only), multi-line input while brackets are open, errors printed
// without ending the session. Ctrl-C during an evaluation interrupts it; Ctrl-D (or Ctrl-C) at the prompt
// ends the session.
func (s *Session) RunTerminal(ctx context.Context, in *os.File, out io.Writer, historyFile string) error {
	hist, err := LoadHistory(historyFile, 1000)
	if err != nil {
		fmt.Fprintf(s.o.Stderr, "history %s: %v\n", historyFile, err)
		hist = &History{max: 1000}
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, Prompt)
	t.History = hist
	fd := int(in.Fd())
	var pending strings.Builder
	for {
		if pending.Len() > 0 {
			t.SetPrompt(PromptContinue)
		} else {
			t.SetPrompt(Prompt)
		}
		state, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("repl: terminal: %w", err)
		}
		if w, h, err := term.GetSize(fd); err == nil {
			t.SetSize(w, h)
		}
		line, err := t.ReadLine()
		term.Restore(fd, state)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(out)
			return nil
		}
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			return err
		}
		// Evaluate in cooked mode: output prints normally and Ctrl-C raises SIGINT, which cancels this input.
		evalCtx, stop := signal.NotifyContext(ctx, os.Interrupt)
		s.feed(evalCtx, &pending, line)
		stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
