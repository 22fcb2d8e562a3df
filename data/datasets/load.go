// Package datasets reads and writes the tables ragnb works on — pairs, triplets, n-tuples, scored pairs, QA
// sets — as gota DataFrames, from CSV, TSV, JSONL, JSON and parquet files, and splits them reproducibly.
// It owns file formats and column typing; what the columns mean (anchor, positive, negative_1…) is the
// concern of the packages that consume them.
//
// Column typing: a column whose every non-empty value is a number (a JSON number, or a CSV cell that
// parses as one) becomes a float column, unless its name marks an identifier ("id", "_id", "*_id", "*-id");
// everything else is a string column. A list value (JSON array, parquet LIST) in column x spreads into
// columns x_1 … x_n (n = the longest list; shorter lists leave "" behind), which is the n-tuple layout of
// sentence-transformers (negative_1 … negative_n). A column holding nested objects (BEIR's "metadata": {})
// is left out of the table, since no column of ragnb's reads one; LoadTexts and RequireColumns name such a
// column when it is the one asked for.
//
// Text must be UTF-8: a cell that is not is refused naming the file, the row and the column, rather than
// turned into U+FFFD (which would make the same file read back differently from what was stored from it).
// Rows are counted from 1, data rows only (a CSV header and blank JSONL lines are not rows).
package datasets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/parquet-go/parquet-go"
)

// Format is a table file format.
type Format string

const (
	CSV     Format = "csv"
	TSV     Format = "tsv"
	JSONL   Format = "jsonl"
	JSON    Format = "json" // an array of objects
	Parquet Format = "parquet"
)

// FormatOf picks the format from the file extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".tsv", ".tab":
		return TSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	case ".json":
		return JSON, nil
	case ".parquet", ".pq":
		return Parquet, nil
	}
	return "", fmt.Errorf("%s: unknown table format %q (want .csv, .tsv, .jsonl, .json or .parquet)", path, filepath.Ext(path))
}

// Load reads a table file, choosing the format from its extension.
func Load(path string) (dataframe.DataFrame, error) {
	df, _, err := load(path)
	return df, err
}

// load is Load that also returns the columns left out for holding nested values.
func load(path string) (dataframe.DataFrame, map[string]string, error) {
	format, err := FormatOf(path)
	if err != nil {
		return dataframe.DataFrame{}, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return dataframe.DataFrame{}, nil, err
	}
	defer f.Close()
	if format == Parquet {
		st, err := f.Stat()
		if err != nil {
			return dataframe.DataFrame{}, nil, err
		}
		return readParquet(f, st.Size(), path)
	}
	return read(f, format, path)
}

// LoadColumns reads a table file (see Load) that must have the named columns: a missing one, or one left
// out for holding nested values, is an error naming the file and the column.
func LoadColumns(path string, columns ...string) (dataframe.DataFrame, error) {
	df, nested, err := load(path)
	if err != nil {
		return df, err
	}
	return df, requireColumns(path, df, nested, columns)
}

func requireColumns(path string, df dataframe.DataFrame, nested map[string]string, columns []string) error {
	have := map[string]bool{}
	for _, n := range df.Names() {
		have[n] = true
	}
	for _, c := range columns {
		if have[c] {
			continue
		}
		if where, ok := nested[c]; ok {
			return fmt.Errorf("%s column %s: nested values (first at %s) are not supported: flatten it into columns", path, c, where)
		}
		return fmt.Errorf("%s: no column %q (columns: %s)", path, c, strings.Join(df.Names(), ", "))
	}
	return nil
}

// LoadTexts reads one text column of a table file (see LoadColumns), or the lines of a .txt file (one text
// per line, column ignored).
func LoadTexts(path, column string) ([]string, error) {
	if strings.EqualFold(filepath.Ext(path), ".txt") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var texts []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			if !utf8.ValidString(line) {
				return nil, fmt.Errorf("%s line %d: %w", path, len(texts)+1, errNotUTF8)
			}
			texts = append(texts, line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s line %d: %w", path, len(texts)+1, err)
		}
		return texts, nil
	}
	df, err := LoadColumns(path, column)
	if err != nil {
		return nil, err
	}
	return Texts(df.Col(column)), nil
}

var errNotUTF8 = errors.New("invalid UTF-8 (re-encode the file as UTF-8)")

// Read reads a table in the given format from r; name labels errors (usually the file path).
// Parquet needs random access: use Load for it.
func Read(r io.Reader, format Format, name string) (dataframe.DataFrame, error) {
	df, _, err := read(r, format, name)
	return df, err
}

// read is Read that also returns the columns left out for holding nested values (column → where).
func read(r io.Reader, format Format, name string) (dataframe.DataFrame, map[string]string, error) {
	b := builder{name: name}
	var err error
	switch format {
	case CSV:
		err = b.readDelimited(r, ',', name)
	case TSV:
		err = b.readDelimited(r, '\t', name)
	case JSONL:
		err = b.readJSONL(r, name)
	case JSON:
		err = b.readJSONArray(r, name)
	case Parquet:
		return dataframe.DataFrame{}, nil, fmt.Errorf("%s: parquet needs a file (use Load)", name)
	default:
		return dataframe.DataFrame{}, nil, fmt.Errorf("%s: unknown format %q", name, format)
	}
	if err != nil {
		return dataframe.DataFrame{}, nil, err
	}
	df, err := b.frame()
	return df, b.nested, err
}

// cell is one value before typing: text, or a number that may still become text.
type cell struct {
	text    string
	num     float64
	isNum   bool
	present bool // false for missing/null
}

// builder accumulates columns in first-seen order; rows may omit columns (JSON), which stay missing.
type builder struct {
	name   string // the file, for errors
	names  []string
	index  map[string]int
	cols   [][]cell
	rows   int
	nested map[string]string // column → where its first nested value is; left out of the frame
}

func (b *builder) column(name string) int {
	if b.index == nil {
		b.index = map[string]int{}
	}
	if i, ok := b.index[name]; ok {
		return i
	}
	b.index[name] = len(b.names)
	b.names = append(b.names, name)
	b.cols = append(b.cols, make([]cell, b.rows))
	return len(b.names) - 1
}

// endRow pads columns the row did not set.
func (b *builder) endRow() {
	b.rows++
	for i := range b.cols {
		if len(b.cols[i]) < b.rows {
			b.cols[i] = append(b.cols[i], cell{})
		}
	}
}

func (b *builder) set(name string, c cell) {
	i := b.column(name)
	b.cols[i] = append(b.cols[i], c)
}

func (b *builder) readDelimited(r io.Reader, delim rune, name string) error {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file (no header row)", name)
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // Excel's byte-order mark
	}
	seen := map[string]bool{}
	for j, h := range header {
		if h == "" {
			return fmt.Errorf("%s: header column %d is empty", name, j+1)
		}
		if seen[h] {
			return fmt.Errorf("%s: header column %d: duplicate name %q", name, j+1, h)
		}
		seen[h] = true
		b.column(h)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// csv.ParseError carries the line and column; keep it intact.
			return fmt.Errorf("%s: %w", name, err)
		}
		for j, v := range rec {
			if !utf8.ValidString(v) {
				return fmt.Errorf("%s row %d column %s: %w", name, b.rows+1, header[j], errNotUTF8)
			}
			c := cell{text: v, present: v != ""}
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && v != "" {
				c.num, c.isNum = f, true
			}
			b.set(header[j], c)
		}
		b.endRow()
	}
}

func (b *builder) readJSONL(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30) // passages can be long; lines up to 1 GiB
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		where := fmt.Sprintf("%s row %d", name, b.rows+1)
		if b.rows+1 != line {
			where += fmt.Sprintf(" (line %d)", line)
		}
		if err := b.addJSONObject([]byte(text), where); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s line %d: %w", name, line+1, err)
	}
	return nil
}

func (b *builder) readJSONArray(r io.Reader, name string) error {
	var rows []json.RawMessage
	if err := json.NewDecoder(r).Decode(&rows); err != nil {
		return fmt.Errorf("%s: want a JSON array of objects: %w", name, err)
	}
	for i, raw := range rows {
		if err := b.addJSONObject(raw, fmt.Sprintf("%s row %d", name, i+1)); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) addJSONObject(raw []byte, where string) error {
	if !utf8.Valid(raw) {
		// encoding/json would turn the bytes into U+FFFD silently.
		if col := badUTF8Column(raw); col != "" {
			return fmt.Errorf("%s column %s: %w", where, col, errNotUTF8)
		}
		return fmt.Errorf("%s: %w", where, errNotUTF8)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("%s: not a JSON object: %w", where, err)
	}
	// Keys in a stable order: a new column's position must not depend on map iteration.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int { return keyOrder(raw, x) - keyOrder(raw, y) })
	return b.addRecord(keys, obj, where)
}

// keyOrder is the position of "key" in the raw object text, so columns keep the file's order.
func keyOrder(raw []byte, key string) int {
	q, _ := json.Marshal(key)
	return strings.Index(string(raw), string(q))
}

// badUTF8Column names the top-level key of the JSON object raw whose value holds its first invalid UTF-8
// byte ("" when it cannot tell).
func badUTF8Column(raw []byte) string {
	bad := 0
	for bad < len(raw) {
		r, size := utf8.DecodeRune(raw[bad:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		bad += size
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if int(dec.InputOffset()) > bad {
			k, _ := key.(string)
			return k
		}
	}
	return ""
}

// isNested reports whether v is an object, or a list holding objects or lists: a value no column holds.
func isNested(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return true
	case []any:
		for _, item := range x {
			switch item.(type) {
			case map[string]any, []any:
				return true
			}
		}
	}
	return false
}

func (b *builder) addRecord(keys []string, obj map[string]any, where string) error {
	for _, k := range keys {
		if isNested(obj[k]) {
			if b.nested == nil {
				b.nested = map[string]string{}
			}
			if _, seen := b.nested[k]; !seen {
				b.nested[k] = where
			}
			continue
		}
		if s, ok := obj[k].(string); ok && !utf8.ValidString(s) {
			return fmt.Errorf("%s column %s: %w", where, k, errNotUTF8) // parquet strings are not checked on read
		}
		switch v := obj[k].(type) {
		case []any:
			for i, item := range v {
				c, err := scalar(item)
				if err != nil {
					return fmt.Errorf("%s column %s[%d]: %w", where, k, i, err)
				}
				b.set(fmt.Sprintf("%s_%d", k, i+1), c)
			}
		default:
			c, err := scalar(v)
			if err != nil {
				return fmt.Errorf("%s column %s: %w", where, k, err)
			}
			b.set(k, c)
		}
	}
	b.endRow()
	return nil
}

func scalar(v any) (cell, error) {
	switch x := v.(type) {
	case nil:
		return cell{}, nil
	case string:
		return cell{text: x, present: true}, nil
	case []byte:
		return cell{text: string(x), present: true}, nil
	case bool:
		return cell{text: strconv.FormatBool(x), present: true}, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return cell{}, err
		}
		return cell{text: x.String(), num: f, isNum: true, present: true}, nil
	case float64:
		return cell{text: strconv.FormatFloat(x, 'g', -1, 64), num: x, isNum: true, present: true}, nil
	case float32:
		return cell{text: strconv.FormatFloat(float64(x), 'g', -1, 32), num: float64(x), isNum: true, present: true}, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		s := fmt.Sprint(x)
		f, _ := strconv.ParseFloat(s, 64)
		return cell{text: s, num: f, isNum: true, present: true}, nil
	default:
		return cell{}, fmt.Errorf("nested value of type %T is not supported (flatten it into columns)", v)
	}
}

func readParquet(f io.ReaderAt, size int64, name string) (dataframe.DataFrame, map[string]string, error) {
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		return dataframe.DataFrame{}, nil, fmt.Errorf("%s: %w", name, err)
	}
	b := builder{name: name}
	order := []string{}
	for _, field := range pf.Schema().Fields() {
		order = append(order, field.Name())
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	for row := 1; ; row++ {
		obj := map[string]any{} // parquet-go fills a non-nil map
		err := r.Read(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return dataframe.DataFrame{}, nil, fmt.Errorf("%s row %d: %w", name, row, err)
		}
		if err := b.addRecord(order, obj, fmt.Sprintf("%s row %d", name, row)); err != nil {
			return dataframe.DataFrame{}, nil, err
		}
	}
	df, err := b.frame()
	return df, b.nested, err
}

// isIDColumn reports whether a column name marks identifiers, which stay text even when numeric.
func isIDColumn(name string) bool {
	n := strings.ToLower(name)
	return n == "id" || n == "_id" || strings.HasSuffix(n, "_id") || strings.HasSuffix(n, "-id")
}

func (b *builder) frame() (dataframe.DataFrame, error) {
	if b.rows == 0 && len(b.names) == 0 {
		return dataframe.DataFrame{}, fmt.Errorf("%s: empty table (no rows, no columns)", b.name)
	}
	var cols []series.Series
	for j, name := range b.names {
		if _, ok := b.nested[name]; ok {
			continue
		}
		cells := b.cols[j]
		numeric, any := !isIDColumn(name), false
		for _, c := range cells {
			if c.present {
				any = true
				if !c.isNum {
					numeric = false
				}
			}
		}
		if numeric && any {
			vals := make([]float64, len(cells))
			for i, c := range cells {
				vals[i] = math.NaN()
				if c.present {
					vals[i] = c.num
				}
			}
			cols = append(cols, series.New(vals, series.Float, name))
		} else {
			vals := make([]string, len(cells))
			for i, c := range cells {
				vals[i] = c.text
			}
			cols = append(cols, series.New(vals, series.String, name))
		}
	}
	if len(cols) == 0 {
		return dataframe.DataFrame{}, fmt.Errorf("%s: no column holds plain values (the nested ones are not supported: flatten them)", b.name)
	}
	df := dataframe.New(cols...)
	if df.Err != nil {
		return df, df.Err
	}
	return df, nil
}
