package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/vector"
)

var words = strings.Fields(`revenue profit margin cloud storage chip graphics gaming data center automotive
	lease debt interest tax dividend share buyback employee pension inventory supply chain risk litigation
	patent acquisition goodwill segment retail wholesale energy oil gas solar battery vehicle software license`)

// corpus makes n documents of 6–12 words drawn with a seed.
func corpus(n int, seed uint64) []ir.Document {
	rng := rand.New(rand.NewPCG(seed, 3))
	docs := make([]ir.Document, n)
	for i := range docs {
		w := make([]string, 6+rng.IntN(7))
		for j := range w {
			w[j] = words[rng.IntN(len(words))]
		}
		docs[i] = ir.Document{ID: fmt.Sprintf("d%03d", i), Text: strings.Join(w, " ")}
		if i%5 == 0 {
			docs[i].Title = words[rng.IntN(len(words))]
		}
	}
	return docs
}

func toy(seed uint64) (*toymodel.Embedder, Model) {
	e := &toymodel.Embedder{Dim: 32, Seed: seed, QueryPrefix: "query: "}
	return e, Model{Embedder: e, Hash: fmt.Sprintf("toy-%d", seed), Name: fmt.Sprintf("toy seed %d", seed)}
}

func goBackend(t testing.TB) Options {
	t.Helper()
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Backend: b}
}

// bruteForce ranks docs for a query independently of the index: the toy model's own vectors, float64
// cosine, ties by document order.
func bruteForce(t *testing.T, e *toymodel.Embedder, docs []ir.Document, query string, k, dim int) []string {
	t.Helper()
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Content()
	}
	dv, _ := e.EmbedDocuments(context.Background(), texts, nil)
	qv, _ := e.EmbedQueries(context.Background(), []string{query}, nil)
	if dim > 0 {
		dv, _ = dv.Truncate(dim)
		qv, _ = qv.Truncate(dim)
	}
	idx := make([]int, len(docs))
	sc := make([]float64, len(docs))
	for i := range idx {
		idx[i] = i
		sc[i] = vector.Cosine(qv.Row(0), dv.Row(i))
	}
	sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
	var ids []string
	for _, i := range idx[:k] {
		ids = append(ids, docs[i].ID)
	}
	return ids
}

func hitIDs(hits []Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.Doc.ID)
	}
	return ids
}

func TestExactSearchMatchesBruteForce(t *testing.T) {
	docs := corpus(120, 1)
	e, model := toy(1)
	for _, dim := range []int{0, 8} {
		opts := goBackend(t)
		opts.Dim = dim
		ix, err := Build(context.Background(), model, docs, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantDim := 32
		if dim > 0 {
			wantDim = dim
		}
		if m := ix.Manifest(); m.Count != 120 || m.EmbeddingDim != 32 || m.Dim != wantDim {
			t.Errorf("dim %d: manifest %+v", dim, m)
		}
		for _, q := range []string{"cloud revenue growth", "pension debt interest", "solar battery vehicle"} {
			res, err := ix.Query(context.Background(), []string{q}, 5)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hitIDs(res[0]), bruteForce(t, e, docs, q, 5, dim); !reflect.DeepEqual(got, want) {
				t.Errorf("dim %d, %q: index %v, brute force %v", dim, q, got, want)
			}
		}
	}
}

func TestSaveOpenRoundTrip(t *testing.T) {
	for _, kind := range []Kind{Exact, HNSW} {
		t.Run(string(kind), func(t *testing.T) {
			docs := corpus(200, 2)
			_, model := toy(2)
			opts := goBackend(t)
			opts.Kind = kind
			ix, err := Build(context.Background(), model, docs, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "ix")
			if err := ix.Save(dir); err != nil {
				t.Fatal(err)
			}
			e2, model2 := toy(2) // the same model, a fresh instance
			back, err := Open(context.Background(), dir, model2, OpenOptions{Backend: opts.Backend}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e2.Documents.Load() != 0 {
				t.Errorf("opening re-embedded %d documents", e2.Documents.Load())
			}
			if !reflect.DeepEqual(back.Manifest(), ix.Manifest()) {
				t.Errorf("manifest changed:\n%+v\n%+v", back.Manifest(), ix.Manifest())
			}
			qs := []string{"gaming graphics chip", "tax litigation risk"}
			a, _ := ix.Query(context.Background(), qs, 10)
			b, _ := back.Query(context.Background(), qs, 10)
			if !reflect.DeepEqual(a, b) {
				t.Error("the reopened index answers differently")
			}
			want := []string{DocsFile, ManifestFile, VectorsFile}
			if kind == HNSW {
				want = []string{DocsFile, GraphFile, ManifestFile, VectorsFile}
			}
			if got := listDir(t, dir); !reflect.DeepEqual(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
			// The corpus file is a BEIR corpus.
			if c, err := ir.LoadCorpus(filepath.Join(dir, DocsFile)); err != nil || !reflect.DeepEqual(c, docs) {
				t.Errorf("docs.jsonl does not read back as the corpus: %v", err)
			}
		})
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestStaleIndex(t *testing.T) {
	docs := corpus(50, 3)
	_, base := toy(3)
	ix, err := Build(context.Background(), base, docs, goBackend(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ix")
	if err := ix.Save(dir); err != nil {
		t.Fatal(err)
	}
	tunedEmb, tuned := toy(4)
	_, err = Open(context.Background(), dir, tuned, OpenOptions{}, nil)
	var stale *StaleError
	if !errors.As(err, &stale) || stale.BuiltHash != "toy-3" || stale.NowHash != "toy-4" {
		t.Fatalf("opening with another model: %v", err)
	}
	for _, want := range []string{"stale index", "toy seed 3", "toy seed 4", "rebuild"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	re, err := Open(context.Background(), dir, tuned, OpenOptions{RebuildStale: true, Backend: goBackend(t).Backend}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := tunedEmb.Documents.Load(); n != 50 {
		t.Errorf("rebuild embedded %d documents, want 50", n)
	}
	if m, _ := ReadManifest(dir); m.ModelHash != "toy-4" || m.Count != 50 || !m.Created.Equal(ix.Manifest().Created) {
		t.Errorf("rebuilt manifest on disk: %+v", m)
	}
	if _, err := Open(context.Background(), dir, tuned, OpenOptions{}, nil); err != nil {
		t.Errorf("the rebuilt index does not open with the new model: %v", err)
	}
	if _, err := Open(context.Background(), dir, base, OpenOptions{}, nil); !errors.As(err, &stale) {
		t.Errorf("the rebuilt index opens with the old model: %v", err)
	}
	_ = re
}

func TestModelFromDirHashesFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"hidden_size": 32}`), 0o644)
	a, err := ModelFromDir(dir, &toymodel.Embedder{Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("weights v2"), 0o644)
	b, _ := ModelFromDir(dir, &toymodel.Embedder{Dim: 32})
	if a.Hash == "" || a.Hash == b.Hash || a.Name != dir {
		t.Errorf("hashes %q → %q after a weights change", a.Hash, b.Hash)
	}
	if _, err := ModelFromDir(filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("missing model directory: want an error")
	}
}

func TestAddEmbedsOnlyNewDocuments(t *testing.T) {
	for _, kind := range []Kind{Exact, HNSW} {
		t.Run(string(kind), func(t *testing.T) {
			docs := corpus(90, 5)
			e, model := toy(5)
			opts := goBackend(t)
			opts.Kind = kind
			ix, err := Build(context.Background(), model, docs[:60], opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "ix")
			ix.Save(dir)
			e2, model2 := toy(5)
			ix2, err := Open(context.Background(), dir, model2, OpenOptions{Backend: opts.Backend}, nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := ix2.Add(context.Background(), docs[40:], nil) // 20 known, 30 new
			if err != nil || n != 30 || e2.Documents.Load() != 30 {
				t.Fatalf("Add: %d added, %d embedded, %v", n, e2.Documents.Load(), err)
			}
			if err := ix2.Save(dir); err != nil {
				t.Fatal(err)
			}
			// The incrementally built index answers like one built in one go.
			whole, _ := Build(context.Background(), model, docs, opts, nil)
			back, err := Open(context.Background(), dir, model, OpenOptions{Backend: opts.Backend}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"oil gas energy", "share buyback dividend"} {
				a, _ := whole.Query(context.Background(), []string{q}, 8)
				b, _ := back.Query(context.Background(), []string{q}, 8)
				if !reflect.DeepEqual(hitIDs(a[0]), hitIDs(b[0])) {
					t.Errorf("%q: incremental %v, one-shot %v", q, hitIDs(b[0]), hitIDs(a[0]))
				}
			}
			_ = e
		})
	}
}

func TestAddRejectsBadInput(t *testing.T) {
	docs := corpus(10, 6)
	_, model := toy(6)
	ix, err := Build(context.Background(), model, docs, goBackend(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := docs[3]
	changed.Text += " amended"
	for name, batch := range map[string][]ir.Document{
		"changed content": {changed},
		"duplicate ids":   {{ID: "x", Text: "a"}, {ID: "x", Text: "b"}},
		"empty id":        {{Text: "no id"}},
	} {
		if n, err := ix.Add(context.Background(), batch, nil); err == nil || n != 0 {
			t.Errorf("%s: added %d, err %v", name, n, err)
		}
	}
	if ix.Len() != 10 {
		t.Errorf("rejected batches changed the index: %d docs", ix.Len())
	}
	if n, err := ix.Add(context.Background(), docs, nil); n != 0 || err != nil {
		t.Errorf("re-adding the same documents: %d, %v", n, err)
	}
	// A failing embedder adds nothing.
	failing := &toymodel.Embedder{Dim: 32, Fail: errors.New("model crashed")}
	ix2, _ := Build(context.Background(), Model{Embedder: failing, Hash: "f"}, nil, goBackend(t), nil)
	if _, err := ix2.Add(context.Background(), docs, nil); err == nil || !strings.Contains(err.Error(), "model crashed") || ix2.Len() != 0 {
		t.Errorf("failing embedder: %v, %d docs", err, ix2.Len())
	}
	if _, err := Build(context.Background(), Model{Embedder: failing}, docs, Options{}, nil); err == nil {
		t.Error("a model without a hash: want an error")
	}
	if _, err := Build(context.Background(), model, docs, Options{Kind: "ivf"}, nil); err == nil {
		t.Error("unknown kind: want an error")
	}
}

func TestSaveIsAtomicAndCareful(t *testing.T) {
	docs := corpus(20, 7)
	_, model := toy(7)
	ix, _ := Build(context.Background(), model, docs, goBackend(t), nil)
	root := t.TempDir()
	notIndex := filepath.Join(root, "photos")
	os.MkdirAll(notIndex, 0o755)
	os.WriteFile(filepath.Join(notIndex, "cat.jpg"), []byte("meow"), 0o644)
	if err := ix.Save(notIndex); err == nil {
		t.Error("saving over a directory of other files: want an error")
	}
	if _, err := os.Stat(filepath.Join(notIndex, "cat.jpg")); err != nil {
		t.Error("Save touched a directory that is not an index")
	}
	dir := filepath.Join(root, "ix")
	if err := ix.Save(dir); err != nil {
		t.Fatal(err)
	}
	ix.Add(context.Background(), []ir.Document{{ID: "new", Text: "brand new solar battery"}}, nil)
	if err := ix.Save(dir); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadManifest(dir); m.Count != 21 {
		t.Errorf("overwritten index has %d docs", m.Count)
	}
	if got := listDir(t, root); !reflect.DeepEqual(got, []string{"ix", "photos"}) {
		t.Errorf("temporary directories left behind: %v", got)
	}
	// An interrupted swap (old index moved aside, new one not yet in place) is named by Open.
	os.Rename(dir, filepath.Join(root, ".ix.old-123"))
	_, err := Open(context.Background(), dir, model, OpenOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), ".ix.old-123") {
		t.Errorf("open after an interrupted save: %v", err)
	}
}

func TestOpenRejectsInconsistentFiles(t *testing.T) {
	docs := corpus(30, 8)
	_, model := toy(8)
	opts := goBackend(t)
	opts.Kind = HNSW
	ix, _ := Build(context.Background(), model, docs, opts, nil)
	cases := map[string]func(dir string){
		"fewer vectors": func(dir string) {
			vector.SaveNPY(filepath.Join(dir, VectorsFile), vector.New(29, 32))
		},
		"truncated graph": func(dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, GraphFile))
			os.WriteFile(filepath.Join(dir, GraphFile), b[:len(b)/2], 0o644)
		},
		"extra document": func(dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, DocsFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"_id":"zz","text":"x"}` + "\n")
			f.Close()
		},
		"bad manifest": func(dir string) {
			os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format":1,"kind":"ivf"}`), 0o644)
		},
	}
	for name, damage := range cases {
		dir := filepath.Join(t.TempDir(), "ix")
		if err := ix.Save(dir); err != nil {
			t.Fatal(err)
		}
		damage(dir)
		if _, err := Open(context.Background(), dir, model, OpenOptions{}, nil); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestDotSimilarityKeepsRawVectors(t *testing.T) {
	docs := corpus(15, 9)
	e, model := toy(9)
	opts := goBackend(t)
	opts.Similarity = search.Dot
	ix, err := Build(context.Background(), model, docs, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := ix.Query(context.Background(), []string{"debt"}, 1)
	qv, _ := e.EmbedQueries(context.Background(), []string{"debt"}, nil)
	dv, _ := e.EmbedDocuments(context.Background(), []string{res[0][0].Doc.Content()}, nil)
	if want := vector.Dot(qv.Row(0), dv.Row(0)); math.Abs(res[0][0].Score-want) > 1e-5 {
		t.Errorf("dot score %v, want %v", res[0][0].Score, want)
	}
	if _, err := Build(context.Background(), model, docs, Options{Similarity: search.Dot, Dim: 8}, nil); err == nil {
		t.Error("truncation with dot similarity: want an error")
	}
}

// The host scan (what serving uses) and the backend's search (large batches on an accelerator) must agree.
func TestHostAndBackendExactSearchAgree(t *testing.T) {
	docs := corpus(300, 12)
	_, model := toy(12)
	ix, err := Build(context.Background(), model, docs, goBackend(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for i := 0; i < hostQueries+8; i++ {
		qs = append(qs, docs[i*7].Text+" "+words[i%len(words)])
	}
	q, err := ix.EmbedQueries(context.Background(), qs)
	if err != nil {
		t.Fatal(err)
	}
	ix.forceBackend = true
	batch, err := ix.Search(context.Background(), q, 7) // backend
	ix.forceBackend = false
	if err != nil {
		t.Fatal(err)
	}
	for i := range qs {
		one, _ := ix.Search(context.Background(), &vector.Matrix{Rows: 1, Dim: q.Dim, Data: q.Row(i)}, 7) // host
		for j := range one[0] {
			a, b := one[0][j], batch[i][j]
			if a.Row != b.Row || math.Abs(a.Score-b.Score) > 1e-5 {
				t.Errorf("query %d hit %d: host %d (%.6f), backend %d (%.6f)", i, j, a.Row, a.Score, b.Row, b.Score)
			}
		}
	}
}

// TestVerifyCatchesDamageTheShapeChecksMiss: the manifest's sizes and checksums catch a truncated
// vectors.npy or docs.jsonl, a missing docs.jsonl and a flipped bit in hnsw.bin, in Verify and in Open, each
// error naming the file; a manifest without checksums still opens, unverified.
func TestVerifyCatchesDamageTheShapeChecksMiss(t *testing.T) {
	docs := corpus(30, 9)
	_, model := toy(9)
	opts := goBackend(t)
	opts.Kind = HNSW
	ix, _ := Build(context.Background(), model, docs, opts, nil)
	cases := map[string]struct {
		damage func(dir string)
		file   string
	}{
		"truncated vectors": {func(dir string) { truncate(t, filepath.Join(dir, VectorsFile), 1) }, VectorsFile},
		"truncated docs":    {func(dir string) { truncate(t, filepath.Join(dir, DocsFile), 1) }, DocsFile},
		"missing docs":      {func(dir string) { os.Remove(filepath.Join(dir, DocsFile)) }, DocsFile},
		"flipped graph bit": {func(dir string) {
			p := filepath.Join(dir, GraphFile)
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 0x10
			os.WriteFile(p, b, 0o644)
		}, GraphFile},
	}
	for name, c := range cases {
		dir := filepath.Join(t.TempDir(), "ix")
		if err := ix.Save(dir); err != nil {
			t.Fatal(err)
		}
		man, _ := ReadManifest(dir)
		if ok, err := Verify(dir, man); !ok || err != nil || len(man.Files) != 3 {
			t.Fatalf("%s: fresh index: verified %v, %v, files %v", name, ok, err, man.Files)
		}
		c.damage(dir)
		if _, err := Verify(dir, man); err == nil || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: Verify: %v, want an error naming %s", name, err, c.file)
		}
		if _, err := Open(context.Background(), dir, model, OpenOptions{}, nil); err == nil || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: Open: %v, want an error naming %s", name, err, c.file)
		}
	}
	// An older manifest without checksums opens, unverified.
	dir := filepath.Join(t.TempDir(), "ix")
	ix.Save(dir)
	man, _ := ReadManifest(dir)
	man.Files = nil
	b, _ := json.Marshal(man)
	os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644)
	if ok, err := Verify(dir, man); ok || err != nil {
		t.Errorf("old manifest: verified %v, %v", ok, err)
	}
	if _, err := Open(context.Background(), dir, model, OpenOptions{}, nil); err != nil {
		t.Errorf("old manifest: %v", err)
	}
}

func truncate(t *testing.T, path string, by int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-by); err != nil {
		t.Fatal(err)
	}
}

// TestSaveRemovesWhatAKilledSaveLeft: a save's temporary folder untouched for long is a killed save's
// leftover, removed by the next save; a fresh one (a save in progress) is kept.
func TestSaveRemovesWhatAKilledSaveLeft(t *testing.T) {
	_, model := toy(3)
	ix, _ := Build(context.Background(), model, corpus(5, 3), goBackend(t), nil)
	root := t.TempDir()
	old, fresh := filepath.Join(root, ".ix.tmp-111"), filepath.Join(root, ".ix.tmp-222")
	for _, d := range []string{old, fresh} {
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, VectorsFile), []byte("half"), 0o644)
	}
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(old, VectorsFile), past, past)
	os.Chtimes(old, past, past)
	if err := ix.Save(filepath.Join(root, "ix")); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, root); !reflect.DeepEqual(got, []string{".ix.tmp-222", "ix"}) {
		t.Errorf("after save: %v", got)
	}
}

// nanEmbedder embeds like the toy model but returns NaN for the document whose text holds poison.
type nanEmbedder struct {
	*toymodel.Embedder
	poison string
}

func (e nanEmbedder) EmbedDocuments(ctx context.Context, texts []string, r progress.Func) (*vector.Matrix, error) {
	m, err := e.Embedder.EmbedDocuments(ctx, texts, r)
	for i, t := range texts {
		if err == nil && strings.Contains(t, e.poison) {
			m.Data[i*m.Dim+3] = float32(math.NaN())
		}
	}
	return m, err
}

// TestNonFiniteEmbeddingsNeverReachTheIndex: Build and Add refuse a NaN embedding naming the document.
func TestNonFiniteEmbeddingsNeverReachTheIndex(t *testing.T) {
	e, _ := toy(4)
	model := Model{Embedder: nanEmbedder{e, "POISON"}, Hash: "nan"}
	docs := corpus(10, 4)
	docs[6].Text += " POISON"
	if _, err := Build(context.Background(), model, docs, goBackend(t), nil); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", docs[6].ID)) {
		t.Errorf("build: %v", err)
	}
	ix, err := Build(context.Background(), model, docs[:5], goBackend(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ix.Add(context.Background(), docs[5:], nil); err == nil || n != 0 || ix.Len() != 5 {
		t.Errorf("add: %d added, %v, %d documents", n, err, ix.Len())
	}
}
