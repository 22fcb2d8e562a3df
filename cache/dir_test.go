package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultDir(t *testing.T) {
	t.Setenv(EnvDir, "/somewhere/else")
	if got := DefaultDir(); got != "/somewhere/else" {
		t.Errorf("with %s set: %q", EnvDir, got)
	}
	t.Setenv(EnvDir, "")
	wd, _ := os.Getwd()
	if got := DefaultDir(); got != filepath.Join(wd, ".ragnb") {
		t.Errorf("default: %q", got)
	}
}
