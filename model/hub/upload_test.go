package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/retry"
	"github.com/ragnb/ragnb/internal/testkit/hubtest"
	"github.com/ragnb/ragnb/progress"
)

const testToken = "hf_testTOKENvalue0123456789"

// copyDir copies a model directory so that a test can add to it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// localFiles maps the slash paths under dir to their bytes.
func localFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return err
	})
	return out
}

// noSleep records the waits a retry policy asks for instead of sleeping.
func noSleep(waits *[]time.Duration) retry.Policy {
	return retry.Policy{MaxRetries: 3, Sleep: func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return nil
	}}
}

func testClient(s *hubtest.Server, token string) Client {
	return Client{Endpoint: s.URL, Token: token, HTTP: s.Client()}
}

func oidOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkLanded checks that the repository holds exactly the local files, byte for byte, with lfs of them in LFS.
func checkLanded(t *testing.T, s *hubtest.Server, typ, repo, dir string, lfs ...string) {
	t.Helper()
	r := s.Repo(typ, repo)
	if r == nil {
		t.Fatalf("repository %s was not created", repo)
	}
	want := localFiles(t, dir)
	got := r.Files["main"]
	if len(got) != len(want) {
		t.Errorf("repository has %d files, the directory %d", len(got), len(want))
	}
	for p, b := range want {
		f, ok := got[p]
		if !ok {
			t.Errorf("%s did not land", p)
			continue
		}
		if !bytes.Equal(f.Data, b) {
			t.Errorf("%s landed with different bytes", p)
		}
		isLFS := false
		for _, l := range lfs {
			isLFS = isLFS || l == p
		}
		if f.LFS != isLFS {
			t.Errorf("%s: LFS = %v, want %v", p, f.LFS, isLFS)
		}
	}
}

func TestUploadFolderLandsEveryFileByteIdenticalWithTheWeightsThroughLFS(t *testing.T) {
	s := hubtest.New(testToken)
	defer s.Close()
	dir := copyDir(t, "../../testdata/models/tiny-bert-cls")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("---\nlibrary_name: sentence-transformers\n---\n# card\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte("not for the Hub"), 0o644)
	var reports []progress.Report
	c := testClient(s, testToken)
	res, err := c.UploadFolder(context.Background(), "org/tiny", dir, UploadOptions{Private: true, CommitMessage: "first",
		Progress: func(r progress.Report) { reports = append(reports, r) }})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, ".hidden"))
	checkLanded(t, s, "model", "org/tiny", dir, "model.safetensors")
	if r := s.Repo("model", "org/tiny"); !r.Private || len(r.Commits) != 1 || r.Commits[0] != "first" {
		t.Errorf("repository: private %v, commits %v", r.Private, r.Commits)
	}
	weights, _ := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if len(res.Uploaded) != 1 || res.Uploaded[0] != "model.safetensors" || res.Bytes != int64(len(weights)) || res.Commit == "" {
		t.Errorf("result: %+v", res)
	}
	if last := reports[len(reports)-1]; last.Done != len(weights) || last.Total != len(weights) || last.Unit != "bytes" {
		t.Errorf("last progress report: %+v", last)
	}

	// The same folder again: the Hub has everything, so nothing is sent and no commit is made.
	again, err := c.UploadFolder(context.Background(), "org/tiny", dir, UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Commit != "" || len(again.Committed) != 0 || len(again.Unchanged) != len(localFiles(t, dir)) || s.Puts(oidOf(weights)) != 1 {
		t.Errorf("second push: %+v, weights sent %d times", again, s.Puts(oidOf(weights)))
	}
	// A changed card alone is committed, the weights are not sent again.
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# card v2\n"), 0o644)
	third, err := c.UploadFolder(context.Background(), "org/tiny", dir, UploadOptions{CommitMessage: "card"})
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Committed) != 1 || third.Committed[0] != "README.md" || s.Puts(oidOf(weights)) != 1 {
		t.Errorf("third push: %+v", third)
	}
	checkLanded(t, s, "model", "org/tiny", dir, "model.safetensors")
	// An in-memory file is sent instead of the folder's, which stays as it is.
	if _, err := c.UploadFolder(context.Background(), "org/tiny", dir, UploadOptions{Files: map[string][]byte{"README.md": []byte("# edited\n")}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Repo("model", "org/tiny").Files["main"]["README.md"].Data; string(got) != "# edited\n" {
		t.Errorf("README.md on the Hub: %q", got)
	}
	if local, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(local) != "# card v2\n" {
		t.Errorf("the folder's README.md changed: %q", local)
	}
	// The token went to the API only, never to storage.
	for _, r := range s.Requests() {
		storage := strings.HasPrefix(r.Path, "/lfs-storage/")
		if storage == (r.Authorization != "") {
			t.Errorf("%s %s: Authorization sent: %v", r.Method, r.Path, r.Authorization != "")
		}
	}
}

func TestUploadRetriesOn429And5xxHonouringRetryAfter(t *testing.T) {
	s := hubtest.New(testToken)
	defer s.Close()
	s.FailNext(http.MethodPost, "/commit/main", http.StatusTooManyRequests, "7", 1)
	s.FailNext(http.MethodPost, "/preupload/main", http.StatusServiceUnavailable, "", 1)
	s.FailNext(http.MethodPost, "/objects/batch", http.StatusBadGateway, "2", 1)
	var waits []time.Duration
	c := testClient(s, testToken)
	dir := copyDir(t, "../../testdata/models/tiny-static")
	if _, err := c.UploadFolder(context.Background(), "org/static", dir, UploadOptions{Retry: noSleep(&waits)}); err != nil {
		t.Fatal(err)
	}
	checkLanded(t, s, "model", "org/static", dir, "0_StaticEmbedding/model.safetensors")
	if len(waits) != 3 || waits[1] != 2*time.Second || waits[2] != 7*time.Second || waits[0] <= 0 {
		t.Errorf("waits = %v, want a backoff, then 2 s and 7 s as Retry-After said", waits)
	}
	// Retries run out: the error says how many attempts were made.
	s.FailNext(http.MethodPost, "/api/repos/create", http.StatusInternalServerError, "1", 10)
	_, err := c.UploadFolder(context.Background(), "org/other", dir, UploadOptions{Retry: noSleep(&waits)})
	if err == nil || !strings.Contains(err.Error(), "gave up after 4 attempts") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("err = %v", err)
	}
}

func TestUploadWithABadTokenFailsAt401AndNeverShowsTheToken(t *testing.T) {
	s := hubtest.New(testToken)
	defer s.Close()
	bad := "hf_wrongSECRETtoken42"
	var waits []time.Duration
	c := testClient(s, bad)
	_, err := c.UploadFolder(context.Background(), "org/tiny", copyDir(t, "../../testdata/models/tiny-static"), UploadOptions{Retry: noSleep(&waits)})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "write access") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), bad) || len(waits) != 0 || len(s.Requests()) != 1 {
		t.Errorf("err %q, %d retries, %d requests", err, len(waits), len(s.Requests()))
	}
	c.Token = ""
	if _, err := c.UploadFolder(context.Background(), "org/tiny", t.TempDir(), UploadOptions{}); err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

func TestAnInterruptedPushRerunDoesNotResendWhatArrived(t *testing.T) {
	s := hubtest.New(testToken)
	defer s.Close()
	dir := t.TempDir()
	a, b := bytes.Repeat([]byte("weights A "), 5000), bytes.Repeat([]byte("optimizer B "), 9000)
	os.WriteFile(filepath.Join(dir, "a.safetensors"), a, 0o644)
	os.WriteFile(filepath.Join(dir, "b.bin"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"x": 1}`), 0o644)
	s.CutUpload(oidOf(b), 100) // every try of b is cut off half-way
	var waits []time.Duration
	c := testClient(s, testToken)
	_, err := c.UploadFolder(context.Background(), "org/big", dir, UploadOptions{Retry: noSleep(&waits)})
	if err == nil || !strings.Contains(err.Error(), "upload b.bin") {
		t.Fatalf("interrupted push: err = %v", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("the error shows the token")
	}
	if s.Puts(oidOf(a)) != 1 || s.Puts(oidOf(b)) != 0 || len(s.Repo("model", "org/big").Commits) != 0 {
		t.Fatalf("after the interruption: a sent %d, b %d", s.Puts(oidOf(a)), s.Puts(oidOf(b)))
	}
	s.CutUpload(oidOf(b), 0)
	res, err := c.UploadFolder(context.Background(), "org/big", dir, UploadOptions{Retry: noSleep(&waits)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Puts(oidOf(a)) != 1 || s.Puts(oidOf(b)) != 1 || fmt.Sprint(res.Present) != "[a.safetensors]" || fmt.Sprint(res.Uploaded) != "[b.bin]" {
		t.Errorf("re-run: a sent %d times, b %d; result %+v", s.Puts(oidOf(a)), s.Puts(oidOf(b)), res)
	}
	checkLanded(t, s, "model", "org/big", dir, "a.safetensors", "b.bin")
}

func TestTokenFromEnvFollowsHuggingfaceHub(t *testing.T) {
	home := t.TempDir()
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "XDG_CACHE_HOME"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HOME", home)
	if got := TokenFromEnv(); got != "" {
		t.Errorf("no token anywhere: %q", got)
	}
	os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600)
	if got := TokenFromEnv(); got != "hf_fromfile" {
		t.Errorf("token file: %q", got)
	}
	other := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(other, []byte("hf_frompath"), 0o600)
	t.Setenv("HF_TOKEN_PATH", other)
	if got := TokenFromEnv(); got != "hf_frompath" {
		t.Errorf("HF_TOKEN_PATH: %q", got)
	}
	t.Setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy")
	if got := TokenFromEnv(); got != "hf_legacy" {
		t.Errorf("HUGGING_FACE_HUB_TOKEN: %q", got)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	if got := TokenFromEnv(); got != "hf_env" {
		t.Errorf("HF_TOKEN: %q", got)
	}
}

func TestUploadToAnotherRevisionCreatesTheBranch(t *testing.T) {
	s := hubtest.New(testToken)
	defer s.Close()
	c := testClient(s, testToken)
	dir := copyDir(t, "../../testdata/models/tiny-static")
	if _, err := c.UploadFolder(context.Background(), "org/br", dir, UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# on a branch\n"), 0o644)
	for range 2 { // the second time the branch exists already
		if _, err := c.UploadFolder(context.Background(), "org/br", dir, UploadOptions{Revision: "v2"}); err != nil {
			t.Fatal(err)
		}
	}
	r := s.Repo("model", "org/br")
	if _, onMain := r.Files["main"]["README.md"]; onMain || string(r.Files["v2"]["README.md"].Data) != "# on a branch\n" || len(r.Commits) != 2 {
		t.Errorf("branches: main %d files, v2 %d files, commits %v", len(r.Files["main"]), len(r.Files["v2"]), r.Commits)
	}
}
