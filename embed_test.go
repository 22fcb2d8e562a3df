package ragnb

import (
	"io/fs"
	"os"
	"testing"
)

func TestFinancialSampleIsTheCommittedCopy(t *testing.T) {
	for _, name := range []string{"pairs.csv", "companies.csv", "filings/HVMS_2023_10K.md"} {
		got, err := fs.ReadFile(FinancialSample(), name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile("testdata/financial-sample/" + name)
		if string(got) != string(want) || len(got) == 0 {
			t.Errorf("%s: embedded copy differs from the file", name)
		}
	}
	filings, _ := fs.Glob(FinancialSample(), "filings/*.md")
	if len(filings) != 14 {
		t.Errorf("%d filings embedded", len(filings))
	}
}
