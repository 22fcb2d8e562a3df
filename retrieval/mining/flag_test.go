package mining

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestFlagFormatKeepsAQueryOnOneLine: the toy query with three negatives (top sampling, no window) becomes one
// FlagEmbedding line with its positive, the negatives nearest first and, with OutputScores, the cosines.
func TestFlagFormatKeepsAQueryOnOneLine(t *testing.T) {
	r := mineToy(t, Options{NumNegatives: 3, OutputScores: true})
	p := filepath.Join(t.TempDir(), "flag.jsonl")
	n, err := r.SaveFlag(p)
	if err != nil || n != 1 {
		t.Fatalf("wrote %d lines: %v", n, err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
	l := lines[0]
	neg := l["neg"].([]any)
	if l["query"] != "q" || l["pos"].([]any)[0] != "pos" || len(neg) != 3 || neg[0] != "A" || neg[1] != "B" || neg[2] != "C" {
		t.Errorf("line %v", l)
	}
	if ns := l["neg_scores"].([]any); math.Abs(ns[0].(float64)-40.0/41) > 1e-6 || len(l["pos_scores"].([]any)) != 1 {
		t.Errorf("neg_scores %v", ns)
	}
	if _, ok := l["prompt"]; ok {
		t.Errorf("an empty prompt was written: %v", l)
	}
	// Without scores the score fields are left out.
	r = mineToy(t, Options{NumNegatives: 2})
	if recs := r.FlagRecords(); len(recs) != 1 || recs[0].NegScores != nil || len(recs[0].Neg) != 2 {
		t.Errorf("records %+v", recs)
	}
}
