package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

// flakyServer answers generation prompts with two questions and judge prompts with 0.8 while up; down, every
// request gets a 500; with cancel set, the first request cancels the run (as SIGINT does) and is never
// answered.
type flakyServer struct {
	*llmtest.Server
	down   atomic.Bool
	cancel atomic.Pointer[context.CancelFunc]
}

func newFlakyServer(t *testing.T) *flakyServer {
	f := &flakyServer{}
	f.Server = llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		if c := f.cancel.Load(); c != nil {
			(*c)()
			return llmtest.Reply{Delay: time.Minute}
		}
		if f.down.Load() {
			return llmtest.Reply{Status: 500}
		}
		if strings.Contains(r.Last(), "How relevant is the passage") {
			return llmtest.Reply{Content: `{"score": 0.8}`}
		}
		w := strings.Fields(strings.Split(r.Last(), `"""`)[1])
		return llmtest.Reply{Content: fmt.Sprintf(`{"questions": [{"question": "What about %s %s?"}, {"question": "Why %s %s?"}]}`, w[0], w[1], w[2], w[3])}
	})
	t.Cleanup(f.Close)
	return f
}

// runCancelled runs the command with a context the server cancels at the first request.
func (f *flakyServer) runCancelled(args ...string) (int, string, string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel.Store(&cancel)
	defer f.cancel.Store(nil)
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// failThenInterrupt runs the command once with every request refused (HTTP 500, no retry) and once
// interrupted, and checks that each run failed, left out byte-identical to good and wrote rows rows beside it.
// It returns the rows of the refused run.
func (f *flakyServer) failThenInterrupt(t *testing.T, args []string, out string, good []byte, rows int) []map[string]any {
	t.Helper()
	f.down.Store(true)
	code, _, stderr := runCLI(t, args...)
	if code != 1 {
		t.Errorf("all requests failed: exit %d", code)
	}
	refused := checkKept(t, "HTTP 500", out, good, rows, stderr)
	f.down.Store(false)
	if code, _, stderr = f.runCancelled(args...); code == 0 {
		t.Errorf("interrupted: exit 0")
	}
	checkKept(t, "interrupt", out, good, rows, stderr)
	return refused
}

// checkKept fails unless path still holds good and the partial file beside it has rows rows.
func checkKept(t *testing.T, what, path string, good []byte, rows int, stderr string) []map[string]any {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, good) {
		t.Errorf("%s: %s changed (%v):\n%s", what, path, err, b)
	}
	partial := strings.TrimSuffix(path, ".jsonl") + ".partial.jsonl"
	if _, err := os.Stat(partial); err != nil {
		t.Fatalf("%s: no partial file: %v", what, err)
	}
	got := readJSONL(t, partial)
	if len(got) != rows {
		t.Errorf("%s: %d rows in %s, want %d", what, len(got), partial, rows)
	}
	if !strings.Contains(stderr, partial) || !strings.Contains(stderr, path+" left as it was") {
		t.Errorf("%s: the error does not say where the rows went: %s", what, stderr)
	}
	return got
}

func TestGenerateFailureKeepsTheGoodOutput(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	srv := newFlakyServer(t)
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	os.MkdirAll(docs, 0o755)
	os.WriteFile(filepath.Join(docs, "a.txt"), []byte("Zinc smelters in Norway cut emissions by half."), 0o644)
	os.WriteFile(filepath.Join(docs, "b.txt"), []byte("Container freight rates fell sharply during spring."), 0o644)
	out, sum := filepath.Join(dir, "pairs.jsonl"), filepath.Join(dir, "summary.json")
	args := []string{"generate", "--docs", docs, "--model", "gen", "--base-url", srv.BaseURL(), "--out", out,
		"--questions", "2", "--min-overlap", "0", "--no-cache", "--retries", "0", "--summary", sum}
	if code, stdout, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("generate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	good, _ := os.ReadFile(out)
	if n := len(readJSONL(t, out)); n != 4 {
		t.Fatalf("%d rows", n)
	}

	srv.failThenInterrupt(t, args, out, good, 0)
	var s struct {
		Output struct {
			Path    string
			Partial bool
		}
	}
	if b, _ := os.ReadFile(sum); json.Unmarshal(b, &s) != nil || !s.Output.Partial || s.Output.Path != filepath.Join(dir, "pairs.partial.jsonl") {
		t.Errorf("summary %+v", s)
	}

	// A run that succeeds replaces the file and removes the stale partial one.
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("generate again: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "pairs.partial.jsonl")); !os.IsNotExist(err) {
		t.Errorf("the stale partial file is still there: %v", err)
	}
}

func TestScoreFailureKeepsTheGoodOutput(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	srv := newFlakyServer(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "pairs.jsonl"), filepath.Join(dir, "scored.jsonl")
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, `{"anchor": "question %d", "positive": "passage %d"}`+"\n", i, i)
	}
	os.WriteFile(in, []byte(b.String()), 0o644)
	args := []string{"score", "--in", in, "--out", out, "--teacher", "llm", "--model", "judge", "--base-url", srv.BaseURL(),
		"--no-cache", "--retries", "0"}
	if code, stdout, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("score: exit %d\n%s\n%s", code, stdout, stderr)
	}
	good, _ := os.ReadFile(out)
	for _, r := range readJSONL(t, out) {
		if r["score"] != 0.8 {
			t.Fatalf("scored %v", r)
		}
	}

	for _, r := range srv.failThenInterrupt(t, args, out, good, 5) {
		if r["score"] != nil {
			t.Errorf("partial row %v: want a null score", r)
		}
	}
}
