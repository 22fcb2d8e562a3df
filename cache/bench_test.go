package cache

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// writeModelDir writes a model-directory-shaped artifact of about mb megabytes.
func writeModelDir(tb testing.TB, dir string, mb int) {
	tb.Helper()
	os.MkdirAll(filepath.Join(dir, "1_Pooling"), 0o755)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	f, err := os.Create(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < mb; i++ {
		f.Write(buf)
	}
	f.Close()
	for _, n := range []string{"config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"} {
		os.WriteFile(filepath.Join(dir, n), []byte(`{"x":1}`), 0o644)
	}
}

// BenchmarkDoHitModelDir: a cache hit on a 256 MB model directory costs a manifest read, not a copy or a hash.
func BenchmarkDoHitModelDir(b *testing.B) {
	s, _ := Open(b.TempDir())
	key := Key{Step: "train-matryoshka", Inputs: []string{"data"}, Params: map[string]int{"batch_size": 32}}
	if _, _, err := s.Do(context.Background(), key, func(_ context.Context, dir string) error {
		writeModelDir(b, dir, 256)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, hit, err := s.Do(context.Background(), key, nil); err != nil || !hit {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/hit")
}

// BenchmarkHashDir measures hashing a 256 MB model directory (what a step pays when an input artifact is not
// identified by the key that produced it).
func BenchmarkHashDir(b *testing.B) {
	dir := b.TempDir()
	writeModelDir(b, dir, 256)
	b.SetBytes(256 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := HashDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
