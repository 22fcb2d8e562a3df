package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// handMade builds a file byte by byte, independently of Write: header JSON, then F16 [1, -2] and BF16 [0.5]
// and F32 [3.25] and an I64 [7], in an order that is not sorted by name.
func handMade(t *testing.T) []byte {
	t.Helper()
	header := `{"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},` +
		`"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},` +
		`"c":{"dtype":"F32","shape":[],"data_offsets":[6,10]},` +
		`"ids":{"dtype":"I64","shape":[1,1],"data_offsets":[10,18]},` +
		`"__metadata__":{"format":"pt"}}`
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	// F16: 1.0 = 0x3C00, -2.0 = 0xC000. BF16: 0.5 = 0x3F00. F32 3.25 = 0x40500000.
	binary.Write(&buf, binary.LittleEndian, []uint16{0x3C00, 0xC000, 0x3F00})
	binary.Write(&buf, binary.LittleEndian, uint32(0x40500000))
	binary.Write(&buf, binary.LittleEndian, int64(7))
	return buf.Bytes()
}

func TestParseHandMade(t *testing.T) {
	f, err := Parse(handMade(t), "hand.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Names(); !slices.Equal(got, []string{"a", "b", "c", "ids"}) {
		t.Errorf("names %v", got)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	for _, c := range []struct {
		name  string
		want  []float32
		shape []int
	}{{"a", []float32{1, -2}, []int{2}}, {"b", []float32{0.5}, []int{1}}, {"c", []float32{3.25}, []int{}}} {
		got, shape, err := f.Float32(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) || !slices.Equal(shape, c.shape) {
			t.Errorf("%s = %v %v, want %v %v", c.name, got, shape, c.want, c.shape)
		}
	}
	ids := f.Tensor("ids")
	if ids.DType != I64 || int64(binary.LittleEndian.Uint64(ids.Data)) != 7 {
		t.Errorf("ids %+v", ids)
	}
	if _, _, err := f.Float32("ids"); err == nil || !strings.Contains(err.Error(), `"ids"`) {
		t.Errorf("I64 as float: %v", err)
	}
}

func TestRoundTripDTypes(t *testing.T) {
	vals := []float32{0, 1.5, -2.25, 0.1, 65504, 1e-3, float32(math.Pi)}
	tensors := []Float32Tensor{{Name: "w", Shape: []int{7}, Data: vals}, {Name: "s", Shape: nil, Data: []float32{4}}}
	for _, c := range []struct {
		dtype DType
		// want is the value after the round trip, computed by hand from the format definitions.
		want []float32
	}{
		{F32, vals},
		// F16: 10-bit mantissa. 0.1 -> 0.0999755859375, 1e-3 -> 0.0010004043579101562, pi -> 3.140625.
		{F16, []float32{0, 1.5, -2.25, 0.0999755859375, 65504, 0.0010004043579101562, 3.140625}},
		// BF16: 7-bit mantissa, nearest even. 0.1 -> 0.10009765625, 65504 -> 65536, 1e-3 (0x3A83126F) -> 0x3A83 =
		// 2^-10 × 131/128 = 0.00099945068359375,
		// pi -> 3.140625.
		{BF16, []float32{0, 1.5, -2.25, 0.10009765625, 65536, 0.00099945068359375, 3.140625}},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tensors, WriteOptions{DType: c.dtype, Metadata: map[string]string{"format": "pt"}}); err != nil {
			t.Fatal(err)
		}
		hlen := binary.LittleEndian.Uint64(buf.Bytes()[:8])
		if hlen%8 != 0 {
			t.Errorf("%s: header length %d not a multiple of 8", c.dtype, hlen)
		}
		f, err := Parse(buf.Bytes(), "mem")
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Float32Shape("w", 7)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.dtype, got, c.want)
		}
		if f.Tensor("w").DType != c.dtype {
			t.Errorf("stored as %s, want %s", f.Tensor("w").DType, c.dtype)
		}
		if s, err := f.Float32Shape("s"); err != nil || s[0] != 4 {
			t.Errorf("scalar: %v %v", s, err)
		}
	}
}

func TestWriteFileAtomicAndDeterministic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.safetensors")
	ts := []Float32Tensor{{Name: "z", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}, {Name: "a", Shape: []int{1}, Data: []float32{5}}}
	if err := WriteFile(p, ts, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(p)
	slices.Reverse(ts)
	if err := WriteFile(p, ts, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(p)
	if !bytes.Equal(first, second) {
		t.Error("same tensors in another order wrote different bytes")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// "a" comes first in the data (name order).
	if f.Tensor("a").Data[0] != 0 || f.Tensor("a").Data[3] != 0x40 {
		t.Errorf("a bytes %v", f.Tensor("a").Data)
	}
	if err := Write(&bytes.Buffer{}, []Float32Tensor{{Name: "x", Shape: []int{3}, Data: []float32{1}}}, WriteOptions{}); err == nil {
		t.Error("shape/data mismatch: want an error")
	}
	if err := Write(&bytes.Buffer{}, ts, WriteOptions{DType: I64}); err == nil {
		t.Error("I64 output: want an error")
	}
}

func TestMalformed(t *testing.T) {
	good := handMade(t)
	hlen := int(binary.LittleEndian.Uint64(good[:8]))
	withHeader := func(h string) []byte {
		var buf bytes.Buffer
		binary.Write(&buf, binary.LittleEndian, uint64(len(h)))
		buf.WriteString(h)
		buf.Write(make([]byte, 8))
		return buf.Bytes()
	}
	cases := []struct {
		name string
		data []byte
		want string // substring of the error
	}{
		{"empty", nil, "truncated"},
		{"short header", good[:8+hlen-5], "truncated"},
		{"short data", good[:len(good)-3], `"ids"`},
		{"huge header length", append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}, good[8:]...), "implausible"},
		{"not json", withHeader("{nope"), "not a JSON"},
		{"size mismatch", withHeader(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`), `"x"`},
		{"overlap", withHeader(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), "overlaps"},
		{"bad dtype", withHeader(`{"x":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}}`), `"x"`},
		{"unknown field", withHeader(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"oops":1}}`), `"x"`},
	}
	for _, c := range cases {
		_, err := Parse(c.data, "bad.safetensors")
		if err == nil {
			t.Errorf("%s: want an error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), "bad.safetensors") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and contain %q", c.name, err, c.want)
		}
	}
	f, _ := Parse(good, "hand.safetensors")
	if _, err := f.Float32Shape("a", 3); err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), "[3]") {
		t.Errorf("shape mismatch error: %v", err)
	}
	_, _, err := f.Float32("nope")
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "hand.safetensors") {
		t.Errorf("missing tensor error: %v", err)
	}
	if _, err := f.Lookup("bert.x", "x"); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `"bert.x" or "x"`) {
		t.Errorf("lookup error: %v", err)
	}
	if tt, err := f.Lookup("bert.a", "a"); err != nil || tt.Name != "a" {
		t.Errorf("lookup: %v %v", tt, err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none.safetensors")); err == nil || !strings.Contains(err.Error(), "none.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadIndexed(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors"), []Float32Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors"), []Float32Tensor{{Name: "b", Shape: []int{2}, Data: []float32{2, 3}}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "model.safetensors.index.json")
	os.WriteFile(index, []byte(`{"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`), 0o644)
	f, err := ReadIndexed(index)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := f.Float32Shape("b", 2); err != nil || b[1] != 3 || !slices.Equal(f.Names(), []string{"a", "b"}) {
		t.Errorf("merged: %v %v %v", b, err, f.Names())
	}
	os.WriteFile(index, []byte(`{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}}`), 0o644)
	if _, err := ReadIndexed(index); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("tensor missing from its shard: %v", err)
	}
}

// TestNonFiniteWeightsAreRefusedNamingTheTensor: a NaN or an infinity in a weight is an error that names the
// file, the tensor and the element, in every float dtype.
func TestNonFiniteWeightsAreRefusedNamingTheTensor(t *testing.T) {
	for _, dt := range []DType{F32, F16, BF16} {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
			var buf bytes.Buffer
			w := []float32{0.5, 1, -2, 3, bad, 4}
			if err := Write(&buf, []Float32Tensor{{Name: "ok", Shape: []int{2}, Data: []float32{1, 2}},
				{Name: "encoder.layer.0.attention.self.query.weight", Shape: []int{2, 3}, Data: w}}, WriteOptions{DType: dt}); err != nil {
				t.Fatal(err)
			}
			f, err := Parse(buf.Bytes(), "model.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.Float32("ok"); err != nil {
				t.Errorf("%s: a finite tensor: %v", dt, err)
			}
			_, _, err = f.Float32("encoder.layer.0.attention.self.query.weight")
			if err == nil || !strings.Contains(err.Error(), "model.safetensors") ||
				!strings.Contains(err.Error(), `"encoder.layer.0.attention.self.query.weight"`) || !strings.Contains(err.Error(), "[1 1]") {
				t.Errorf("%s %v: %v", dt, bad, err)
			}
		}
	}
}
