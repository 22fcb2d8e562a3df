package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/cache"
)

func TestCacheLsAndClear(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAGNB_CACHE", dir)
	s, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []cache.Key{
		{Step: "mine", Params: map[string]float64{"lo": 0.3}},
		{Step: "train-matryoshka", Params: map[string]int{"batch_size": 64}},
	} {
		if _, _, err := s.Do(context.Background(), k, func(_ context.Context, d string) error {
			return os.WriteFile(filepath.Join(d, "x"), make([]byte, 2048), 0o644)
		}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, "cache", "ls")
	if code != 0 || !strings.Contains(out, "mine") || !strings.Contains(out, `{"batch_size":64}`) ||
		!strings.Contains(out, "2.0 KiB") || !strings.Contains(out, "2 entries, 4.0 KiB in "+dir) {
		t.Fatalf("ls: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "cache", "ls", "--json")
	var entries []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 || entries[0]["dir"] == "" {
		t.Fatalf("ls --json: %d %q", code, out)
	}
	// Nothing is older than a day; --older-than selects nothing.
	code, out, _ = runCLI(t, "cache", "clear", "--older-than", "1d")
	if code != 0 || !strings.Contains(out, "removed 0 entries") {
		t.Errorf("clear --older-than 1d: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "cache", "--step", "mine", "clear")
	if code != 0 || !strings.Contains(out, "removed 1 entry (2.0 KiB)") {
		t.Errorf("clear --step mine: %d %q", code, out)
	}
	if all, _ := s.List(); len(all) != 1 || all[0].Step != "train-matryoshka" {
		t.Errorf("after clear --step: %+v", all)
	}
	code, out, _ = runCLI(t, "cache", "clear", "--dir", dir)
	if all, _ := s.List(); code != 0 || len(all) != 0 {
		t.Errorf("clear all: %d %q %+v", code, out, all)
	}
	for _, args := range [][]string{{"cache"}, {"cache", "frob"}, {"cache", "ls", "--step", "x"},
		{"cache", "clear", "--older-than", "soon"}, {"cache", "clear", "--json"}, {"cache", "ls", "extra"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute, "1.5d": 36 * time.Hour} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1h", "x"} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
