package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeEnv is an Env over a temp dir: vars as given, home inside the temp dir, real file system.
func fakeEnv(t *testing.T, vars map[string]string) (Env, string) {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return Env{Getenv: func(k string) string { return vars[k] }, Home: home}, root
}

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not really a plugin"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestChooseFindsPluginInPJRTPath(t *testing.T) {
	dir := t.TempDir()
	plugin := touch(t, filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"))
	env, _ := fakeEnv(t, map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/nonexistent:" + dir})
	c, err := Choose(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindXLA || c.Plugin != plugin || c.Requested {
		t.Fatalf("got %+v, want auto-detected xla with %s", c, plugin)
	}
	if c.Config() != "xla:"+plugin+",tf32=false" {
		t.Errorf("Config() = %q", c.Config())
	}
	if len(c.Searched) != 2 || c.Searched[0] != "/nonexistent" || c.Searched[1] != dir {
		t.Errorf("Searched = %v, want the PJRT path entries first, stopping at the hit", c.Searched)
	}
}

func TestChooseFindsPluginInGoXLAHome(t *testing.T) {
	env, _ := fakeEnv(t, nil)
	plugin := touch(t, filepath.Join(env.Home, ".local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so"))
	c, err := Choose(env)
	if err != nil || c.Plugin != plugin {
		t.Fatalf("got %+v, %v; want %s", c, err, plugin)
	}
}

func TestChooseFindsJaxCUDAPluginInSitePackages(t *testing.T) {
	venv := t.TempDir()
	plugin := touch(t, filepath.Join(venv, "lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"))
	env, _ := fakeEnv(t, map[string]string{"VIRTUAL_ENV": venv})
	c, err := Choose(env)
	if err != nil || c.Kind != KindXLA || c.Plugin != plugin {
		t.Fatalf("got %+v, %v; want the jax plugin %s", c, err, plugin)
	}
}

func TestChooseFindsPluginInLDLibraryPath(t *testing.T) {
	dir := t.TempDir()
	plugin := touch(t, filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"))
	env, _ := fakeEnv(t, map[string]string{"LD_LIBRARY_PATH": dir})
	c, err := Choose(env)
	if err != nil || c.Plugin != plugin {
		t.Fatalf("got %+v, %v; want %s", c, err, plugin)
	}
}

func TestChooseIgnoresOtherPlugins(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")) // a CPU plugin is no reason to leave the Go backend
	touch(t, filepath.Join(dir, "cuda_plugin.so.txt"))
	env, _ := fakeEnv(t, map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": dir})
	c, err := Choose(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindGo || c.Options != goConfig || c.Requested {
		t.Fatalf("got %+v, want the Go fallback", c)
	}
	if !slices.Contains(c.Searched, dir) || !slices.Contains(c.Searched, "/usr/local/lib/go-xla") {
		t.Errorf("fallback should list what was searched, got %v", c.Searched)
	}
}

func TestChooseFallsBackToGo(t *testing.T) {
	env, _ := fakeEnv(t, nil)
	c, err := Choose(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindGo || c.Config() != "go:"+goConfig {
		t.Fatalf("got %+v / %q", c, c.Config())
	}
}

func TestChooseRequested(t *testing.T) {
	dir := t.TempDir()
	cpu := touch(t, filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"))
	abs := touch(t, filepath.Join(dir, "custom.so"))
	for _, tc := range []struct {
		backend  string
		kind     Kind
		plugin   string
		options  string
		errorHas []string
	}{
		{backend: "go", kind: KindGo, options: goConfig},
		{backend: "go:parallelism=2", kind: KindGo, options: "parallelism=2"},
		{backend: "xla:cpu", kind: KindXLA, plugin: cpu, options: "tf32=false"},
		{backend: "xla:cpu,preallocate=false", kind: KindXLA, plugin: cpu, options: "preallocate=false,tf32=false"},
		{backend: "xla:cpu,tf32=true", kind: KindXLA, plugin: cpu, options: "tf32=true"},
		{backend: "xla:" + abs + ",notf32", kind: KindXLA, plugin: abs, options: "notf32"},
		{backend: "xla:cuda", errorHas: []string{"pjrt_c_api_cuda_plugin.so", "xla_cuda_plugin.so", dir, "/usr/local/lib/go-xla"}},
		{backend: "xla", errorHas: []string{"cuda", dir}},
		{backend: "xla:/no/such/plugin.so", errorHas: []string{"/no/such/plugin.so"}},
		{backend: "tpu", errorHas: []string{"unknown backend"}},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			env, _ := fakeEnv(t, map[string]string{"GOMLX_BACKEND": tc.backend, "PJRT_PLUGIN_LIBRARY_PATH": dir})
			c, err := Choose(env)
			if tc.errorHas != nil {
				if err == nil {
					t.Fatalf("want an error, got %+v", c)
				}
				for _, s := range tc.errorHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tc.kind || c.Plugin != tc.plugin || c.Options != tc.options || !c.Requested {
				t.Fatalf("got %+v", c)
			}
		})
	}
}

func TestRequestedXLAFailsToOpen(t *testing.T) {
	dir := t.TempDir()
	bogus := touch(t, filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"))
	env, _ := fakeEnv(t, map[string]string{"GOMLX_BACKEND": "xla:cuda", "PJRT_PLUGIN_LIBRARY_PATH": dir})
	c, err := Choose(env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(c)
	if err == nil || !strings.Contains(err.Error(), bogus) {
		t.Fatalf("opening a bogus requested plugin: got %v, want an error naming %s", err, bogus)
	}
}

func TestAutoDetectedXLAFailureFallsBack(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pjrt_c_api_cuda_plugin.so"))
	env, _ := fakeEnv(t, map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": dir})
	c, err := Choose(env)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if b.Choice.Kind != KindGo || b.FellBack == nil {
		t.Fatalf("want the Go backend with the plugin failure recorded, got %+v", b.Choice)
	}
	if !strings.Contains(b.Summary(), "CUDA plugin failed") {
		t.Errorf("summary hides the fallback: %q", b.Summary())
	}
}

func TestGoBackendParallelismAppliedWithoutPrinting(t *testing.T) {
	b, err := Open(Choice{Kind: KindGo, Options: "parallelism=-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if !strings.Contains(b.Description(), "parallelism=-1") {
		t.Fatalf("parallelism not applied: %s", b.Description())
	}
	if _, err := Open(Choice{Kind: KindGo, Options: "parallelism=x"}); err == nil {
		t.Fatal("want an error for a non-integer parallelism")
	}
	if _, err := Open(Choice{Kind: KindGo, Options: "bogus_option"}); err == nil {
		t.Fatal("want an error for an unknown Go backend option")
	}
}

func TestCheckMatMulOnGoBackend(t *testing.T) {
	b, err := Open(Choice{Kind: KindGo, Options: goConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	res, err := CheckMatMul(b, 64)
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxDiff > 1e-4 {
		t.Errorf("float32 matmul of 64×64 off by %g", res.MaxDiff)
	}
}

func TestErrNotFoundWrapped(t *testing.T) {
	env, _ := fakeEnv(t, map[string]string{"GOMLX_BACKEND": "xla:cuda"})
	_, err := Choose(env)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

// TF32 exists on XLA's CUDA backend only; on any other backend asking for it names the backend.
func TestSetTF32RefusesBackendsWithoutIt(t *testing.T) {
	b, err := Open(Choice{Kind: KindGo, Options: goConfig})
	if err != nil {
		t.Fatal(err)
	}
	restore, err := SetTF32(b, true)
	if err == nil || restore != nil || !strings.Contains(err.Error(), "TF32 needs XLA on a CUDA GPU") ||
		!strings.Contains(err.Error(), b.Backend.Description()) {
		t.Fatalf("SetTF32 on %s: restore %v, error %v", b.Backend.Description(), restore != nil, err)
	}
}
