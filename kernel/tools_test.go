package kernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCheckReadsGoToolVersion builds a tiny program named gonb into a fake GOBIN and checks that Check finds
// it and reads the version from its build info (a non-module build reports "(devel)", which is not the pin).
func TestCheckReadsGoToolVersion(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/gonb\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644)
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-o", filepath.Join(bin, "gonb"), ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("GOBIN", bin)
	t.Setenv("PATH", "/nonexistent")
	var gonb Status
	for _, s := range Check() {
		if s.Name == "gonb" {
			gonb = s
		}
	}
	if gonb.Path != filepath.Join(bin, "gonb") {
		t.Fatalf("gonb not found in GOBIN: %+v", gonb)
	}
	if gonb.Found != "(devel)" || gonb.OK() {
		t.Errorf("a devel build is not the pinned %s: %+v", gonb.Version, gonb)
	}
}
