package cache

import (
	"os"
	"path/filepath"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string, order []string) {
	t.Helper()
	for _, rel := range order {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(files[rel]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHashDir(t *testing.T) {
	files := map[string]string{"config.json": "{}", "1_Pooling/config.json": `{"mode":"cls"}`, "model.safetensors": "weights"}
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, files, []string{"config.json", "1_Pooling/config.json", "model.safetensors"})
	writeTree(t, b, files, []string{"model.safetensors", "1_Pooling/config.json", "config.json"})
	os.Mkdir(filepath.Join(b, "empty"), 0o755)
	ha, err := HashDir(a)
	if err != nil {
		t.Fatal(err)
	}
	// Independent expectation: sorted relative names with content hashes, length-prefixed.
	want := HashStrings("1_Pooling/config.json", sha(`{"mode":"cls"}`), "config.json", sha("{}"), "model.safetensors", sha("weights"))
	if ha != want {
		t.Errorf("HashDir = %s, want %s", ha, want)
	}
	if hb, _ := HashDir(b); hb != ha {
		t.Error("creation order or an empty directory changed the hash")
	}
	os.Rename(filepath.Join(b, "model.safetensors"), filepath.Join(b, "model2.safetensors"))
	if hb, _ := HashDir(b); hb == ha {
		t.Error("renaming a file did not change the hash")
	}
	os.Rename(filepath.Join(b, "model2.safetensors"), filepath.Join(b, "model.safetensors"))
	os.WriteFile(filepath.Join(b, "config.json"), []byte("{ }"), 0o644)
	if hb, _ := HashDir(b); hb == ha {
		t.Error("changing content did not change the hash")
	}
	if hf, _ := HashFile(filepath.Join(a, "model.safetensors")); hf != sha("weights") || HashBytes([]byte("weights")) != hf {
		t.Error("HashFile/HashBytes disagree with sha256")
	}
	if hp, _ := HashPath(a); hp != ha {
		t.Error("HashPath of a directory")
	}
	if _, err := HashDir(filepath.Join(a, "missing")); err == nil {
		t.Error("missing directory")
	}
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	if HashStrings("ab", "c") == HashStrings("a", "bc") {
		t.Error("HashStrings is ambiguous")
	}
}
