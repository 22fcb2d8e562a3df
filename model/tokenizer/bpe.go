package tokenizer

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpeModel is tokenizers' BPE model: each pre-tokenized word starts as one symbol per character (with the
// continuing-subword prefix on all but the first and the end-of-word suffix on the last; characters
// missing from the vocabulary become their <0xXX> byte tokens with byte_fallback, else the unknown token,
// fused when fuse_unk, else nothing), then the pair of adjacent symbols with the lowest merge rank is merged,
// leftmost first, until no pair has a merge.
type bpeModel struct {
	vocab       map[string]int32
	merges      map[uint64]bpeMerge // (left id, right id) → rank and merged id
	unkID       int32               // -1: no unknown token
	prefix      string              // continuing_subword_prefix
	suffix      string              // end_of_word_suffix
	fuseUnk     bool
	byteFall    bool
	ignoreMerge bool

	cache wordCache
}

type bpeMerge struct {
	rank, id int32
}

// bpeToken is one token of a word: its id and byte span in the word.
type bpeToken struct {
	id     int32
	lo, hi int32
}

// wordCache remembers the tokens of up to wordCacheSize words (a corpus's vocabulary repeats; merging or
// Viterbi per occurrence dominated encoding), for BPE and Unigram alike. Safe for concurrent use.
type wordCache struct {
	mu    sync.RWMutex
	words map[string][]bpeToken
}

const wordCacheSize = 1 << 16

// get returns word's tokens, computing them with tokenize (and keeping them while there is room) when the word
// was not seen before.
func (c *wordCache) get(word []byte, tokenize func(string) []bpeToken) []bpeToken {
	c.mu.RLock()
	toks, ok := c.words[string(word)]
	c.mu.RUnlock()
	if ok {
		return toks
	}
	w := string(word)
	toks = tokenize(w)
	c.mu.Lock()
	if c.words == nil {
		c.words = map[string][]bpeToken{}
	}
	if len(c.words) < wordCacheSize {
		c.words[w] = toks
	}
	c.mu.Unlock()
	return toks
}

type bpeJSON struct {
	Vocab                   map[string]int32  `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	UnkToken                *string           `json:"unk_token"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	FuseUnk                 bool              `json:"fuse_unk"`
	ByteFallback            bool              `json:"byte_fallback"`
	IgnoreMerges            bool              `json:"ignore_merges"`
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func parseBPE(raw json.RawMessage) (*bpeModel, error) {
	var j bpeJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("parse BPE model: %w", err)
	}
	m := &bpeModel{vocab: j.Vocab, unkID: -1, fuseUnk: j.FuseUnk, byteFall: j.ByteFallback, ignoreMerge: j.IgnoreMerges,
		merges: make(map[uint64]bpeMerge, len(j.Merges))}
	if m.vocab == nil {
		m.vocab = map[string]int32{}
	}
	if j.ContinuingSubwordPrefix != nil {
		m.prefix = *j.ContinuingSubwordPrefix
	}
	if j.EndOfWordSuffix != nil {
		m.suffix = *j.EndOfWordSuffix
	}
	if j.UnkToken != nil {
		id, ok := m.vocab[*j.UnkToken]
		if !ok {
			return nil, fmt.Errorf("BPE unk_token %q is not in the vocabulary", *j.UnkToken)
		}
		m.unkID = id
	}
	for rank, rawMerge := range j.Merges {
		// "a b" (older files) or ["a", "b"] (tokenizers ≥ 0.20)
		var a, b string
		var s string
		if err := json.Unmarshal(rawMerge, &s); err == nil {
			parts := strings.Split(s, " ")
			if len(parts) != 2 {
				return nil, fmt.Errorf("BPE merge %d %q is not two tokens separated by a space", rank+1, s)
			}
			a, b = parts[0], parts[1]
		} else {
			var pair []string
			if err := json.Unmarshal(rawMerge, &pair); err != nil || len(pair) != 2 {
				return nil, fmt.Errorf("BPE merge %d: want \"a b\" or [a, b], got %s", rank+1, rawMerge)
			}
			a, b = pair[0], pair[1]
		}
		ida, ok1 := m.vocab[a]
		idb, ok2 := m.vocab[b]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BPE merge %d (%q %q) uses a token missing from the vocabulary", rank+1, a, b)
		}
		if len(m.prefix) > len(b) || !strings.HasPrefix(b, m.prefix) && m.prefix != "" {
			return nil, fmt.Errorf("BPE merge %d: %q lacks the continuing subword prefix %q", rank+1, b, m.prefix)
		}
		merged := a + b[len(m.prefix):]
		id, ok := m.vocab[merged]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: the merged token %q is not in the vocabulary", rank+1, merged)
		}
		m.merges[pairKey(ida, idb)] = bpeMerge{rank: int32(rank), id: id} // a repeated pair keeps its last rank, as tokenizers does
	}
	return m, nil
}

// tokenize returns the tokens of word (from the cache when it was seen before).
func (m *bpeModel) tokenize(word []byte) []bpeToken {
	if len(word) == 0 {
		return nil
	}
	if m.ignoreMerge {
		if id, ok := m.vocab[string(word)]; ok {
			return []bpeToken{{id, 0, int32(len(word))}}
		}
	}
	return m.cache.get(word, m.mergeWord)
}

// bpeSymbol is a symbol of a word being merged, in a doubly linked list over the word's symbols.
type bpeSymbol struct {
	id         int32
	lo, hi     int32 // byte span in the word
	prev, next int32 // -1 at the ends
	gone       bool
}

type bpeCand struct {
	rank, pos, id int32
}

type bpeQueue []bpeCand

func (q bpeQueue) Len() int { return len(q) }
func (q bpeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q bpeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *bpeQueue) Push(x any)   { *q = append(*q, x.(bpeCand)) }
func (q *bpeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (m *bpeModel) mergeWord(w string) []bpeToken {
	syms := make([]bpeSymbol, 0, len(w))
	add := func(id int32, lo, hi int) {
		syms = append(syms, bpeSymbol{id: id, lo: int32(lo), hi: int32(hi)})
	}
	unk, unkLo, unkHi := int32(-1), 0, 0
	flushUnk := func() {
		if unk >= 0 {
			add(unk, unkLo, unkHi)
			unk = -1
		}
	}
	var key []byte
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		end := i + size
		key = key[:0]
		if i > 0 {
			key = append(key, m.prefix...)
		}
		key = append(key, w[i:end]...)
		if end == len(w) {
			key = append(key, m.suffix...)
		}
		if id, ok := m.vocab[string(key)]; ok {
			flushUnk()
			add(id, i, end)
			i = end
			continue
		}
		if m.byteFall {
			ids := make([]int32, 0, len(key))
			for _, c := range key {
				id, ok := m.vocab[fmt.Sprintf("<0x%02X>", c)]
				if !ok {
					ids = nil
					break
				}
				ids = append(ids, id)
			}
			if ids != nil {
				// tokenizers gives each byte token a length of 1 byte from the character's start
				for k, id := range ids {
					lo := min(i+k, end)
					add(id, lo, min(lo+1, end))
				}
				i = end
				continue
			}
		}
		if m.unkID >= 0 {
			switch {
			case unk >= 0 && m.fuseUnk:
				unkHi = end
			default:
				flushUnk()
				unk, unkLo, unkHi = m.unkID, i, end
			}
		}
		i = end
	}
	flushUnk()
	for k := range syms {
		syms[k].prev, syms[k].next = int32(k-1), int32(k+1)
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	q := make(bpeQueue, 0, len(syms))
	for k := 0; k+1 < len(syms); k++ {
		if mg, ok := m.merges[pairKey(syms[k].id, syms[k+1].id)]; ok {
			q = append(q, bpeCand{rank: mg.rank, pos: int32(k), id: mg.id})
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		top := heap.Pop(&q).(bpeCand)
		s := &syms[top.pos]
		if s.gone || s.next < 0 {
			continue
		}
		right := &syms[s.next]
		if mg, ok := m.merges[pairKey(s.id, right.id)]; !ok || mg.id != top.id {
			continue // stale
		}
		s.id, s.hi = top.id, right.hi
		right.gone = true
		s.next = right.next
		if s.next >= 0 {
			syms[s.next].prev = top.pos
		}
		if s.prev >= 0 {
			if mg, ok := m.merges[pairKey(syms[s.prev].id, s.id)]; ok {
				heap.Push(&q, bpeCand{rank: mg.rank, pos: s.prev, id: mg.id})
			}
		}
		if s.next >= 0 {
			if mg, ok := m.merges[pairKey(s.id, syms[s.next].id)]; ok {
				heap.Push(&q, bpeCand{rank: mg.rank, pos: top.pos, id: mg.id})
			}
		}
	}
	out := make([]bpeToken, 0, len(syms))
	for _, s := range syms {
		if !s.gone {
			out = append(out, bpeToken{s.id, s.lo, s.hi})
		}
	}
	return out
}
