package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand. Each lives in its own file and is listed in commands().
type command struct {
	name    string
	summary string // one line for `ragnb help`
	usage   string // arguments after the name, e.g. "[flags] NOTEBOOK"
	// flags declares the command's flags on fs and returns the function that runs it with the remaining
	// positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, io *stdio, args []string) error
}

// stdio is where a command writes; tests pass buffers.
type stdio struct {
	out, err io.Writer
}

// usageError marks errors that should print the command's usage (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func commands() []*command {
	return []*command{
		versionCmd(),
		doctorCmd(),
		evalCmd(),
		generateCmd(),
		scoreCmd(),
		sampleTopNCmd(),
		mineCmd(),
		initModelCmd(),
		embedCmd(),
		trainCmd(),
		trainRerankerCmd(),
		cacheCmd(),
		kernelCmd(),
		runCmd(),
		exportCmd(),
		replCmd(),
		indexCmd(),
		askCmd(),
		serveCmd(),
		benchCmd(),
		trainAdapterCmd(),
		pushCmd(),
		importTracesCmd(),
		reviewCmd(),
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	std := &stdio{out: stdout, err: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "ragnb: unknown command %q\n\n", args[0])
		printHelp(stderr)
		return 2
	}
	fs := flag.NewFlagSet("ragnb "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	runFn := cmd.flags(fs)
	usage := func() {
		fmt.Fprintf(fs.Output(), "usage: ragnb %s %s\n\n%s\n", cmd.name, cmd.usage, cmd.summary)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	// During parsing the flag package prints Usage on -help before returning ErrHelp; help goes to stdout
	// once, after parsing, so keep it quiet there and print it below.
	fs.Usage = func() {}
	positional, err := parseInterspersed(fs, args[1:])
	fs.Usage = usage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		fmt.Fprintln(stderr)
		fs.Usage()
		return 2
	}
	if err := runFn(ctx, std, positional); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "ragnb %s: %s\n", cmd.name, ue.msg)
			fs.Usage()
			return 2
		}
		fmt.Fprintf(stderr, "ragnb %s: %v\n", cmd.name, err)
		return 1
	}
	return 0
}

// parseInterspersed parses flags placed before, between or after the positional arguments
// (`ragnb export NB.ipynb -o DIR`); everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "ragnb — fine-tune retrieval models for RAG, from documents to a production pipeline")
	fmt.Fprintln(w, "\nusage: ragnb COMMAND [flags] [args]\n\ncommands:")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\n`ragnb help COMMAND` or `ragnb COMMAND --help` documents every flag.")
}

// noArgs rejects positional arguments for commands that take none.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}
