package datasets

import (
	"fmt"

	"github.com/go-gota/gota/dataframe"
)

// SplitDevTest is the train / dev / test protocol: test is exactly Split(df, testFraction, seed)'s test side
// (so test figures stay comparable with a plain split), and dev is carved from the remaining train rows with
// its own seeded split, sized to devFraction of all rows. Choices such as a fusion weight, a checkpoint or a
// threshold are made on dev and reported on test, never on the rows they are reported on. The same seed and
// input always give the same three parts; each keeps the original row order.
func SplitDevTest(df dataframe.DataFrame, devFraction, testFraction float64, seed uint64) (train, dev, test dataframe.DataFrame, err error) {
	if !(devFraction > 0 && devFraction+testFraction < 1) {
		return df, df, df, fmt.Errorf("split: dev fraction %v must be above 0 and leave training rows beside test fraction %v", devFraction, testFraction)
	}
	rest, test, err := Split(df, testFraction, seed)
	if err != nil {
		return df, df, df, err
	}
	// dev is devFraction of all rows, so it is devFraction / (1 − testFraction) of the rest; a second stream
	// of the same seed keeps it independent of which rows went to test.
	train, dev, err = Split(rest, devFraction/(1-testFraction), seed^0xde5)
	if err != nil {
		return df, df, df, fmt.Errorf("dev split of the %d training rows: %w", rest.Nrow(), err)
	}
	return train, dev, test, nil
}
