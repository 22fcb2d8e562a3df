package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/ir"
)

func TestLoadCorpusFromQATable(t *testing.T) {
	docs, err := LoadCorpus("../../testdata/financial-sample/pairs.csv", CorpusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The sample's README: 518 pairs over 223 passages.
	if len(docs) != 223 {
		t.Fatalf("%d documents, want the 223 distinct contexts", len(docs))
	}
	for _, d := range docs[:5] {
		if d.ID != cache.HashStrings(d.Text)[:16] || d.Title != "" {
			t.Errorf("document %+v: id is not the content hash", d)
		}
	}
}

func TestLoadCorpusFormats(t *testing.T) {
	dir := t.TempDir()
	beir := filepath.Join(dir, "corpus.jsonl")
	os.WriteFile(beir, []byte(`{"_id": "a", "title": "T", "text": "alpha"}`+"\n"+`{"_id": 7, "text": "beta"}`+"\n"), 0o644)
	docs, err := LoadCorpus(beir, CorpusOptions{})
	if err != nil || len(docs) != 2 || docs[0] != (ir.Document{ID: "a", Title: "T", Text: "alpha"}) || docs[1].ID != "7" {
		t.Errorf("BEIR corpus: %+v %v", docs, err)
	}
	csv := filepath.Join(dir, "docs.csv")
	os.WriteFile(csv, []byte("doc,body,heading\nx1,first passage,H1\nx2,second passage,H2\nx1,first passage,H1\n,,\n"), 0o644)
	docs, err = LoadCorpus(csv, CorpusOptions{TextColumn: "body", IDColumn: "doc", TitleColumn: "heading"})
	if err != nil || len(docs) != 2 || docs[1] != (ir.Document{ID: "x2", Title: "H2", Text: "second passage"}) {
		t.Errorf("table with ids: %+v %v", docs, err)
	}
	os.WriteFile(csv, []byte("doc,body\nx1,first\nx1,changed\n"), 0o644)
	if _, err := LoadCorpus(csv, CorpusOptions{TextColumn: "body", IDColumn: "doc"}); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("an id repeated with other content: %v", err)
	}
	if _, err := LoadCorpus(csv, CorpusOptions{TextColumn: "nope"}); err == nil || !strings.Contains(err.Error(), "columns: doc, body") {
		t.Errorf("missing column: %v", err)
	}
	if _, err := LoadCorpus(csv, CorpusOptions{}); err == nil {
		t.Error("no text-like column and none named: want an error")
	}
}
