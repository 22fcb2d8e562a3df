package sharedtest

import "testing"

func TestSharedDataPresent(t *testing.T) {
	for _, p := range []string{FinancialQA(t), BertTokenizer(t), MiniLMTokenizer(t)} {
		if p == "" {
			t.Fatal("empty path")
		}
	}
}
