package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// BenchmarkEncodeFinancialContexts encodes the 7,000 contexts of the financial QA set with
// bert-base-uncased's tokenizer.json, one text after another (Encode, no length limit) and in parallel
// batches (EncodeBatch, one worker per CPU, limited to 512 tokens as embedding does).
func BenchmarkEncodeFinancialContexts(b *testing.B) {
	_, contexts := readFinancial(b)
	tok := loadShared(b, "bert-base-uncased")
	bytes := 0
	for _, c := range contexts {
		bytes += len(c)
	}
	report := func(b *testing.B, tokens int) {
		s := b.Elapsed().Seconds()
		b.ReportMetric(float64(b.N*len(contexts))/s, "texts/s")
		b.ReportMetric(float64(tokens)/s, "tokens/s")
		b.ReportMetric(float64(b.N*bytes)/s/1e6, "MB/s")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("sequential", func(b *testing.B) {
		tokens := 0
		for b.Loop() {
			for _, c := range contexts {
				tokens += len(tok.Encode(c, 0).IDs)
			}
		}
		report(b, tokens)
	})
	b.Run("batch512", func(b *testing.B) {
		tokens := 0
		for b.Loop() {
			for _, e := range tok.EncodeBatch(contexts, 512) {
				tokens += len(e.IDs)
			}
		}
		report(b, tokens)
	})
}

// BenchmarkEncodeFinancialContextsBPEUnigram encodes the same contexts with a byte-level BPE (modernbert) and a
// Unigram tokenizer with a Precompiled normalizer (t5-small), one text after another.
func BenchmarkEncodeFinancialContextsBPEUnigram(b *testing.B) {
	_, contexts := readFinancial(b)
	for _, name := range []string{"modernbert", "t5-small"} {
		tok, err := Load(filepath.Join(sharedtest.Dir(b), "data", "tokenizers", name, "tokenizer.json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			tokens := 0
			for b.Loop() {
				for _, c := range contexts {
					tokens += len(tok.Encode(c, 0).IDs)
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*len(contexts))/s, "texts/s")
			b.ReportMetric(float64(tokens)/s, "tokens/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
