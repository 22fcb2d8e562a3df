package prelude

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/retrieval/hybrid"
	"github.com/ragnb/ragnb/workflow"
)

// TestEvalOptionsHybridTakeTheWorkflowDefaults: zero hybrid options are workflow.DefaultHybridOptions (the
// defaults `ragnb eval --model hybrid:DIR` reads); a weight fixes it, RRF changes the method only; a zero
// PipelineOptions fuses with the same default weight as `ragnb ask --hybrid`.
func TestEvalOptionsHybridTakeTheWorkflowDefaults(t *testing.T) {
	if got, want := (EvalOptions{}).hybrid(), workflow.DefaultHybridOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero options give %+v, want %+v", got, want)
	}
	want := workflow.DefaultHybridOptions()
	want.Fusion.Alpha, want.Tune = 0.3, false
	if got := (EvalOptions{HybridAlpha: 0.3}).hybrid(); !reflect.DeepEqual(got, want) {
		t.Errorf("HybridAlpha 0.3 gives %+v", got)
	}
	if got := (EvalOptions{HybridRRF: true}).hybrid(); got.Fusion.Method != hybrid.RRF || !got.Tune {
		t.Errorf("HybridRRF gives %+v", got)
	}
	p, err := PipelineOptions{Hybrid: true}.workflow("x")
	if err != nil || !p.Hybrid || p.Fusion != workflow.DefaultHybridOptions().Fusion {
		t.Errorf("PipelineOptions{Hybrid: true} gives %+v, %v", p, err)
	}
}

// TestEvaluateHybridSideBySideWithTheWeightChosenOnDev: on the embedded sample split train/dev/test, Evaluate
// with Hybrid shows the model, BM25 and the hybrid at every dimension; the weight is the dev split's best
// (the note says so) and the retention view reads the model's columns.
func TestEvaluateHybridSideBySideWithTheWeightChosenOnDev(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, _, _ := samplePairs(t)
	train, dev, test := pairs.SplitDevTest(0.1, 0.1, 42)
	if train.Err() != nil || dev.Len() != 52 || test.Len() != 52 || train.Len() != 414 {
		t.Fatalf("split %d/%d/%d: %v", train.Len(), dev.Len(), test.Len(), train.Err())
	}
	_, plain := pairs.Split(0.1, 42)
	if plain.Hash() != test.Hash() {
		t.Error("SplitDevTest's test differs from Split's")
	}
	base := BaseModel(pairs, "positive")
	m := Evaluate(base, test, EvalOptions{Dims: []int{256, 64}, Corpus: pairs, Hybrid: true, Dev: dev})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dim_256_cosine_ndcg@10", "dim_64_cosine_ndcg@10", "bm25_ndcg@10", "hybrid_dim_256_ndcg@10", "hybrid_dim_64_ndcg@10"} {
		if math.IsNaN(m.Get(k)) {
			t.Errorf("no %s in %v", k, m.Keys())
		}
	}
	if a := m.HybridAlpha(256); !(a >= 0 && a <= 1) {
		t.Errorf("hybrid weight at 256-d %v", a)
	}
	if s := m.String(); !strings.Contains(s, "chosen on 52 dev queries, metrics on the test queries") || !strings.Contains(s, "hybrid 256") {
		t.Errorf("the display does not show the hybrid or where its weight was chosen:\n%s", s)
	}
	// The same weight fixed gives the same test figures: the tuning chose it, the test set did not move it.
	fixed := Evaluate(base, test, EvalOptions{Dims: []int{256}, Corpus: pairs, Hybrid: true, HybridAlpha: max(m.HybridAlpha(256), 1e-9)})
	if math.Abs(fixed.Get("hybrid_dim_256_ndcg@10")-m.Get("hybrid_dim_256_ndcg@10")) > 1e-9 && m.HybridAlpha(256) > 0 {
		t.Errorf("fixed α %v: %v, tuned %v", m.HybridAlpha(256), fixed.Get("hybrid_dim_256_ndcg@10"), m.Get("hybrid_dim_256_ndcg@10"))
	}
	r := Retention("ndcg@10", m)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	shares := r.Frame().Col("share of own full dim").Float()
	if len(shares) != 2 || shares[0] != 1 || math.Abs(shares[1]-m.Get("dim_64_cosine_ndcg@10")/m.Get("dim_256_cosine_ndcg@10")) > 1e-12 {
		t.Errorf("retention shares %v", shares)
	}
}
