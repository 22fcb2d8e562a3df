// Command ragnb is the terminal face of the ragnb library: every subcommand parses flags, calls the same
// library functions the notebook prelude uses, and prints the result.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C cancels the context so long runs stop cleanly (partial results already written stay written).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
