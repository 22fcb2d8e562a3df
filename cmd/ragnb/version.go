package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/ragnb/ragnb/gpu"
)

// version is set at link time by the Makefile (-X main.version=...); otherwise build info decides.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}

func versionCmd() *command {
	return &command{
		name:    "version",
		summary: "print the ragnb version, Go version and build settings",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("version", args); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "ragnb %s %s %s/%s simd=%v xla=%v\n", buildVersion(), runtime.Version(),
					runtime.GOOS, runtime.GOARCH, gpu.SIMD, gpu.XLACompiledIn)
				return nil
			}
		},
	}
}
