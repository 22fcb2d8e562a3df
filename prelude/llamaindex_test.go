package prelude

import (
	"slices"
	"strings"
	"testing"
)

// LoadLlamaIndex gives the file's (query, node) pairs, the same rows Load gives, and evaluates a model on the
// file's own corpus with hit_rate@k beside accuracy@k.
func TestLoadLlamaIndexPairsAndEvaluate(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	const path = "../testdata/formats/llamaindex_qa.json"
	li := LoadLlamaIndex(path)
	if li.Err() != nil {
		t.Fatal(li.Err())
	}
	pairs := li.Pairs()
	if pairs.Len() != 12 || strings.Join(pairs.Columns(), ",") != "anchor,positive" {
		t.Fatalf("pairs: %d rows, columns %v; want 12 rows of anchor, positive", pairs.Len(), pairs.Columns())
	}
	if got := Load(path); got.Err() != nil || got.Hash() != pairs.Hash() {
		t.Errorf("Load(%s) = %v (err %v), want LoadLlamaIndex's pairs", path, got.Columns(), got.Err())
	}
	if a := pairs.Column("anchor"); a[len(a)-1] != a[len(a)-2] {
		t.Errorf("the query relevant to two nodes is not two rows: %q", a[len(a)-2:])
	}
	m := li.Evaluate(StaticModel(pairs, "positive", StaticOptions{Dim: 32}), EvalOptions{})
	if m.Err() != nil {
		t.Fatal(m.Err())
	}
	for _, k := range []string{"1", "3", "5", "10"} {
		hit, acc := m.Get("dim_32_cosine_hit_rate@"+k), m.Get("dim_32_cosine_accuracy@"+k)
		if hit != acc || !slices.Contains(m.Keys(), "dim_32_cosine_hit_rate@"+k) {
			t.Errorf("hit_rate@%s %v, accuracy@%s %v (keys %v)", k, hit, k, acc, m.Keys())
		}
	}
	if bad := LoadLlamaIndex("../testdata/financial-sample/pairs.csv"); bad.Err() == nil || bad.Pairs().Err() == nil {
		t.Error("a CSV is taken for a LlamaIndex file")
	}
}
