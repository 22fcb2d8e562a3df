// Package gpu decides which GoMLX compute backend a process uses and reports why.
//
// It owns the choice (GOMLX_BACKEND, PJRT plugin discovery, the pure-Go fallback) and opening the
// chosen backend. It does not own model code: everything that runs on a backend receives it from here.
// Nothing here downloads anything: go-xla's plugin auto-install is always disabled, and a CUDA plugin
// is used only when it is already on disk.
package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Kind names a family of backends.
type Kind string

const (
	// KindGo is GoMLX's pure-Go backend (gomlx/compute/gobackend); SIMD matmul when built with GOEXPERIMENT=simd.
	KindGo Kind = "go"
	// KindXLA is XLA through a PJRT plugin (CUDA on GPU machines); needs cgo.
	KindXLA Kind = "xla"
)

// goConfig is the pure-Go backend's configuration. Unlimited parallelism because the bounded worker pool
// deadlocked on 2 cores with nested DotGeneral tasks (seen with GoMLX v0.26 and v0.28); the Go scheduler bounds real
// parallelism to GOMAXPROCS anyway.
const goConfig = "parallelism=-1"

// Choice is the decision, before anything is opened.
type Choice struct {
	Kind Kind
	// Plugin is the absolute path of the PJRT plugin when Kind is KindXLA.
	Plugin string
	// Options are backend options after the plugin (xla) or the Go backend's options.
	Options string
	// Requested is true when the user asked for this backend (GOMLX_BACKEND): failing to open it is then an error,
	// not a reason to fall back.
	Requested bool
	// Reason says in one line why this backend was chosen.
	Reason string
	// Searched lists, in order, the places looked at for a PJRT plugin.
	Searched []string
}

// Config is the GoMLX configuration string ("go:parallelism=-1", "xla:/abs/plugin.so").
func (c Choice) Config() string {
	switch c.Kind {
	case KindXLA:
		if c.Options != "" {
			return "xla:" + c.Plugin + "," + c.Options
		}
		return "xla:" + c.Plugin
	default:
		if c.Options != "" {
			return "go:" + c.Options
		}
		return "go"
	}
}

// Env is what discovery reads from the outside world. Tests fill it in; Choose(SystemEnv()) is the real thing.
type Env struct {
	// Getenv reads an environment variable ("" when unset).
	Getenv func(string) string
	// Home is the user's home directory ("" if unknown).
	Home string
	// Glob expands a filepath.Glob pattern; nil means filepath.Glob.
	Glob func(pattern string) ([]string, error)
	// IsFile reports whether path is an existing regular file (or a link to one); nil means os.Stat.
	IsFile func(path string) bool
}

// SystemEnv reads the real process environment and file system.
func SystemEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{Getenv: os.Getenv, Home: home}
}

func (e Env) glob(pattern string) []string {
	g := e.Glob
	if g == nil {
		g = filepath.Glob
	}
	m, _ := g(pattern) // only ErrBadPattern, impossible for our fixed patterns
	return m
}

func (e Env) isFile(path string) bool {
	if e.IsFile != nil {
		return e.IsFile(path)
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// ErrNotFound is wrapped by Choose when a requested plugin is not on disk.
var ErrNotFound = fmt.Errorf("PJRT plugin not found")

// Choose decides the backend without opening it:
//  1. GOMLX_BACKEND, when set, is obeyed ("go[:opts]", "xla:<name>[,opts]" or "xla:/abs/plugin.so[,opts]");
//     a named plugin that is not found is an error listing every place searched.
//  2. Otherwise XLA with a CUDA PJRT plugin when one is found on disk.
//  3. Otherwise the pure-Go backend.
func Choose(env Env) (Choice, error) {
	if cfg := strings.TrimSpace(env.Getenv("GOMLX_BACKEND")); cfg != "" {
		return chooseRequested(env, cfg)
	}
	path, searched := FindPlugin(env, "cuda")
	if path != "" {
		return Choice{Kind: KindXLA, Plugin: path, Options: fullFloat32(""), Searched: searched,
			Reason: "found a CUDA PJRT plugin at " + path}, nil
	}
	return Choice{Kind: KindGo, Options: goConfig, Searched: searched,
		Reason: "no CUDA PJRT plugin found; using the pure-Go backend"}, nil
}

func chooseRequested(env Env, cfg string) (Choice, error) {
	name, rest, _ := strings.Cut(cfg, ":")
	switch name {
	case "go":
		opts := rest
		if opts == "" {
			opts = goConfig
		}
		return Choice{Kind: KindGo, Options: opts, Requested: true, Reason: "GOMLX_BACKEND=" + cfg}, nil
	case "xla", "stablehlo", "hlo", "shlo":
		plugin, opts, _ := strings.Cut(rest, ",")
		if plugin == "" {
			plugin = "cuda" // what a user of this project means by "xla": the GPU
		}
		c := Choice{Kind: KindXLA, Options: fullFloat32(opts), Requested: true, Reason: "GOMLX_BACKEND=" + cfg}
		if filepath.IsAbs(plugin) {
			c.Searched = []string{plugin}
			if !env.isFile(plugin) {
				return c, fmt.Errorf("GOMLX_BACKEND=%s: %w: %s does not exist", cfg, ErrNotFound, plugin)
			}
			c.Plugin = plugin
			return c, nil
		}
		path, searched := FindPlugin(env, plugin)
		c.Searched = searched
		if path == "" {
			return c, fmt.Errorf("GOMLX_BACKEND=%s: %w: no %s in any of: %s", cfg, ErrNotFound,
				strings.Join(pluginFileNames(plugin), " or "), strings.Join(searched, ", "))
		}
		c.Plugin = path
		return c, nil
	default:
		return Choice{Requested: true}, fmt.Errorf("GOMLX_BACKEND=%s: unknown backend %q (want go or xla)", cfg, name)
	}
}

// fullFloat32 adds tf32=false to XLA options that say nothing of TF32. go-xla computes float32 products in TF32
// on CUDA unless told otherwise; torch does not (torch.backends.cuda.matmul.allow_tf32 is off by default), and
// ragnb's embeddings are held to float32 references, so full float32 is the default here too. A user's own
// tf32 / notf32 option is kept, and training turns TF32 on for its own run (train.Config.TF32, SetTF32).
func fullFloat32(opts string) string {
	for _, o := range strings.Split(opts, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(o), "=")
		if name == "tf32" || name == "notf32" {
			return opts
		}
	}
	if opts == "" {
		return "tf32=false"
	}
	return opts + ",tf32=false"
}

// pluginFileNames are the file names a PJRT plugin called name may have: go-xla's naming, and for CUDA the file
// that jax's jax-cuda*-pjrt wheels ship.
func pluginFileNames(name string) []string {
	names := []string{"pjrt_c_api_" + name + "_plugin.so"}
	if name == "cuda" {
		names = append(names, "xla_cuda_plugin.so")
	}
	return names
}

// FindPlugin looks for the PJRT plugin called name (e.g. "cuda", "cpu") and returns its absolute path ("" when
// absent) and every directory it searched, in order:
// PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla[/nvidia], /usr/local/lib/go-xla[/nvidia],
// for CUDA the jax_plugins/xla_cuda* folders of Python site-packages (jax-cuda12/13-pjrt), then LD_LIBRARY_PATH.
func FindPlugin(env Env, name string) (string, []string) {
	var dirs []string
	for _, d := range filepath.SplitList(env.Getenv("PJRT_PLUGIN_LIBRARY_PATH")) {
		dirs = append(dirs, d)
	}
	if env.Home != "" {
		dirs = append(dirs, filepath.Join(env.Home, ".local/lib/go-xla"), filepath.Join(env.Home, ".local/lib/go-xla/nvidia"))
	}
	dirs = append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia")
	if name == "cuda" {
		dirs = append(dirs, jaxPluginDirs(env)...)
	}
	dirs = append(dirs, filepath.SplitList(env.Getenv("LD_LIBRARY_PATH"))...)

	var searched []string
	files := pluginFileNames(name)
	for _, d := range dirs {
		if d == "" || slices.Contains(searched, d) {
			continue
		}
		searched = append(searched, d)
		for _, f := range files {
			p := filepath.Join(d, f)
			if env.isFile(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
				return p, searched
			}
		}
	}
	return "", searched
}

// jaxPluginDirs lists existing jax_plugins/xla_cuda* folders under the Python package directories a pip install
// could have used: the virtualenv, PYTHONPATH, the user's site and the system's site/dist-packages.
func jaxPluginDirs(env Env) []string {
	var roots []string
	if v := env.Getenv("VIRTUAL_ENV"); v != "" {
		roots = append(roots, filepath.Join(v, "lib/python3*/site-packages"))
	}
	roots = append(roots, filepath.SplitList(env.Getenv("PYTHONPATH"))...)
	if env.Home != "" {
		roots = append(roots, filepath.Join(env.Home, ".local/lib/python3*/site-packages"))
	}
	roots = append(roots,
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
		"/opt/conda/lib/python3*/site-packages")
	var dirs []string
	for _, r := range roots {
		if r == "" {
			continue
		}
		dirs = append(dirs, env.glob(filepath.Join(r, "jax_plugins/xla_cuda*"))...)
	}
	return dirs
}
