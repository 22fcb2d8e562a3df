package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
)

// CorpusOptions say which columns of a table hold the documents.
type CorpusOptions struct {
	// TextColumn holds the passage (default: the first of text, context, passage, positive present).
	TextColumn string
	// IDColumn holds document ids; empty or absent: ContentID of each text, and repeated texts are kept once
	// (a QA table repeats its passages once per question).
	IDColumn string
	// TitleColumn holds titles (optional).
	TitleColumn string
}

// ContentID is the id given to a document without one: the first 16 hex digits of its text's SHA-256, so
// the same passage gets the same id in every file and Add skips it.
func ContentID(text string) string { return cache.HashStrings(text)[:16] }

// LoadCorpus reads documents from a BEIR corpus.jsonl ({"_id","title","text"} lines) or any table that
// package datasets reads (.csv, .tsv, .jsonl, .json, .parquet) with the columns opts names.
func LoadCorpus(path string, opts CorpusOptions) ([]ir.Document, error) {
	if isBEIRCorpus(path) && opts.TextColumn == "" && opts.IDColumn == "" {
		return ir.LoadCorpus(path)
	}
	df, err := datasets.Load(path)
	if err != nil {
		return nil, err
	}
	names := df.Names()
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	textCol := opts.TextColumn
	if textCol == "" {
		for _, c := range []string{"text", "context", "passage", "positive"} {
			if has[c] {
				textCol = c
				break
			}
		}
	}
	if !has[textCol] {
		return nil, fmt.Errorf("corpus %s: no text column %q (columns: %s)", path, textCol, strings.Join(names, ", "))
	}
	texts := datasets.Texts(df.Col(textCol))
	var ids, titles []string
	if opts.IDColumn != "" {
		if !has[opts.IDColumn] {
			return nil, fmt.Errorf("corpus %s: no id column %q (columns: %s)", path, opts.IDColumn, strings.Join(names, ", "))
		}
		ids = datasets.Texts(df.Col(opts.IDColumn))
	}
	if opts.TitleColumn != "" {
		if !has[opts.TitleColumn] {
			return nil, fmt.Errorf("corpus %s: no title column %q", path, opts.TitleColumn)
		}
		titles = datasets.Texts(df.Col(opts.TitleColumn))
	}
	var docs []ir.Document
	seen := map[string]int{}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		d := ir.Document{Text: t}
		if titles != nil {
			d.Title = titles[i]
		}
		if ids != nil {
			d.ID = ids[i]
			if d.ID == "" {
				return nil, fmt.Errorf("corpus %s row %d: empty id", path, i+1)
			}
		} else {
			d.ID = ContentID(d.Content())
		}
		if j, dup := seen[d.ID]; dup {
			if ids != nil && docs[j] != d {
				return nil, fmt.Errorf("corpus %s row %d: id %q repeats with different content", path, i+1, d.ID)
			}
			continue
		}
		seen[d.ID] = len(docs)
		docs = append(docs, d)
	}
	return docs, nil
}

// isBEIRCorpus says whether path is JSONL whose first record has an "_id".
func isBEIRCorpus(path string) bool {
	if !strings.HasSuffix(strings.ToLower(path), ".jsonl") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec map[string]json.RawMessage
		if json.Unmarshal(line, &rec) != nil {
			return false
		}
		_, ok := rec["_id"]
		return ok
	}
	return false
}
