package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Split shuffles the rows with a seeded PCG generator and returns (train, test), test holding
// ceil(testFraction × rows) rows as Hugging Face datasets' train_test_split does. The same seed and input
// always give the same split; both parts keep the original row order among themselves, so a split is
// stable to read and diff.
func Split(df dataframe.DataFrame, testFraction float64, seed uint64) (train, test dataframe.DataFrame, err error) {
	if df.Err != nil {
		return df, df, df.Err
	}
	n := df.Nrow()
	if !(testFraction > 0 && testFraction < 1) {
		return df, df, fmt.Errorf("split: test fraction %v must be between 0 and 1", testFraction)
	}
	nTest := int(math.Ceil(testFraction * float64(n)))
	if nTest < 1 || nTest >= n {
		return df, df, fmt.Errorf("split: %d rows with test fraction %v leaves an empty side", n, testFraction)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed5eed))
	perm := rng.Perm(n)
	isTest := make([]bool, n)
	for _, i := range perm[:nTest] {
		isTest[i] = true
	}
	var trainIdx, testIdx []int
	for i := 0; i < n; i++ {
		if isTest[i] {
			testIdx = append(testIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	return df.Subset(trainIdx), df.Subset(testIdx), nil
}

// Strings returns a column's values as text (see Texts), or an error naming the column and the columns that
// exist.
func Strings(df dataframe.DataFrame, column string) ([]string, error) {
	for _, n := range df.Names() {
		if n == column {
			return Texts(df.Col(column)), nil
		}
	}
	return nil, fmt.Errorf("no column %q (columns: %v)", column, df.Names())
}

// Texts is a column's values as text. A column typed as numbers (every cell numeric, e.g. queries that are
// years) is formatted back in the shortest form ("2023", not gota's "2023.000000"); NaN becomes "".
func Texts(c series.Series) []string {
	if c.Type() != series.Float {
		return c.Records()
	}
	out := make([]string, c.Len())
	for i, f := range c.Float() {
		if !math.IsNaN(f) {
			out[i] = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return out
}
