// Package kernel owns the notebook environment around the Go kernel: finding and installing the external
// tools it needs (Jupyter, GoNB, goimports, gopls) at pinned versions, and the "Go (ragnb)" kernelspec whose
// `go` wrapper preloads the ragnb module into every cell. It does not own what runs inside a cell (that is
// the prelude), what cells display (package display) nor running notebooks (package notebook).
package kernel

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
)

// Tool is an external program the notebook environment needs.
type Tool struct {
	Name string
	// Module and Version pin Go tools (go install Module@Version); empty for Debian packages.
	Module, Version string
	// Debian is the package providing a non-Go tool.
	Debian string
}

// Tools are the pinned versions verified together on this project's machines: newer goimports silently fails to
// auto-import gota's packages, newer gopls needs a newer Go, GoNB v0.11.0/.2 are not on the proxy.
var Tools = []Tool{
	{Name: "gonb", Module: "github.com/janpfeifer/gonb", Version: "v0.11.4"},
	{Name: "goimports", Module: "golang.org/x/tools/cmd/goimports", Version: "v0.47.0"},
	{Name: "gopls", Module: "golang.org/x/tools/gopls", Version: "v0.23.0"},
	{Name: "jupyter", Debian: "jupyter-notebook"},
}

// InstallHint is the command that installs every tool in Tools and the kernel (it runs `ragnb kernel install`).
const InstallHint = "scripts/install-tools.sh"

// Status is what was found of a tool on this machine.
type Status struct {
	Tool
	// Path is where it was found ("" when missing).
	Path string
	// Found is the version read from the binary's build info (Go tools only).
	Found string
}

// OK reports whether the tool is present at the pinned version (any version for non-Go tools).
func (s Status) OK() bool {
	return s.Path != "" && (s.Version == "" || s.Found == s.Version)
}

// GoBinDirs are where `go install` puts binaries: $GOBIN, else $GOPATH/bin (default ~/go/bin).
func GoBinDirs() []string {
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		return []string{gobin}
	}
	var dirs []string
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil && len(dirs) == 0 {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	return dirs
}

// DebianPython is Debian's python3, which has Jupyter; the first python3 on PATH may be another one (pyenv).
const DebianPython = "/usr/bin/python3"

// Check looks for every tool: Go tools in the go-install directories then PATH, Jupyter in /usr/bin then PATH.
func Check() []Status {
	out := make([]Status, 0, len(Tools))
	for _, t := range Tools {
		s := Status{Tool: t}
		var candidates []string
		if t.Module != "" {
			for _, d := range GoBinDirs() {
				candidates = append(candidates, filepath.Join(d, t.Name))
			}
		} else {
			candidates = append(candidates, filepath.Join("/usr/bin", t.Name))
		}
		if p, err := exec.LookPath(t.Name); err == nil {
			candidates = append(candidates, p)
		}
		for _, c := range candidates {
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				s.Path = c
				if t.Module != "" {
					if bi, err := buildinfo.ReadFile(c); err == nil {
						s.Found = bi.Main.Version
					}
				}
				if s.OK() {
					break
				}
			}
		}
		out = append(out, s)
	}
	return out
}
