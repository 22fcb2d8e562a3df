package datasets

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/parquet-go/parquet-go"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func colTypes(df dataframe.DataFrame) map[string]series.Type {
	m := map[string]series.Type{}
	for i, n := range df.Names() {
		m[n] = df.Types()[i]
	}
	return m
}

func TestLoadCSVTypesAndQuoting(t *testing.T) {
	p := write(t, "pairs.csv", "\ufeffanchor,positive,score,query_id\n"+
		"\"What is 2+2?\",\"Four, obviously.\n(multi-line)\",0.9,001\n"+
		"Q2,P2,,002\n")
	df, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := df.Names(); !reflect.DeepEqual(got, []string{"anchor", "positive", "score", "query_id"}) {
		t.Fatalf("names %v (the BOM must be stripped)", got)
	}
	types := colTypes(df)
	if types["score"] != series.Float || types["anchor"] != series.String || types["query_id"] != series.String {
		t.Errorf("types %v: score float, ids stay text", types)
	}
	if df.Col("positive").Elem(0).String() != "Four, obviously.\n(multi-line)" {
		t.Errorf("quoted cell: %q", df.Col("positive").Elem(0).String())
	}
	if df.Col("query_id").Elem(0).String() != "001" {
		t.Errorf("an id column lost its leading zeros: %q", df.Col("query_id").Elem(0).String())
	}
	if !math.IsNaN(df.Col("score").Elem(1).Float()) {
		t.Error("an empty numeric cell should be NaN")
	}
}

func TestLoadCSVErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"a,b\n1,2\n3\n", "line 3"},
		{"a,b\n1,\"unterminated\n", "line 2"},
		{"a,a\n1,2\n", "duplicate name"},
		{"", "empty file"},
	} {
		p := write(t, "bad.csv", tc.content)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: got %v, want an error naming %s and %q", tc.content, err, p, tc.want)
		}
	}
	if _, err := Load(write(t, "x.xlsx", "")); err == nil || !strings.Contains(err.Error(), "unknown table format") {
		t.Errorf("unknown extension: %v", err)
	}
}

func TestLoadJSONLListsAndMissingKeys(t *testing.T) {
	p := write(t, "triplets.jsonl", `{"anchor":"q1","positive":"p1","negatives":["n1","n2"],"score":1}
{"anchor":"q2","positive":"p2","negatives":["n3"]}

{"positive":"p3","anchor":"q3","negatives":[],"score":0.25,"extra":true}
`)
	df, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"anchor", "positive", "negatives_1", "negatives_2", "score", "extra"}
	if !reflect.DeepEqual(df.Names(), want) {
		t.Fatalf("names %v, want %v", df.Names(), want)
	}
	if df.Nrow() != 3 {
		t.Fatalf("%d rows", df.Nrow())
	}
	if got := df.Col("negatives_2").Records(); !reflect.DeepEqual(got, []string{"n2", "", ""}) {
		t.Errorf("negatives_2 = %q", got)
	}
	if got := df.Col("anchor").Records(); !reflect.DeepEqual(got, []string{"q1", "q2", "q3"}) {
		t.Errorf("anchor = %q (key order must not matter)", got)
	}
	s := df.Col("score")
	if s.Type() != series.Float || s.Elem(0).Float() != 1 || !math.IsNaN(s.Elem(1).Float()) || s.Elem(2).Float() != 0.25 {
		t.Errorf("score = %v", s)
	}
}

func TestLoadJSONLErrors(t *testing.T) {
	p := write(t, "bad.jsonl", "{\"anchor\":\"q\",\"positive\":\"p\"}\n{\"anchor\":{\"nested\":1},\"positive\":\"p2\"}\n")
	_, err := LoadColumns(p, "anchor", "positive")
	if err == nil || !strings.Contains(err.Error(), p+" column anchor: nested values (first at "+p+" row 2)") {
		t.Errorf("nested object asked for: %v", err)
	}
	if df, err := LoadColumns(p, "positive"); err != nil || df.Nrow() != 2 {
		t.Errorf("nested column not asked for: %v", err)
	}
	if _, err := LoadColumns(p, "negative"); err == nil || !strings.Contains(err.Error(), p+`: no column "negative"`) {
		t.Errorf("missing column: %v", err)
	}
	// Rows count data rows from 1; a blank line is not a row (its line number is given too).
	p = write(t, "bad2.jsonl", "{\"anchor\":\"q\"}\n\nnot json\n")
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p+" row 2 (line 3)") {
		t.Errorf("garbage line: %v", err)
	}
	// An empty file names itself.
	p = write(t, "empty.jsonl", "\n\n")
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p+": empty table") {
		t.Errorf("empty JSONL: %v", err)
	}
}

// TestBEIRCorpusWithMetadataLoads: BEIR ships corpus.jsonl with "metadata": {} on every line; the loader
// leaves that column out and reads the rest, for every command.
func TestBEIRCorpusWithMetadataLoads(t *testing.T) {
	p := write(t, "corpus.jsonl", `{"_id": "d1", "title": "T", "text": "alpha", "metadata": {}}`+"\n"+
		`{"_id": "d2", "title": "", "text": "beta", "metadata": {"url": "x"}}`+"\n")
	texts, err := LoadTexts(p, "text")
	if err != nil || len(texts) != 2 || texts[1] != "beta" {
		t.Fatalf("texts %q, %v", texts, err)
	}
	df, err := Load(p)
	if err != nil || strings.Join(df.Names(), ",") != "_id,title,text" {
		t.Errorf("columns %v, %v", df.Names(), err)
	}
	if _, err := LoadTexts(p, "metadata"); err == nil || !strings.Contains(err.Error(), "column metadata: nested") {
		t.Errorf("asking for the nested column: %v", err)
	}
}

// TestInvalidUTF8IsRefusedNamingFileRowColumn: bytes that are not UTF-8 are an error naming the file, the
// data row and the column, in CSV, JSONL and text files, never a silent U+FFFD.
func TestInvalidUTF8IsRefusedNamingFileRowColumn(t *testing.T) {
	for _, c := range []struct{ name, content, column, want string }{
		{"c.csv", "id,text\n1,fine\n2,caf\xe9\n", "text", " row 2 column text: invalid UTF-8"},
		{"c.jsonl", "{\"_id\":\"1\",\"text\":\"fine\"}\n{\"_id\":\"2\",\"title\":\"ok\",\"text\":\"caf\xe9\"}\n", "text", " row 2 column text: invalid UTF-8"},
		{"c.txt", "fine\ncaf\xe9\n", "", " line 2: invalid UTF-8"},
	} {
		p := write(t, c.name, c.content)
		if _, err := LoadTexts(p, c.column); err == nil || !strings.Contains(err.Error(), p+c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLoadJSONArray(t *testing.T) {
	df, err := Load(write(t, "rows.json", `[{"a":"x","b":2},{"a":"y","b":3}]`))
	if err != nil {
		t.Fatal(err)
	}
	if df.Nrow() != 2 || df.Col("b").Elem(1).Float() != 3 {
		t.Errorf("%v", df)
	}
}

type parquetRow struct {
	Anchor    string   `parquet:"anchor"`
	Positive  string   `parquet:"positive"`
	Negatives []string `parquet:"negatives,list"`
	Score     float64  `parquet:"score"`
}

func TestLoadParquet(t *testing.T) {
	p := filepath.Join(t.TempDir(), "train.parquet")
	rows := []parquetRow{
		{"q1", "p1", []string{"n1", "n2"}, 0.5},
		{"q2", "p2", []string{"n3"}, 1},
	}
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	df, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"anchor", "positive", "negatives_1", "negatives_2", "score"}; !reflect.DeepEqual(df.Names(), want) {
		t.Fatalf("names %v, want %v", df.Names(), want)
	}
	if df.Col("negatives_1").Elem(1).String() != "n3" || df.Col("negatives_2").Elem(1).String() != "" ||
		df.Col("score").Elem(0).Float() != 0.5 {
		t.Errorf("%v", df)
	}
	if _, err := Load(write(t, "broken.parquet", "PAR1 not really")); err == nil || !strings.Contains(err.Error(), "broken.parquet") {
		t.Errorf("corrupt parquet: %v", err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	df := dataframe.New(
		series.New([]string{"a \"quoted\", text", "line\nbreak"}, series.String, "anchor"),
		series.New([]float64{0.125, math.NaN()}, series.Float, "score"),
	)
	for _, ext := range []string{".csv", ".tsv", ".jsonl", ".parquet"} {
		p := filepath.Join(t.TempDir(), "out"+ext)
		if err := Save(df, p); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if !reflect.DeepEqual(got.Col("anchor").Records(), df.Col("anchor").Records()) {
			t.Errorf("%s anchor: %q", ext, got.Col("anchor").Records())
		}
		s := got.Col("score")
		if s.Type() != series.Float || s.Elem(0).Float() != 0.125 || !math.IsNaN(s.Elem(1).Float()) {
			t.Errorf("%s score: %v", ext, s)
		}
	}
	if err := Save(df, filepath.Join(t.TempDir(), "out.json")); err == nil {
		t.Error("saving a JSON array is not supported and must say so")
	}
}

func TestSplitIsSeededAndComplete(t *testing.T) {
	vals := make([]string, 101)
	for i := range vals {
		vals[i] = string(rune('A'+i%26)) + strings.Repeat("x", i)
	}
	df := dataframe.New(series.New(vals, series.String, "anchor"))
	train, test, err := Split(df, 0.1, 42)
	if err != nil {
		t.Fatal(err)
	}
	if test.Nrow() != 11 || train.Nrow() != 90 {
		t.Fatalf("sizes %d/%d, want ceil(10.1)=11 test rows", train.Nrow(), test.Nrow())
	}
	seen := map[string]int{}
	for _, v := range append(train.Col("anchor").Records(), test.Col("anchor").Records()...) {
		seen[v]++
	}
	if len(seen) != 101 {
		t.Errorf("split lost or duplicated rows: %d distinct", len(seen))
	}
	_, test2, _ := Split(df, 0.1, 42)
	_, test3, _ := Split(df, 0.1, 43)
	if !reflect.DeepEqual(test.Col("anchor").Records(), test2.Col("anchor").Records()) {
		t.Error("same seed, different split")
	}
	if reflect.DeepEqual(test.Col("anchor").Records(), test3.Col("anchor").Records()) {
		t.Error("different seeds gave the same split")
	}
	for _, f := range []float64{0, 1, -0.5, math.NaN()} {
		if _, _, err := Split(df, f, 1); err == nil {
			t.Errorf("fraction %v: want an error", f)
		}
	}
}

func TestLoadFinancialQA(t *testing.T) {
	df, err := Load(sharedtest.FinancialQA(t))
	if err != nil {
		t.Fatal(err)
	}
	if df.Nrow() != 7000 || !reflect.DeepEqual(df.Names(), []string{"question", "answer", "context", "ticker", "filing"}) {
		t.Fatalf("%d rows, columns %v", df.Nrow(), df.Names())
	}
	ctx, err := Strings(df, "context")
	if err != nil {
		t.Fatal(err)
	}
	unique := map[string]bool{}
	for _, c := range ctx {
		unique[c] = true
	}
	if len(unique) != 6757 {
		t.Errorf("%d unique contexts, the data README says 6,757", len(unique))
	}
	if _, err := Strings(df, "passage"); err == nil || !strings.Contains(err.Error(), "context") {
		t.Errorf("missing column error should list the columns: %v", err)
	}
}

func TestTextsOfNumericColumn(t *testing.T) {
	df, err := Load(write(t, "years.csv", "anchor,positive\n2023,1.5\n1999,\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Strings(df, "anchor")
	if err != nil || !reflect.DeepEqual(got, []string{"2023", "1999"}) {
		t.Errorf("anchor = %q, %v", got, err)
	}
	if got := Texts(df.Col("positive")); !reflect.DeepEqual(got, []string{"1.5", ""}) {
		t.Errorf("positive = %q", got)
	}
}
