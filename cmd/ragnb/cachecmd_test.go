package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/internal/diskkv"
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

// TestCacheLsAndClearCoverAnswerCaches: the chat and rerank answers kept under llm/ and rerank/ are listed
// and cleared like the step results.
func TestCacheLsAndClearCoverAnswerCaches(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAGNB_CACHE", dir)
	for i := range 40 {
		kv := diskkv.Store{Dir: filepath.Join(dir, cache.LLMAnswers)}
		if i%10 == 0 {
			kv.Dir = filepath.Join(dir, cache.RerankAnswers)
		}
		h, _ := diskkv.Hash(i)
		if err := kv.Put(h, map[string]int{"answer": i}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, "cache", "ls")
	if code != 0 || !strings.Contains(out, "llm: 36 cached answers") || !strings.Contains(out, "rerank: 4 cached answers") {
		t.Fatalf("ls: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "cache", "clear", "--step", "rerank")
	if code != 0 || !strings.Contains(out, "removed 4 cached rerank answers") || strings.Contains(out, "llm answers") {
		t.Errorf("clear --step rerank: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "cache", "clear")
	if n, _ := (diskkv.Store{Dir: filepath.Join(dir, cache.LLMAnswers)}).Len(); code != 0 || n != 0 ||
		!strings.Contains(out, "removed 36 cached llm answers") {
		t.Errorf("clear: %d %q, %d answers left", code, out, n)
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

func TestCacheProgramsLsAndClear(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAGNB_CELL_CACHE", dir)
	old := time.Now().Add(-72 * time.Hour)
	for name, size := range map[string]int{"3643ed69cc1d1424": 4096, "nb-bb3b4342b0861221": 1024} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		os.WriteFile(filepath.Join(dir, name, "prog"), make([]byte, size), 0o755)
		if name == "3643ed69cc1d1424" {
			os.Chtimes(filepath.Join(dir, name), old, old)
		}
	}
	code, out, errOut := runCLI(t, "cache", "ls", "--programs")
	if code != 0 || !regexp.MustCompile(`3643ed69cc1d1424 +4.0 KiB +3d ago`).MatchString(out) ||
		!strings.Contains(out, "2 programs, 5.0 KiB in "+dir) || strings.Index(out, "nb-") > strings.Index(out, "3643") {
		t.Fatalf("ls --programs: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "cache", "clear", "--programs", "--older-than", "1d")
	if code != 0 || !strings.Contains(out, "removed 1 program (4.0 KiB)") {
		t.Errorf("clear --programs --older-than 1d: %d %q", code, out)
	}
	if left, _ := cache.ListPrograms(dir); len(left) != 1 || left[0].Name != "nb-bb3b4342b0861221" {
		t.Errorf("left %+v", left)
	}
	code, out, _ = runCLI(t, "cache", "clear", "--programs")
	if left, _ := cache.ListPrograms(dir); code != 0 || len(left) != 0 || !strings.Contains(out, "removed 1 program") {
		t.Errorf("clear --programs: %d %q %+v", code, out, left)
	}
	for _, args := range [][]string{{"cache", "ls", "--programs", "--json"}, {"cache", "clear", "--programs", "--step", "mine"},
		{"cache", "ls", "--programs", "--older-than", "1d"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	t.Setenv("RAGNB_CELL_CACHE", "off")
	if code, _, errOut := runCLI(t, "cache", "ls", "--programs"); code != 1 || !strings.Contains(errOut, "RAGNB_CELL_CACHE=off") {
		t.Errorf("off: %d %q", code, errOut)
	}
}
