package ir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// llamaFixture is shaped as generate_qa_embedding_pairs saves it (save_json: indent 4, uuid keys, mode text).
const llamaFixture = `{
    "queries": {
        "7d3b6c1e-2f0a-4c59-9a8e-1b2c3d4e5f60": "What was Lyft's revenue in 2021?",
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d": "Who audits the company?"
    },
    "corpus": {
        "node-b": "Revenue was $3.2 billion in 2021, up 36%.",
        "node-a": "KPMG LLP has served as our auditor since 2016."
    },
    "relevant_docs": {
        "7d3b6c1e-2f0a-4c59-9a8e-1b2c3d4e5f60": ["node-b"],
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d": ["node-a"]
    },
    "mode": "text"
}`

func TestLlamaIndexDatasetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "train_dataset.json")
	os.WriteFile(p, []byte(llamaFixture), 0o644)
	ds, err := LoadLlamaIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Queries) != 2 || ds.Queries[0].Text != "What was Lyft's revenue in 2021?" || ds.Corpus[0].ID != "node-b" ||
		!ds.Qrels.Relevant(ds.Queries[1].ID)["node-a"] || len(ds.Qrels) != 2 {
		t.Fatalf("loaded %+v", ds)
	}
	out := filepath.Join(dir, "out.json")
	if err := SaveLlamaIndex(ds, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if string(b) != llamaFixture {
		t.Errorf("saved\n%s\nwant the file it was read from", b)
	}
}

func TestLlamaIndexDatasetErrorsNameTheProblem(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"queries": {"q": "x"}, "corpus": {"n": "t"}, "relevant_docs": {"q": ["missing"]}}`, `relevant node "missing"`},
		{`{"queries": {"q": "x"}, "corpus": {"n": "t"}, "relevant_docs": {"other": ["n"]}}`, `query "other"`},
		{`{"queries": {"q": "x"}, "corpus": {"n": "t"}, "relevant_docs": {}, "mode": "image"}`, `mode "image"`},
		{`{"queries": {}, "corpus": {"n": "t"}}`, `non-empty`},
		{`{"queries": {"q": "x", "q": "y"}, "corpus": {"n": "t"}}`, `"q" appears twice`},
		{`{"queries": ["q"], "corpus": {"n": "t"}}`, `object of strings`},
	} {
		p := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(p, []byte(c.json), 0o644)
		_, err := LoadLlamaIndex(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file and %s", c.json, err, c.want)
		}
	}
}

// TestHitRateIsAccuracyUnderLlamaIndexName: with HitRate, hit_rate@k sits beside every accuracy@k with the
// same value; without it the names (and a Config's JSON) are unchanged.
func TestHitRateIsAccuracyUnderLlamaIndexName(t *testing.T) {
	run := Run{"q1": {{"a", 0.9}, {"b", 0.5}}, "q2": {{"c", 0.9}, {"d", 0.1}}}
	qrels := Qrels{"q1": {"b": 1}, "q2": {"x": 1}}
	cfg := DefaultConfig()
	cfg.HitRate = true
	m, err := Evaluate(run, qrels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"1", "3", "5", "10"} {
		h, ok := m.Get("hit_rate@" + k)
		a, _ := m.Get("accuracy@" + k)
		if !ok || h != a {
			t.Errorf("hit_rate@%s = %v (%v), accuracy %v", k, h, ok, a)
		}
	}
	if h, _ := m.Get("hit_rate@3"); h != 0.5 {
		t.Errorf("hit_rate@3 = %v, want 0.5", h)
	}
	if strings.Contains(strings.Join(DefaultConfig().Names(), " "), "hit_rate") {
		t.Error("hit_rate without HitRate")
	}
}
