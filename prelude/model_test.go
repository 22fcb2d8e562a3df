package prelude

import (
	"context"
	"html"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/workflow"
)

// samplePairs is the embedded financial sample as anchor/positive pairs, split 90/10.
func samplePairs(t *testing.T) (pairs, train, test *Dataset) {
	t.Helper()
	t.Setenv(DataEnv, "")
	pairs = Load("financial").Rename("question", "anchor").Rename("context", "positive").Select("anchor", "positive")
	train, test = pairs.Split(0.1, 42)
	if err := test.Err(); err != nil {
		t.Fatal(err)
	}
	return pairs, train, test
}

func TestStaticModelAndEvaluate(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, _, test := samplePairs(t)

	base := BaseModel(pairs, "positive")
	if err := base.Err(); err != nil {
		t.Fatal(err)
	}
	if base.Name() != "base" || base.ID() == "" {
		t.Fatalf("name %q id %q", base.Name(), base.ID())
	}
	l, err := modeldir.Read(base.Dir())
	if err != nil || l.Kind != modeldir.Static {
		t.Fatalf("the default base model should be a static model dir: %v %v", l, err)
	}
	// The display's title is the short name; the chain that made the model is folded into a details element.
	h := base.HTML()
	title := `<div class="ragnb-caption">base</div><details class="ragnb-lineage"><summary>lineage</summary><code>`
	if !strings.HasPrefix(h, title) || !strings.Contains(h, html.EscapeString(base.Chain())+"</code></details>") {
		t.Errorf("model display title: %.300s", h)
	}
	again := StaticModel(pairs, "positive", StaticOptions{})
	if again.ID() != base.ID() || again.Dir() != base.Dir() || !strings.Contains(again.String(), "from cache") {
		t.Errorf("a second StaticModel should come from the cache with the same identity:\n%s", again)
	}
	other := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	if other.ID() == base.ID() {
		t.Error("a different dimension must be a different model")
	}

	opts := EvalOptions{Dims: []int{256, 64}, Corpus: pairs}
	got := Evaluate(base, test, opts)
	if err := got.Err(); err != nil {
		t.Fatal(err)
	}

	// The same numbers computed directly with the library, without the prelude or its cache.
	anchors, _ := test.Strings("anchor")
	positives, _ := test.Strings("positive")
	corpus, _ := pairs.Strings("positive")
	ds, _, err := ir.FromPairs(anchors, positives, corpus)
	if err != nil {
		t.Fatal(err)
	}
	e, err := evaluate.NewIR(ds, evaluate.Options{Dims: []int{256, 64}})
	if err != nil {
		t.Fatal(err)
	}
	bi, err := encoder.LoadBiEncoder(base.Dir(), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.EvaluateEmbedder(context.Background(), bi, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want.Flat() {
		if g := got.Get(k); math.Abs(g-w) > 1e-12 {
			t.Errorf("%s: prelude %v, library %v", k, g, w)
		}
	}
	ndcg := got.Get("dim_256_cosine_ndcg@10")
	random := Evaluate(StaticModel(pairs, "positive", StaticOptions{Init: "random"}), test, opts).Get("dim_256_cosine_ndcg@10")
	t.Logf("untrained NDCG@10 at 256 dims: idf %.3f, random %.3f", ndcg, random)
	if !(ndcg > random+0.04 && ndcg < 1) { // the trained vocabulary alone gives random vectors some lexical signal
		t.Errorf("untrained idf static model NDCG@10 %v (random init %v): expected a TF-IDF-like ranking, well above chance", ndcg, random)
	}

	bm := EvaluateBM25(test, opts)
	wantBM, err := e.EvaluateBM25(context.Background(), bm25.DefaultParams(), nil)
	if err != nil || bm.Err() != nil {
		t.Fatal(err, bm.Err())
	}
	if g, w := bm.Get("bm25_ndcg@10"), wantBM.Flat()["bm25_ndcg@10"]; g != w || bm.Name() != "bm25" {
		t.Errorf("bm25 %v (%s), library %v", g, bm.Name(), w)
	}

	// A second evaluation replays the stored metrics (the model is not even loaded).
	entries := func() int {
		n := 0
		filepath.Walk(os.Getenv("RAGNB_CACHE"), func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Name() == "manifest.json" {
				n++
			}
			return nil
		})
		return n
	}
	before := entries()
	replay := Evaluate(base, test, opts)
	if replay.Get("dim_64_cosine_mrr@10") != got.Get("dim_64_cosine_mrr@10") || entries() != before {
		t.Error("re-evaluating the same model and data should hit the cache and store nothing new")
	}
}

func TestModelErrors(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	if m := LoadModel(""); m.Err() == nil || !strings.Contains(m.Err().Error(), EnvModel) {
		t.Errorf("no model and no %s: %v", EnvModel, m.Err())
	}
	empty := t.TempDir()
	if m := LoadModel(empty); m.Err() == nil || !strings.Contains(m.String(), "failed") {
		t.Errorf("a directory without a model: %v", m.Err())
	}
	pairs, _, test := samplePairs(t)
	bad := StaticModel(pairs, "context", StaticOptions{})
	if bad.Err() == nil || !strings.Contains(bad.Err().Error(), `"context"`) {
		t.Errorf("missing column: %v", bad.Err())
	}
	met := Evaluate(bad, test, EvalOptions{})
	if met.Err() == nil || !strings.Contains(met.String(), "Evaluate(StaticModel(") {
		t.Errorf("an evaluation of a failed model must carry the error and name the chain:\n%s", met)
	}
	if m := Evaluate(BaseModel(pairs, "positive"), test, EvalOptions{Anchor: "question"}); m.Err() == nil {
		t.Error("a missing anchor column must be an error")
	}
}

// Zero evaluation options are the workflow's defaults, which `ragnb eval` uses too.
func TestEvalDefaultsAreTheWorkflowDefaults(t *testing.T) {
	if got, want := (EvalOptions{}).workflow(), workflow.DefaultEvalOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("EvalOptions{} → %+v, want %+v", got, want)
	}
}
