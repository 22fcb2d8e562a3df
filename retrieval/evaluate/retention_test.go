package evaluate

import (
	"math"
	"testing"

	"github.com/ragnb/ragnb/ir"
)

func col(label string, ndcg float64) Column {
	return Column{Label: label, Metrics: ir.Metrics{Names: []string{"ndcg@10"}, Values: map[string]float64{"ndcg@10": ndcg}}}
}

// TestRetentionReadsEachModelsDimensions: in a merged base/tuned report, each prefix's dimensions are read
// largest first with their share of the largest; BM25 and other prefixes are left out.
func TestRetentionReadsEachModelsDimensions(t *testing.T) {
	r := &Report{Columns: []Column{col("bm25", 0.7), col("base_dim_64_cosine", 0.5), col("base_dim_768_cosine", 0.8),
		col("tuned_dim_64_cosine", 0.75), col("tuned_dim_256_cosine", 0.8), col("tuned_dim_768_cosine", 0.82)}}
	got, err := Retention(r, "tuned", "cosine", "ndcg@10")
	if err != nil {
		t.Fatal(err)
	}
	want := []Retained{{768, 0.82, 1}, {256, 0.8, 0.8 / 0.82}, {64, 0.75, 0.75 / 0.82}}
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Dim != want[i].Dim || got[i].Score != want[i].Score || math.Abs(got[i].Share-want[i].Share) > 1e-12 {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if df := RetentionFrame(got, "ndcg@10"); df.Nrow() != 3 || df.Ncol() != 3 {
		t.Errorf("frame %v", df)
	}
	if _, err := Retention(r, "", "cosine", "ndcg@10"); err == nil {
		t.Error("no unprefixed model columns, yet a retention")
	}
	if _, err := Retention(r, "base", "cosine", "mrr@10"); err == nil {
		t.Error("a metric the report lacks")
	}
}
