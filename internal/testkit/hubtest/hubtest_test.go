package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clientDir is the npm project holding the official JS client.
const clientDir = "../../../tools/hubclient"

// jsClient makes sure @huggingface/hub is installed (npm ci from the lock file) and returns node's path. Without
// node or npm the test is skipped, except under CI=true, where it fails: CI must check the server's fidelity.
func jsClient(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err != nil || err2 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are needed to check the test Hub against @huggingface/hub (node: %v, npm: %v)", err, err2)
		}
		t.Skipf("node or npm not found: cannot check the test Hub against @huggingface/hub (CI=true makes this fail)")
	}
	if _, err := os.Stat(filepath.Join(clientDir, "node_modules", "@huggingface", "hub", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = clientDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", clientDir, err, out)
		}
	}
	return node
}

// The official JS client creates a repository and uploads a model folder (weights through LFS) and a dataset
// to this server: every file lands byte for byte, and a second upload of the same files finds the LFS
// objects stored and sends them no more.
func TestTheOfficialJSClientUploadsToTheServer(t *testing.T) {
	node := jsClient(t)
	token := "hf_jsClientToken0123456789"
	s := New(token)
	defer s.Close()

	model := t.TempDir()
	weights := bytes.Repeat([]byte{0, 1, 2, 3, 250}, 40000)
	files := map[string][]byte{
		"config.json":              []byte(`{"architectures": ["BertModel"], "hidden_size": 32}`),
		"README.md":                []byte("---\nlibrary_name: sentence-transformers\npipeline_tag: sentence-similarity\n---\n# card\n"),
		"model.safetensors":        weights,
		"1_Pooling/config.json":    []byte(`{"pooling_mode_cls_token": true}`),
		"tokenizer.json":           []byte(`{"version": "1.0", "model": {"type": "WordPiece"}}`),
		"binary-without-extension": append([]byte("abc\x00def"), weights[:100]...),
	}
	for p, b := range files {
		os.MkdirAll(filepath.Join(model, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(model, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(typ, repo, dir string) map[string]any {
		t.Helper()
		cmd := exec.Command(node, "upload.mjs", s.URL, typ, repo, dir)
		cmd.Dir = clientDir
		cmd.Env = append(os.Environ(), "HF_TOKEN="+token)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("node upload.mjs %s %s: %v\n%s\n%s\nrequests: %+v", typ, repo, err, stdout.String(), stderr.String(), s.Requests())
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("client output %q: %v", stdout.String(), err)
		}
		return out
	}
	out := run("model", "org/js-model", model)
	if out["repoUrl"] != s.URL+"/org/js-model" || out["commit"] == nil {
		t.Errorf("client said %v", out)
	}
	r := s.Repo("model", "org/js-model")
	if r == nil || !r.Private || len(r.Commits) != 1 || r.Commits[0] != "upload with @huggingface/hub" {
		t.Fatalf("repository: %+v", r)
	}
	for p, b := range files {
		f, ok := r.Files["main"][p]
		if !ok || !bytes.Equal(f.Data, b) {
			t.Errorf("%s: landed %v, same bytes %v", p, ok, ok && bytes.Equal(f.Data, b))
		}
		wantLFS := p == "model.safetensors" || p == "binary-without-extension"
		if f.LFS != wantLFS {
			t.Errorf("%s: LFS %v, want %v", p, f.LFS, wantLFS)
		}
	}
	if len(r.Files["main"]) != len(files) {
		t.Errorf("%d files landed, want %d", len(r.Files["main"]), len(files))
	}
	oid := sha(weights)
	if s.Puts(oid) != 1 {
		t.Errorf("weights were put %d times", s.Puts(oid))
	}
	// The client sent the token to the API and never to storage.
	for _, q := range s.Requests() {
		if strings.HasPrefix(q.Path, "/lfs-storage/") == (q.Authorization == "Bearer "+token) {
			t.Errorf("%s %s: Authorization sent: %v", q.Method, q.Path, q.Authorization != "")
		}
	}

	// A second repository with the same weights: the LFS store has them, the client does not send them again.
	run("model", "org/js-model-2", model)
	if s.Puts(oid) != 1 {
		t.Errorf("weights were put %d times after the second upload", s.Puts(oid))
	}

	data := t.TempDir()
	table := []byte("PAR1 a parquet file's bytes\x00\x01PAR1")
	os.MkdirAll(filepath.Join(data, "data"), 0o755)
	os.WriteFile(filepath.Join(data, "data", "train-00000-of-00001.parquet"), table, 0o644)
	os.WriteFile(filepath.Join(data, "README.md"), []byte("---\nconfigs:\n- config_name: default\n---\n"), 0o644)
	run("dataset", "org/js-data", data)
	d := s.Repo("dataset", "org/js-data")
	if d == nil || !bytes.Equal(d.Files["main"]["data/train-00000-of-00001.parquet"].Data, table) || !d.Files["main"]["data/train-00000-of-00001.parquet"].LFS {
		t.Errorf("dataset repository: %+v", d)
	}

	// A wrong token is refused with 401 and the client reports it.
	cmd := exec.Command(node, "upload.mjs", s.URL, "model", "org/denied", model)
	cmd.Dir = clientDir
	cmd.Env = append(os.Environ(), "HF_TOKEN=hf_wrong")
	if out, err := cmd.CombinedOutput(); err == nil || s.Repo("model", "org/denied") != nil {
		t.Errorf("a wrong token was accepted: %s", out)
	}
}
