package datasets

import (
	"slices"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// TestSplitDevTestIsDisjointDeterministicAndKeepsThePlainTestSplit: the three parts cover every row once,
// the same seed gives the same parts, test is exactly Split's, and dev is sized on all rows.
func TestSplitDevTestIsDisjointDeterministicAndKeepsThePlainTestSplit(t *testing.T) {
	ids := make([]int, 100)
	for i := range ids {
		ids[i] = i
	}
	df := dataframe.New(series.New(ids, series.Int, "id"))
	train, dev, test, err := SplitDevTest(df, 0.2, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Nrow() != 70 || dev.Nrow() != 20 || test.Nrow() != 10 {
		t.Fatalf("sizes %d/%d/%d, want 70/20/10", train.Nrow(), dev.Nrow(), test.Nrow())
	}
	var all []int
	for _, part := range []dataframe.DataFrame{train, dev, test} {
		v, _ := part.Col("id").Int()
		all = append(all, v...)
	}
	slices.Sort(all)
	if !slices.Equal(all, ids) {
		t.Errorf("parts do not cover each row once: %v", all)
	}
	_, plain, _ := Split(df, 0.1, 7)
	if !slices.Equal(Texts(plain.Col("id")), Texts(test.Col("id"))) {
		t.Errorf("test %v differs from Split's %v", Texts(test.Col("id")), Texts(plain.Col("id")))
	}
	_, dev2, _, _ := SplitDevTest(df, 0.2, 0.1, 7)
	if !slices.Equal(Texts(dev.Col("id")), Texts(dev2.Col("id"))) {
		t.Error("the same seed gave another dev split")
	}
	if _, _, _, err := SplitDevTest(df, 0.95, 0.1, 7); err == nil {
		t.Error("dev 0.95 + test 0.1 accepted")
	}
}
