package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ragnb/ragnb/kernel/notebook"
)

func runCmd() *command {
	return &command{
		name:    "run",
		summary: "run a notebook headless (exported to a Go program) or, with --jupyter, in Jupyter with the kernel",
		usage: "[flags] NOTEBOOK.ipynb\n\n" +
			"Headless: the notebook is exported (see `ragnb export`), built and run in its directory; its output is\n" +
			"printed and its displays (tables, charts) are saved in the output directory as 0001.html, 0002.svg, ...\n" +
			"--jupyter: the notebook runs in Jupyter (nbconvert) with the installed kernel; the executed notebook is\n" +
			"written to the output directory and its outputs printed as text. Exit status 1 when a cell fails.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			jupyter := fs.Bool("jupyter", false, "run in real Jupyter with the kernel instead of headless")
			outDir := fs.String("out-dir", "", "output directory for displays and the executed notebook (default NOTEBOOK_outputs beside the notebook)")
			keep := fs.String("keep", "", "headless: export and build in this directory and keep it (default: a temporary directory)")
			kernelName := fs.String("kernel", "ragnb", "--jupyter: kernelspec name")
			timeout := fs.Duration("timeout", 10*time.Minute, "--jupyter: time limit per cell")
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) != 1 {
					return usagef("want one notebook")
				}
				path := args[0]
				if *jupyter {
					var out string
					if *outDir != "" {
						out = filepath.Join(*outDir, filepath.Base(path))
					}
					start := time.Now()
					nb, written, err := notebook.RunJupyter(ctx, path, notebook.JupyterOptions{Kernel: *kernelName, Output: out, CellTimeout: *timeout})
					if nb != nil {
						fmt.Fprint(std.out, nb.Text())
						fmt.Fprintf(std.err, "executed notebook: %s (%.1fs)\n", written, time.Since(start).Seconds())
					}
					return err
				}
				res, err := notebook.Run(ctx, path, notebook.RunOptions{OutDir: *outDir, WorkDir: *keep, Stdout: std.out, Stderr: std.err})
				if res != nil && res.Program != nil {
					dir := *outDir
					if dir == "" {
						dir = notebook.DefaultOutDir(path)
					}
					fmt.Fprintf(std.err, "ran %d cells: export %.1fs, build %.1fs, run %.1fs; %d displays saved in %s\n",
						len(res.Program.Cells), res.Export.Seconds(), res.Build.Seconds(), res.Exec.Seconds(), len(res.Files), dir)
				}
				if errors.Is(err, context.Canceled) {
					return fmt.Errorf("interrupted")
				}
				return err
			}
		},
	}
}
