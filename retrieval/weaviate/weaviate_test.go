package weaviate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/weaviate"
	"github.com/ragnb/ragnb/vector"
)

// childEnv makes the test binary a pushing child (see TestMain) for the kill -9 test.
const childEnv = "RAGNB_WEAVIATE_PUSH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		url, class, _ := strings.Cut(spec, " ")
		if err := pushSlowly(url, class); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The UUIDs are Python's uuid.uuid5 over the same namespace (6b1f3c52-9a07-4e8d-b261-0cd455e37a19), an
// independent implementation of RFC 9562.
func TestUUIDIsVersion5OfTheDocumentID(t *testing.T) {
	for id, want := range map[string]string{
		"doc-1":      "88f45d65-2b09-556b-8936-c2ff13792ec1",
		"ünïcode id": "a8038a58-0962-534e-925d-5688fba91926",
	} {
		if got := weaviate.UUID(id); got != want {
			t.Errorf("UUID(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestCollectionNameIsAValidClassName(t *testing.T) {
	for in, want := range map[string]string{"fin-index": "Fin_index", "2024 docs": "Ragnb_2024_docs", "Sec10K": "Sec10K", "..": "Ragnb_"} {
		got := weaviate.CollectionName(in)
		if got != want {
			t.Errorf("CollectionName(%q) = %q, want %q", in, got, want)
		}
		if err := weaviate.CheckCollectionName(got); err != nil {
			t.Errorf("CollectionName(%q) = %q is not accepted: %v", in, got, err)
		}
	}
	if weaviate.CheckCollectionName("lower") == nil {
		t.Error("a lower-case class name was accepted")
	}
}

func TestPrepareTruncatesAndRenormalises(t *testing.T) {
	v, err := weaviate.Prepare([]float32{3, 4, 12}, weaviate.Record{Similarity: "cosine", Dim: 2})
	if err != nil || len(v) != 2 || v[0] != 0.6 || v[1] != 0.8 {
		t.Fatalf("Prepare = %v, %v; want [0.6 0.8]", v, err)
	}
	if _, err := weaviate.Prepare([]float32{1, 2, 3}, weaviate.Record{Similarity: "dot", Dim: 2}); err == nil {
		t.Error("truncating dot-product vectors was accepted")
	}
}

// fixture is the financial sample's passages embedded by a toy model, the local exact index over them, and
// the record a push writes.
type fixture struct {
	docs    []ir.Document
	vecs    *vector.Matrix
	emb     *toymodel.Embedder
	ix      *index.Index
	rec     weaviate.Record
	queries []string
}

const fixtureHash = "toy-model-seed-7"

func newFixture(t testing.TB, dim int) *fixture {
	t.Helper()
	f, err := loadFixture(dim)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func loadFixture(dim int) (*fixture, error) {
	ctx := context.Background()
	docs, err := index.LoadCorpus("../../testdata/financial-sample/pairs.csv", index.CorpusOptions{TextColumn: "context"})
	if err != nil {
		return nil, err
	}
	qs, err := index.LoadCorpus("../../testdata/financial-sample/pairs.csv", index.CorpusOptions{TextColumn: "question"})
	if err != nil {
		return nil, err
	}
	emb := &toymodel.Embedder{Dim: 64, Seed: 7}
	ix, err := index.Build(ctx, index.Model{Embedder: emb, Hash: fixtureHash, Name: "toy"}, docs, index.Options{Dim: dim}, nil)
	if err != nil {
		return nil, err
	}
	vecs, err := emb.EmbedDocuments(ctx, contents(docs), nil)
	if err != nil {
		return nil, err
	}
	f := &fixture{docs: docs, vecs: vecs, emb: emb, ix: ix, rec: weaviate.Record{ModelHash: fixtureHash, ModelName: "toy",
		Similarity: "cosine", EmbeddingDim: 64, Dim: dim}}
	for _, q := range qs {
		f.queries = append(f.queries, q.Text)
	}
	return f, nil
}

func contents(docs []ir.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Content()
	}
	return out
}

// pushedFixture starts a server, pushes the fixture at dim dimensions into collection and returns the client
// and the fixture.
func pushedFixture(t *testing.T, dim int, collection string) (*weaviate.Client, *fixture) {
	t.Helper()
	srv := weaviatetest.Start(t)
	c := client(t, srv.URL)
	f := newFixture(t, dim)
	if _, err := weaviate.Push(context.Background(), c, collection, f.rec, f.docs, f.vecs, weaviate.PushOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	return c, f
}

func client(t testing.TB, url string) *weaviate.Client {
	t.Helper()
	c, err := weaviate.New(url, weaviate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recallAt10 compares the searcher's top 10 with the local exact index's for every query.
func recallAt10(t *testing.T, f *fixture, s *weaviate.Searcher) float64 {
	t.Helper()
	ctx := context.Background()
	local, err := f.ix.Query(ctx, f.queries, 10)
	if err != nil {
		t.Fatal(err)
	}
	remote, _, err := s.Search(ctx, f.queries, 10)
	if err != nil {
		t.Fatal(err)
	}
	found, total := 0, 0
	for i := range f.queries {
		got := map[string]bool{}
		for _, h := range remote[i] {
			got[h.DocID] = true
		}
		for _, h := range local[i] {
			total++
			if got[h.Doc.ID] {
				found++
			}
		}
		// Where both put the same document first, it has the same similarity on both sides.
		if len(local[i]) > 0 && len(remote[i]) > 0 && local[i][0].Doc.ID == remote[i][0].DocID {
			if d := local[i][0].Score - remote[i][0].Score; d > 1e-3 || d < -1e-3 {
				t.Errorf("query %d: top score %.5f locally, %.5f in weaviate", i, local[i][0].Score, remote[i][0].Score)
			}
		}
	}
	return float64(found) / float64(total)
}

func TestWeaviatePushSearchRepushPruneAndRefuseAnotherModel(t *testing.T) {
	srv := weaviatetest.Start(t)
	ctx := context.Background()
	c := client(t, srv.URL)
	f := newFixture(t, 64)
	res, err := weaviate.Push(ctx, c, "Fin", f.rec, f.docs, f.vecs, weaviate.PushOptions{BatchSize: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Pushed != len(f.docs) || res.Count != len(f.docs) {
		t.Fatalf("first push: %+v, want created with %d objects", res, len(f.docs))
	}

	s, err := weaviate.OpenSearcher(ctx, c, "Fin", f.emb, fixtureHash, "toy", weaviate.SearcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := recallAt10(t, f, s)
	t.Logf("recall@10 of Weaviate's HNSW against the exact index over %d docs, %d queries: %.4f", len(f.docs), len(f.queries), r)
	if r < 0.95 {
		t.Errorf("recall@10 = %.4f, want ≥ 0.95", r)
	}

	// Again: the same UUIDs, so no duplicates.
	res, err = weaviate.Push(ctx, c, "Fin", f.rec, f.docs, f.vecs, weaviate.PushOptions{BatchSize: 64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Count != len(f.docs) {
		t.Fatalf("second push: %+v, want the same %d objects", res, len(f.docs))
	}

	// Prune: ten documents leave the corpus.
	kept := f.docs[10:]
	keptVecs := &vector.Matrix{Rows: f.vecs.Rows - 10, Dim: f.vecs.Dim, Data: f.vecs.Data[10*f.vecs.Dim:]}
	res, err = weaviate.Push(ctx, c, "Fin", f.rec, kept, keptVecs, weaviate.PushOptions{Prune: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pruned != 10 || res.Count != len(kept) {
		t.Fatalf("pruning push: %+v, want 10 pruned, %d left", res, len(kept))
	}
	ids, err := c.DocIDs(ctx, "Fin", 37)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	for _, d := range f.docs[:10] {
		if _, found := slices.BinarySearch(ids, d.ID); found {
			t.Errorf("pruned document %s is still there", d.ID)
		}
	}
	if len(ids) != len(kept) {
		t.Errorf("cursor listing (pages of 37) found %d ids, want %d", len(ids), len(kept))
	}

	// Another model: refused both ways.
	var mm *weaviate.MismatchError
	if _, err := weaviate.OpenSearcher(ctx, c, "Fin", f.emb, "another-model", "other", weaviate.SearcherOptions{}); !errors.As(err, &mm) {
		t.Errorf("search with another model: err = %v, want a MismatchError", err)
	}
	other := f.rec
	other.ModelHash = "another-model"
	if _, err := weaviate.Push(ctx, c, "Fin", other, f.docs, f.vecs, weaviate.PushOptions{}, nil); !errors.As(err, &mm) {
		t.Errorf("push with another model: err = %v, want a MismatchError", err)
	}
	if n, _ := c.Count(ctx, "Fin"); n != len(kept) {
		t.Errorf("refused push changed the collection: %d objects, want %d", n, len(kept))
	}
}

func TestWeaviateMatryoshkaPushMatchesTheTruncatedLocalIndex(t *testing.T) {
	ctx := context.Background()
	c, f := pushedFixture(t, 32, "Fin32")
	s, err := weaviate.OpenSearcher(ctx, c, "Fin32", f.emb, fixtureHash, "toy", weaviate.SearcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Record().Dim != 32 || s.Record().EmbeddingDim != 64 {
		t.Fatalf("record %+v, want dim 32 of 64", s.Record())
	}
	if r := recallAt10(t, f, s); r < 0.95 {
		t.Errorf("recall@10 at dim 32 = %.4f, want ≥ 0.95", r)
	}
}

func TestWeaviateHybridSearchFindsExactWords(t *testing.T) {
	ctx := context.Background()
	c, f := pushedFixture(t, 64, "Fin")
	// BM25 alone (alpha 0) must find a passage from its opening words; the fused search (alpha 0.5) answers
	// with scores best first.
	lexical, err := weaviate.OpenSearcher(ctx, c, "Fin", f.emb, fixtureHash, "toy", weaviate.SearcherOptions{Hybrid: true, Alpha: 0})
	if err != nil {
		t.Fatal(err)
	}
	// Filings share boilerplate openings; only passages whose opening is their own make a fair query.
	prefix := func(d ir.Document) string {
		words := strings.Fields(d.Text)
		return strings.Join(words[:min(12, len(words))], " ")
	}
	seen := map[string]int{}
	for _, d := range f.docs {
		seen[prefix(d)]++
	}
	var qs, want []string
	for _, d := range f.docs {
		if p := prefix(d); seen[p] == 1 && len(qs) < 40 {
			qs, want = append(qs, p), append(want, d.ID)
		}
	}
	hits, _, err := lexical.Search(ctx, qs, 5)
	if err != nil {
		t.Fatal(err)
	}
	top := 0
	for i := range qs {
		if len(hits[i]) > 0 && hits[i][0].DocID == want[i] {
			top++
		}
	}
	if len(qs) < 40 || top < 38 {
		t.Errorf("BM25 through hybrid put the source passage first for %d of %d queries, want ≥ 38 of 40", top, len(qs))
	}
	fused, err := weaviate.OpenSearcher(ctx, c, "Fin", f.emb, fixtureHash, "toy", weaviate.SearcherOptions{Hybrid: true, Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	hits, _, err = fused.Search(ctx, f.queries[:10], 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, hs := range hits {
		if len(hs) != 5 {
			t.Fatalf("query %d: %d hybrid hits, want 5", i, len(hs))
		}
		for j := 1; j < len(hs); j++ {
			if hs[j].Score > hs[j-1].Score {
				t.Errorf("query %d: hybrid scores not best first: %v", i, hs)
			}
		}
		if hs[0].Score <= 0 || hs[0].Text == "" {
			t.Errorf("query %d: top hybrid hit %+v has no score or text", i, hs[0])
		}
	}
}

// slowTransport delays every request so that a child's push takes seconds and can be killed midway.
type slowTransport struct{ d time.Duration }

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.d)
	return http.DefaultTransport.RoundTrip(r)
}

func pushSlowly(url, class string) error {
	f, err := loadFixture(64)
	if err != nil {
		return err
	}
	c, err := weaviate.New(url, weaviate.Options{HTTP: &http.Client{Transport: slowTransport{30 * time.Millisecond}}})
	if err != nil {
		return err
	}
	_, err = weaviate.Push(context.Background(), c, class, f.rec, f.docs, f.vecs, weaviate.PushOptions{BatchSize: 2}, nil)
	return err
}

func TestWeaviatePushKilledMidwayResumes(t *testing.T) {
	srv := weaviatetest.Start(t)
	ctx := context.Background()
	c := client(t, srv.URL)
	f := newFixture(t, 64)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+srv.URL+" Killed")
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	n := 0
	deadline := time.Now().Add(60 * time.Second)
	for n < 20 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("the child pushed %d objects in 60 s:\n%s", n, out)
		}
		time.Sleep(50 * time.Millisecond)
		n, _ = c.Count(ctx, "Killed") // absent until the child creates the collection
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := child.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL:\n%s", err, out)
	}
	n, err = c.Count(ctx, "Killed")
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n >= len(f.docs) {
		t.Fatalf("after the kill the collection holds %d of %d objects, want a part", n, len(f.docs))
	}
	t.Logf("killed the push at %d of %d objects", n, len(f.docs))

	res, err := weaviate.Push(ctx, c, "Killed", f.rec, f.docs, f.vecs, weaviate.PushOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.DocIDs(ctx, "Killed", 0)
	if err != nil {
		t.Fatal(err)
	}
	uniq := map[string]bool{}
	for _, id := range ids {
		uniq[id] = true
	}
	if res.Count != len(f.docs) || len(ids) != len(f.docs) || len(uniq) != len(f.docs) {
		t.Fatalf("resumed push: count %d, %d ids (%d distinct), want %d", res.Count, len(ids), len(uniq), len(f.docs))
	}
}
