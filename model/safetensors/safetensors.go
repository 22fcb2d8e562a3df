// Package safetensors reads and writes the safetensors format (Hugging Face's tensor file: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
// little-endian data). It reads F32, F16, BF16 and F64 tensors as float32 (and keeps integer tensors as raw
// bytes), and writes float32 by default, or F16 / BF16 on request. It owns the file format only: which tensor
// names a model expects lives with the model.
//
// Every malformed input is an error naming the file and, where there is one, the tensor: a truncated file, a
// header that is not JSON, a byte range outside the data or overlapping another tensor, a size that does
// not match dtype × shape, a missing tensor, a shape mismatch.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
)

// DType is a safetensors dtype name as it appears in the header ("F32", "F16", "BF16", "I64", ...).
type DType string

// The dtypes this package knows the size of. Float ones convert to float32.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size is the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// IsFloat reports whether the dtype converts to float32.
func (d DType) IsFloat() bool { return d == F64 || d == F32 || d == F16 || d == BF16 }

// Tensor is one stored tensor: its raw little-endian bytes as in the file.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file held in memory.
type File struct {
	// Path is the file it was read from ("" when parsed from bytes); errors name it.
	Path     string
	Metadata map[string]string
	tensors  map[string]*Tensor
	names    []string // sorted
}

// maxHeader bounds the JSON header so that a corrupt length cannot make us allocate gigabytes.
const maxHeader = 100 << 20

// ReadFile reads and validates a safetensors file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return Parse(data, path)
}

type headerEntry struct {
	DType   DType    `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Parse parses a whole safetensors file held in data; name is used in error messages. The tensors share
// memory with data.
func Parse(data []byte, name string) (*File, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("safetensors %s: %s", name, fmt.Sprintf(format, args...))
	}
	if len(data) < 8 {
		return nil, fail("truncated: %d bytes, need at least the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > maxHeader {
		return nil, fail("header length %d is implausible (corrupt file?)", n)
	}
	if uint64(len(data)-8) < n {
		return nil, fail("truncated: header needs %d bytes, file has %d after the length", n, len(data)-8)
	}
	header := data[8 : 8+n]
	body := data[8+n:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fail("header is not a JSON object: %v", err)
	}
	f := &File{Path: name, tensors: map[string]*Tensor{}}
	type span struct {
		name       string
		begin, end int64
	}
	var spans []span
	for key, msg := range raw {
		if key == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fail("__metadata__ is not a string map: %v", err)
			}
			continue
		}
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fail("tensor %q: bad header entry: %v", key, err)
		}
		size := e.DType.Size()
		if size == 0 {
			return nil, fail("tensor %q: unsupported dtype %q", key, e.DType)
		}
		elems := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fail("tensor %q: negative dimension in shape %v", key, e.Shape)
			}
			elems *= int64(d)
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if begin < 0 || end < begin || end > int64(len(body)) {
			return nil, fail("tensor %q: byte range [%d, %d) outside the %d data bytes (truncated file?)",
				key, begin, end, len(body))
		}
		if end-begin != elems*int64(size) {
			return nil, fail("tensor %q: %s%v needs %d bytes, byte range has %d",
				key, e.DType, e.Shape, elems*int64(size), end-begin)
		}
		f.tensors[key] = &Tensor{Name: key, DType: e.DType, Shape: e.Shape, Data: body[begin:end:end]}
		spans = append(spans, span{key, begin, end})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for _, s := range spans {
		if s.begin < pos {
			return nil, fail("tensor %q: byte range [%d, %d) overlaps the previous tensor", s.name, s.begin, s.end)
		}
		pos = s.end
	}
	for name := range f.tensors {
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	return f, nil
}

// Names lists the tensor names, sorted.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Tensor returns the named tensor, or nil.
func (f *File) Tensor(name string) *Tensor { return f.tensors[name] }

// Has reports whether the file holds the named tensor.
func (f *File) Has(name string) bool { return f.tensors[name] != nil }

// Float32 returns the named float tensor converted to float32, with its shape. A missing tensor or a
// non-float dtype is an error naming the file and tensor.
func (f *File) Float32(name string) ([]float32, []int, error) {
	t := f.tensors[name]
	if t == nil {
		return nil, nil, fmt.Errorf("safetensors %s: %w %q", f.Path, ErrMissing, name)
	}
	out, err := t.Float32()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors %s: %w", f.Path, err)
	}
	return out, slices.Clone(t.Shape), nil
}

// Float32Shape is Float32 that also checks the shape: a mismatch is an error naming the file, the tensor and
// both shapes.
func (f *File) Float32Shape(name string, shape ...int) ([]float32, error) {
	data, got, err := f.Float32(name)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(got, shape) {
		return nil, fmt.Errorf("safetensors %s: tensor %q has shape %v, want %v", f.Path, name, got, shape)
	}
	return data, nil
}

// Float32 converts a float tensor's data to float32.
func (t *Tensor) Float32() ([]float32, error) {
	n := t.NumElements()
	out := make([]float32, n)
	b := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = float16.FromBits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	case BF16:
		for i := range out {
			out[i] = bfloat16.FromBits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	default:
		return nil, fmt.Errorf("tensor %q: dtype %s is not a float type", t.Name, t.DType)
	}
	// A NaN or infinite weight makes every output NaN, which ranks nothing and trains nothing: refuse the
	// model at load rather than let it embed, index and answer by NaN.
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("tensor %q: element %d%s is %v (a damaged or diverged model)", t.Name, i, t.position(i), v)
		}
	}
	return out, nil
}

// position renders flat index i as a multi-index over the tensor's shape (" at [r c]"), or "" for a vector.
func (t *Tensor) position(i int) string {
	if len(t.Shape) < 2 {
		return ""
	}
	idx := make([]int, len(t.Shape))
	for d := len(t.Shape) - 1; d >= 0; d-- {
		if t.Shape[d] > 0 {
			idx[d] = i % t.Shape[d]
			i /= t.Shape[d]
		}
	}
	return fmt.Sprintf(" at %v", idx)
}

// Float32Tensor is a named float32 tensor to write.
type Float32Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// WriteOptions choose how tensors are stored.
type WriteOptions struct {
	// DType is F32 (the default when empty), F16 or BF16 (round to nearest even).
	DType DType
	// Metadata goes into the header's __metadata__ (e.g. {"format": "pt"}, which transformers expects).
	Metadata map[string]string
}

// Write writes tensors in safetensors format to w. Tensors are laid out in name order; the header is
// padded with spaces to a multiple of 8 bytes, as the reference writer does.
func Write(w io.Writer, tensors []Float32Tensor, opts WriteOptions) error {
	dtype := opts.DType
	if dtype == "" {
		dtype = F32
	}
	if dtype != F32 && dtype != F16 && dtype != BF16 {
		return fmt.Errorf("safetensors: cannot write dtype %s (want F32, F16 or BF16)", dtype)
	}
	sorted := slices.Clone(tensors)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	if len(opts.Metadata) > 0 {
		header["__metadata__"] = opts.Metadata
	}
	var offset int64
	for i, t := range sorted {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: tensor %q given twice", t.Name)
		}
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v has %d elements, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		size := int64(n * dtype.Size())
		header[t.Name] = headerEntry{DType: dtype, Shape: shape, Offsets: [2]int64{offset, offset + size}}
		offset += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: header: %w", err)
	}
	if pad := (8 - len(hb)%8) % 8; pad > 0 {
		hb = append(hb, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, t := range sorted {
		for _, x := range t.Data {
			switch dtype {
			case F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			case F16:
				buf = binary.LittleEndian.AppendUint16(buf, float16.FromFloat32(x).Bits())
			case BF16:
				buf = binary.LittleEndian.AppendUint16(buf, uint16(bfloat16.FromFloat32(x)))
			}
			if len(buf) >= 1<<16-8 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// WriteFile writes tensors to path atomically (a temporary file in the same directory, then rename), so a
// crash never leaves a half-written model file.
func WriteFile(path string, tensors []Float32Tensor, opts WriteOptions) error {
	return atomicfile.Write(path, func(f *os.File) error {
		if err := f.Chmod(0o644); err != nil {
			return err
		}
		return Write(f, tensors, opts)
	})
}

// ErrMissing is wrapped by errors about tensors a model needs but the file lacks.
var ErrMissing = errors.New("missing tensor")

// Lookup finds the first of the candidate names present in f (for checkpoints that differ in prefixes, such as
// "bert.embeddings..." vs "embeddings..."); the error lists every candidate tried.
func (f *File) Lookup(candidates ...string) (*Tensor, error) {
	for _, c := range candidates {
		if t := f.tensors[c]; t != nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("safetensors %s: %w %s", f.Path, ErrMissing, strings.Join(quoteAll(candidates), " or "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// ReadIndexed reads a sharded checkpoint from its index (model.safetensors.index.json: {"weight_map":
// {tensor: shard file}}), every shard resolved beside the index, into one File. A tensor in two shards or
// a shard that lacks a tensor the index assigns to it is an error naming the files.
func ReadIndexed(indexPath string) (*File, error) {
	data, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("safetensors index %s: %w", indexPath, err)
	}
	shards := map[string]bool{}
	for _, f := range idx.WeightMap {
		shards[f] = true
	}
	merged := &File{Path: indexPath, tensors: map[string]*Tensor{}}
	for _, shard := range slices.Sorted(maps.Keys(shards)) {
		if filepath.Base(shard) != shard {
			return nil, fmt.Errorf("safetensors index %s: shard %q must be a file beside the index", indexPath, shard)
		}
		f, err := ReadFile(filepath.Join(filepath.Dir(indexPath), shard))
		if err != nil {
			return nil, err
		}
		for name, t := range f.tensors {
			if merged.tensors[name] != nil {
				return nil, fmt.Errorf("safetensors index %s: tensor %q is in two shards (%s)", indexPath, name, shard)
			}
			merged.tensors[name] = t
		}
	}
	for name, shard := range idx.WeightMap {
		if merged.tensors[name] == nil {
			return nil, fmt.Errorf("safetensors index %s: tensor %q is not in its shard %s", indexPath, name, shard)
		}
	}
	for name := range merged.tensors {
		merged.names = append(merged.names, name)
	}
	sort.Strings(merged.names)
	return merged, nil
}
