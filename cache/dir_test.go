package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestProgramsDir(t *testing.T) {
	t.Setenv(EnvPrograms, "/p")
	if got := ProgramsDir(); got != "/p" {
		t.Errorf("with %s set: %q", EnvPrograms, got)
	}
	t.Setenv(EnvPrograms, "off")
	if got := ProgramsDir(); got != "" {
		t.Errorf("off: %q", got)
	}
	t.Setenv(EnvPrograms, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if got := ProgramsDir(); got != "/xdg/ragnb/cells" {
		t.Errorf("default: %q", got)
	}
}

func TestTrimProgramsKeepsTheMostRecent(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for i, name := range []string{"a", "b", "c", "d", ".tmp.1"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Join(p, "sub"), 0o755)
		// a is the oldest, d the newest; the hidden work-in-progress entry is the oldest of all.
		mt := now.Add(time.Duration(i-10) * time.Minute)
		if name[0] == '.' {
			mt = now.Add(-time.Hour)
		}
		os.Chtimes(p, mt, mt)
	}
	if err := TrimPrograms(dir, 2); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, " "); got != ".tmp.1 c d" {
		t.Errorf("left %q, want the two newest and the hidden one", got)
	}
	if err := TrimPrograms(dir, 2); err != nil {
		t.Errorf("nothing to trim: %v", err)
	}
}
