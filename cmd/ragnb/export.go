package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/ragnb/ragnb/kernel/notebook"
)

func exportCmd() *command {
	return &command{
		name:    "export",
		summary: "export a GoNB notebook to a standalone Go program (main.go + go.mod) that builds offline",
		usage: "NOTEBOOK.ipynb -o DIR [flags]\n\n" +
			"Declarations of all cells are merged by name (a later cell's wins, as in GoNB); each cell that runs code\n" +
			"(%% or func main) becomes a function cellN called in order from main; % and ! lines are dropped and\n" +
			"listed in a comment; goimports adds missing imports. go.mod requires ragnb replaced by the checkout.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			out := fs.String("o", "", "output directory (required)")
			module := fs.String("module", "", "the ragnb checkout the program builds against (default: found from the working directory up)")
			build := fs.Bool("build", false, "also build the program in the output directory (offline) to check it compiles")
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) != 1 || *out == "" {
					return usagef("want one notebook and -o DIR")
				}
				nb, err := notebook.Read(args[0])
				if err != nil {
					return err
				}
				p, err := notebook.Export(ctx, nb, *out, notebook.ExportOptions{ModuleDir: *module, Source: args[0]})
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "exported %s to %s: %d cells run from main, %d lines dropped, %d redefinitions\n",
					args[0], *out, len(p.Cells), len(p.Dropped), len(p.Redefined))
				if *build {
					cmd := exec.CommandContext(ctx, "go", "build", "-o", "program", ".")
					cmd.Dir = *out
					cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOEXPERIMENT=simd")
					if b, err := cmd.CombinedOutput(); err != nil {
						return fmt.Errorf("build: %w\n%s", err, b)
					}
					fmt.Fprintf(std.out, "built %s/program\n", *out)
				}
				return nil
			}
		},
	}
}
