// Package hub resolves a model name to a local directory: an existing directory is used as it is, and a
// Hugging Face Hub id ("org/name" or "org/name@revision") is downloaded into the Hugging Face cache layout
// (models--org--name/snapshots/<commit>/..., refs/<revision>), which the Python libraries read as well.
// Only the files a sentence-transformers or transformers encoder needs are fetched (configs, safetensors
// weights — sharded or not —, tokenizer files, the sentence-transformers module folders), with the
// endpoint, token, cache folder and offline switch taken from the usual HF_* environment variables.
//
// It also publishes: UploadFolder speaks the Hub's upload API (create, preupload, LFS batch, NDJSON commit;
// see upload.go). It owns downloading, caching and uploading; it does not parse models or tokenizers. The token is sent only in the
// Authorization header to the endpoint (Go's HTTP client drops it on redirects to other hosts, such as
// the CDN serving large files) and is never written to disk or put in an error.
package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ragnb/ragnb/progress"
)

// DefaultEndpoint is the public Hugging Face Hub.
const DefaultEndpoint = "https://huggingface.co"

// Client downloads from a Hub endpoint into a cache folder. The zero value is not usable: start from FromEnv.
type Client struct {
	// Endpoint is the Hub's base URL, e.g. https://huggingface.co or a mirror.
	Endpoint string
	// Token is a Hugging Face access token for private and gated repositories; "" for none.
	Token string
	// CacheDir is the Hugging Face hub cache folder (the one holding models--org--name folders).
	CacheDir string
	// Offline forbids any request: only what is already cached can be resolved.
	Offline bool
	// HTTP is the client used for requests; nil means a plain http.Client.
	HTTP *http.Client
}

// FromEnv configures a Client the way huggingface_hub does: HF_ENDPOINT (default https://huggingface.co),
// HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the token file; see TokenFromEnv), HF_HUB_CACHE (or HF_HOME/hub, or $XDG_CACHE_HOME/huggingface/hub,
// or ~/.cache/huggingface/hub) and HF_HUB_OFFLINE (1, true, yes or on).
func FromEnv() Client {
	c := Client{Endpoint: DefaultEndpoint}
	if e := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"); e != "" {
		c.Endpoint = e
	}
	c.Token = TokenFromEnv()
	c.CacheDir = DefaultCacheDir()
	switch strings.ToLower(os.Getenv("HF_HUB_OFFLINE")) {
	case "1", "true", "yes", "on":
		c.Offline = true
	}
	return c
}

// DefaultCacheDir is the Hugging Face hub cache folder named by the environment.
func DefaultCacheDir() string {
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	if h := os.Getenv("HF_HOME"); h != "" {
		return filepath.Join(h, "hub")
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "huggingface", "hub")
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

var (
	repoIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$`)
	commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// ParseID splits "org/name@revision" into the repository id and the revision ("main" when absent). It
// fails for strings that cannot be Hub ids.
func ParseID(s string) (repoID, revision string, err error) {
	repoID, revision = s, "main"
	if i := strings.IndexByte(s, '@'); i >= 0 {
		repoID, revision = s[:i], s[i+1:]
	}
	if !repoIDPattern.MatchString(repoID) || strings.Contains(repoID, "--") || strings.Contains(repoID, "..") {
		return "", "", fmt.Errorf("hub: %q is not a Hub id (org/name or org/name@revision)", s)
	}
	if revision == "" || strings.Contains(revision, "..") || strings.HasPrefix(revision, "/") {
		return "", "", fmt.Errorf("hub: %q has an invalid revision %q", s, revision)
	}
	return repoID, revision, nil
}

// Resolve returns a local model directory for nameOrDir: the directory itself when it exists, otherwise the
// snapshot of the Hub id "org/name[@revision]" (downloaded unless already cached).
func Resolve(ctx context.Context, nameOrDir string, c Client, report progress.Func) (string, error) {
	if st, err := os.Stat(nameOrDir); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("hub: %s is a file, not a model directory", nameOrDir)
		}
		return nameOrDir, nil
	}
	if looksLikePath(nameOrDir) {
		return "", fmt.Errorf("hub: model directory %s does not exist", nameOrDir)
	}
	repoID, rev, err := ParseID(nameOrDir)
	if err != nil {
		return "", fmt.Errorf("hub: %q is neither an existing directory nor a Hub model id", nameOrDir)
	}
	dir, err := c.Snapshot(ctx, repoID, rev, report)
	if err != nil {
		return "", fmt.Errorf("%w (and there is no local directory %s)", err, nameOrDir)
	}
	return dir, nil
}

func looksLikePath(s string) bool {
	return s == "" || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") ||
		strings.HasSuffix(s, "/") || strings.Count(s, "/") > 1 || (filepath.Separator != '/' && strings.ContainsRune(s, filepath.Separator))
}

// repoKind is a Hub repository type: where its cache folder and URLs live.
type repoKind struct {
	folder  string // cache folder prefix: models--org--name, datasets--org--name
	api     string // file-list API path prefix
	resolve string // file download path prefix
}

var (
	modelRepo   = repoKind{folder: "models--", api: "/api/models/", resolve: "/"}
	datasetRepo = repoKind{folder: "datasets--", api: "/api/datasets/", resolve: "/datasets/"}
)

// repoFolder is the cache folder of a repository: models--org--name or datasets--org--name.
func (c Client) repoFolder(k repoKind, repoID string) string {
	return filepath.Join(c.CacheDir, k.folder+strings.ReplaceAll(repoID, "/", "--"))
}

// HTTPError is a response from the Hub other than 200.
type HTTPError struct {
	Repo, What string // repository and what was asked (a file, "file list")
	Status     int
	Message    string // the Hub's X-Error-Message, if any
	// Write marks a failed upload request, whose 401 and 403 mean a token without write access.
	Write bool
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("hub: %s: %s: HTTP %d %s", e.Repo, e.What, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch {
	case e.Write && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden):
		msg += " (set HF_TOKEN to a token with write access to " + e.Repo + ")"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		msg += " (private or gated repository: set HF_TOKEN to a token with access)"
	case e.Status == http.StatusNotFound:
		msg += " (no such repository, revision or file)"
	}
	return msg
}

// ErrOffline is returned (wrapped) when a download is needed while Offline is set.
var ErrOffline = errors.New("offline (HF_HUB_OFFLINE) and not in the cache")
