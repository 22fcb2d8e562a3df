package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ragnb/ragnb/progress"
)

const (
	token  = "hf_secret_test_token_123"
	commit = "0123456789abcdef0123456789abcdef01234567"
)

type fakeRepo struct {
	files   map[string]string
	private bool            // everything needs the token
	gated   map[string]bool // these files need the token
	lfs     map[string]bool // served through a redirect to the CDN, with X-Linked-Etag
	badSHA  bool            // the X-Linked-Etag is wrong
	dataset bool            // a dataset repository: /api/datasets/..., /datasets/{repo}/resolve/...
}

// fakeHub serves repositories in the Hub's URL layout: /api/models/{repo}/revision/{rev} and
// /{repo}/resolve/{commit}/{file}, with LFS files redirected to a second server (another host).
type fakeHub struct {
	repos    map[string]*fakeRepo
	hub, cdn *httptest.Server
	mu       sync.Mutex
	requests []string // "path auth" for every request the Hub saw
	cdnAuth  []string // Authorization headers the CDN saw
}

func newFakeHub(t *testing.T, repos map[string]*fakeRepo) *fakeHub {
	f := &fakeHub{repos: repos}
	f.cdn = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.cdnAuth = append(f.cdnAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		// /blob/{repo}/{file}
		rest := strings.TrimPrefix(r.URL.Path, "/blob/")
		for id, repo := range f.repos {
			if name, ok := strings.CutPrefix(rest, id+"/"); ok {
				if body, ok := repo.files[name]; ok {
					w.Write([]byte(body))
					return
				}
			}
		}
		http.NotFound(w, r)
	}))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() { f.hub.Close(); f.cdn.Close() })
	return f
}

func (f *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.Path+" "+auth)
	f.mu.Unlock()
	authorized := auth == "Bearer "+token
	deny := func() {
		w.Header().Set("X-Error-Message", "Invalid credentials in Authorization header")
		w.WriteHeader(http.StatusUnauthorized)
	}
	p := r.URL.Path
	api, isAPI := strings.CutPrefix(p, "/api/models/")
	wantDataset := false
	if !isAPI {
		api, isAPI = strings.CutPrefix(p, "/api/datasets/")
		wantDataset = isAPI
	}
	if isAPI {
		id, rev, ok := strings.Cut(api, "/revision/")
		repo := f.repos[id]
		if !ok || repo == nil || repo.dataset != wantDataset || (rev != "main" && rev != commit) {
			w.Header().Set("X-Error-Code", "RepoNotFound")
			http.NotFound(w, r)
			return
		}
		if repo.private && !authorized {
			deny()
			return
		}
		type sib struct {
			R string `json:"rfilename"`
		}
		var sibs []sib
		for name := range repo.files {
			sibs = append(sibs, sib{name})
		}
		sort.Slice(sibs, func(i, j int) bool { return sibs[i].R < sibs[j].R })
		json.NewEncoder(w).Encode(map[string]any{"id": id, "sha": commit, "siblings": sibs})
		return
	}
	for id, repo := range f.repos {
		prefix := "/" + id + "/resolve/" + commit + "/"
		if repo.dataset {
			prefix = "/datasets" + prefix
		}
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		body, ok := repo.files[rest]
		if !ok {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.NotFound(w, r)
			return
		}
		if (repo.private || repo.gated[rest]) && !authorized {
			deny()
			return
		}
		if repo.lfs[rest] {
			sum := sha256.Sum256([]byte(body))
			etag := hex.EncodeToString(sum[:])
			if repo.badSHA {
				etag = strings.Repeat("0", 64)
			}
			w.Header().Set("X-Linked-Etag", `"`+etag+`"`)
			http.Redirect(w, r, f.cdn.URL+"/blob/"+id+"/"+rest, http.StatusFound)
			return
		}
		w.Write([]byte(body))
		return
	}
	http.NotFound(w, r)
}

func (f *fakeHub) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeHub) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeHub) client(t *testing.T) Client {
	return Client{Endpoint: f.hub.URL + "/", Token: token, CacheDir: t.TempDir()}
}

// tinyRepo is a sentence-transformers model directory (the contents are stand-ins, not a model).
func tinyRepo() *fakeRepo {
	return &fakeRepo{files: map[string]string{
		".gitattributes":        "*.safetensors filter=lfs",
		"README.md":             "# tiny",
		"config.json":           `{"model_type": "bert", "max_position_embeddings": 64}`,
		"tokenizer.json":        `{"model": {"type": "WordPiece"}}`,
		"tokenizer_config.json": `{"model_max_length": 64}`,
		"vocab.txt":             "[PAD]\n[UNK]\n",
		"modules.json":          `[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]`,
		"1_Pooling/config.json": `{"pooling_mode_cls_token": true}`,
		"model.safetensors":     "WEIGHTS-0123456789",
		"pytorch_model.bin":     "PICKLE",
		"onnx/model.onnx":       "ONNX",
	}, lfs: map[string]bool{"model.safetensors": true, "pytorch_model.bin": true}}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSnapshotDownloadsWhatAModelNeeds(t *testing.T) {
	repo := tinyRepo()
	f := newFakeHub(t, map[string]*fakeRepo{"org/tiny": repo})
	c := f.client(t)
	var reports []progress.Report
	dir, err := c.Snapshot(context.Background(), "org/tiny", "", func(r progress.Report) { reports = append(reports, r) })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, "models--org--tiny", "snapshots", commit); dir != want {
		t.Errorf("snapshot dir %s, want %s", dir, want)
	}
	got := readTree(t, dir)
	want := map[string]string{}
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "modules.json", "1_Pooling/config.json", "model.safetensors"} {
		want[name] = repo.files[name]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("snapshot holds %v, want %v", keys(got), keys(want))
	}
	if ref, err := os.ReadFile(filepath.Join(c.CacheDir, "models--org--tiny", "refs", "main")); err != nil || string(ref) != commit {
		t.Errorf("refs/main = %q, %v", ref, err)
	}
	// Only the listing and listed, wanted files were asked for, always with the token; the CDN never saw it.
	for _, r := range f.requested() {
		path, auth, _ := strings.Cut(r, " ")
		if auth != "Bearer "+token {
			t.Errorf("request %s carried Authorization %q", path, auth)
		}
		for _, skipped := range []string{"pytorch_model.bin", "onnx", "README.md", "vocab.txt", "sentence_bert_config.json", "special_tokens_map.json"} {
			if strings.Contains(path, skipped) {
				t.Errorf("requested %s, which Snapshot should skip", path)
			}
		}
	}
	if f.count() != 1+len(want) {
		t.Errorf("%d requests, want %d: %v", f.count(), 1+len(want), f.requested())
	}
	if len(f.cdnAuth) != 1 || f.cdnAuth[0] != "" {
		t.Errorf("CDN saw Authorization headers %q, want one request without", f.cdnAuth)
	}
	if last := reports[len(reports)-1]; last.Done != len(want) || last.Total != len(want) || last.Unit != "files" {
		t.Errorf("last progress report %+v", last)
	}

	// A second call is served from the cache without a single request, for the branch and for the commit.
	before := f.count()
	for _, rev := range []string{"main", commit} {
		dir2, err := c.Snapshot(context.Background(), "org/tiny", rev, nil)
		if err != nil || dir2 != dir {
			t.Fatalf("second Snapshot(%s) = %s, %v", rev, dir2, err)
		}
	}
	if f.count() != before {
		t.Errorf("second Snapshot made %d requests", f.count()-before)
	}
	// So is an offline one.
	c.Offline = true
	if dir3, err := c.Snapshot(context.Background(), "org/tiny", "main", nil); err != nil || dir3 != dir {
		t.Errorf("offline Snapshot after download = %s, %v", dir3, err)
	}
	// The token is nowhere in the cache.
	for name, body := range readTree(t, c.CacheDir) {
		if strings.Contains(body, token) || strings.Contains(name, token) {
			t.Errorf("token written to the cache in %s", name)
		}
	}
	// A lost file makes the snapshot incomplete: it is fetched again, and only it.
	c.Offline = false
	if err := os.Remove(filepath.Join(dir, "1_Pooling", "config.json")); err != nil {
		t.Fatal(err)
	}
	before = f.count()
	if _, err := c.Snapshot(context.Background(), "org/tiny", "main", nil); err != nil {
		t.Fatal(err)
	}
	if reqs := f.requested()[before:]; len(reqs) != 2 || !strings.Contains(reqs[1], "1_Pooling/config.json") {
		t.Errorf("refetch requests %v", reqs)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSnapshotShardedAndStatic(t *testing.T) {
	index := `{"metadata": {"total_size": 20}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors", "c.weight": "model-00001-of-00002.safetensors"}}`
	f := newFakeHub(t, map[string]*fakeRepo{
		"org/sharded": {files: map[string]string{
			"config.json":                      `{}`,
			"vocab.txt":                        "[PAD]\n",
			"model.safetensors.index.json":     index,
			"model-00001-of-00002.safetensors": "SHARD1",
			"model-00002-of-00002.safetensors": "SHARD2",
		}, lfs: map[string]bool{"model-00001-of-00002.safetensors": true}},
		"static": {files: map[string]string{
			"modules.json":                        `[{"idx": 0, "name": "0", "path": "0_StaticEmbedding", "type": "sentence_transformers.models.StaticEmbedding"}]`,
			"0_StaticEmbedding/model.safetensors": "EMB",
			"0_StaticEmbedding/tokenizer.json":    `{}`,
			"config_sentence_transformers.json":   `{}`,
		}},
	})
	c := f.client(t)
	dir, err := c.Snapshot(context.Background(), "org/sharded", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(readTree(t, dir)); !reflect.DeepEqual(got, []string{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "vocab.txt"}) {
		t.Errorf("sharded snapshot holds %v", got)
	}
	dir, err = c.Snapshot(context.Background(), "static", commit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(readTree(t, dir)); !reflect.DeepEqual(got, []string{"0_StaticEmbedding/model.safetensors", "0_StaticEmbedding/tokenizer.json", "config_sentence_transformers.json", "modules.json"}) {
		t.Errorf("static snapshot holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(c.CacheDir, "models--static", "refs")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a commit revision should write no ref: %v", err)
	}
}

func TestSnapshotErrors(t *testing.T) {
	gated := tinyRepo()
	gated.gated = map[string]bool{"config.json": true}
	bad := tinyRepo()
	bad.badSHA = true
	f := newFakeHub(t, map[string]*fakeRepo{
		"org/private": {files: map[string]string{"config.json": "{}"}, private: true},
		"org/gated":   gated,
		"org/badsha":  bad,
	})
	wrong := f.client(t)
	wrong.Token = "hf_wrong_token_456"
	for _, tc := range []struct {
		c       Client
		repo    string
		mention []string
	}{
		{wrong, "org/private", []string{"org/private", "file list", "401", "HF_TOKEN"}},
		{wrong, "org/gated", []string{"org/gated", "config.json", "401", "Invalid credentials"}},
		{f.client(t), "org/missing", []string{"org/missing", "404"}},
		{f.client(t), "org/badsha", []string{"org/badsha", "model.safetensors", "SHA-256"}},
	} {
		_, err := tc.c.Snapshot(context.Background(), tc.repo, "main", nil)
		if err == nil {
			t.Errorf("Snapshot(%s) succeeded", tc.repo)
			continue
		}
		for _, m := range tc.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("Snapshot(%s) error %q does not mention %q", tc.repo, err, m)
			}
		}
		if strings.Contains(err.Error(), tc.c.Token) {
			t.Errorf("error %q contains the token", err)
		}
		// Nothing half-written is left as a model file, and no snapshot is recorded as complete.
		for name := range readTree(t, tc.c.CacheDir) {
			if strings.Contains(name, "model.safetensors") || strings.HasPrefix(name, "models--"+strings.ReplaceAll(tc.repo, "/", "--")+"/.ragnb") {
				t.Errorf("Snapshot(%s) failed but left %s", tc.repo, name)
			}
		}
	}
	var he *HTTPError
	if _, err := wrong.Snapshot(context.Background(), "org/private", "main", nil); !errors.As(err, &he) || he.Status != 401 {
		t.Errorf("error %v is not an HTTPError 401", err)
	}
	// Offline with nothing cached: a clear error and no request.
	off := f.client(t)
	off.Offline = true
	before := f.count()
	if _, err := off.Snapshot(context.Background(), "org/gated", "main", nil); !errors.Is(err, ErrOffline) {
		t.Errorf("offline uncached: %v", err)
	}
	if f.count() != before {
		t.Error("offline Snapshot made a request")
	}
	// A cancelled context stops before any request.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.client(t).Snapshot(ctx, "org/gated", "main", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, id := range []string{"../etc", "org/na me", "org/a/b", "org--x/y", ""} {
		if _, err := f.client(t).Snapshot(context.Background(), id, "main", nil); err == nil {
			t.Errorf("Snapshot(%q) accepted a bad id", id)
		}
	}
}

func TestResolve(t *testing.T) {
	f := newFakeHub(t, map[string]*fakeRepo{"org/tiny": tinyRepo()})
	c := f.client(t)
	local := t.TempDir()
	if dir, err := Resolve(context.Background(), local, c, nil); err != nil || dir != local {
		t.Errorf("Resolve(local dir) = %s, %v", dir, err)
	}
	if f.count() != 0 {
		t.Error("Resolve of a local directory made a request")
	}
	dir, err := Resolve(context.Background(), "org/tiny@main", c, nil)
	if err != nil || dir != filepath.Join(c.CacheDir, "models--org--tiny", "snapshots", commit) {
		t.Errorf("Resolve(org/tiny@main) = %s, %v", dir, err)
	}
	for _, s := range []string{"./no/such/dir", "/abs/missing", "a/b/c", "org/na me", "org/missing"} {
		if _, err := Resolve(context.Background(), s, c, nil); err == nil {
			t.Errorf("Resolve(%q) succeeded", s)
		}
	}
	file := filepath.Join(local, "f.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Resolve(context.Background(), file, c, nil); err == nil || !strings.Contains(err.Error(), "not a model directory") {
		t.Errorf("Resolve(file) = %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	for _, k := range []string{"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_HUB_OFFLINE"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", "/home/u")
	c := FromEnv()
	if c.Endpoint != DefaultEndpoint || c.Token != "" || c.Offline || c.CacheDir != "/home/u/.cache/huggingface/hub" {
		t.Errorf("defaults: %+v", c)
	}
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	t.Setenv("HUGGING_FACE_HUB_TOKEN", "old")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HF_HUB_OFFLINE", "True")
	c = FromEnv()
	if c.Endpoint != "https://mirror.example" || c.Token != "old" || !c.Offline || c.CacheDir != "/xdg/huggingface/hub" {
		t.Errorf("legacy names: %+v", c)
	}
	t.Setenv("HF_TOKEN", "new")
	t.Setenv("HF_HOME", "/hf")
	c = FromEnv()
	if c.Token != "new" || c.CacheDir != "/hf/hub" {
		t.Errorf("HF_TOKEN/HF_HOME: %+v", c)
	}
	t.Setenv("HF_HUB_CACHE", "/cache")
	t.Setenv("HF_HUB_OFFLINE", "0")
	if c = FromEnv(); c.CacheDir != "/cache" || c.Offline {
		t.Errorf("HF_HUB_CACHE: %+v", c)
	}
}

func TestParseID(t *testing.T) {
	for in, want := range map[string][2]string{
		"BAAI/bge-small-en-v1.5":               {"BAAI/bge-small-en-v1.5", "main"},
		"bert-base-uncased":                    {"bert-base-uncased", "main"},
		"org/m@v1.0":                           {"org/m", "v1.0"},
		"cross-encoder/ms-marco-MiniLM-L-6-v2": {"cross-encoder/ms-marco-MiniLM-L-6-v2", "main"},
	} {
		id, rev, err := ParseID(in)
		if err != nil || id != want[0] || rev != want[1] {
			t.Errorf("ParseID(%q) = %q %q %v", in, id, rev, err)
		}
	}
	for _, in := range []string{"", "org/", "/m", "a/b/c", "org/m@", "a--b/c", "org/m@../x"} {
		if _, _, err := ParseID(in); err == nil {
			t.Errorf("ParseID(%q) accepted", in)
		}
	}
}

// TestDatasetSnapshot: a dataset repository is fetched in the datasets--org--name layout through the dataset
// URLs, data files only; a second call makes no request; a repository without data files is a clear error.
func TestDatasetSnapshot(t *testing.T) {
	f := newFakeHub(t, map[string]*fakeRepo{
		"org/fin-qa": {dataset: true, files: map[string]string{
			".gitattributes":         "*.parquet filter=lfs",
			"README.md":              "# fin-qa",
			"fin-qa.py":              "# a loading script: never fetched",
			"data/train-00000.jsonl": `{"question": "q1", "context": "c1"}` + "\n",
			"data/test-00000.jsonl":  `{"question": "q2", "context": "c2"}` + "\n",
			"data/.hidden.csv":       "a,b\n",
			"extra/scores.parquet":   "PARQUET",
		}, lfs: map[string]bool{"extra/scores.parquet": true}},
		"org/scripts-only": {dataset: true, files: map[string]string{"README.md": "# no data", "load.py": ""}},
		"org/model":        tinyRepo(),
	})
	c := f.client(t)
	snap, err := c.DatasetSnapshot(context.Background(), "org/fin-qa", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, "datasets--org--fin-qa", "snapshots", commit); snap != want {
		t.Errorf("snapshot %s, want %s", snap, want)
	}
	got := readTree(t, snap)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "data/test-00000.jsonl data/train-00000.jsonl extra/scores.parquet" || got["extra/scores.parquet"] != "PARQUET" {
		t.Errorf("fetched %v", names)
	}
	n := f.count()
	if again, err := c.DatasetSnapshot(context.Background(), "org/fin-qa", "main", nil); err != nil || again != snap || f.count() != n {
		t.Errorf("second call: %v, %s, %d new requests", err, again, f.count()-n)
	}
	if _, err := c.DatasetSnapshot(context.Background(), "org/scripts-only", "", nil); err == nil || !strings.Contains(err.Error(), "no data files") {
		t.Errorf("a dataset without data files: %v", err)
	}
	// A model id is not a dataset (the Hub answers 404 on the dataset API).
	if _, err := c.DatasetSnapshot(context.Background(), "org/model", "", nil); err == nil {
		t.Error("a model repository was fetched as a dataset")
	}
}
