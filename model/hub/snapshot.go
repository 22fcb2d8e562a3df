package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/internal/atomicfile"

	"github.com/ragnb/ragnb/progress"
)

// rootFiles are the top-level files an encoder model directory may have; those the repository lacks are
// skipped. vocab.txt is taken only when there is no tokenizer.json; the weights are model.safetensors, or
// model.safetensors.index.json plus the shards it lists.
var rootFiles = []string{
	"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "modules.json",
	"sentence_bert_config.json", "config_sentence_transformers.json", "model.safetensors", "model.safetensors.index.json",
}

// moduleFile matches files of sentence-transformers module folders (1_Pooling/config.json,
// 0_StaticEmbedding/tokenizer.json, 2_Dense/model.safetensors, ...).
var moduleFile = regexp.MustCompile(`^[0-9]+_[^/]+/[^/]+\.(json|safetensors|txt)$`)

// manifest records a completed snapshot, so that the next call needs no request.
type manifest struct {
	Repo   string   `json:"repo"`
	Commit string   `json:"commit"`
	Files  []string `json:"files"`
}

// Snapshot makes sure the files a sentence-transformers / transformers encoder needs from repoID at
// revision ("" means main) are in the cache, downloading the missing ones, and returns the snapshot folder.
// A revision already resolved and completed by an earlier call is served from the cache without any request
// (so a moving branch such as main is not re-checked: pass a commit or clear the cache to update).
// Files the repository does not have are skipped. Each file is written to a temporary name and renamed,
// and LFS files are checked against their SHA-256.
func (c Client) Snapshot(ctx context.Context, repoID, revision string, report progress.Func) (string, error) {
	return c.snapshot(ctx, modelRepo, repoID, revision, modelFiles, report)
}

// dataExtensions are the data-file formats a dataset snapshot fetches (those package datasets loads).
var dataExtensions = []string{".parquet", ".jsonl", ".json", ".csv", ".tsv"}

// DatasetSnapshot makes sure the data files (parquet, JSONL, JSON, CSV, TSV — not hidden files, READMEs or
// loading scripts) of the Hub dataset repoID at revision are in the cache, in the Hugging Face layout
// (datasets--org--name/snapshots/<commit>/...), and returns the snapshot folder. Caching, offline mode and
// the token behave as in Snapshot.
func (c Client) DatasetSnapshot(ctx context.Context, repoID, revision string, report progress.Func) (string, error) {
	return c.snapshot(ctx, datasetRepo, repoID, revision, dataFiles, report)
}

// modelFiles picks the files an encoder needs from a model repository's file list.
func modelFiles(siblings []string) []string {
	have := map[string]bool{}
	for _, s := range siblings {
		have[s] = true
	}
	var want []string
	for _, f := range rootFiles {
		if have[f] && !(f == "model.safetensors.index.json" && have["model.safetensors"]) {
			want = append(want, f)
		}
	}
	if !have["tokenizer.json"] && have["vocab.txt"] {
		want = append(want, "vocab.txt")
	}
	for _, s := range siblings {
		if moduleFile.MatchString(s) {
			want = append(want, s)
		}
	}
	return want
}

// dataFiles picks the data files from a dataset repository's file list.
func dataFiles(siblings []string) []string {
	var want []string
	for _, s := range siblings {
		if strings.HasPrefix(s, ".") || strings.Contains(s, "/.") {
			continue
		}
		for _, ext := range dataExtensions {
			if strings.HasSuffix(strings.ToLower(s), ext) {
				want = append(want, s)
				break
			}
		}
	}
	return want
}

func (c Client) snapshot(ctx context.Context, k repoKind, repoID, revision string, pick func([]string) []string, report progress.Func) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if _, _, err := ParseID(repoID + "@" + revision); err != nil {
		return "", err
	}
	if c.CacheDir == "" {
		return "", errors.New("hub: Client has no CacheDir (start from hub.FromEnv)")
	}
	repoDir := c.repoFolder(k, repoID)

	// 1. Cached: the revision's commit is known and a manifest says the snapshot is complete.
	commit := ""
	if commitPattern.MatchString(revision) {
		commit = revision
	} else if b, err := os.ReadFile(filepath.Join(repoDir, "refs", filepath.FromSlash(revision))); err == nil {
		commit = strings.TrimSpace(string(b))
	}
	if commit != "" {
		snap := filepath.Join(repoDir, "snapshots", commit)
		if complete(repoDir, commit, snap) {
			return snap, nil
		}
		if c.Offline {
			if st, err := os.Stat(snap); err == nil && st.IsDir() {
				return snap, nil // whatever another tool cached: the best offline answer, as huggingface_hub gives
			}
		}
	}
	if c.Offline {
		return "", fmt.Errorf("hub: %s@%s: %w", repoID, revision, ErrOffline)
	}

	// 2. Ask the Hub for the commit and the file list.
	info, err := c.repoInfo(ctx, k, repoID, revision)
	if err != nil {
		return "", err
	}
	commit = info.SHA
	if !commitPattern.MatchString(commit) {
		return "", fmt.Errorf("hub: %s@%s: the Hub answered an invalid commit %q", repoID, revision, commit)
	}
	snap := filepath.Join(repoDir, "snapshots", commit)
	have := map[string]bool{}
	var names []string
	for _, s := range info.Siblings {
		have[s.RFilename] = true
		names = append(names, s.RFilename)
	}
	want := pick(names)
	if len(want) == 0 && k == datasetRepo {
		return "", fmt.Errorf("hub: dataset %s@%s has no data files (%s)", repoID, revision, strings.Join(dataExtensions, ", "))
	}

	// 3. Download what is not there yet (the shard list comes from the index, so it goes first).
	tr := progress.Start(report, "download "+repoID, len(want), "files")
	var done []string
	fetch := func(name string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(snap, filepath.FromSlash(name))); err == nil {
			done = append(done, name)
			tr.Add(1)
			return nil
		}
		if err := c.download(ctx, k, repoID, commit, name, snap); err != nil {
			return err
		}
		done = append(done, name)
		tr.Add(1)
		return nil
	}
	for _, name := range want {
		if err := fetch(name); err != nil {
			return "", err
		}
		if name != "model.safetensors.index.json" {
			continue
		}
		shards, err := indexShards(filepath.Join(snap, name))
		if err != nil {
			return "", fmt.Errorf("hub: %s: %w", repoID, err)
		}
		tr = progress.Start(report, "download "+repoID, len(want)+len(shards), "files")
		tr.Set(len(done), nil)
		for _, sh := range shards {
			if !have[sh] {
				return "", fmt.Errorf("hub: %s: %s lists shard %s, which the repository does not have", repoID, name, sh)
			}
			if err := fetch(sh); err != nil {
				return "", err
			}
		}
	}
	tr.Finish()

	// 4. Record the revision and the completed snapshot.
	if revision != commit {
		if err := writeAtomic(filepath.Join(repoDir, "refs", filepath.FromSlash(revision)), []byte(commit)); err != nil {
			return "", fmt.Errorf("hub: %s: %w", repoID, err)
		}
	}
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return "", fmt.Errorf("hub: %s: %w", repoID, err)
	}
	sort.Strings(done)
	m, _ := json.Marshal(manifest{Repo: repoID, Commit: commit, Files: done})
	if err := writeAtomic(manifestPath(repoDir, commit), m); err != nil {
		return "", fmt.Errorf("hub: %s: %w", repoID, err)
	}
	return snap, nil
}

func manifestPath(repoDir, commit string) string {
	return filepath.Join(repoDir, ".ragnb", commit+".json")
}

// complete reports whether an earlier Snapshot finished commit and all its files are still there.
func complete(repoDir, commit, snap string) bool {
	b, err := os.ReadFile(manifestPath(repoDir, commit))
	if err != nil {
		return false
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || m.Commit != commit {
		return false
	}
	for _, f := range m.Files {
		if _, err := os.Stat(filepath.Join(snap, filepath.FromSlash(f))); err != nil {
			return false
		}
	}
	return true
}

type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

func (c Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{}
}

// get sends a GET with the token. Redirects to another host (the CDN serving large files) drop the
// Authorization header, as huggingface_hub does; linkedETag returns the X-Linked-Etag (the SHA-256 of an
// LFS file) seen on the Hub's own response, before any redirect.
func (c Client) get(ctx context.Context, u string) (resp *http.Response, linkedETag string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("User-Agent", "ragnb")
	base := c.httpClient()
	cl := *base
	cl.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.Response != nil && linkedETag == "" {
			linkedETag = r.Response.Header.Get("X-Linked-Etag")
		}
		if r.URL.Host != via[0].URL.Host {
			r.Header.Del("Authorization")
		}
		if base.CheckRedirect != nil {
			return base.CheckRedirect(r, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	resp, err = cl.Do(req)
	if err == nil && linkedETag == "" {
		linkedETag = resp.Header.Get("X-Linked-Etag")
	}
	return resp, linkedETag, err
}

func (c Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

// repoInfo asks GET /api/{models|datasets}/{repo}/revision/{revision} for the commit and the file list.
func (c Client) repoInfo(ctx context.Context, k repoKind, repoID, revision string) (*repoInfo, error) {
	u := c.endpoint() + k.api + repoID + "/revision/" + url.PathEscape(revision)
	resp, _, err := c.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("hub: %s: file list: %w", repoID, redact(err, c.Token))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Repo: repoID, What: "file list of revision " + revision, Status: resp.StatusCode, Message: resp.Header.Get("X-Error-Message")}
	}
	var info repoInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&info); err != nil {
		return nil, fmt.Errorf("hub: %s: file list: %w", repoID, err)
	}
	return &info, nil
}

// download fetches /[datasets/]{repo}/resolve/{commit}/{name} into snap/name through a temporary file.
func (c Client) download(ctx context.Context, k repoKind, repoID, commit, name, snap string) error {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := c.endpoint() + k.resolve + repoID + "/resolve/" + commit + "/" + strings.Join(segs, "/")
	resp, wantSHA, err := c.get(ctx, u)
	if err != nil {
		return fmt.Errorf("hub: %s: download %s: %w", repoID, name, redact(err, c.Token))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{Repo: repoID, What: "download " + name, Status: resp.StatusCode, Message: resp.Header.Get("X-Error-Message")}
	}
	dst := filepath.Join(snap, filepath.FromSlash(path.Clean(name)))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("hub: %s: %w", repoID, err)
	}
	// LFS files (weights) carry their SHA-256 as X-Linked-Etag: check it.
	wantSHA = strings.Trim(strings.TrimPrefix(wantSHA, "W/"), `"`)
	var h hash.Hash
	if len(wantSHA) == 64 && isHex(wantSHA) {
		h = sha256.New()
	}
	err = atomicfile.Write(dst, func(f *os.File) error {
		var w io.Writer = f
		if h != nil {
			w = io.MultiWriter(f, h)
		}
		n, err := io.Copy(w, resp.Body)
		if err != nil {
			return err
		}
		if resp.ContentLength >= 0 && n != resp.ContentLength {
			return fmt.Errorf("got %d bytes, expected %d", n, resp.ContentLength)
		}
		if h != nil {
			if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(wantSHA) {
				return fmt.Errorf("SHA-256 %s does not match the Hub's %s", got, wantSHA)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: %s: download %s: %w", repoID, name, redact(err, c.Token))
	}
	return nil
}

// indexShards lists the shard files of a model.safetensors.index.json.
func indexShards(p string) ([]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("parse %s: %w", p, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range idx.WeightMap {
		if !seen[f] {
			if strings.Contains(f, "..") || strings.HasPrefix(f, "/") {
				return nil, fmt.Errorf("%s: bad shard name %q", p, f)
			}
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// writeAtomic writes data to p atomically, creating its folder.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(p, data)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// redact removes the token from an error's text (a URL error never contains headers, but be sure).
func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "***"))
}
