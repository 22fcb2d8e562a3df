// Package sharedtest finds the shared data set beside the checkout (../shared, or $RAGNB_SHARED) for tests and
// benchmarks. The data is never copied into the repository; CI always has it, so a missing folder fails the
// test rather than skipping it.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder (the one holding data/).
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("RAGNB_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	// Walk up to the module root (go.mod), then look beside it.
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			if _, err := os.Stat(filepath.Join(s, "data")); err != nil {
				tb.Fatalf("shared data not found at %s (set RAGNB_SHARED): %v", s, err)
			}
			return s
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Path returns a file under shared/data, failing the test if it does not exist.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), "data", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared data file: %v", err)
	}
	return p
}

// FinancialQA is the 7,000-row financial 10-K QA CSV (question,answer,context,ticker,filing).
func FinancialQA(tb testing.TB) string { return Path(tb, "financial-qa-10k/qa.csv") }

// BertTokenizer is bert-base-uncased's tokenizer.json (the vocabulary of bge-*-en-v1.5 and MiniLM).
func BertTokenizer(tb testing.TB) string {
	return Path(tb, "tokenizers/bert-base-uncased/tokenizer.json")
}

// MiniLMTokenizer is all-MiniLM-L6-v2's tokenizer.json (truncates at 256).
func MiniLMTokenizer(tb testing.TB) string {
	return Path(tb, "tokenizers/all-minilm-l6-v2/tokenizer.json")
}
