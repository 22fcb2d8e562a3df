package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/ragnb/ragnb/kernel/repl"
)

func replCmd() *command {
	return &command{
		name:    "repl",
		summary: "interactive Go REPL (yaegi) with the prelude loaded, or run a script with `ragnb repl script.go`",
		usage: "[flags] [script.go]\n\n" +
			"At a terminal: line editing, history (arrow keys), multi-line input while brackets are open; errors are\n" +
			"printed and the session goes on; Ctrl-C interrupts an evaluation, Ctrl-D ends the session. Piped input is\n" +
			"evaluated the same way without prompts. A script is a sequence of REPL inputs (or a package main\n" +
			"program) and stops at its first error with exit status 1. yaegi v0.16.1 limits: no generics from\n" +
			"compiled packages, no interpreted min/max, no range over int or func (use a classic for loop).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			home, _ := os.UserHomeDir()
			history := fs.String("history", filepath.Join(home, ".ragnb_history"), `history file of the interactive session ("" keeps none)`)
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) > 1 {
					return usagef("at most one script")
				}
				s, err := repl.New(repl.Options{Stdout: std.out, Stderr: std.err})
				if err != nil {
					return err
				}
				if len(args) == 1 {
					return s.RunScript(ctx, args[0])
				}
				if std.out == os.Stdout && term.IsTerminal(int(os.Stdin.Fd())) {
					fmt.Fprintln(std.out, "ragnb REPL (yaegi) — prelude loaded; Ctrl-D to quit")
					// The session handles Ctrl-C itself (it interrupts the running input), so the process-wide
					// interrupt must not end it.
					return s.RunTerminal(context.WithoutCancel(ctx), os.Stdin, std.out, *history)
				}
				if err := s.Run(ctx, os.Stdin, nil); err != nil {
					return err
				}
				if n := s.Errors(); n > 0 {
					return fmt.Errorf("%d inputs failed", n)
				}
				return nil
			}
		},
	}
}
