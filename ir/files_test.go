package ir

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBEIR(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "corpus.jsonl"),
		`{"_id": "d1", "title": "Title", "text": "first passage", "metadata": {}}`+"\n\n"+
			`{"_id": 2, "text": "second"}`) // numeric id, no title, no trailing newline
	writeFile(t, filepath.Join(dir, "queries.jsonl"), `{"_id":"q1","text":"what?"}`+"\n"+`{"_id":"q2","text":""}`+"\n")
	writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\t2\t0\nq2\t2\t2.0\n")
	ds, err := LoadBEIR(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	wantCorpus := []Document{{"d1", "Title", "first passage"}, {"2", "", "second"}}
	if !reflect.DeepEqual(ds.Corpus, wantCorpus) {
		t.Errorf("corpus %+v", ds.Corpus)
	}
	if ds.Corpus[0].Content() != "Title first passage" || ds.Corpus[1].Content() != "second" {
		t.Errorf("Content: %q %q", ds.Corpus[0].Content(), ds.Corpus[1].Content())
	}
	if !reflect.DeepEqual(ds.Queries, []Query{{"q1", "what?"}, {"q2", ""}}) {
		t.Errorf("queries %+v", ds.Queries)
	}
	if !reflect.DeepEqual(ds.Qrels, Qrels{"q1": {"d1": 1, "2": 0}, "q2": {"2": 2}}) {
		t.Errorf("qrels %v", ds.Qrels)
	}

	// Round trip through SaveBEIR.
	out := filepath.Join(t.TempDir(), "beir")
	if err := SaveBEIR(out, "dev", ds); err != nil {
		t.Fatal(err)
	}
	back, err := LoadBEIR(out, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ds) {
		t.Errorf("round trip: %+v != %+v", back, ds)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "corpus.jsonl")
	writeFile(t, bad, `{"_id":"a","text":"x"}`+"\n"+`{"text": "no id"}`+"\n")
	if _, err := LoadCorpus(bad); err == nil || !strings.Contains(err.Error(), bad+" line 2") {
		t.Errorf("missing _id: %v", err)
	}
	writeFile(t, bad, `{"_id":"a","text":"x"}`+"\n"+`{"_id": "b", "text": `+"\n")
	if _, err := LoadCorpus(bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken JSON: %v", err)
	}
	writeFile(t, bad, `{"_id":"a","text":"x"}`+"\n"+`{"_id": "b", "text": "caf`+"\xe9"+`"}`+"\n")
	if _, err := LoadCorpus(bad); err == nil || !strings.Contains(err.Error(), bad+" line 2: invalid UTF-8") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	q := filepath.Join(dir, "q.tsv")
	writeFile(t, q, "q1\td1\t1\nq1\td2\thigh\n")
	if _, err := LoadQrels(q); err == nil || !strings.Contains(err.Error(), "line 2 column score") {
		t.Errorf("bad grade: %v", err)
	}
	writeFile(t, q, "q1 d1\n")
	if _, err := LoadQrels(q); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("2 columns: %v", err)
	}
	dup := filepath.Join(dir, "dup.jsonl")
	writeFile(t, dup, `{"_id":"a","text":"x"}`+"\n"+`{"_id":"a","text":"y"}`+"\n")
	writeFile(t, filepath.Join(dir, "queries.jsonl"), `{"_id":"q","text":"x"}`)
	writeFile(t, filepath.Join(dir, "qrels", "test.tsv"), "q\ta\t1\n")
	os.Rename(dup, bad)
	if _, err := LoadBEIR(dir, "test"); err == nil || !strings.Contains(err.Error(), `duplicate id "a"`) {
		t.Errorf("duplicate corpus id: %v", err)
	}
}

func TestTRECQrelsAndRuns(t *testing.T) {
	qrels, err := readQrels(strings.NewReader("q1 0 d1 1\nq1 0 d2 0\n\nq2 0 d3 3\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(qrels, Qrels{"q1": {"d1": 1, "d2": 0}, "q2": {"d3": 3}}) {
		t.Errorf("TREC qrels %v", qrels)
	}

	// The rank column is ignored: hits are ranked by score.
	run, err := ReadRun(strings.NewReader("q1 Q0 d2 1 0.5 sys\nq1 Q0 d1 2 0.75 sys\nq2 Q0 d3 1 -1e-3 sys\n"), "r")
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Sorted("q1"); !reflect.DeepEqual(got, []Hit{{"d1", 0.75}, {"d2", 0.5}}) {
		t.Errorf("sorted %v", got)
	}
	var sb strings.Builder
	if err := WriteRun(&sb, run, "mine"); err != nil {
		t.Fatal(err)
	}
	want := "q1 Q0 d1 1 0.75 mine\nq1 Q0 d2 2 0.5 mine\nq2 Q0 d3 1 -0.001 mine\n"
	if sb.String() != want {
		t.Errorf("WriteRun:\n%s\nwant\n%s", sb.String(), want)
	}
	for _, bad := range []string{"q1 Q0 d1 1 0.5\n", "q1 Q0 d1 1 nan sys\n", "q1 Q0 d1 1 0.5 s\nq1 Q0 d1 2 0.4 s\n"} {
		if _, err := ReadRun(strings.NewReader(bad), "r"); err == nil || !strings.Contains(err.Error(), "r line") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := WriteRun(&sb, Run{"q 1": {{"d", 1}}}, ""); err == nil {
		t.Error("whitespace in an id: want an error")
	}
}

func TestFromPairsDeduplicatesPassages(t *testing.T) {
	anchors := []string{"who?", "what?", "who?", ""}
	positives := []string{"P1", "P2", "P3", "P1"}
	corpus := []string{"P0", "P1", "P2", "P1", "P3"} // P1 twice: one document
	ds, skipped, err := FromPairs(anchors, positives, corpus)
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	wantCorpus := []Document{{ID: "d0", Text: "P0"}, {ID: "d1", Text: "P1"}, {ID: "d2", Text: "P2"}, {ID: "d3", Text: "P3"}}
	if !reflect.DeepEqual(ds.Corpus, wantCorpus) {
		t.Errorf("corpus %+v", ds.Corpus)
	}
	want := Qrels{
		"q0": {"d1": 1, "d3": 1}, // "who?" twice: the union of both rows' positives
		"q1": {"d2": 1},
		"q2": {"d1": 1, "d3": 1},
		"q3": {"d1": 1}, // empty anchor kept
	}
	if !reflect.DeepEqual(ds.Qrels, want) || len(ds.Queries) != 4 || ds.Queries[3].Text != "" {
		t.Errorf("qrels %v queries %v", ds.Qrels, ds.Queries)
	}
	// Retrieving the shared passage d1 is a hit for q3, whichever row it came from.
	m, err := Evaluate(Run{"q3": {{"d1", 1}}}, ds.Qrels, Config{MRRAtK: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Values["mrr@10"] != 0.25 { // q3 = 1, the three others retrieve nothing
		t.Errorf("mrr = %v", m.Values["mrr@10"])
	}
	// Corpus from the positives.
	ds, _, err = FromPairs(anchors, positives, nil)
	if err != nil || len(ds.Corpus) != 3 {
		t.Errorf("corpus from positives: %v %+v", err, ds)
	}
	if _, _, err := FromPairs([]string{"a"}, []string{"missing"}, []string{"other"}); err == nil || !strings.Contains(err.Error(), "row 0") {
		t.Errorf("positive not in corpus: %v", err)
	}
	// A row with an empty positive is skipped and reported; the empty string is not a document.
	ds, skipped, err = FromPairs([]string{"a", "", "c"}, []string{"x", "", "y"}, []string{"x", "", "y"})
	if err != nil || len(skipped) != 1 || skipped[0] != 1 || len(ds.Corpus) != 2 || len(ds.Queries) != 2 || ds.Queries[1].ID != "q2" {
		t.Errorf("empty positive: %v %v %+v", err, skipped, ds)
	}
}

func TestFromPairsIDsSortInCorpusOrder(t *testing.T) {
	var a, p []string
	for i := 0; i < 12; i++ {
		a = append(a, "q"+string(rune('a'+i)))
		p = append(p, "passage "+string(rune('a'+i)))
	}
	ds, _, err := FromPairs(a, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Corpus[0].ID != "d00" || ds.Corpus[11].ID != "d11" || ds.Queries[3].ID != "q03" {
		t.Errorf("ids %s %s %s: want zero-padded", ds.Corpus[0].ID, ds.Corpus[11].ID, ds.Queries[3].ID)
	}
	for i := 1; i < len(ds.Corpus); i++ {
		if ds.Corpus[i-1].ID >= ds.Corpus[i].ID {
			t.Errorf("ids out of order at %d", i)
		}
	}
}
