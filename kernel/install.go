package kernel

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/internal/atomicfile"

	"golang.org/x/mod/modfile"
)

// ModulePath is the module that the kernel preloads.
const ModulePath = "github.com/ragnb/ragnb"

// PreloadVersion is the placeholder version cells require; a replace directive points it at the checkout.
const PreloadVersion = "v0.0.0-00010101000000-000000000000"

// DisplayName is the kernel's name in Jupyter's menus.
const DisplayName = "Go (ragnb)"

// DefaultName is the kernelspec's directory name under <data dir>/kernels.
const DefaultName = "ragnb"

// EnvModuleDir is written into the kernelspec's env: the ragnb checkout that cells build against.
const EnvModuleDir = "RAGNB_MODULE_DIR"

// JupyterPackages are the Debian packages that provide Jupyter and headless execution (nbconvert/nbclient).
var JupyterPackages = []string{"jupyter-notebook", "python3-nbclient", "python3-nbconvert", "python3-ipykernel",
	"jupyter-client", "jupyter-nbconvert", "python3-numpy"}

// InstallOptions configure Install.
type InstallOptions struct {
	// ModuleDir is the ragnb checkout cells build against; "" finds it (see FindModuleDir).
	ModuleDir string
	// DataDir is Jupyter's data directory; "" is $JUPYTER_DATA_DIR or the per-user default (see DataDir).
	DataDir string
	// Name is the kernelspec directory name (default DefaultName).
	Name string
	// NoJupyter skips the Debian packages step (the kernelspec is still written).
	NoJupyter bool
	// NoGoTools skips installing GoNB, goimports and gopls (the kernelspec still refers to them).
	NoGoTools bool
	// RawError makes GoNB report errors as plain text rather than HTML.
	RawError bool
	// DryRun reports what would be done and changes nothing.
	DryRun bool
	// Out receives the output of the commands run (apt-get, go install); nil discards it.
	Out io.Writer
}

// Step is one thing Install or Uninstall did, or found already done, or (dry run) would do.
type Step struct {
	Name   string // "jupyter", "gonb", "modules", "wrapper", "kernelspec", ...
	Action string // "kept", "installed", "written", "unchanged", "removed", "would install", ...
	Detail string
	// Elapsed is how long the step took.
	Elapsed time.Duration
}

func (s Step) String() string {
	t := ""
	if s.Elapsed >= 100*time.Millisecond {
		t = fmt.Sprintf(" (%.1fs)", s.Elapsed.Seconds())
	}
	return fmt.Sprintf("%-10s %s%s: %s", s.Name, s.Action, t, s.Detail)
}

// DataDir is Jupyter's per-user data directory: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter (Linux) or
// ~/Library/Jupyter (macOS).
func DataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("jupyter data dir: %w", err)
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Jupyter"), nil
	}
	return filepath.Join(home, ".local", "share", "jupyter"), nil
}

// FindModuleDir returns the ragnb checkout: the first directory from start upward whose go.mod declares
// ModulePath, else the checkout this binary was built from (when its source is still there).
func FindModuleDir(start string) (string, error) {
	if start != "" {
		if abs, err := filepath.Abs(start); err == nil {
			for d := abs; ; d = filepath.Dir(d) {
				if isRagnbModule(d) {
					return d, nil
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if d := filepath.Dir(filepath.Dir(file)); isRagnbModule(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no checkout of %s found from %s upward nor where this binary was built: pass the module directory", ModulePath, start)
}

func isRagnbModule(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && modfile.ModulePath(data) == ModulePath
}

// Spec is a Jupyter kernelspec (kernel.json).
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env"`
}

// Layout is where an installation lives and what it points at.
type Layout struct {
	// SpecDir is <data dir>/kernels/<name>, holding kernel.json and bin/go.
	SpecDir string
	// ModuleDir is the ragnb checkout cells build against.
	ModuleDir string
	// GoNB, RealGo and GoBin are the kernel binary, the real go command and the directory of the Go tools.
	GoNB, RealGo, GoBin string
	RawError            bool
}

// WrapperPath is the `go` wrapper placed first on the kernel's PATH.
func (l Layout) WrapperPath() string { return filepath.Join(l.SpecDir, "bin", "go") }

// Spec returns the kernel.json content. Its env holds build settings only — never credentials: cells read API
// keys from the environment Jupyter was started with.
func (l Layout) Spec() Spec {
	// GoNB's log stays out of the terminal that runs Jupyter (errors still reach it). No -go_work: the
	// replace directive already gives gopls the checkout's source (prelude.X completes either way, measured),
	// and workspace mode would forbid GOFLAGS=-mod=mod in cells.
	argv := []string{l.GoNB, "--kernel", "{connection_file}",
		"--logtostderr=false", "--log_file=/dev/null", "--stderrthreshold=ERROR"}
	if l.RawError {
		argv = append(argv, "--raw_error=true")
	}
	path := []string{filepath.Dir(l.WrapperPath())}
	for _, d := range []string{l.GoBin, filepath.Dir(l.RealGo)} {
		if d != "" && d != "." && !contains(path, d) {
			path = append(path, d)
		}
	}
	return Spec{
		Argv:          argv,
		DisplayName:   DisplayName,
		Language:      "go",
		InterruptMode: "message",
		Env: map[string]string{
			// ${PATH} is expanded by jupyter_client (≥ 7) from the environment Jupyter runs in.
			"PATH":                  strings.Join(path, string(os.PathListSeparator)) + string(os.PathListSeparator) + "${PATH}",
			"GOEXPERIMENT":          "simd",
			"GOMLX_NO_AUTO_INSTALL": "1",
			// Cells never reach the module proxy: every module they need is the checkout's, already downloaded.
			"GOPROXY":     "off",
			"GOTOOLCHAIN": "local",
			EnvModuleDir:  l.ModuleDir,
		},
	}
}

// Wrapper returns the `go` wrapper script: it runs the real go, and when GoNB creates a cell module
// (`go mod init gonb_*`) it requires ragnb, replaces it by the checkout and copies the checkout's go.sum, so
// cells use prelude.X (and gota, plot, gonbui) with no setup cell, no import line and no module look-ups.
//
// Cell builds (`go build -o BIN`) go through cell_build, so that a cell that has not changed is not linked
// again. A prelude cell is a ~55 MB program whose link takes ~4.6 s on 2 cores, and GoNB links every cell as a
// new program in a directory and module named after the kernel session (gonb_<id>); both enter Go's action IDs,
// so even an identical cell in a new kernel would be linked anew. cell_build copies the cell's sources into a
// directory under the cell cache named after their content, with the module renamed gonb_ragnb, builds there
// and links the result to BIN. When that directory's program is up to date, Go's own build-ID check skips the
// link; the check covers every dependency and flag, so a changed prelude or toolchain still relinks. What the
// copy cannot carry (go.work, relative paths, //go:embed, cgo) builds in place as before. Builds link without
// DWARF (-ldflags=-w, 7.0 s → 4.6 s); a cell's own %goflags -ldflags come later on the command line and win.
func (l Layout) Wrapper() string {
	var b strings.Builder
	// The template is part of the binary and its fields are fixed: executing it cannot fail at run time
	// (TestWrapper* run it).
	if err := wrapperTemplate.Execute(&b, map[string]any{"DisplayName": DisplayName, "RealGo": l.RealGo,
		"ModuleDir": l.ModuleDir, "EnvPrograms": cache.EnvPrograms, "ProgramsSubdir": cache.ProgramsSubdir,
		"Keep": cache.KeepPrograms, "ModulePath": ModulePath, "PreloadVersion": PreloadVersion}); err != nil {
		panic(err)
	}
	return b.String()
}

// wrapperTemplate is the `go` wrapper script (wrapper.sh.tmpl), a text/template over the layout's paths.
var wrapperTemplate = template.Must(template.New("wrapper").Funcs(template.FuncMap{
	"shq": shellQuote,
	"inc": func(n int) int { return n + 1 },
}).Parse(wrapperScript))

//go:embed wrapper.sh.tmpl
var wrapperScript string

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Install installs what the "Go (ragnb)" kernel needs and the kernelspec itself: Jupyter from Debian (when
// missing), GoNB, goimports and gopls at the versions in Tools (when missing or at another version), the
// module downloads of the checkout, the prelude compiled into Go's build cache, the `go` wrapper and
// kernel.json. It is idempotent: what is already in place is kept and reported as such.
func Install(ctx context.Context, o InstallOptions) ([]Step, error) {
	var steps []Step
	add := func(s Step, start time.Time) { s.Elapsed = time.Since(start); steps = append(steps, s) }
	l, err := resolveLayout(o)
	if err != nil {
		return steps, err
	}

	start := time.Now()
	switch {
	case o.NoJupyter:
		add(Step{Name: "jupyter", Action: "skipped", Detail: "--no-jupyter"}, start)
	case JupyterOK():
		add(Step{Name: "jupyter", Action: "kept", Detail: DebianPython + " has nbconvert, nbclient and ipykernel"}, start)
	case o.DryRun:
		add(Step{Name: "jupyter", Action: "would install", Detail: "apt-get install " + strings.Join(JupyterPackages, " ")}, start)
	default:
		if err := installJupyter(ctx, o.Out); err != nil {
			return steps, err
		}
		add(Step{Name: "jupyter", Action: "installed", Detail: "Debian packages " + strings.Join(JupyterPackages, " ")}, start)
	}

	for _, s := range Check() {
		if s.Module == "" {
			continue
		}
		start := time.Now()
		where := filepath.Join(l.GoBin, s.Name)
		switch {
		case s.OK():
			add(Step{Name: s.Name, Action: "kept", Detail: s.Version + " at " + s.Path}, start)
		case o.NoGoTools:
			add(Step{Name: s.Name, Action: "MISSING", Detail: fmt.Sprintf("want %s at %s (found %q at %q); not installed: --no-go-tools", s.Version, where, s.Found, s.Path)}, start)
		case o.DryRun:
			add(Step{Name: s.Name, Action: "would install", Detail: s.Module + "@" + s.Version + " into " + where}, start)
		default:
			if err := installGoTool(ctx, s.Tool, l.GoBin, o.Out); err != nil {
				return steps, err
			}
			add(Step{Name: s.Name, Action: "installed", Detail: s.Module + "@" + s.Version + " into " + where}, start)
		}
	}
	if l.GoNB == "" {
		l.GoNB = filepath.Join(l.GoBin, "gonb")
	}

	// The module downloads, so cells never need the proxy; then the prelude and everything it imports (gomlx,
	// gota, plot, gonbui, …) compiled into Go's build cache with the kernel's settings, so that the notebook's
	// first cell does not spend minutes compiling them (2 min 20 s on 2 cores from an empty build cache);
	// already compiled, that takes a second.
	for _, g := range []struct {
		name, dry, did, detail string
		env, args              []string
	}{
		{"modules", "would download", "downloaded", "the modules of " + l.ModuleDir + " are in the module cache (cells build with GOPROXY=off)",
			nil, []string{"mod", "download"}},
		{"prebuild", "would build", "built", "the prelude and its dependencies are compiled in the Go build cache",
			[]string{"GOEXPERIMENT=simd", "GOTOOLCHAIN=local", "GOPROXY=off"}, []string{"build", "./prelude"}},
	} {
		start := time.Now()
		line := "go " + strings.Join(g.args, " ") + " in " + l.ModuleDir
		if o.DryRun {
			add(Step{Name: g.name, Action: g.dry, Detail: line}, start)
			continue
		}
		cmd := exec.CommandContext(ctx, l.RealGo, g.args...)
		cmd.Dir, cmd.Env = l.ModuleDir, append(os.Environ(), g.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return steps, fmt.Errorf("%s: %w\n%s", line, err, out)
		}
		add(Step{Name: g.name, Action: g.did, Detail: g.detail}, start)
	}

	spec, err := json.MarshalIndent(l.Spec(), "", "  ")
	if err != nil {
		return steps, err
	}
	for _, f := range []struct {
		name, path string
		data       []byte
		mode       os.FileMode
	}{
		{"wrapper", l.WrapperPath(), []byte(l.Wrapper()), 0o755},
		{"kernelspec", filepath.Join(l.SpecDir, "kernel.json"), append(spec, '\n'), 0o644},
	} {
		start := time.Now()
		action, err := writeIfChanged(f.path, f.data, f.mode, o.DryRun)
		if err != nil {
			return steps, err
		}
		add(Step{Name: f.name, Action: action, Detail: f.path}, start)
	}

	if !o.DryRun && JupyterOK() {
		start := time.Now()
		dir, err := JupyterKernelDir(ctx, l.DataDirOf(), filepath.Base(l.SpecDir))
		if err != nil {
			return steps, err
		}
		if dir != l.SpecDir {
			return steps, fmt.Errorf("jupyter finds kernel %q at %q, not at %q", filepath.Base(l.SpecDir), dir, l.SpecDir)
		}
		add(Step{Name: "check", Action: "ok", Detail: "jupyter kernelspec list shows " + filepath.Base(l.SpecDir) + " at " + dir}, start)
	}
	return steps, nil
}

// DataDirOf is the Jupyter data directory holding the kernelspec.
func (l Layout) DataDirOf() string { return filepath.Dir(filepath.Dir(l.SpecDir)) }

func resolveLayout(o InstallOptions) (Layout, error) {
	var l Layout
	var err error
	l.ModuleDir = o.ModuleDir
	if l.ModuleDir == "" {
		wd, _ := os.Getwd()
		if l.ModuleDir, err = FindModuleDir(wd); err != nil {
			return l, err
		}
	} else if l.ModuleDir, err = filepath.Abs(l.ModuleDir); err != nil {
		return l, err
	}
	if !isRagnbModule(l.ModuleDir) {
		return l, fmt.Errorf("%s: go.mod does not declare module %s", l.ModuleDir, ModulePath)
	}
	dataDir := o.DataDir
	if dataDir == "" {
		if dataDir, err = DataDir(); err != nil {
			return l, err
		}
	}
	if dataDir, err = filepath.Abs(dataDir); err != nil {
		return l, err
	}
	name := o.Name
	if name == "" {
		name = DefaultName
	}
	l.SpecDir = filepath.Join(dataDir, "kernels", name)
	l.RawError = o.RawError
	if l.RealGo, err = realGo(); err != nil {
		return l, err
	}
	l.GoBin = GoBinDirs()[0]
	for _, s := range Check() {
		if s.Name == "gonb" && s.Path != "" {
			l.GoNB = s.Path
			l.GoBin = filepath.Dir(s.Path)
		}
	}
	return l, nil
}

// realGo is the absolute path of the real go command ($(go env GOROOT)/bin/go): asking go itself resolves
// through a kernel wrapper when this runs inside the kernel.
func realGo() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	out, err := exec.Command(p, "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("%s env GOROOT: %w", p, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "go"), nil
}

// writeIfChanged writes data unless the file already holds it; it returns what it did.
func writeIfChanged(path string, data []byte, mode os.FileMode, dryRun bool) (string, error) {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, data) {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm() == mode {
			return "unchanged", nil
		}
	}
	if dryRun {
		return "would write", nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.WriteBytesMode(path, data, mode); err != nil {
		return "", err
	}
	return "written", nil
}

// JupyterOK reports whether Debian's Jupyter is installed with what headless execution needs.
func JupyterOK() bool {
	if _, err := os.Stat("/usr/bin/jupyter"); err != nil {
		return false
	}
	return exec.Command(DebianPython, "-c", "import nbclient, nbconvert, ipykernel").Run() == nil
}

// JupyterKernelDir asks Jupyter where it finds the kernelspec name when its data directory is dataDir.
func JupyterKernelDir(ctx context.Context, dataDir, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "/usr/bin/jupyter", "kernelspec", "list", "--json")
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+dataDir, "PYDEVD_DISABLE_FILE_VALIDATION=1")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("jupyter kernelspec list: %w", err)
	}
	var list struct {
		Kernelspecs map[string]struct {
			ResourceDir string `json:"resource_dir"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return "", fmt.Errorf("jupyter kernelspec list: %w", err)
	}
	ks, ok := list.Kernelspecs[name]
	if !ok {
		names := make([]string, 0, len(list.Kernelspecs))
		for n := range list.Kernelspecs {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("jupyter does not list kernel %q (it lists %s)", name, strings.Join(names, ", "))
	}
	return ks.ResourceDir, nil
}

func installJupyter(ctx context.Context, out io.Writer) error {
	var prefix []string
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			return errors.New("installing Jupyter needs root (apt-get) and sudo is missing: run as root or install " + strings.Join(JupyterPackages, " "))
		}
		prefix = []string{"sudo"}
	}
	run := func(args ...string) error {
		args = append(prefix, args...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run("apt-get", "update", "-qq"); err != nil {
		return err
	}
	if err := run(append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, JupyterPackages...)...); err != nil {
		return err
	}
	if !JupyterOK() {
		return errors.New("Jupyter packages installed but " + DebianPython + " cannot import nbclient, nbconvert and ipykernel")
	}
	return nil
}

// installGoTool installs t at its pinned version into gobin. The module proxy here answers `@latest` and
// version lists with 403 and `go install M@v` can trip on that; resolving the exact version inside a throwaway
// module and installing from it works.
func installGoTool(ctx context.Context, t Tool, gobin string, out io.Writer) error {
	tmp, err := os.MkdirTemp("", "ragnb-tools-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	env := append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	for _, args := range [][]string{{"mod", "init", "ragnb-tools"}, {"get", t.Module + "@" + t.Version}, {"install", t.Module}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir, cmd.Env = tmp, env
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if out != nil {
			cmd.Stdout, cmd.Stderr = io.MultiWriter(&buf, out), io.MultiWriter(&buf, out)
		}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install %s %s: go %s: %w\n%s", t.Name, t.Version, strings.Join(args, " "), err, buf.String())
		}
	}
	return nil
}

// Installation is a kernelspec found on disk.
type Installation struct {
	SpecDir   string
	Spec      Spec
	ModuleDir string
}

// Installed reads the kernelspec name from dataDir ("" = DataDir()); it errors when it is missing or was not
// written by ragnb.
func Installed(dataDir, name string) (*Installation, error) {
	if dataDir == "" {
		d, err := DataDir()
		if err != nil {
			return nil, err
		}
		dataDir = d
	}
	if name == "" {
		name = DefaultName
	}
	dir := filepath.Join(dataDir, "kernels", name)
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return nil, fmt.Errorf("kernel %q: %w", name, err)
	}
	var spec Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "kernel.json"), err)
	}
	mod, ok := spec.Env[EnvModuleDir]
	if !ok || spec.DisplayName != DisplayName {
		return nil, fmt.Errorf("%s was not written by ragnb kernel install (display name %q)", dir, spec.DisplayName)
	}
	return &Installation{SpecDir: dir, Spec: spec, ModuleDir: mod}, nil
}

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	DataDir, Name string
	DryRun        bool
}

// Uninstall removes the kernelspec written by Install (kernel.json and the go wrapper). The Go tools and the
// Debian packages stay: other kernels and programs may use them.
func Uninstall(o UninstallOptions) ([]Step, error) {
	inst, err := Installed(o.DataDir, o.Name)
	if errors.Is(err, os.ErrNotExist) {
		return []Step{{Name: "kernelspec", Action: "absent", Detail: "nothing to remove"}}, nil
	}
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		return []Step{{Name: "kernelspec", Action: "would remove", Detail: inst.SpecDir}}, nil
	}
	if err := os.RemoveAll(inst.SpecDir); err != nil {
		return nil, err
	}
	return []Step{{Name: "kernelspec", Action: "removed", Detail: inst.SpecDir + " (GoNB, goimports, gopls and Jupyter are kept)"}}, nil
}
