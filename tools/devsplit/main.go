// Command devsplit writes the honest protocol's three parts of a pairs table for the command line: train.csv
// (the training rows, rows with an empty anchor or positive dropped) and the dev and test splits as BEIR folders
// (dev/, test/: queries the split's anchors, corpus every distinct positive of the whole table, qrels/test.tsv),
// so that `ragnb train --data OUT/train.csv` trains on neither and `ragnb eval --beir OUT/dev` chooses on dev.
// The test split is exactly `ragnb eval --pairs FILE --test-fraction F --seed S`'s (datasets.SplitDevTest).
//
//	go run ./tools/devsplit --pairs qa.csv --anchor question --positive context --out split
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
)

func main() {
	pairs := flag.String("pairs", "", "pairs table (CSV, TSV, JSONL, JSON, parquet) (required)")
	anchor := flag.String("anchor", "anchor", "query column")
	positive := flag.String("positive", "positive", "passage column")
	dev := flag.Float64("dev-fraction", 0.1, "dev rows, a fraction of all rows carved from the training side")
	test := flag.Float64("test-fraction", 0.1, "test rows, a fraction of all rows")
	seed := flag.Uint64("seed", 42, "split seed")
	out := flag.String("out", "", "output folder (required)")
	flag.Parse()
	if *pairs == "" || *out == "" {
		log.Fatal("--pairs and --out are required")
	}
	if err := run(*pairs, *anchor, *positive, *dev, *test, *seed, *out); err != nil {
		log.Fatal(err)
	}
}

func run(pairs, anchor, positive string, devFraction, testFraction float64, seed uint64, out string) error {
	df, err := datasets.Load(pairs)
	if err != nil {
		return err
	}
	train, dev, test, err := datasets.SplitDevTest(df, devFraction, testFraction, seed)
	if err != nil {
		return fmt.Errorf("%s: %w", pairs, err)
	}
	corpus, err := datasets.Strings(df, positive)
	if err != nil {
		return fmt.Errorf("%s: %w", pairs, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	a, _ := datasets.Strings(train, anchor)
	p, err := datasets.Strings(train, positive)
	if err != nil {
		return fmt.Errorf("%s: %w", pairs, err)
	}
	var keep []int
	for i := range a {
		if a[i] != "" && p[i] != "" {
			keep = append(keep, i)
		}
	}
	if err := datasets.Save(train.Subset(keep).Select([]string{anchor, positive}), filepath.Join(out, "train.csv")); err != nil {
		return err
	}
	for _, part := range []struct {
		name string
		rows dataframe.DataFrame
	}{{"dev", dev}, {"test", test}} {
		q, _ := datasets.Strings(part.rows, anchor)
		pos, _ := datasets.Strings(part.rows, positive)
		ds, _, err := ir.FromPairs(q, pos, corpus)
		if err != nil {
			return fmt.Errorf("%s %s: %w", pairs, part.name, err)
		}
		if err := ir.SaveBEIR(filepath.Join(out, part.name), "test", ds); err != nil {
			return err
		}
		fmt.Printf("%s: %d queries, %d passages\n", part.name, len(ds.Queries), len(ds.Corpus))
	}
	fmt.Printf("train: %d rows (%d with an empty cell dropped)\n", len(keep), train.Nrow()-len(keep))
	return nil
}
