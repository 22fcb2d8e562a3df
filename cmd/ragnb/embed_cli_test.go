package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

// `ragnb embed --cache` stores the vectors under mining.EmbedKey, where `ragnb mine --cache` and the notebook
// look for them, and a second run reads them back.
func TestEmbedCacheIsMiningsCache(t *testing.T) {
	model := tinyModel(t, "bert", 1)
	dir := t.TempDir()
	texts := []string{"zinc smelters in norway", "copper mines in chile", "container freight rates"}
	in := writeFile(t, filepath.Join(dir, "texts.txt"), strings.Join(texts, "\n")+"\n")
	cacheDir, out := filepath.Join(dir, "cache"), filepath.Join(dir, "q.npy")
	args := []string{"embed", "--model", model, "--in", in, "--query", "--out", out, "--cache", cacheDir}
	if code, stdout, stderr := runCLI(t, args...); code != 0 || strings.Contains(stdout, "from the cache") {
		t.Fatalf("embed: exit %d\n%s\n%s", code, stdout, stderr)
	}
	first, err := vector.LoadNPY(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := cache.HashDir(model)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.Lookup(mining.EmbedKey(id, cache.HashStrings(texts...), true)); !ok || err != nil {
		t.Errorf("no entry under mining.EmbedKey (%v)", err)
	}
	code, stdout, _ := runCLI(t, args...)
	again, err := vector.LoadNPY(out)
	if code != 0 || !strings.Contains(stdout, "from the cache") || err != nil || again.Rows != first.Rows ||
		again.Data[0] != first.Data[0] {
		t.Errorf("second run: exit %d %q (%v)", code, stdout, err)
	}
}
