package vector

import (
	"bytes"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTruncateRenormalises(t *testing.T) {
	m, err := FromRows([][]float32{{3, 4, 12}, {0, 0, 5}, {1, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := m.Truncate(2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0.6, 0.8}, {0, 0}, {1, 0}}
	for i, w := range want {
		for j, x := range w {
			if math.Abs(float64(tr.Row(i)[j]-x)) > 1e-7 {
				t.Errorf("row %d = %v, want %v", i, tr.Row(i), w)
			}
		}
	}
	if m.Row(0)[0] != 3 {
		t.Error("Truncate modified its input")
	}
	for _, d := range []int{0, 4} {
		if _, err := m.Truncate(d); err == nil {
			t.Errorf("Truncate(%d) of a 3-d matrix: want an error", d)
		}
	}
	if _, err := FromRows([][]float32{{1, 2}, {3}}); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("ragged rows: got %v", err)
	}
}

func TestCosineAndDot(t *testing.T) {
	a, b := []float32{1, 2, 2}, []float32{2, 0, 0}
	if Dot(a, b) != 2 {
		t.Errorf("Dot = %v", Dot(a, b))
	}
	if got := Cosine(a, b); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("Cosine = %v", got)
	}
	if Cosine(a, []float32{0, 0, 0}) != 0 {
		t.Error("cosine with a zero vector should be 0")
	}
}

func TestNPYRoundTrip(t *testing.T) {
	m, _ := FromRows([][]float32{{1.5, -2, float32(math.Pi)}, {0, 1e-30, 7}})
	var buf bytes.Buffer
	if err := WriteNPY(&buf, m); err != nil {
		t.Fatal(err)
	}
	if (buf.Len()-len(m.Data)*4)%64 != 0 {
		t.Errorf("header not padded to 64 bytes: total %d", buf.Len())
	}
	got, err := ReadNPY(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 2 || got.Dim != 3 {
		t.Fatalf("shape %dx%d", got.Rows, got.Dim)
	}
	for i := range m.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(m.Data[i]) {
			t.Errorf("value %d: %v != %v", i, got.Data[i], m.Data[i])
		}
	}
	path := filepath.Join(t.TempDir(), "e.npy")
	if err := SaveNPY(path, m); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadNPY(path); err != nil {
		t.Fatal(err)
	}
	// A truncated file is an error naming the file, not a short matrix.
	if _, err := ReadNPY(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); err == nil {
		t.Error("truncated data: want an error")
	}
	if _, err := ReadNPY(strings.NewReader("not numpy at all")); err == nil {
		t.Error("bad magic: want an error")
	}
}

// TestNPYReadableByNumpy checks the files against numpy itself when Debian's python3-numpy is installed.
func TestNPYReadableByNumpy(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil || exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("Debian python3 with numpy not installed; the round-trip test covers the format")
	}
	m, _ := FromRows([][]float32{{1, 2}, {3, 4}, {5, 6.5}})
	path := filepath.Join(t.TempDir(), "e.npy")
	if err := SaveNPY(path, m); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype, a.shape, a.sum())", path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "float32 (3, 2) 21.5" {
		t.Errorf("numpy read %q", got)
	}
}
