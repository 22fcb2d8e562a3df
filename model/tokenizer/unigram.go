package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// unigramModel is tokenizers' Unigram model (SentencePiece unigram): the segmentation of a word that
// maximizes the sum of piece scores (Viterbi over every vocabulary piece starting at each character), a
// character no piece covers scoring as the unknown token (the lowest score minus 10), consecutive unknowns
// fused into one; with byte_fallback an unknown stretch becomes its <0xXX> byte tokens.
type unigramModel struct {
	ids      map[string]int32
	scores   []float64
	unkID    int32 // -1: none
	unkScore float64
	byteFall bool
	fuseUnk  bool
	trie     pieceTrie

	cache wordCache
}

// pieceTrie is a byte trie of the vocabulary: edges keyed by (node, byte), piece[node] ≥ 0 where a piece ends.
type pieceTrie struct {
	next  map[uint64]int32
	piece []int32
}

func (t *pieceTrie) insert(s string, id int32) {
	if t.next == nil {
		t.next = map[uint64]int32{}
		t.piece = []int32{-1}
	}
	node := int32(0)
	for i := 0; i < len(s); i++ {
		k := uint64(node)<<8 | uint64(s[i])
		n, ok := t.next[k]
		if !ok {
			n = int32(len(t.piece))
			t.piece = append(t.piece, -1)
			t.next[k] = n
		}
		node = n
	}
	t.piece[node] = id
}

func parseUnigram(raw json.RawMessage) (*unigramModel, error) {
	var j struct {
		UnkID        *int                 `json:"unk_id"`
		Vocab        [][2]json.RawMessage `json:"vocab"`
		ByteFallback bool                 `json:"byte_fallback"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("parse Unigram model: %w", err)
	}
	m := &unigramModel{ids: make(map[string]int32, len(j.Vocab)), scores: make([]float64, len(j.Vocab)), unkID: -1,
		byteFall: j.ByteFallback, fuseUnk: true}
	minScore := math.Inf(1)
	for i, e := range j.Vocab {
		var piece string
		if err := json.Unmarshal(e[0], &piece); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
		}
		if err := json.Unmarshal(e[1], &m.scores[i]); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d (%q) score: %w", i, piece, err)
		}
		m.ids[piece] = int32(i)
		minScore = min(minScore, m.scores[i])
	}
	for piece, id := range m.ids {
		m.trie.insert(piece, id)
	}
	if j.UnkID != nil {
		if *j.UnkID < 0 || *j.UnkID >= len(j.Vocab) {
			return nil, fmt.Errorf("Unigram unk_id %d is outside the vocabulary of %d pieces", *j.UnkID, len(j.Vocab))
		}
		m.unkID = int32(*j.UnkID)
	}
	m.unkScore = minScore - 10
	return m, nil
}

func (m *unigramModel) tokenize(word []byte) []bpeToken {
	if len(word) == 0 {
		return nil
	}
	return m.cache.get(word, m.viterbi)
}

type uniNode struct {
	score float64
	from  int32 // start of the best piece ending here; -1: unreached
	id    int32
}

func (m *unigramModel) viterbi(w string) []bpeToken {
	n := len(w)
	best := make([]uniNode, n+1)
	for i := range best {
		best[i].from = -1
	}
	best[0].from = 0
	for start := 0; start < n; {
		base := best[start].score
		_, mblen := utf8.DecodeRuneInString(w[start:])
		single := false
		node := int32(0)
		for k := start; k < n; k++ {
			nx, ok := m.trie.next[uint64(node)<<8|uint64(w[k])]
			if !ok {
				break
			}
			node = nx
			id := m.trie.piece[node]
			if id < 0 {
				continue
			}
			end := k + 1
			cand := base + m.scores[id]
			if t := &best[end]; t.from < 0 || cand > t.score {
				t.score, t.from, t.id = cand, int32(start), id
			}
			if end-start == mblen {
				single = true
			}
		}
		if !single {
			end := start + mblen
			cand := base + m.unkScore
			if t := &best[end]; t.from < 0 || cand > t.score {
				t.score, t.from, t.id = cand, int32(start), m.unkID
			}
		}
		start += mblen
	}
	// backtrack, fusing consecutive unknowns
	var rev []bpeToken
	for end := n; end > 0; {
		nd := best[end]
		start := int(nd.from)
		if l := len(rev) - 1; m.fuseUnk && nd.id == m.unkID && l >= 0 && rev[l].id == m.unkID {
			rev[l].lo = int32(start)
		} else {
			rev = append(rev, bpeToken{nd.id, int32(start), int32(end)})
		}
		end = start
	}
	out := make([]bpeToken, 0, len(rev))
	for i := len(rev) - 1; i >= 0; i-- {
		t := rev[i]
		if t.id == m.unkID { // as tokenizers: the piece's text is looked up again, then its bytes
			s := w[t.lo:t.hi]
			if id, ok := m.ids[s]; ok {
				t.id = id
			} else if m.byteFall {
				if bt := m.byteTokens(s, t.lo, t.hi); bt != nil {
					out = append(out, bt...)
					continue
				}
			}
			if t.id < 0 {
				continue // no unknown token: tokenizers fails here; the text is dropped
			}
		}
		out = append(out, t)
	}
	return out
}

// byteTokens is s as <0xXX> tokens, each spanning the whole stretch (as tokenizers gives them), or nil when
// the vocabulary lacks one.
func (m *unigramModel) byteTokens(s string, lo, hi int32) []bpeToken {
	out := make([]bpeToken, 0, len(s))
	for i := 0; i < len(s); i++ {
		id, ok := m.ids[fmt.Sprintf("<0x%02X>", s[i])]
		if !ok {
			return nil
		}
		out = append(out, bpeToken{id, lo, hi})
	}
	return out
}
