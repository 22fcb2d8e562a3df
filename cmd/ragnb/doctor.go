package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"

	"github.com/gomlx/compute"
	"golang.org/x/sys/cpu"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/kernel"
	"github.com/ragnb/ragnb/retrieval/weaviate"
)

func doctorCmd() *command {
	return &command{
		name:    "doctor",
		summary: "report the compute backend and device, build settings, notebook tools and cache directory",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			n := fs.Int("matmul", 512, "size n of the n×n float32 matmul run on the chosen backend as a smoke test (0 skips it)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("doctor", args); err != nil {
					return err
				}
				return doctor(std, *n)
			}
		},
	}
}

func doctor(std *stdio, matmulN int) error {
	w := std.out
	fmt.Fprintf(w, "ragnb     %s (%s, %s/%s, %d CPUs)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	simd := "on"
	if !gpu.SIMD {
		simd = "OFF — rebuild with GOEXPERIMENT=simd (the pure-Go matmul is ~20× slower without it)"
	}
	fmt.Fprintf(w, "simd      %s (AVX-512: %v, AVX2: %v)\n", simd, cpu.X86.HasAVX512F, cpu.X86.HasAVX2)
	fmt.Fprintf(w, "xla       compiled in: %v\n", gpu.XLACompiledIn)

	// Backend: choose, say why and where we looked, then prove it computes.
	var failed []string
	choice, err := gpu.Choose(gpu.SystemEnv())
	if err != nil {
		fmt.Fprintf(w, "backend   ERROR: %v\n", err)
		failed = append(failed, "backend")
	} else {
		b, err := gpu.Open(choice)
		if err != nil {
			fmt.Fprintf(w, "backend   ERROR: %v\n", err)
			failed = append(failed, "backend")
		} else {
			defer b.Finalize()
			fmt.Fprintf(w, "backend   %s\n", b.Summary())
			fmt.Fprintf(w, "          chosen because: %s\n", b.Choice.Reason)
			for d := 0; d < b.NumDevices(); d++ {
				fmt.Fprintf(w, "device    %d: %s\n", d, b.DeviceDescription(compute.DeviceNum(d)))
			}
			if matmulN > 0 {
				res, err := gpu.CheckMatMul(b, matmulN)
				if err != nil {
					fmt.Fprintf(w, "matmul    ERROR: %v\n", err)
					failed = append(failed, "matmul")
				} else {
					fmt.Fprintf(w, "matmul    %d×%d float32 ok: %.1f GFLOP/s, max |Δ| %.2g vs float64 reference\n",
						res.N, res.N, res.GFLOPs, res.MaxDiff)
				}
			}
		}
	}
	if len(choice.Searched) > 0 {
		fmt.Fprintf(w, "plugins   searched: %s\n", strings.Join(choice.Searched, ", "))
	}

	missing := false
	for _, s := range kernel.Check() {
		state := "ok"
		switch {
		case s.Path == "":
			state, missing = "missing", true
		case !s.OK():
			state, missing = fmt.Sprintf("version %s, want %s", s.Found, s.Version), true
		}
		want := s.Version
		if want == "" {
			want = "Debian " + s.Debian
		}
		fmt.Fprintf(w, "%-9s %s (%s) %s\n", s.Name, state, want, s.Path)
	}
	if missing {
		fmt.Fprintf(w, "          install the notebook tools with: %s\n", kernel.InstallHint)
	}
	fmt.Fprintf(w, "weaviate  %s\n", weaviateServerState())
	fmt.Fprintf(w, "cache     %s\n", cache.DefaultDir())
	if dir := cache.ProgramsDir(); dir == "" {
		fmt.Fprintf(w, "programs  off (%s=off): every cell is linked anew\n", cache.EnvPrograms)
	} else if list, err := cache.ListPrograms(dir); err != nil {
		fmt.Fprintf(w, "programs  %s: %v\n", dir, err)
	} else {
		var size int64
		for _, p := range list {
			size += p.Size
		}
		fmt.Fprintf(w, "programs  %s (%d built cell and notebook %s, %s)\n", dir, len(list), programWord(len(list)), humanBytes(size))
	}
	if len(failed) > 0 {
		return errors.New("failed: " + strings.Join(failed, ", "))
	}
	return nil
}

// weaviateServerState says whether the pinned weaviate-server (optional: index push tests, local serving) is
// installed.
func weaviateServerState() string {
	bin := weaviate.ServerBinary()
	v, err := weaviate.BinaryVersion(bin)
	switch {
	case err != nil:
		return fmt.Sprintf("missing (%s, optional; scripts/install-tools.sh builds it) %s", weaviate.ServerVersion, bin)
	case v != weaviate.ServerVersion:
		return fmt.Sprintf("version %s, want %s (scripts/install-tools.sh) %s", v, weaviate.ServerVersion, bin)
	}
	return fmt.Sprintf("ok (%s) %s", v, bin)
}
