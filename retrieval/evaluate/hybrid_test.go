package evaluate

import (
	"context"
	"math"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/hybrid"
	"github.com/ragnb/ragnb/vector"
)

// financialSample is the embedded sample's (question, context) pairs as an IR dataset, split in two halves:
// dev (even rows) and test (odd rows), over one corpus.
func financialSample(t *testing.T) (dev, test *ir.Dataset) {
	t.Helper()
	df, err := datasets.Load("../../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := datasets.Strings(df, "question")
	cs, _ := datasets.Strings(df, "context")
	var da, dp, ta, tp []string
	for i := range qs {
		if i%2 == 0 {
			da, dp = append(da, qs[i]), append(dp, cs[i])
		} else {
			ta, tp = append(ta, qs[i]), append(tp, cs[i])
		}
	}
	if dev, _, err = ir.FromPairs(da, dp, cs); err != nil {
		t.Fatal(err)
	}
	if test, _, err = ir.FromPairs(ta, tp, cs); err != nil {
		t.Fatal(err)
	}
	return dev, test
}

// TestHybridOnTheFinancialSample: α = 1 is the dense system and α = 0 BM25, metric for metric at the top 10;
// the weight is tuned on the dev half and the report made on the other half, under hybrid_dim_<d> keys.
func TestHybridOnTheFinancialSample(t *testing.T) {
	ctx := context.Background()
	devDS, testDS := financialSample(t)
	emb := &toymodel.Embedder{Dim: 64, Seed: 3}
	var texts []string
	for _, d := range testDS.Corpus {
		texts = append(texts, d.Content())
	}
	emb.FitIDF(texts)
	p := bm25.DefaultParams()
	eval := func(ds *ir.Dataset) (*IR, [2]*vectorPair) {
		e, err := NewIR(ds, Options{Dims: []int{64, 32}})
		if err != nil {
			t.Fatal(err)
		}
		q, err := emb.EmbedQueries(ctx, e.QueryTexts(), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := emb.EmbedDocuments(ctx, e.CorpusTexts(), nil)
		return e, [2]*vectorPair{{q, c}, nil}
	}
	dev, dv := eval(devDS)
	test, tv := eval(testDS)
	dense, err := test.EvaluateEmbeddings(ctx, tv[0].q, tv[0].c, nil)
	if err != nil {
		t.Fatal(err)
	}
	lexical, err := test.EvaluateBM25(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alpha float64
		ref   *Report
		label string
	}{{1, dense, "dim_64_cosine"}, {0, lexical, "bm25"}} {
		r, err := test.EvaluateHybrid(ctx, tv[0].q, tv[0].c, p, hybrid.Options{Alpha: c.alpha}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"ndcg@10", "mrr@10", "accuracy@1"} {
			got, ok := r.Get("hybrid_dim_64_" + m)
			want, _ := c.ref.Get(c.label + "_" + m)
			if !ok || math.Abs(got-want) > 1e-12 {
				t.Errorf("α=%v %s: hybrid %v, %s %v", c.alpha, m, got, c.label, want)
			}
		}
	}
	tuned, trials, err := dev.TuneHybrid(ctx, dv[0].q, dv[0].c, 64, p, "ndcg@10", hybrid.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 21 {
		t.Fatalf("%d trials", len(trials))
	}
	r, err := test.EvaluateHybrid(ctx, tv[0].q, tv[0].c, p, tuned, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := r.Get("hybrid_dim_64_ndcg@10")
	if _, ok := r.Get("hybrid_dim_32_ndcg@10"); !ok {
		t.Errorf("no 32-d column: %v", r.Keys())
	}
	d, _ := dense.Get("dim_64_cosine_ndcg@10")
	b, _ := lexical.Get("bm25_ndcg@10")
	t.Logf("test ndcg@10: dense %.4f, bm25 %.4f, hybrid (%v, tuned on dev) %.4f", d, b, tuned, h)
	if h < math.Min(d, b) {
		t.Errorf("the dev-tuned hybrid (%.4f) is below both systems it fuses (%.4f, %.4f)", h, d, b)
	}
}

type vectorPair struct{ q, c *vector.Matrix }
