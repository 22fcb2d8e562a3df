package docs

import (
	"encoding/csv"
	"os"
	"testing"

	"github.com/ragnb/ragnb/internal/sharedtest"
)

// wordPieceTotal is the number of bert-base-uncased WordPiece tokens (no [CLS]/[SEP]) in the 6,757 unique
// contexts of the shared financial QA set, counted by the independent Python implementation in
// tools/wordpiece_count.py over the real tokenizer.json.
const wordPieceTotal = 298129

func TestApproxCounterMatchesWordPieceOnFinancialContexts(t *testing.T) {
	f, err := os.Open(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	total := 0
	for _, r := range recs[1:] {
		if !seen[r[2]] {
			seen[r[2]] = true
			total += ApproxCounter{}.CountTokens(r[2])
		}
	}
	ratio := float64(total) / wordPieceTotal
	t.Logf("%d contexts: ApproxCounter %d tokens, WordPiece %d (ratio %.4f)", len(seen), total, wordPieceTotal, ratio)
	if len(seen) != 6757 || ratio < 0.99 || ratio > 1.01 {
		t.Errorf("%d contexts, ratio %.4f: want 6757 and within 1%%", len(seen), ratio)
	}
}
