package prelude

import (
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
)

// PushIndex then BuildPipeline over the collection: the same sources as the pipeline over the local index.
func TestWeaviatePushIndexAndBuildPipeline(t *testing.T) {
	srv := weaviatetest.Start(t)
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	t.Setenv(EnvLLMModel, "")
	pairs, _, test := samplePairs(t)
	m := StaticModel(pairs, "positive", StaticOptions{Dim: 128})

	pushed := m.PushIndex(Weaviate{URL: srv.URL, Collection: "Fin"}, IndexPushOptions{Corpus: pairs})
	if err := pushed.Err(); err != nil {
		t.Fatal(err)
	}
	if r := pushed.Result(); r.Count != 223 || !strings.Contains(pushed.String(), "collection Fin: pushed 223") {
		t.Fatalf("push: %+v %s", r, pushed)
	}
	local := BuildPipeline(m, PipelineOptions{Corpus: pairs, TopN: 3})
	remote := BuildPipeline(m, PipelineOptions{TopN: 3, Weaviate: &Weaviate{URL: srv.URL, Collection: "Fin"}})
	if err := remote.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(remote.String(), "weaviate "+srv.URL+" collection Fin (dim 128)") {
		t.Errorf("description: %s", remote)
	}
	agree := 0
	qs := test.Column("anchor")[:20]
	for _, q := range qs {
		a, b := local.Ask(q), remote.Ask(q)
		if b.Error != "" || len(b.Sources) != 3 {
			t.Fatalf("weaviate answer: %+v", b)
		}
		if a.Sources[0].Text == b.Sources[0].Text {
			agree++
		}
	}
	if agree < 19 {
		t.Errorf("the top source agrees with the local index for %d of %d questions", agree, len(qs))
	}
	if p := BuildPipeline(m, PipelineOptions{Weaviate: &Weaviate{URL: srv.URL, Collection: "Missing"}}); p.Err() == nil ||
		!strings.Contains(p.Err().Error(), "no collection Missing") {
		t.Errorf("a missing collection: %v", p.Err())
	}
}

// MineNegatives and Evaluate with a Weaviate target search the collection instead of the in-process exact
// search, and give what it gives: the same negatives and the same metrics on 223 passages, where HNSW's recall
// is 1, with the agreement keys beside the metrics.
func TestWeaviateMineNegativesAndEvaluate(t *testing.T) {
	srv := weaviatetest.Start(t)
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, _, test := samplePairs(t)
	m := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	if err := m.PushIndex(Weaviate{URL: srv.URL, Collection: "Fin"}, IndexPushOptions{Corpus: pairs}).Err(); err != nil {
		t.Fatal(err)
	}
	o := MineOptions{TopK: 30, NumNegatives: 2, NoWindow: true}
	local := pairs.MineNegatives(m, o)
	o.Weaviate = &Weaviate{URL: srv.URL, Collection: "Fin"}
	remote := pairs.MineNegatives(m, o)
	if err := remote.Err(); err != nil {
		t.Fatal(err)
	}
	want, got := local.Dataset().Column("negative"), remote.Dataset().Column("negative")
	same := 0
	for i := range min(len(want), len(got)) {
		if want[i] == got[i] {
			same++
		}
	}
	if len(want) == 0 || len(got) != len(want) || same < len(want)*98/100 {
		t.Errorf("%d of %d negatives identical (%d through Weaviate)", same, len(want), len(got))
	}
	if notes := remote.Dataset().notes; len(notes) == 0 || !strings.Contains(notes[len(notes)-1], "weaviate Fin (dim 64)") {
		t.Errorf("notes %q", notes)
	}

	ev := Evaluate(m, test, EvalOptions{Corpus: pairs, Weaviate: &Weaviate{URL: srv.URL, Collection: "Fin"}})
	if err := ev.Err(); err != nil {
		t.Fatal(err)
	}
	if l, r := ev.Get("dim_64_cosine_ndcg@10"), ev.Get("weaviate_cosine_ndcg@10"); l == 0 || l-r > 0.01 || r-l > 0.01 || ev.Get("weaviate_agreement@10") < 0.98 {
		t.Errorf("ndcg@10 local %v, weaviate %v, agreement@10 %v", l, r, ev.Get("weaviate_agreement@10"))
	}
	if notes := ev.Notes(); len(notes) == 0 || !strings.Contains(notes[0], "weaviate: collection Fin") {
		t.Errorf("notes %q", notes)
	}
	other := StaticModel(pairs, "positive", StaticOptions{Dim: 32})
	if err := Evaluate(other, test, EvalOptions{Corpus: pairs, Weaviate: &Weaviate{URL: srv.URL, Collection: "Fin"}}).Err(); err == nil ||
		!strings.Contains(err.Error(), "was written with model") {
		t.Errorf("another model: %v", err)
	}
}
