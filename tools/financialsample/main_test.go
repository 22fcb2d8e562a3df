package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const committed = "../../testdata/financial-sample"

// TestCommittedSampleIsReproducible regenerates the sample and compares it byte for byte with the committed copy.
func TestCommittedSampleIsReproducible(t *testing.T) {
	s, err := generate(defaults)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range s {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(committed, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, s[name]) {
			t.Errorf("%s differs from a fresh run (%v): run `go run ./tools/financialsample -out testdata/financial-sample`", name, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(committed, "filings", "*.md"))
	if len(files) != len(companies) {
		t.Errorf("%d committed filings, want %d", len(files), len(companies))
	}
	again, _ := generate(defaults)
	for name := range s {
		if !bytes.Equal(s[name], again[name]) {
			t.Errorf("two runs differ in %s", name)
		}
	}
}

func TestSampleShape(t *testing.T) {
	s, err := generate(defaults)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(s["pairs.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "question,answer,context,ticker,filing" {
		t.Fatalf("header %v", recs[0])
	}
	recs = recs[1:]
	contexts, questions, tickers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	total := 0
	for name, b := range s {
		total += len(b)
		_ = name
	}
	for i, r := range recs {
		if r[0] == "" || r[1] == "" || r[2] == "" || r[4] != "2023_10K" {
			t.Errorf("row %d incomplete: %q", i, r)
		}
		if questions[r[0]] {
			t.Errorf("duplicate question %q", r[0])
		}
		questions[r[0]] = true
		contexts[r[2]] = true
		tickers[r[3]] = true
		if !bytes.Contains(s["filings/"+r[3]+"_2023_10K.md"], []byte(r[2])) {
			t.Errorf("row %d: context not found in the %s filing", i, r[3])
		}
		if strings.Contains(r[0], "%!") || strings.Contains(r[1], "%!") || strings.Contains(r[2], "%!") {
			t.Errorf("row %d: formatting error: %q", i, r)
		}
	}
	if len(recs) < 400 || len(contexts) < 150 || len(tickers) < 10 {
		t.Errorf("%d pairs over %d passages of %d companies; want ≥ 400, ≥ 150, ≥ 10", len(recs), len(contexts), len(tickers))
	}
	if total > 1<<20 {
		t.Errorf("sample is %d bytes, want well under 1 MB", total)
	}
	t.Logf("%d pairs, %d passages, %d companies, %d bytes", len(recs), len(contexts), len(tickers), total)
}

// TestBM25IsImperfect keeps the task realistic: a lexical retriever should find many answers, but far from all.
func TestBM25IsImperfect(t *testing.T) {
	s, _ := generate(defaults)
	ndcg, q, d, err := bm25NDCG10(s["pairs.csv"])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BM25 NDCG@10 = %.3f over %d questions and %d passages", ndcg, q, d)
	if ndcg < 0.45 || ndcg > 0.8 {
		t.Errorf("BM25 NDCG@10 = %.3f, want between 0.45 and 0.8", ndcg)
	}
}
