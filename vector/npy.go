package vector

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// The .npy format (version 1.0): magic "\x93NUMPY", version bytes, a little-endian uint16 header length, an
// ASCII dict header padded with spaces to a multiple of 64 bytes and ending in '\n', then the raw data.
// The format is numpy's NEP 1 (.npy format version 1.0 to 3.0).
var npyMagic = []byte("\x93NUMPY")

// WriteNPY writes m as a little-endian float32 .npy array of shape (Rows, Dim).
func WriteNPY(w io.Writer, m *Matrix) error {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m.Rows, m.Dim)
	// magic(6) + version(2) + len(2) + header + '\n' padded to 64.
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += string(bytes.Repeat([]byte{' '}, pad)) + "\n"
	bw := bufio.NewWriter(w)
	bw.Write(npyMagic)
	bw.Write([]byte{1, 0})
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	buf := make([]byte, 4)
	for _, x := range m.Data {
		binary.LittleEndian.PutUint32(buf, math.Float32bits(x))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// SaveNPY writes m to path atomically (temporary file + rename), so a crash never leaves a half-written file.
func SaveNPY(path string, m *Matrix) error {
	return atomicfile.Write(path, func(f *os.File) error { return WriteNPY(f, m) })
}

var (
	npyDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	npyOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	npyShape = regexp.MustCompile(`'shape':\s*\(\s*(\d+)\s*,\s*(\d*)\s*,?\s*\)`)
)

// ReadNPY reads a 1-D or 2-D little-endian float32 (or float64, converted) C-order .npy array. A 1-D array
// becomes a single row.
func ReadNPY(r io.Reader) (*Matrix, error) {
	br := bufio.NewReader(r)
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil {
		return nil, fmt.Errorf("npy: read magic: %w", err)
	}
	if !bytes.Equal(pre[:6], npyMagic) {
		return nil, fmt.Errorf("npy: not an .npy file (bad magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("npy: read header length: %w", err)
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("npy: read header length: %w", err)
		}
		hlen = int(n)
	default:
		return nil, fmt.Errorf("npy: unsupported version %d.%d", pre[6], pre[7])
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(br, header); err != nil {
		return nil, fmt.Errorf("npy: read header: %w", err)
	}
	d := npyDescr.FindSubmatch(header)
	o := npyOrder.FindSubmatch(header)
	s := npyShape.FindSubmatch(header)
	if d == nil || o == nil || s == nil {
		return nil, fmt.Errorf("npy: cannot parse header %q", header)
	}
	if string(o[1]) == "True" {
		return nil, fmt.Errorf("npy: Fortran-order arrays are not supported")
	}
	rows, _ := strconv.Atoi(string(s[1]))
	dim := 0
	if len(s[2]) == 0 { // 1-D
		rows, dim = 1, rows
	} else {
		dim, _ = strconv.Atoi(string(s[2]))
	}
	m := New(rows, dim)
	switch string(d[1]) {
	case "<f4":
		buf := make([]byte, 4*len(m.Data))
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("npy: data shorter than shape (%d, %d): %w", rows, dim, err)
		}
		for i := range m.Data {
			m.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
	case "<f8":
		buf := make([]byte, 8*len(m.Data))
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("npy: data shorter than shape (%d, %d): %w", rows, dim, err)
		}
		for i := range m.Data {
			m.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:])))
		}
	default:
		return nil, fmt.Errorf("npy: dtype %s not supported (want <f4 or <f8)", d[1])
	}
	return m, nil
}

// LoadNPY reads an .npy file.
func LoadNPY(path string) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadNPY(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
