package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ragnb/ragnb/kernel"
)

func kernelCmd() *command {
	return &command{
		name:    "kernel",
		summary: `install or uninstall the "Go (ragnb)" Jupyter kernel (GoNB with the prelude preloaded) and its tools`,
		usage: "install|uninstall [flags]\n\n" +
			"install: Jupyter from Debian when missing (apt-get, needs root or sudo), GoNB, goimports and gopls at\n" +
			"the pinned versions, the checkout's modules, the prelude compiled into Go's build cache (minutes the\n" +
			"first time, so the first cell does not), and the kernelspec whose go wrapper preloads the prelude and\n" +
			"keeps each cell's program in $RAGNB_CELL_CACHE (default ~/.cache/ragnb/cells, \"off\" disables), so an\n" +
			"unchanged cell is not linked again (`ragnb cache ls|clear --programs`).\n" +
			"Idempotent. uninstall removes the kernelspec only (tools and Jupyter stay).",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			dryRun := fs.Bool("dry-run", false, "print what would be done and change nothing")
			module := fs.String("module", "", "the ragnb checkout cells build against (default: found from the working directory up, else where this binary was built)")
			dataDir := fs.String("data-dir", "", "Jupyter data directory (default $JUPYTER_DATA_DIR or ~/.local/share/jupyter)")
			name := fs.String("name", kernel.DefaultName, "kernelspec name")
			noJupyter := fs.Bool("no-jupyter", false, "install: skip the Debian Jupyter packages")
			noGoTools := fs.Bool("no-go-tools", false, "install: do not install GoNB, goimports, gopls (report them if missing)")
			rawError := fs.Bool("raw-error", false, "install: GoNB reports errors as plain text instead of HTML")
			return func(ctx context.Context, std *stdio, args []string) error {
				if len(args) != 1 {
					return usagef("want install or uninstall")
				}
				var steps []kernel.Step
				var err error
				switch args[0] {
				case "install":
					steps, err = kernel.Install(ctx, kernel.InstallOptions{ModuleDir: *module, DataDir: *dataDir, Name: *name,
						NoJupyter: *noJupyter, NoGoTools: *noGoTools, RawError: *rawError, DryRun: *dryRun, Out: std.err})
				case "uninstall":
					steps, err = kernel.Uninstall(kernel.UninstallOptions{DataDir: *dataDir, Name: *name, DryRun: *dryRun})
				default:
					return usagef("unknown action %q: want install or uninstall", args[0])
				}
				for _, s := range steps {
					fmt.Fprintln(std.out, s)
				}
				return err
			}
		},
	}
}
