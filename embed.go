// Package ragnb holds the files the project writes itself and ships inside its binaries: the offline financial
// sample in testdata/financial-sample (fourteen fictional companies' 10-K–style filings and 518 question/passage
// pairs, written by tools/financialsample). The code lives in the sub-packages; prelude.Load("financial") is
// the usual way in.
package ragnb

import (
	"embed"
	"io/fs"
)

//go:generate go run ./tools/financialsample -out testdata/financial-sample

//go:embed testdata/financial-sample
var financialSample embed.FS

// FinancialSample is the offline financial sample: pairs.csv (question,answer,context,ticker,filing),
// companies.csv, README.md and filings/<TICKER>_2023_10K.md.
func FinancialSample() fs.FS {
	sub, err := fs.Sub(financialSample, "testdata/financial-sample")
	if err != nil {
		panic(err) // the directory is embedded at build time; this cannot fail
	}
	return sub
}
