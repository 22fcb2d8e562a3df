package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/graphemes"
)

// precompiledStage is SentencePiece's compiled normalization rules (the "Precompiled" normalizer of
// tokenizer.json, e.g. nmt_nfkc): a darts-clone double-array trie over UTF-8 byte strings whose values
// point into a pool of NUL-terminated replacement strings.
//
// It is applied as tokenizers applies it (not quite as SentencePiece does): the text is cut into extended
// grapheme clusters; a cluster shorter than 6 bytes with a rule is replaced as a whole, otherwise each of
// its characters is replaced by its rule or kept. The rule found for a chunk is that of its shortest
// prefix in the trie (tokenizers takes the first common-prefix result).
type precompiledStage struct {
	units []uint32 // the double array
	pool  []byte   // replacement strings, each ended by a NUL
}

// parsePrecompiled decodes the base64 precompiled_charsmap: a little-endian u32 with the trie's size in
// bytes, the trie's u32 units, then the replacement pool.
func parsePrecompiled(b64 string) (*precompiledStage, error) {
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("Precompiled normalizer: precompiled_charsmap is not base64: %w", err)
	}
	if len(blob) < 4 {
		return nil, errors.New("Precompiled normalizer: precompiled_charsmap is too short")
	}
	size := int(binary.LittleEndian.Uint32(blob))
	if size%4 != 0 || 4+size > len(blob) || size == 0 {
		return nil, fmt.Errorf("Precompiled normalizer: trie size %d does not fit a %d-byte charsmap", size, len(blob))
	}
	p := &precompiledStage{units: make([]uint32, size/4), pool: blob[4+size:]}
	for i := range p.units {
		p.units[i] = binary.LittleEndian.Uint32(blob[4+4*i:])
	}
	if !utf8.Valid(p.pool) {
		return nil, errors.New("Precompiled normalizer: the replacement pool is not valid UTF-8")
	}
	return p, nil
}

// darts-clone unit fields.
func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// firstPrefixValue returns the value of the shortest prefix of key that is in the trie.
func (p *precompiledStage) firstPrefixValue(key []byte) (uint32, bool) {
	pos := unitOffset(p.units[0])
	for _, c := range key {
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(p.units) {
			return 0, false
		}
		u := p.units[pos]
		if unitLabel(u) != uint32(c) {
			return 0, false
		}
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			if int(pos) >= len(p.units) {
				return 0, false
			}
			return unitValue(p.units[pos]), true
		}
	}
	return 0, false
}

// transform returns the replacement of chunk, if it has one.
func (p *precompiledStage) transform(chunk []byte) ([]byte, bool) {
	v, ok := p.firstPrefixValue(chunk)
	if !ok || int(v) > len(p.pool) {
		return nil, false
	}
	end := int(v)
	for end < len(p.pool) && p.pool[end] != 0 {
		end++
	}
	return p.pool[v:end], true
}

func (p *precompiledStage) apply(in, out *normText) {
	g := graphemes.FromBytes(in.b)
	for g.Next() {
		gs, ge := g.Start(), g.End()
		if ge-gs < 6 {
			if rep, ok := p.transform(in.b[gs:ge]); ok {
				st, en := in.spanOf(gs, ge)
				out.appendSpan(string(rep), st, en)
				continue
			}
		}
		for i := gs; i < ge; {
			_, size := utf8.DecodeRune(in.b[i:ge])
			if rep, ok := p.transform(in.b[i : i+size]); ok {
				st, en := in.spanOf(i, i+size)
				out.appendSpan(string(rep), st, en)
			} else {
				out.copyRange(in, i, i+size)
			}
			i += size
		}
	}
}
