package hnsw

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The file format, little-endian:
//
//	magic "RAGNBHNS", version uint32 (1)
//	M, EfConstruction, EfSearch uint32, Seed uint64, dim uint32, nodes uint32, entry int32, top uint32
//	per node: level uint8; per level 0..level: count uint16, count × neighbour uint32
//	CRC-32 (IEEE) of everything before it, uint32
//
// Read checks every count and neighbour against the header, and the checksum, so a truncated or damaged
// file is an error rather than a graph that crashes a search.
const (
	magic   = "RAGNBHNS"
	version = 1
)

// WriteTo writes the graph in the format above.
func (g *Graph) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	h := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(cw, h))
	put := func(v any) { binary.Write(bw, binary.LittleEndian, v) }
	bw.WriteString(magic)
	put(uint32(version))
	put([]uint32{uint32(g.p.M), uint32(g.p.EfConstruction), uint32(g.p.EfSearch)})
	put(g.p.Seed)
	put([]uint32{uint32(g.dim), uint32(len(g.links))})
	put(g.entry)
	put(uint32(g.top))
	for _, levels := range g.links {
		bw.WriteByte(byte(len(levels) - 1))
		for _, nb := range levels {
			put(uint16(len(nb)))
			for _, x := range nb {
				put(uint32(x))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("hnsw: write: %w", err)
	}
	if err := binary.Write(cw, binary.LittleEndian, h.Sum32()); err != nil {
		return cw.n, fmt.Errorf("hnsw: write: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Read reads a graph written by WriteTo.
func Read(r io.Reader) (*Graph, error) {
	h := crc32.NewIEEE()
	br := bufio.NewReader(r)
	tr := io.TeeReader(br, h)
	var err error
	get := func(v any) {
		if err == nil {
			err = binary.Read(tr, binary.LittleEndian, v)
		}
	}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(tr, head); err != nil || string(head) != magic {
		return nil, fmt.Errorf("hnsw: not a ragnb HNSW file")
	}
	var ver uint32
	var params [3]uint32
	var seed uint64
	var dimN [2]uint32
	var entry int32
	var top uint32
	get(&ver)
	get(&params)
	get(&seed)
	get(&dimN)
	get(&entry)
	get(&top)
	if err != nil {
		return nil, fmt.Errorf("hnsw: read header: %w", unexpected(err))
	}
	if ver != version {
		return nil, fmt.Errorf("hnsw: file version %d, this build reads %d", ver, version)
	}
	g, err := New(int(dimN[0]), Params{M: int(params[0]), EfConstruction: int(params[1]), EfSearch: int(params[2]), Seed: seed})
	if err != nil {
		return nil, err
	}
	n := int(dimN[1])
	if (n == 0) != (entry < 0) || int(entry) >= n || top > maxLevel {
		return nil, fmt.Errorf("hnsw: bad header: %d nodes, entry %d, top level %d", n, entry, top)
	}
	g.entry, g.top = entry, int(top)
	g.links = make([][][]int32, n)
	var buf []uint32
	for i := range g.links {
		var lv uint8
		get(&lv)
		if err != nil {
			return nil, fmt.Errorf("hnsw: node %d: %w", i, unexpected(err))
		}
		if int(lv) > g.top {
			return nil, fmt.Errorf("hnsw: node %d has level %d above the top level %d", i, lv, g.top)
		}
		if lv != uint8(g.levelOf(i)) {
			return nil, fmt.Errorf("hnsw: node %d has level %d, its seed gives %d", i, lv, g.levelOf(i))
		}
		g.links[i] = make([][]int32, int(lv)+1)
		for l := range g.links[i] {
			var cnt uint16
			get(&cnt)
			if err == nil && int(cnt) > g.maxLinks(l) {
				err = fmt.Errorf("%d links, the cap is %d", cnt, g.maxLinks(l))
			}
			if err != nil {
				return nil, fmt.Errorf("hnsw: node %d level %d: %w", i, l, unexpected(err))
			}
			if cap(buf) < int(cnt) {
				buf = make([]uint32, cnt)
			}
			buf = buf[:cnt]
			get(buf)
			if err != nil {
				return nil, fmt.Errorf("hnsw: node %d level %d: %w", i, l, unexpected(err))
			}
			nb := make([]int32, cnt, g.maxLinks(l)+1)
			for j, x := range buf {
				if x >= uint32(n) {
					return nil, fmt.Errorf("hnsw: node %d level %d links to row %d of %d", i, l, x, n)
				}
				nb[j] = int32(x)
			}
			g.links[i][l] = nb
		}
	}
	if n > 0 && len(g.links[entry])-1 != g.top {
		return nil, fmt.Errorf("hnsw: entry node %d has level %d, header says %d", entry, len(g.links[entry])-1, g.top)
	}
	// A link to a node on a level that node does not reach would index past its lists in a search.
	for i, levels := range g.links {
		for l, nb := range levels {
			for _, x := range nb {
				if len(g.links[x]) <= l {
					return nil, fmt.Errorf("hnsw: node %d level %d links to node %d, which has level %d", i, l, x, len(g.links[x])-1)
				}
			}
		}
	}
	want := h.Sum32()
	var sum uint32
	if err := binary.Read(br, binary.LittleEndian, &sum); err != nil {
		return nil, fmt.Errorf("hnsw: read checksum: %w", unexpected(err))
	}
	if sum != want {
		return nil, fmt.Errorf("hnsw: checksum mismatch (file damaged)")
	}
	return g, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
