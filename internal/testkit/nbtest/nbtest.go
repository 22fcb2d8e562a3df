// Package nbtest executes notebooks in real Jupyter with the "Go (ragnb)" kernel of this checkout and checks
// their outputs: the notebook is the test. It installs nothing: without Jupyter and the pinned Go tools the
// tests skip, and fail instead when RAGNB_REQUIRE_JUPYTER=1 (as in CI, which installs them first).
package nbtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/kernel"
	"github.com/ragnb/ragnb/kernel/notebook"
)

// EnvRequire makes missing notebook tools a test failure rather than a skip.
const EnvRequire = "RAGNB_REQUIRE_JUPYTER"

// Check inspects an executed notebook.
type Check func(nb *notebook.Notebook) error

// NoErrors fails when any cell has an error output.
func NoErrors() Check {
	return func(nb *notebook.Notebook) error {
		if errs := nb.ErrorOutputs(); len(errs) > 0 {
			return fmt.Errorf("error outputs:\n%s", strings.Join(errs, "\n"))
		}
		return nil
	}
}

// AtLeast fails when fewer than n outputs carry mime (see Notebook.CountOutputs).
func AtLeast(mime string, n int) Check {
	return func(nb *notebook.Notebook) error {
		if got := nb.CountOutputs(mime); got < n {
			return fmt.Errorf("%d outputs of %s, want at least %d", got, mime, n)
		}
		return nil
	}
}

// AnyOf passes when one of the checks passes (e.g. an SVG or a PNG image).
func AnyOf(checks ...Check) Check {
	return func(nb *notebook.Notebook) error {
		var msgs []string
		for _, c := range checks {
			err := c(nb)
			if err == nil {
				return nil
			}
			msgs = append(msgs, err.Error())
		}
		return fmt.Errorf("none of: %s", strings.Join(msgs, "; "))
	}
}

// Stdout fails unless the stdout of cell (1-based, counting all cells) contains text.
func Stdout(cell int, text string) Check {
	return func(nb *notebook.Notebook) error {
		if got := CellStdout(nb, cell); !strings.Contains(got, text) {
			return fmt.Errorf("cell %d stdout %q lacks %q", cell, got, text)
		}
		return nil
	}
}

// CellStdout is the stdout text of cell (1-based).
func CellStdout(nb *notebook.Notebook, cell int) string {
	if cell < 1 || cell > len(nb.Cells) {
		return ""
	}
	var sb strings.Builder
	for _, o := range nb.Cells[cell-1].Outputs {
		if o.OutputType == "stream" && o.Name == "stdout" {
			sb.WriteString(o.Text)
		}
	}
	return sb.String()
}

// AllStdout is the stdout text of every cell, in order.
func AllStdout(nb *notebook.Notebook) string {
	var sb strings.Builder
	for i := range nb.Cells {
		sb.WriteString(CellStdout(nb, i+1))
	}
	return sb.String()
}

// ModuleDir is this checkout.
func ModuleDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir, err := kernel.FindModuleDir(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// RequireTools skips (or fails, with RAGNB_REQUIRE_JUPYTER=1) unless Jupyter and the pinned GoNB, goimports and
// gopls are installed. With RAGNB_REQUIRE_JUPYTER=1 it also requires the user's "ragnb" kernelspec to point at
// this checkout, as `ragnb kernel install` run from it leaves it.
func RequireTools(t testing.TB) {
	t.Helper()
	var missing []string
	if !kernel.JupyterOK() {
		missing = append(missing, "jupyter (Debian packages)")
	}
	for _, s := range kernel.Check() {
		if s.Module != "" && !s.OK() {
			missing = append(missing, fmt.Sprintf("%s %s (found %q)", s.Name, s.Version, s.Found))
		}
	}
	required := os.Getenv(EnvRequire) == "1"
	if len(missing) > 0 {
		msg := fmt.Sprintf("notebook tools missing: %s; install them with `ragnb kernel install` (%s)", strings.Join(missing, ", "), kernel.InstallHint)
		if required {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set " + EnvRequire + "=1 to make this a failure")
	}
	if required {
		inst, err := kernel.Installed("", "")
		if err != nil {
			t.Fatalf("%s=1 but the kernel is not installed: %v", EnvRequire, err)
		}
		if inst.ModuleDir != ModuleDir(t) {
			t.Fatalf("the installed kernel builds against %s, not this checkout %s", inst.ModuleDir, ModuleDir(t))
		}
	}
}

// RequireGoTool skips (or fails, with RAGNB_REQUIRE_JUPYTER=1) unless the Go tool name (e.g. "goimports",
// which export needs) is installed at its pinned version.
func RequireGoTool(t testing.TB, name string) {
	t.Helper()
	for _, s := range kernel.Check() {
		if s.Name == name && s.OK() {
			return
		}
	}
	msg := fmt.Sprintf("%s is not installed at its pinned version: run `ragnb kernel install --no-jupyter` or %s --go-only", name, kernel.InstallHint)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; set " + EnvRequire + "=1 to make this a failure")
}

// Result is an executed notebook with where it was written and how long it took.
type Result struct {
	*notebook.Notebook
	Path    string
	Elapsed time.Duration
	// DataDir is the private Jupyter data directory the notebook ran with: its kernelspec, and the secret the
	// executed notebook is signed with (a notebook server started with it opens the notebook trusted).
	DataDir string
}

// privateKernel writes a kernelspec for this checkout into a temporary Jupyter data directory, with the same
// code as `ragnb kernel install`, and returns that directory.
func privateKernel(t testing.TB) string {
	t.Helper()
	return privateKernelWith(t, true)
}

// privateKernelWith is privateKernel with GoNB's error reports as plain text (rawError, for tests that read
// outputs as text) or as the HTML users see.
func privateKernelWith(t testing.TB, rawError bool) string {
	t.Helper()
	data := t.TempDir()
	if _, err := kernel.Install(context.Background(), kernel.InstallOptions{ModuleDir: ModuleDir(t), DataDir: data,
		NoJupyter: true, NoGoTools: true, RawError: rawError}); err != nil {
		t.Fatal(err)
	}
	return data
}

// completeScript asks a fresh kernel to complete code at its end, every 2 seconds until it answers with
// matches or the time runs out (gopls answers nothing until it has loaded the module — over a minute for
// gomlx and the prelude on 2 busy cores), and prints them.
const completeScript = `
import json, sys, time, jupyter_client
km, kc = jupyter_client.manager.start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
try:
    code, deadline, matches = sys.argv[2], time.time() + float(sys.argv[3]), []
    while not matches and time.time() < deadline:
        reply = kc.complete(code, len(code), reply=True, timeout=120)
        matches = reply["content"]["matches"]
        if not matches:
            time.sleep(2)
    print(json.dumps(matches))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)  # a shutdown request: GoNB then stops its gopls (now=True orphaned it)
`

// Complete returns the kernel's completions for code with the cursor at its end (Jupyter's complete_request,
// answered by GoNB with gopls), from a fresh kernel of this checkout.
func Complete(t testing.TB, code string) []string {
	t.Helper()
	RequireTools(t)
	data := privateKernel(t)
	cmd := exec.Command(kernel.DebianPython, "-c", completeScript, kernel.DefaultName, code, "300")
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+data, "TMPDIR="+t.TempDir(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("complete %q: %v\n%s", code, err, stderr.String())
	}
	var matches []string
	if err := json.Unmarshal(out, &matches); err != nil {
		t.Fatalf("complete %q: %v in %q\n%s", code, err, out, stderr.String())
	}
	return matches
}

// executeScript runs each cell (argv[2], a JSON list) in one fresh kernel, as a user's kernel shows errors
// (HTML), and prints every cell's output messages as JSON: type, text (stream text, or the error's value) and
// the text/html data.
const executeScript = `
import json, sys, jupyter_client
km, kc = jupyter_client.manager.start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
try:
    cells = []
    for code in json.loads(sys.argv[2]):
        outs = []
        def hook(m):
            c = m["content"]
            if m["msg_type"] in ("stream", "error", "display_data", "execute_result"):
                outs.append({"type": m["msg_type"], "text": c.get("text") or c.get("evalue") or "",
                             "html": c.get("data", {}).get("text/html", "")})
        kc.execute_interactive(code, timeout=600, output_hook=hook)
        cells.append(outs)
    print(json.dumps(cells))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)
`

// Message is one output message of a cell executed by Execute.
type Message struct {
	// Type is the Jupyter message type: stream, error, display_data or execute_result.
	Type string `json:"type"`
	// Text is a stream's text or an error's value.
	Text string `json:"text"`
	// HTML is the text/html data of a display, if any.
	HTML string `json:"html"`
}

// Execute runs the cells, in order, in one fresh kernel of this checkout that reports errors as HTML (as the
// installed kernel does), and returns each cell's output messages.
func Execute(t testing.TB, cells ...string) [][]Message {
	t.Helper()
	RequireTools(t)
	data := privateKernelWith(t, false)
	if os.Getenv(cache.EnvPrograms) == "" {
		t.Setenv(cache.EnvPrograms, t.TempDir())
	}
	arg, _ := json.Marshal(cells)
	cmd := exec.Command(kernel.DebianPython, "-c", executeScript, kernel.DefaultName, string(arg))
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+data, "TMPDIR="+t.TempDir(), "PYDEVD_DISABLE_FILE_VALIDATION=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("execute: %v\n%s", err, stderr.String())
	}
	var got [][]Message
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cells) {
		t.Fatalf("execute: %v in %q\n%s", err, out, stderr.String())
	}
	return got
}

// RunJupyter executes the notebook at path in Jupyter with a kernelspec for this checkout (written into a
// temporary Jupyter data directory with the same code as `ragnb kernel install`, so other checkouts' kernels
// are never used), applies the checks, and returns the executed notebook. Cell errors and failed checks fail t.
func RunJupyter(t testing.TB, path string, checks ...Check) *Result {
	t.Helper()
	RequireTools(t)
	ctx := context.Background()
	data := privateKernel(t)
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	if os.Getenv(cache.EnvPrograms) == "" {
		// The cells' programs stay with the test (not in ~/.cache) unless the test chose where they go.
		t.Setenv(cache.EnvPrograms, t.TempDir())
	}
	start := time.Now()
	nb, _, err := notebook.RunJupyter(ctx, path, notebook.JupyterOptions{DataDir: data, Output: out})
	elapsed := time.Since(start)
	if nb == nil {
		t.Fatalf("jupyter: %v", err)
	}
	t.Logf("%s executed in Jupyter in %.1fs", path, elapsed.Seconds())
	for _, c := range append([]Check{NoErrors()}, checks...) {
		if err := c(nb); err != nil {
			t.Errorf("%s: %v\noutputs:\n%s", path, err, nb.Text())
		}
	}
	return &Result{Notebook: nb, Path: out, Elapsed: elapsed, DataDir: data}
}
