package workflow

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/index"
)

// savedIndex builds and saves an exact index over the financial sample with a toy model, in a directory
// named fin-index.
func savedIndex(t *testing.T) (string, index.Model, []string) {
	t.Helper()
	pairs := "../testdata/financial-sample/pairs.csv"
	docs, err := index.LoadCorpus(pairs, index.CorpusOptions{TextColumn: "context"})
	if err != nil {
		t.Fatal(err)
	}
	qs, err := index.LoadCorpus(pairs, index.CorpusOptions{TextColumn: "question"})
	if err != nil {
		t.Fatal(err)
	}
	m := index.Model{Embedder: &toymodel.Embedder{Dim: 48, Seed: 11, QueryPrefix: "q: "}, Hash: "toy-48-11", Name: "toy"}
	ix, err := index.Build(context.Background(), m, docs, index.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "fin-index")
	if err := ix.Save(dir); err != nil {
		t.Fatal(err)
	}
	questions := make([]string, 0, 60)
	for _, q := range qs[:60] {
		questions = append(questions, q.Text)
	}
	return dir, m, questions
}

func TestWeaviatePushIndexRefusesABadDimensionBeforeConnecting(t *testing.T) {
	dir, _, _ := savedIndex(t)
	o := DefaultPushIndexOptions()
	o.Dim = 49
	_, err := PushIndex(context.Background(), Env{}, PushIndexInput{IndexDir: dir, URL: "http://127.0.0.1:1"}, o)
	if err == nil || !strings.Contains(err.Error(), "larger than the index's dimension 48") {
		t.Errorf("err = %v", err)
	}
	if _, err := PushIndex(context.Background(), Env{}, PushIndexInput{IndexDir: t.TempDir(), URL: "http://127.0.0.1:1"}, o); err == nil ||
		!strings.Contains(err.Error(), "not an index directory") {
		t.Errorf("not an index: err = %v", err)
	}
}

// The workflow's push and the pipeline's Weaviate retriever answer as the local exact index does.
func TestWeaviatePushIndexThenRetrieveLikeTheLocalIndex(t *testing.T) {
	srv := weaviatetest.Start(t)
	ctx := context.Background()
	dir, m, questions := savedIndex(t)
	res, err := PushIndex(ctx, Env{}, PushIndexInput{IndexDir: dir, URL: srv.URL}, DefaultPushIndexOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Collection != "Fin_index" || !res.Created || res.Count != 223 {
		t.Fatalf("push: %+v, want collection Fin_index created with 223 objects", res)
	}
	o := DefaultWeaviateOptions()
	o.URL, o.Collection = srv.URL, res.Collection
	remote, s, err := WeaviateRetriever(ctx, m, o)
	if err != nil {
		t.Fatal(err)
	}
	if rec := s.Record(); rec.ModelHash != "toy-48-11" || rec.Dim != 48 || rec.Similarity != "cosine" {
		t.Errorf("record %+v", rec)
	}
	ix, err := index.Open(ctx, dir, m, index.OpenOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := pipeline.Dense(ix).Retrieve(ctx, questions, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, timings, err := remote.Retrieve(ctx, questions, 5)
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range questions {
		if len(got[i]) == 5 && got[i][0].DocID == want[i][0].DocID && got[i][0].Text == want[i][0].Text {
			same++
		}
	}
	if same < len(questions)*95/100 || timings.Search <= 0 {
		t.Errorf("top-1 agrees with the exact index for %d of %d questions; search took %v", same, len(questions), timings.Search)
	}

	other := m
	other.Hash = "another"
	if _, _, err := WeaviateRetriever(ctx, other, o); err == nil || !strings.Contains(err.Error(), "was written with model toy") {
		t.Errorf("another model: err = %v", err)
	}
}
