package mining

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// Flag is FlagEmbedding's training format, one JSON object per line:
//
//	{"query": str, "pos": [str, …], "neg": [str, …], "pos_scores": [float, …], "neg_scores": [float, …], "prompt": str}
//
// FlagEmbedding's hn_mine writes it and its trainer reads it: each step takes one positive and
// train_group_size − 1 negatives from a line. Unlike the table formats, a query keeps all its positives
// and negatives on one line, and lines may hold different numbers of negatives.
const Flag = "flag"

// FlagRecord is one line of the FlagEmbedding format.
type FlagRecord struct {
	Query string   `json:"query"`
	Pos   []string `json:"pos"`
	Neg   []string `json:"neg"`
	// PosScores and NegScores are teacher scores for knowledge distillation (omitted when not asked for).
	PosScores []float64 `json:"pos_scores,omitempty"`
	NegScores []float64 `json:"neg_scores,omitempty"`
	// Prompt is a per-line query instruction (FlagEmbedding's "prompt"; omitted when empty).
	Prompt string `json:"prompt,omitempty"`
}

// FlagRecords are the mined queries in FlagEmbedding's format: every query with its positives and its
// negatives, highest score first; queries the fallback skipped are left out, and so are queries without a
// negative (FlagEmbedding's trainer needs at least one to sample from). With Options.OutputScores the
// bi-encoder cosines go into pos_scores and neg_scores.
func (r *Result) FlagRecords() []FlagRecord {
	var out []FlagRecord
	for q, qr := range r.Queries {
		if qr.Skipped || len(qr.Negatives) == 0 {
			continue
		}
		rec := FlagRecord{Query: r.Set.Queries[q], Pos: []string{}, Neg: []string{}}
		for i, p := range r.Set.Positives[q] {
			rec.Pos = append(rec.Pos, r.Set.Corpus[p])
			if r.Options.OutputScores {
				rec.PosScores = append(rec.PosScores, qr.PositiveScores[i])
			}
		}
		for _, n := range qr.Negatives {
			rec.Neg = append(rec.Neg, r.Set.Corpus[n.Passage])
			if r.Options.OutputScores {
				rec.NegScores = append(rec.NegScores, n.Score)
			}
		}
		out = append(out, rec)
	}
	return out
}

// SaveFlag writes FlagRecords as JSONL (atomically) and returns how many lines it wrote.
func (r *Result) SaveFlag(path string) (int, error) {
	recs := r.FlagRecords()
	err := atomicfile.Write(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, rec := range recs {
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
		return w.Flush()
	})
	if err != nil {
		return 0, fmt.Errorf("mine: write %s: %w", path, err)
	}
	return len(recs), nil
}
