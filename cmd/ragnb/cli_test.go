package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		code, out, errOut := runCLI(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "usage: ragnb "+c.name) || !strings.Contains(out, c.summary) {
			t.Errorf("%s --help: code %d, output %q", c.name, code, out)
		}
		if strings.Count(out, "usage:") != 1 || errOut != "" {
			t.Errorf("%s --help: usage must be printed once, to stdout; stdout %q stderr %q", c.name, out, errOut)
		}
		code, out2, _ := runCLI(t, "help", c.name)
		if code != 0 || out2 != out {
			t.Errorf("help %s differs from %s --help", c.name, c.name)
		}
	}
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "doctor") || !strings.Contains(out, "version") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestUnknownCommandAndFlags(t *testing.T) {
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "doctor", "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code, _, errOut := runCLI(t, "version", "extra"); code != 2 || !strings.Contains(errOut, "unexpected arguments") {
		t.Errorf("extra argument: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "ragnb ") || !strings.Contains(out, "simd=") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestDoctorReportsGoBackendAndRunsMatmul(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	t.Setenv("RAGNB_CACHE", "/tmp/ragnb-doctor-test-cache")
	programs := t.TempDir()
	t.Setenv("RAGNB_CELL_CACHE", programs)
	os.MkdirAll(filepath.Join(programs, "0123abcd", "x"), 0o755)
	os.WriteFile(filepath.Join(programs, "0123abcd", "prog"), make([]byte, 3<<20), 0o755)
	code, out, errOut := runCLI(t, "doctor", "--matmul", "64")
	if code != 0 {
		t.Fatalf("doctor exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"Go Portable Compute Backend (parallelism=-1)", "matmul    64×64 float32 ok",
		"cache     /tmp/ragnb-doctor-test-cache", "programs  " + programs + " (1 built cell and notebook program, 3.0 MiB)",
		"gonb", "jupyter"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

func TestDoctorFailsFastOnMissingRequestedPlugin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOMLX_BACKEND", "xla:cuda")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	code, out, errOut := runCLI(t, "doctor")
	if code != 1 {
		t.Fatalf("doctor exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "pjrt_c_api_cuda_plugin.so") || !strings.Contains(out, dir) || !strings.Contains(errOut, "backend") {
		t.Errorf("the error must name the plugin and the searched paths:\n%s\n%s", out, errOut)
	}
}
