package evaluate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/ir"
)

func metrics(vals ...float64) ir.Metrics {
	names := []string{"ndcg@10", "mrr@10"}
	m := ir.Metrics{Queries: 1, Names: names, Values: map[string]float64{}}
	for i, v := range vals {
		m.Values[names[i]] = v
	}
	return m
}

func TestReportKeysJSONFrameTable(t *testing.T) {
	r := Merge(
		&Report{Columns: []Column{{Label: "dim_768_cosine", Metrics: metrics(0.5, 0.25)}, {Label: "dim_64_cosine", Metrics: metrics(0.4, 0.2)}}},
		&Report{Columns: []Column{{Label: "bm25", Metrics: metrics(0.72, 0.7)}}},
	)
	wantKeys := "dim_768_cosine_ndcg@10 dim_768_cosine_mrr@10 dim_64_cosine_ndcg@10 dim_64_cosine_mrr@10 bm25_ndcg@10 bm25_mrr@10"
	if got := strings.Join(r.Keys(), " "); got != wantKeys {
		t.Errorf("keys %s", got)
	}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]float64
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if flat["bm25_ndcg@10"] != 0.72 || flat["dim_64_cosine_mrr@10"] != 0.2 || len(flat) != 6 {
		t.Errorf("json %s", b)
	}
	if strings.Index(string(b), "dim_768") > strings.Index(string(b), "bm25") {
		t.Error("JSON keys must keep report order")
	}
	path := filepath.Join(t.TempDir(), "m.json")
	if err := r.SaveJSON(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadFlatJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(back.Keys(), " ") != wantKeys {
		t.Errorf("reloaded keys %v", back.Keys())
	}

	df := r.Frame()
	if df.Nrow() != 2 || df.Ncol() != 4 || strings.Join(df.Names(), ",") != "metric,dim_768_cosine,dim_64_cosine,bm25" {
		t.Errorf("frame %dx%d %v", df.Nrow(), df.Ncol(), df.Names())
	}
	if v := df.Col("bm25").Float()[0]; v != 0.72 {
		t.Errorf("frame bm25 ndcg = %v", v)
	}
	table := r.Table()
	for _, want := range []string{"metric   dim_768_cosine  dim_64_cosine    bm25", "ndcg@10          0.5000         0.4000  0.7200"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if got := r.WithPrefix("base").Keys()[0]; got != "base_dim_768_cosine_ndcg@10" {
		t.Errorf("prefixed key %s", got)
	}
	run := &Report{Columns: []Column{{Metrics: metrics(0.1, 0.2)}}}
	if run.Keys()[0] != "ndcg@10" || run.WithPrefix("x").Keys()[0] != "x_ndcg@10" {
		t.Errorf("unlabelled keys %v", run.Keys())
	}
}

func TestCompare(t *testing.T) {
	base := &Report{Columns: []Column{{Label: "dim_256_cosine", Metrics: metrics(0.556, 0)}}}
	tuned := &Report{Columns: []Column{{Label: "dim_256_cosine", Metrics: metrics(0.685, 0.5)}, {Label: "bm25", Metrics: metrics(0.7, 0.7)}}}
	ch, err := Compare(base, tuned)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 2 || ch[0].Key != "dim_256_cosine_ndcg@10" {
		t.Fatalf("changes %+v", ch)
	}
	if math.Abs(ch[0].Abs-0.129) > 1e-12 || math.Abs(ch[0].Pct-100*0.129/0.556) > 1e-9 || !math.IsNaN(ch[1].Pct) {
		t.Errorf("changes %+v", ch)
	}
	table := ChangesTable(ch)
	if !strings.Contains(table, "+23.2%") || !strings.Contains(table, "n/a") {
		t.Errorf("table:\n%s", table)
	}
	df := ChangesFrame(ch)
	if df.Nrow() != 2 || df.Col("pct_change").Float()[0] != ch[0].Pct {
		t.Errorf("frame %v", df)
	}
	if _, err := Compare(base, &Report{Columns: []Column{{Label: "other", Metrics: metrics(1, 1)}}}); err == nil {
		t.Error("no common key: want an error")
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"a": "high"}`), 0o644)
	if _, err := LoadFlatJSON(path); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("non-numeric value: %v", err)
	}
}
