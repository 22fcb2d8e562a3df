package ir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// LoadBEIR reads a BEIR folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv.
func LoadBEIR(dir, split string) (*Dataset, error) {
	corpus, err := LoadCorpus(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	queries, err := LoadQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		return nil, err
	}
	qrels, err := LoadQrels(filepath.Join(dir, "qrels", split+".tsv"))
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Corpus: corpus, Queries: queries, Qrels: qrels}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("BEIR folder %s: %w", dir, err)
	}
	return ds, nil
}

// jsonID accepts an id written as a JSON string or number (some BEIR exports write numeric ids).
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = jsonID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("_id must be a string or a number, got %s", b)
	}
	*id = jsonID(n.String())
	return nil
}

// eachJSONLine calls fn with every non-blank line of a JSONL file and its 1-based line number.
func eachJSONLine(path string, fn func(line []byte, n int) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if !utf8.Valid(line) {
				// encoding/json would turn the bytes into U+FFFD, so a document would not read back as stored.
				return fmt.Errorf("read %s line %d: invalid UTF-8 (re-encode the file as UTF-8)", path, n)
			}
			if ferr := fn(line, n); ferr != nil {
				return fmt.Errorf("read %s line %d: %w", path, n, ferr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s line %d: %w", path, n, err)
		}
	}
}

// LoadCorpus reads a BEIR corpus.jsonl: one {"_id", "title", "text"} object per line (other fields ignored).
func LoadCorpus(path string) ([]Document, error) {
	var docs []Document
	err := eachJSONLine(path, func(line []byte, _ int) error {
		var rec struct {
			ID    *jsonID `json:"_id"`
			Title string  `json:"title"`
			Text  string  `json:"text"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.ID == nil {
			return fmt.Errorf(`missing "_id"`)
		}
		docs = append(docs, Document{ID: string(*rec.ID), Title: rec.Title, Text: rec.Text})
		return nil
	})
	return docs, err
}

// LoadQueries reads a BEIR queries.jsonl: one {"_id", "text"} object per line.
func LoadQueries(path string) ([]Query, error) {
	var qs []Query
	err := eachJSONLine(path, func(line []byte, _ int) error {
		var rec struct {
			ID   *jsonID `json:"_id"`
			Text string  `json:"text"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.ID == nil {
			return fmt.Errorf(`missing "_id"`)
		}
		qs = append(qs, Query{ID: string(*rec.ID), Text: rec.Text})
		return nil
	})
	return qs, err
}

// LoadQrels reads judgements in either of two layouts, told apart by the number of columns:
//   - BEIR: tab-separated `query-id corpus-id score`, with or without that header line;
//   - TREC qrels: whitespace-separated `query-id iteration doc-id grade` (the iteration column is ignored).
//
// Grades must be integers (a value like "1.0" is accepted). Blank lines are skipped.
func LoadQrels(path string) (Qrels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readQrels(f, path)
}

func readQrels(r io.Reader, name string) (Qrels, error) {
	q := Qrels{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		var fields []string
		if strings.Contains(line, "\t") {
			fields = strings.Split(line, "\t")
		} else {
			fields = strings.Fields(line)
		}
		if n == 1 && len(fields) == 3 && fields[0] == "query-id" {
			continue // BEIR header
		}
		var qid, did, grade string
		switch len(fields) {
		case 3:
			qid, did, grade = fields[0], fields[1], fields[2]
		case 4:
			qid, did, grade = fields[0], fields[2], fields[3]
		default:
			return nil, fmt.Errorf("read %s line %d: want 3 columns (query-id corpus-id score) or 4 (TREC qrels), got %d", name, n, len(fields))
		}
		g, err := parseGrade(strings.TrimSpace(grade))
		if err != nil {
			return nil, fmt.Errorf("read %s line %d column score: %w", name, n, err)
		}
		q.Add(strings.TrimSpace(qid), strings.TrimSpace(did), g)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return q, nil
}

func parseGrade(s string) (int, error) {
	if g, err := strconv.Atoi(s); err == nil {
		return g, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("grade %q is not an integer", s)
	}
	return int(f), nil
}

// SaveBEIR writes ds as a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv with its header).
func SaveBEIR(dir, split string, ds *Dataset) error {
	if err := os.MkdirAll(filepath.Join(dir, "qrels"), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, d := range ds.Corpus {
		if err := enc.Encode(map[string]string{"_id": d.ID, "title": d.Title, "text": d.Text}); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "corpus.jsonl"), buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	for _, q := range ds.Queries {
		if err := enc.Encode(map[string]string{"_id": q.ID, "text": q.Text}); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "queries.jsonl"), buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	buf.WriteString("query-id\tcorpus-id\tscore\n")
	qids := make([]string, 0, len(ds.Qrels))
	for q := range ds.Qrels {
		qids = append(qids, q)
	}
	sort.Strings(qids)
	for _, q := range qids {
		dids := make([]string, 0, len(ds.Qrels[q]))
		for d := range ds.Qrels[q] {
			dids = append(dids, d)
		}
		sort.Strings(dids)
		for _, d := range dids {
			fmt.Fprintf(&buf, "%s\t%s\t%d\n", q, d, ds.Qrels[q][d])
		}
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "qrels", split+".tsv"), buf.Bytes())
}
