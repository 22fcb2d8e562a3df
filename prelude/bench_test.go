package prelude

import (
	"testing"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// BenchmarkLoadFinancialReal is what every notebook cell pays for `var pairs = prelude.Load("financial")` with
// RAGNB_DATA pointing at the 7,000-row shared set: the CSV is parsed again in each cell's process.
func BenchmarkLoadFinancialReal(b *testing.B) {
	b.Setenv(DataEnv, sharedtest.FinancialQA(b))
	for i := 0; i < b.N; i++ {
		if d := Load("financial"); d.Len() != 7000 {
			b.Fatal(d.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
}

// BenchmarkLoadFinancialSample is the same for the embedded sample.
func BenchmarkLoadFinancialSample(b *testing.B) {
	b.Setenv(DataEnv, "")
	for i := 0; i < b.N; i++ {
		if d := Load("financial"); d.Len() != 518 {
			b.Fatal(d.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/load")
}

// BenchmarkStepHit replays a cached table step over the 7,000-row set: hash the input's content, find the
// entry, load the stored table.
func BenchmarkStepHit(b *testing.B) {
	b.Setenv("RAGNB_CACHE", b.TempDir())
	b.Setenv(DataEnv, sharedtest.FinancialQA(b))
	d := Load("financial")
	same := func(df dataframe.DataFrame) (dataframe.DataFrame, error) { return df, nil }
	if r := d.Step("bench", nil, same); r.Err() != nil {
		b.Fatal(r.Err())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fresh := Load("financial") // a new cell: no hash memoised yet
		if r := fresh.Step("bench", nil, same); r.Len() != 7000 {
			b.Fatal(r.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/cell")
}
