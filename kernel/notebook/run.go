package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ui/display"
)

// RunOptions configure Run.
type RunOptions struct {
	// OutDir receives the displays (HTML, SVG, PNG) as numbered files (default <notebook>_outputs beside it).
	OutDir string
	// WorkDir is where the program is exported and built ("" = a temporary directory, removed afterwards).
	WorkDir string
	// Stdout and Stderr receive the program's output (default os.Stdout and os.Stderr) and Stderr the build's.
	Stdout, Stderr io.Writer
	// Export configures the export step.
	Export ExportOptions
}

// RunResult says what a headless run did.
type RunResult struct {
	Program *Program
	// Files are the displays saved in the output directory by this run.
	Files []string
	// Binary is the program that was built and run: in the programs cache (see programDir) unless
	// RunOptions.WorkDir was given or the cache is off.
	Binary string
	// Export, Build and Exec time the three steps.
	Export, Build, Exec time.Duration
}

// DefaultOutDir is <dir>/<name>_outputs for the notebook <dir>/<name>.ipynb.
func DefaultOutDir(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + "_outputs"
}

// Run executes a notebook without Jupyter: it exports it (see Export), builds the program and runs it in the
// notebook's directory (so relative paths and the step cache behave as in Jupyter), streaming its output.
// Displays go through package display, which saves them in the output directory ($RAGNB_OUTPUT_DIR) and
// prints their text form. Interrupting ctx interrupts the program.
func Run(ctx context.Context, path string, o RunOptions) (*RunResult, error) {
	res := &RunResult{}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	nb, err := Read(abs)
	if err != nil {
		return nil, err
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	outDir := o.OutDir
	if outDir == "" {
		outDir = DefaultOutDir(abs)
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return nil, err
	}
	work := o.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "ragnb-run-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	}
	if o.Export.Source == "" {
		o.Export.Source = path
	}

	start := time.Now()
	res.Program, err = Export(ctx, nb, work, o.Export)
	res.Export = time.Since(start)
	if err != nil {
		return res, err
	}

	start = time.Now()
	buildDir := work
	if o.WorkDir == "" {
		// An unchanged notebook is not linked again: see programDir.
		if dir, err := programDir(work); err == nil {
			buildDir = dir
		}
	}
	bin := filepath.Join(buildDir, "notebook-program")
	res.Binary = bin
	// No DWARF: linking without it takes a third less time, and nobody debugs this binary.
	build := exec.CommandContext(ctx, "go", "build", "-ldflags=-w", "-o", bin, ".")
	build.Dir, build.Env = buildDir, offlineGoEnv()
	if out, err := build.CombinedOutput(); err != nil {
		return res, fmt.Errorf("build %s: %w\n%s", path, err, out)
	}
	res.Build = time.Since(start)

	before := listFiles(outDir)
	start = time.Now()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(os.Environ(), display.EnvOutputDir+"="+outDir)
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	res.Exec = time.Since(start)
	for f := range listFiles(outDir) {
		if !before[f] {
			res.Files = append(res.Files, filepath.Join(outDir, f))
		}
	}
	sort.Strings(res.Files)
	if err != nil {
		return res, fmt.Errorf("run %s: %w", path, err)
	}
	return res, nil
}

func listFiles(dir string) map[string]bool {
	m := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		m[e.Name()] = true
	}
	return m
}

// programDir returns the directory, in the programs cache (cache.ProgramsDir), where the program exported into
// work is built: it is named after the exported files' content and gets a copy of them when new. Go puts a
// program's source directory into its build ID, so building an unchanged notebook there again finds the program
// up to date and skips the link (~4.6 s for the prelude's ~55 MB); Go's build-ID check still relinks when a
// dependency, a flag or the toolchain changed. An error (no cache, a full disk) means: build in work.
func programDir(work string) (string, error) {
	root := cache.ProgramsDir()
	if root == "" {
		return "", errors.New("no programs cache")
	}
	key, err := cache.HashDir(work)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "nb-"+key[:32])
	if _, err := os.Stat(dir); err != nil {
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", err
		}
		tmp, err := os.MkdirTemp(root, ".tmp-")
		if err != nil {
			return "", err
		}
		if err := os.CopyFS(tmp, os.DirFS(work)); err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp) // another run made it first, from the same files
		}
	}
	now := time.Now()
	os.Chtimes(dir, now, now) // most recently used: TrimPrograms keeps it
	cache.TrimPrograms(root, cache.KeepPrograms)
	return dir, nil
}
