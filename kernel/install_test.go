package kernel

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func moduleDir(t testing.TB) string {
	t.Helper()
	wd, _ := os.Getwd()
	dir, err := FindModuleDir(wd)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func actions(steps []Step) map[string]string {
	m := map[string]string{}
	for _, s := range steps {
		m[s.Name] = s.Action
	}
	return m
}

func TestFindModuleDirWalksUp(t *testing.T) {
	dir := moduleDir(t)
	got, err := FindModuleDir(filepath.Join(dir, "kernel"))
	if err != nil || got != dir {
		t.Errorf("from kernel/: %q, %v; want %q", got, err, dir)
	}
	if !isRagnbModule(dir) || isRagnbModule(filepath.Join(dir, "kernel")) {
		t.Error("isRagnbModule must accept the module root only")
	}
	// From outside any checkout it falls back to the checkout this test binary was built from.
	if got, err := FindModuleDir(t.TempDir()); err != nil || got != dir {
		t.Errorf("fallback: %q, %v", got, err)
	}
}

func TestInstallWritesKernelspecIdempotentlyAndUninstalls(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-secret-for-test")
	data := t.TempDir()
	mod := moduleDir(t)
	opts := InstallOptions{ModuleDir: mod, DataDir: data, NoJupyter: true, NoGoTools: true}

	// Dry run: nothing written.
	dry := opts
	dry.DryRun = true
	steps, err := Install(context.Background(), dry)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(steps); a["wrapper"] != "would write" || a["kernelspec"] != "would write" || a["modules"] != "would download" ||
		a["prebuild"] != "would build" {
		t.Errorf("dry run steps: %v", steps)
	}
	if _, err := os.Stat(filepath.Join(data, "kernels")); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote files: %v", err)
	}

	steps, err = Install(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(steps); a["wrapper"] != "written" || a["kernelspec"] != "written" || a["jupyter"] != "skipped" ||
		a["prebuild"] != "built" {
		t.Errorf("first install: %v", steps)
	}
	specDir := filepath.Join(data, "kernels", "ragnb")
	raw, err := os.ReadFile(filepath.Join(specDir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("sk-secret")) {
		t.Fatal("kernel.json holds a secret from the environment")
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, " "); got != "GOEXPERIMENT GOMLX_NO_AUTO_INSTALL GOPROXY GOTOOLCHAIN PATH RAGNB_MODULE_DIR" {
		t.Errorf("env keys %s", got)
	}
	if spec.DisplayName != "Go (ragnb)" || spec.Env["GOEXPERIMENT"] != "simd" || spec.Env["GOPROXY"] != "off" ||
		spec.Env[EnvModuleDir] != mod || !strings.HasPrefix(spec.Env["PATH"], filepath.Join(specDir, "bin")+":") ||
		!strings.HasSuffix(spec.Env["PATH"], ":${PATH}") {
		t.Errorf("spec: %+v", spec)
	}
	if len(spec.Argv) < 3 || filepath.Base(spec.Argv[0]) != "gonb" || spec.Argv[1] != "--kernel" ||
		spec.Argv[2] != "{connection_file}" {
		t.Errorf("argv %q", spec.Argv)
	}
	if st, err := os.Stat(filepath.Join(specDir, "bin", "go")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("wrapper: %v %v", st, err)
	}
	inst, err := Installed(data, "")
	if err != nil || inst.ModuleDir != mod || inst.SpecDir != specDir {
		t.Errorf("Installed: %+v %v", inst, err)
	}

	// Second install: nothing changes.
	steps, err = Install(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(steps); a["wrapper"] != "unchanged" || a["kernelspec"] != "unchanged" {
		t.Errorf("second install: %v", steps)
	}

	if steps, err := Uninstall(UninstallOptions{DataDir: data, DryRun: true}); err != nil || steps[0].Action != "would remove" {
		t.Errorf("dry uninstall: %v %v", steps, err)
	}
	if steps, err := Uninstall(UninstallOptions{DataDir: data}); err != nil || steps[0].Action != "removed" {
		t.Errorf("uninstall: %v %v", steps, err)
	}
	if _, err := os.Stat(specDir); !os.IsNotExist(err) {
		t.Errorf("spec dir still there: %v", err)
	}
	if steps, err := Uninstall(UninstallOptions{DataDir: data}); err != nil || steps[0].Action != "absent" {
		t.Errorf("second uninstall: %v %v", steps, err)
	}
}

func TestUninstallRefusesForeignKernelspec(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "kernels", "ragnb")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "kernel.json"), []byte(`{"argv":["x"],"display_name":"Go (gonb)","env":{}}`), 0o644)
	if _, err := Uninstall(UninstallOptions{DataDir: data}); err == nil || !strings.Contains(err.Error(), "not written by ragnb") {
		t.Errorf("want refusal, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
		t.Error("foreign kernelspec removed")
	}
}

// kernelShell installs the kernelspec into a temporary Jupyter data dir and returns it with a function that runs a
// command in dir with the kernel's environment, resolving name on the kernel's PATH as GoNB does (exec.Command
// alone would use this test's PATH). extraEnv is appended to that environment.
func kernelShell(t testing.TB, extraEnv ...string) (*Installation, func(dir, name string, args ...string) (string, error)) {
	t.Helper()
	data := t.TempDir()
	if _, err := Install(context.Background(), InstallOptions{ModuleDir: moduleDir(t), DataDir: data, NoJupyter: true, NoGoTools: true}); err != nil {
		t.Fatal(err)
	}
	inst, err := Installed(data, "")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+strings.ReplaceAll(inst.Spec.Env["PATH"], "${PATH}", os.Getenv("PATH")),
		"GOPROXY=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOEXPERIMENT=simd")
	env = append(env, extraEnv...)
	return inst, func(dir, name string, args ...string) (string, error) {
		cmd := exec.Command("sh", append([]string{"-c", `exec "$0" "$@"`, name}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

// TestWrapperPreloadsPrelude does what GoNB does at kernel start — `go mod init gonb_<id>` through the kernel's
// PATH — then builds and runs a cell that uses prelude.X with no import setup, with the module proxy off.
func TestWrapperPreloadsPrelude(t *testing.T) {
	mod := moduleDir(t)
	inst, sh := kernelShell(t, "RAGNB_CELL_CACHE="+t.TempDir())
	cell := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := sh(cell, name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	// The wrapper is what `go` resolves to on the kernel's PATH.
	if got := strings.TrimSpace(run("sh", "-c", "command -v go")); got != filepath.Join(inst.SpecDir, "bin", "go") {
		t.Fatalf("go on the kernel PATH is %q", got)
	}
	run("go", "mod", "init", "gonb_0123abcd")
	gomod, _ := os.ReadFile(filepath.Join(cell, "go.mod"))
	if !strings.Contains(string(gomod), "replace "+ModulePath+" => "+mod) || !strings.Contains(string(gomod), ModulePath+" "+PreloadVersion) {
		t.Errorf("go.mod:\n%s", gomod)
	}
	sum, _ := os.ReadFile(filepath.Join(cell, "go.sum"))
	want, _ := os.ReadFile(filepath.Join(mod, "go.sum"))
	if !bytes.Equal(sum, want) {
		t.Error("go.sum is not the checkout's")
	}
	os.WriteFile(filepath.Join(cell, "main.go"), []byte(`package main

import (
	"fmt"

	"github.com/ragnb/ragnb/prelude"
)

func main() { fmt.Println("backend:", prelude.BackendInfo()) }
`), 0o644)
	run("go", "build", "-o", "cell", ".")
	if out := run(filepath.Join(cell, "cell")); !strings.HasPrefix(out, "backend: ") || strings.Contains(out, "error") {
		t.Errorf("cell output %q", out)
	}
	// Cells link without DWARF (the wrapper's -ldflags=-w): a third less link time per cell.
	bin, err := elf.Open(filepath.Join(cell, "cell"))
	if err != nil {
		t.Fatal(err)
	}
	if sec := bin.Section(".debug_info"); sec != nil {
		t.Error("the cell binary has DWARF: the wrapper did not add -ldflags=-w")
	}
	bin.Close()

	// A module the user creates (not GoNB's gonb_*) is left alone.
	other := t.TempDir()
	if out, err := sh(other, "go", "mod", "init", "example.com/mine"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if gomod, _ := os.ReadFile(filepath.Join(other, "go.mod")); strings.Contains(string(gomod), ModulePath) {
		t.Errorf("user module was changed:\n%s", gomod)
	}
}

// linked matches the link command in `go build -x` output: present when Go linked the program.
var linked = regexp.MustCompile(`(?m)/link -o `)

// TestWrapperReusesUnchangedCells builds cells the way GoNB does (a gonb_<id> module per kernel session, `go build
// -o DIR/gonb_<id>`) through the kernel's wrapper: the same cell in a second session is found up to date and not
// linked again, a changed cell is linked, a broken cell fails with GoNB's ./main.go:LINE:COL positions, and
// RAGNB_CELL_CACHE=off builds in place.
func TestWrapperReusesUnchangedCells(t *testing.T) {
	cells := t.TempDir()
	_, sh := kernelShell(t, "RAGNB_CELL_CACHE="+cells)
	// session starts a kernel session: GoNB's temporary directory and module, and the cell's main.go.
	session := func(id, src string) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "gonb_"+id)
		os.Mkdir(dir, 0o700)
		if out, err := sh(dir, "go", "mod", "init", "gonb_"+id); err != nil {
			t.Fatalf("mod init: %v\n%s", err, out)
		}
		os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644)
		return dir
	}
	// build builds the session's cell with -x (Go prints the commands it runs) and runs the program.
	build := func(dir string) (buildOut, runOut string, err error) {
		t.Helper()
		bin := filepath.Join(dir, filepath.Base(dir))
		if buildOut, err = sh(dir, "go", "build", "-o", bin, "-x"); err != nil {
			return buildOut, "", err
		}
		runOut, err = sh(dir, bin)
		return buildOut, runOut, err
	}
	entries := func() int {
		e, _ := os.ReadDir(cells)
		return len(e)
	}
	const cell = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"cell one\") }\n"

	first := session("0000aaaa", cell)
	bo, ro, err := build(first)
	if err != nil || ro != "cell one\n" || !linked.MatchString(bo) {
		t.Fatalf("first session: %v, printed %q, linked %v\n%s", err, ro, linked.MatchString(bo), bo)
	}
	second := session("1111bbbb", cell)
	bo, ro, err = build(second)
	if err != nil || ro != "cell one\n" {
		t.Fatalf("second session: %v, printed %q\n%s", err, ro, bo)
	}
	if linked.MatchString(bo) {
		t.Errorf("the unchanged cell was linked again in a new session:\n%s", bo)
	}
	if n := entries(); n != 1 {
		t.Errorf("%d cell programs cached, want 1", n)
	}

	os.WriteFile(filepath.Join(second, "main.go"), []byte(strings.Replace(cell, "cell one", "cell two", 1)), 0o644)
	if bo, ro, err = build(second); err != nil || ro != "cell two\n" || !linked.MatchString(bo) {
		t.Errorf("changed cell: %v, printed %q, linked %v\n%s", err, ro, linked.MatchString(bo), bo)
	}
	// The first session's program is still its own (the sessions' binaries are links to cached programs).
	if _, ro, err = build(first); err != nil || ro != "cell one\n" {
		t.Errorf("first session after the second changed: %v, printed %q", err, ro)
	}

	os.WriteFile(filepath.Join(second, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	if bo, _, err = build(second); err == nil || !strings.Contains(bo, "./main.go:3:15: undefined: undefinedThing") {
		t.Errorf("broken cell: %v\n%s", err, bo)
	}

	before := entries()
	_, sh = kernelShell(t, "RAGNB_CELL_CACHE=off")
	off := session("2222cccc", strings.Replace(cell, "cell one", "cell three", 1))
	if bo, ro, err = build(off); err != nil || ro != "cell three\n" || !linked.MatchString(bo) {
		t.Errorf("RAGNB_CELL_CACHE=off: %v, printed %q\n%s", err, ro, bo)
	}
	if n := entries(); n != before {
		t.Errorf("RAGNB_CELL_CACHE=off added to the cache: %d → %d entries", before, n)
	}
}

func TestWrapperQuotesPaths(t *testing.T) {
	l := Layout{RealGo: "/opt/it's go/bin/go", ModuleDir: "/src/a b"}
	w := l.Wrapper()
	if !strings.Contains(w, `REAL_GO='/opt/it'\''s go/bin/go'`) || !strings.Contains(w, `RAGNB_MODULE_DIR='/src/a b'`) {
		t.Errorf("wrapper:\n%s", w)
	}
	if out, err := exec.Command("sh", "-n", "-c", w).CombinedOutput(); err != nil {
		t.Errorf("wrapper is not valid sh: %v %s", err, out)
	}
}
