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
