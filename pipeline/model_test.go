package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/vector"
)

// tinyModels writes a random 1-layer BERT bi-encoder (with a query prompt) and cross-encoder over the real
// bert-base-uncased vocabulary, as ragnb init-model does, and returns their directories.
func tinyModels(t *testing.T, seed uint64) (bi, ce string) {
	t.Helper()
	tok, files, err := encoder.LoadTokenizer(sharedtest.BertTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	spec := encoder.BERTSpec{Layers: 1, Hidden: 32, Heads: 2, Intermediate: 64, MaxLength: 128, Normalize: true,
		Prompts: map[string]string{"query": "query: "}, Seed: seed}
	dir := t.TempDir()
	b, err := encoder.NewBERTBiEncoder(tok, files, spec, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bi = filepath.Join(dir, "bi")
	if err := b.Save(bi); err != nil {
		t.Fatal(err)
	}
	spec.Prompts, spec.Normalize = nil, false
	c, err := encoder.NewBERTCrossEncoder(tok, files, spec, encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ce = filepath.Join(dir, "ce")
	if err := c.Save(ce); err != nil {
		t.Fatal(err)
	}
	return bi, ce
}

// A pipeline over real model directories: the index embeds with the bi-encoder (queries with its prompt),
// the cross-encoder reranks, and the prompt holds exactly its top n in order — each expectation computed
// from the loaded models directly, without the index or the pipeline.
func TestPipelineOverRealModelDirectories(t *testing.T) {
	biDir, ceDir := tinyModels(t, 5)
	backend, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := encoder.LoadBiEncoder(biDir, encoder.Options{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	ce, err := encoder.LoadCrossEncoder(ceDir, encoder.Options{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	model, err := index.ModelFromDir(biDir, bi)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.Build(context.Background(), model, docs, index.Options{Backend: backend}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, client := fakeLLM(t, func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "From [2] and [1]."} })
	p, err := Build(Config{Retriever: Dense(ix), TopK: 6, TopN: 3, Reranker: ce, LLM: client})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Ask(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}

	// Expected: cosine of the model's own query and document embeddings, top 6; the cross-encoder's
	// scores of those pairs, top 3.
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Content()
	}
	dv, _ := bi.EmbedDocuments(context.Background(), texts, nil)
	qv, _ := bi.EmbedQueries(context.Background(), []string{question}, nil)
	plain, _ := bi.Embed(context.Background(), []string{question}, "", nil)
	if vector.Cosine(qv.Row(0), plain.Row(0)) > 0.9999 {
		t.Fatal("the query prompt does not change the query embedding; the test cannot see it applied")
	}
	idx := make([]int, len(docs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		return vector.Cosine(qv.Row(0), dv.Row(idx[x])) > vector.Cosine(qv.Row(0), dv.Row(idx[y]))
	})
	top := idx[:6]
	pairs := make([]ir.Pair, len(top))
	for i, j := range top {
		pairs[i] = ir.Pair{Query: question, Passage: texts[j]}
	}
	scores, err := ce.ScorePairs(context.Background(), pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(top))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return scores[order[x]] > scores[order[y]] })
	var want []string
	for _, o := range order[:3] {
		want = append(want, docs[top[o]].ID)
	}
	if ids(a) != strings.Join(want, " ") {
		t.Errorf("sources %s, want %v", ids(a), want)
	}
	for i, s := range a.Sources {
		if d := s.RerankScore - scores[order[i]]; d > 1e-5 || d < -1e-5 {
			t.Errorf("source %d rerank score %v, the cross-encoder gives %v", i, s.RerankScore, scores[order[i]])
		}
	}
	marks := passageMark.FindAllStringSubmatch(srv.Requests()[0].Last(), -1)
	if len(marks) != 3 {
		t.Fatalf("prompt has %d passages", len(marks))
	}
	for i, m := range marks {
		if m[2] != want[i] {
			t.Errorf("prompt passage %d is %s, want %s", i+1, m[2], want[i])
		}
	}
	if a.Text != "From [2] and [1]." || len(a.Cited) != 2 || a.Timings.Embed <= 0 || a.Timings.Rerank <= 0 {
		t.Errorf("answer %q cited %v timings %+v", a.Text, a.Cited, a.Timings)
	}

	// The same index opened with another model directory is stale.
	dir := filepath.Join(t.TempDir(), "ix")
	if err := ix.Save(dir); err != nil {
		t.Fatal(err)
	}
	otherDir, _ := tinyModels(t, 6)
	other, _ := encoder.LoadBiEncoder(otherDir, encoder.Options{Backend: backend})
	om, _ := index.ModelFromDir(otherDir, other)
	var stale *index.StaleError
	if _, err := index.Open(context.Background(), dir, om, index.OpenOptions{}, nil); !errors.As(err, &stale) {
		t.Errorf("opening with another model: %v", err)
	}
	if _, err := index.Open(context.Background(), dir, model, index.OpenOptions{}, nil); err != nil {
		t.Errorf("reopening with the same model directory: %v", err)
	}
}
