package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ragnb/ragnb/kernel"
)

// JupyterOptions configure RunJupyter.
type JupyterOptions struct {
	// Kernel is the kernelspec name (default kernel.DefaultName).
	Kernel string
	// DataDir, when set, is the JUPYTER_DATA_DIR where the kernelspec is looked up.
	DataDir string
	// Output is the executed notebook's path (default <out dir>/<name>.ipynb, see DefaultOutDir).
	Output string
	// CellTimeout limits each cell (default 10 minutes).
	CellTimeout time.Duration
	// TempDir is the kernel's TMPDIR, where GoNB keeps its work directory ("" = a temporary directory removed
	// afterwards).
	TempDir string
	// Log receives Jupyter's own messages (nil discards them).
	Log io.Writer
}

// ErrCells reports error outputs in an executed notebook.
var ErrCells = errors.New("cells failed")

// RunJupyter executes the notebook at path in real Jupyter (Debian's nbconvert) with the "Go (ragnb)" kernel and
// writes the executed notebook, signed as trusted (see Sign). Errors in cells do not stop the run: every cell runs, the executed notebook is
// written, and the returned error (wrapping ErrCells) lists the failed cells.
func RunJupyter(ctx context.Context, path string, o JupyterOptions) (*Notebook, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, "", err
	}
	if !kernel.JupyterOK() {
		return nil, "", fmt.Errorf("jupyter with nbconvert is not installed: run `ragnb kernel install`")
	}
	name := o.Kernel
	if name == "" {
		name = kernel.DefaultName
	}
	out := o.Output
	if out == "" {
		out = filepath.Join(DefaultOutDir(abs), filepath.Base(abs))
	}
	if out, err = filepath.Abs(out); err != nil {
		return nil, "", err
	}
	if out == abs {
		return nil, "", fmt.Errorf("the executed notebook would overwrite %s: choose another output", path)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, "", err
	}
	timeout := o.CellTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	tmp := o.TempDir
	if tmp == "" {
		if tmp, err = os.MkdirTemp("", "ragnb-jupyter-"); err != nil {
			return nil, "", err
		}
		defer os.RemoveAll(tmp)
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(timeout.Seconds())),
		"--ExecutePreprocessor.kernel_name="+name,
		"--output-dir", filepath.Dir(out), "--output", filepath.Base(out), abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "PYDEVD_DISABLE_FILE_VALIDATION=1", EnvHeadless+"=1")
	if o.DataDir != "" {
		cmd.Env = append(cmd.Env, "JUPYTER_DATA_DIR="+o.DataDir)
	}
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&log, o.Log), io.MultiWriter(&log, o.Log)
	}
	if err := cmd.Run(); err != nil {
		return nil, out, fmt.Errorf("jupyter nbconvert --execute %s: %w\n%s", path, err, tail(log.String(), 4000))
	}
	nb, err := Read(out)
	if err != nil {
		return nil, out, err
	}
	if err := Sign(ctx, out, o.DataDir); err != nil {
		return nb, out, err
	}
	if errs := nb.ErrorOutputs(); len(errs) > 0 {
		return nb, out, fmt.Errorf("%s: %d %w:\n%s", path, len(errs), ErrCells, strings.Join(errs, "\n"))
	}
	return nb, out, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
