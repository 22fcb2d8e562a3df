package documents

import (
	"math"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/tokenizer"
)

// The real WordPiece tokenizer satisfies TokenCounter, so chunking can count exactly what the model sees.
var _ TokenCounter = (*tokenizer.Tokenizer)(nil)

// TestApproxCounterMatchesWordPieceOnFinancialContexts compares the model-free approximation with the real
// bert-base-uncased WordPiece count (package tokenizer, which matches HF tokenizers on every row of this set)
// over the 6,757 unique contexts of the shared financial QA set.
func TestApproxCounterMatchesWordPieceOnFinancialContexts(t *testing.T) {
	df, err := datasets.Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	contexts, err := datasets.Strings(df, "context")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(sharedtest.BertTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	approx, exact := 0, 0
	var relErr float64
	for _, c := range contexts {
		if seen[c] {
			continue
		}
		seen[c] = true
		a, e := ApproxCounter{}.CountTokens(c), tok.CountTokens(c)
		approx += a
		exact += e
		if e > 0 {
			relErr += math.Abs(float64(a-e)) / float64(e)
		}
	}
	ratio := float64(approx) / float64(exact)
	perPassage := relErr / float64(len(seen))
	t.Logf("%d contexts: ApproxCounter %d tokens, WordPiece %d (ratio %.4f, mean per-passage error %.1f%%)",
		len(seen), approx, exact, ratio, 100*perPassage)
	if len(seen) != 6757 || ratio < 0.99 || ratio > 1.01 || perPassage > 0.10 {
		t.Errorf("%d contexts, total ratio %.4f, per-passage error %.3f: want 6757, within 1%% in total, 10%% per passage",
			len(seen), ratio, perPassage)
	}
}

// TestChunkWithRealTokenizer chunks a long text with the WordPiece counter: every chunk stays within the
// token budget as the model counts it.
func TestChunkWithRealTokenizer(t *testing.T) {
	tok, err := tokenizer.Load(sharedtest.BertTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	df, err := datasets.Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	contexts, _ := datasets.Strings(df, "context")
	text := ""
	for _, c := range contexts[:200] {
		text += c + " "
	}
	chunks, err := ChunkText(Document{Source: "financial.txt", Text: text}, ChunkConfig{Tokens: 128, Overlap: 16, Counter: tok})
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 10 {
		t.Fatalf("only %d chunks for %d tokens", len(chunks), tok.CountTokens(text))
	}
	for _, c := range chunks {
		if n := tok.CountTokens(c.Text); n > 128 {
			t.Errorf("chunk %d has %d WordPiece tokens, budget 128", c.Index, n)
		}
		if text[c.Start:c.End] != c.Text {
			t.Errorf("chunk %d offsets [%d,%d) do not reproduce its text", c.Index, c.Start, c.End)
		}
	}
}
