package diskkv

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestPutGetAtomicAndStableHash(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "kv")}
	h1, err := Hash(map[string]any{"b": 2, "a": []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := Hash(map[string]any{"a": []string{"x"}, "b": 2})
	want := sha256.Sum256([]byte(`{"a":["x"],"b":2}`))
	if h1 != h2 || h1 != hex.EncodeToString(want[:]) {
		t.Fatalf("hash %s %s, want sha256 of the sorted JSON", h1, h2)
	}
	var got struct{ V string }
	if ok, err := s.Get(h1, &got); ok || err != nil {
		t.Fatalf("empty store: %v %v", ok, err)
	}
	if err := s.Put(h1, struct{ V string }{"hello"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Get(h1, &got); !ok || err != nil || got.V != "hello" {
		t.Fatalf("after put: %v %v %+v", ok, err, got)
	}
	if n, _ := s.Len(); n != 1 {
		t.Errorf("Len = %d", n)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path(h1)))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A corrupt entry reads as a miss and is overwritten.
	os.WriteFile(s.Path(h1), []byte("{trunc"), 0o644)
	if ok, err := s.Get(h1, &got); ok || err != nil {
		t.Errorf("corrupt entry: %v %v", ok, err)
	}
}
