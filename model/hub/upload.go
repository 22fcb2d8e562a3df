package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ragnb/ragnb/internal/retry"
	"github.com/ragnb/ragnb/progress"
)

// Uploading speaks the Hub's HTTP upload API the way huggingface_hub's upload_folder does:
//
//  1. POST /api/repos/create — a repository that already exists (409) is fine; for a revision other than main,
//     POST /api/{type}s/{repo}/branch/{revision} makes it a branch (409: it is one already);
//  2. POST /api/{type}s/{repo}/preupload/{revision} with each file's path, size and first 512 bytes: the Hub
//     answers which files go through LFS, which to ignore, and the oid of the file it already has there;
//  3. POST {repo}.git/info/lfs/objects/batch (basic transfer, sha256 oids): objects the Hub already stores come
//     back without actions and are not sent again — this is what makes a re-run after an interrupted push
//     resume instead of starting over; the others are PUT to the href given, then verified when asked;
//  4. POST /api/{type}s/{repo}/commit/{revision} with NDJSON lines: a header (summary, description), a file
//     line (base64) per regular file and an lfsFile line (sha256 oid, size) per LFS file. Files whose remote
//     oid equals the local one are left out; with nothing left, no commit is made.
//
// Every request is retried on 429 and 5xx answers and dropped connections, waiting as long as Retry-After
// says. The token goes only to the endpoint's host, in the Authorization header, and never into an error.

// Repository types.
const (
	ModelRepo   = "model"
	DatasetRepo = "dataset"
)

// UploadOptions configure UploadFolder.
type UploadOptions struct {
	// Type is ModelRepo (default) or DatasetRepo.
	Type string
	// Private creates the repository private (an existing repository keeps its visibility).
	Private bool
	// Revision is the branch to commit to (default main).
	Revision string
	// CommitMessage is the commit's summary (default "Upload folder using ragnb"); CommitDescription its body.
	CommitMessage, CommitDescription string
	// Retry is the retry policy (zero value: 5 retries with backoff, Retry-After honoured).
	Retry retry.Policy
	// Progress receives the LFS upload's progress in bytes (stage "push").
	Progress progress.Func
	// Files are uploaded besides the folder's, by repository path; one with the path of a folder's file is
	// sent instead of it (a model card edited for publishing), leaving the folder as it is.
	Files map[string][]byte
}

// UploadResult is what UploadFolder did.
type UploadResult struct {
	// URL is the repository's page; Commit the commit made ("" when nothing changed) and CommitURL its page.
	URL, Commit, CommitURL string
	// Committed are the files the commit added or changed; Unchanged those the Hub already had as they are.
	Committed, Unchanged []string
	// Uploaded are the LFS files sent; Present those whose content the Hub already stored (not sent).
	Uploaded, Present []string
	// Bytes is the number of LFS bytes sent.
	Bytes int64
}

// localFile is a file to upload with what the protocol asks about it.
type localFile struct {
	path   string // path in the repository (slash-separated)
	abs    string // the local file ("" when data holds the content)
	data   []byte
	size   int64
	sample []byte // the first 512 bytes
	sha256 string // hex
	gitSHA string // git blob SHA-1, hex (what the Hub reports for regular files)
	mode   string // "lfs" or "regular", from preupload
	remote string // the oid the Hub has at this path ("" if none)
}

// UploadFolder uploads every file under dir (hidden files and folders excluded; "" for none) and o.Files to
// the Hub repository repoID ("org/name"), creating the repository when needed, in one commit.
func (c Client) UploadFolder(ctx context.Context, repoID, dir string, o UploadOptions) (*UploadResult, error) {
	if o.Type == "" {
		o.Type = ModelRepo
	}
	if o.Type != ModelRepo && o.Type != DatasetRepo {
		return nil, fmt.Errorf("hub: repository type %q (want model or dataset)", o.Type)
	}
	if o.Revision == "" {
		o.Revision = "main"
	}
	if o.CommitMessage == "" {
		o.CommitMessage = "Upload folder using ragnb"
	}
	if _, _, err := ParseID(repoID + "@" + o.Revision); err != nil || !strings.Contains(repoID, "/") {
		return nil, fmt.Errorf("hub: %q is not a repository id of the form org/name", repoID)
	}
	if c.Offline {
		return nil, fmt.Errorf("hub: push %s: offline (HF_HUB_OFFLINE is set)", repoID)
	}
	if c.Token == "" {
		return nil, fmt.Errorf("hub: push %s: no token (set HF_TOKEN, or log in with `hf auth login`, which writes the token file)", repoID)
	}
	files, err := scanFolder(dir, o.Files)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("hub: push %s: %s has no files", repoID, dir)
	}
	u := uploader{c: c, repo: repoID, o: o}
	res := &UploadResult{}
	if res.URL, err = u.createRepo(ctx); err != nil {
		return nil, err
	}
	if o.Revision != "main" {
		if err := u.createBranch(ctx); err != nil {
			return nil, err
		}
	}
	if err := u.preupload(ctx, files); err != nil {
		return nil, err
	}
	var commit, lfs []*localFile
	for _, f := range files {
		switch {
		case f.mode == "ignore":
		case f.remote != "" && (f.remote == f.sha256 || f.remote == f.gitSHA):
			res.Unchanged = append(res.Unchanged, f.path)
		default:
			commit = append(commit, f)
			if f.mode == "lfs" {
				lfs = append(lfs, f)
			}
		}
	}
	if err := u.uploadLFS(ctx, lfs, res); err != nil {
		return nil, err
	}
	if len(commit) == 0 {
		return res, nil
	}
	if err := u.commit(ctx, commit, res); err != nil {
		return nil, err
	}
	return res, nil
}

// scanFolder lists and hashes the files under dir and the extra ones, sorted by path.
func scanFolder(dir string, extra map[string][]byte) ([]*localFile, error) {
	var files []*localFile
	for p, b := range extra {
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") || strings.Contains(p, "\\") {
			return nil, fmt.Errorf("hub: push: %q is not a repository path", p)
		}
		f, err := hashReader(bytes.NewReader(b), int64(len(b)), p)
		if err != nil {
			return nil, err
		}
		f.path, f.data = p, b
		files = append(files, f)
	}
	if dir == "" {
		return files, nil
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, replaced := extra[filepath.ToSlash(rel)]; replaced {
			return nil
		}
		f, err := hashFile(p)
		if err != nil {
			return err
		}
		f.path = filepath.ToSlash(rel)
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hub: push %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

func hashFile(p string) (*localFile, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	f, err := hashReader(fh, st.Size(), p)
	if err != nil {
		return nil, err
	}
	f.abs = p
	return f, nil
}

// hashReader reads size bytes for their sha256, git blob SHA-1 and first 512 bytes.
func hashReader(r io.Reader, size int64, name string) (*localFile, error) {
	sh, gh := sha256.New(), sha1.New()
	fmt.Fprintf(gh, "blob %d\x00", size)
	sample := &limitedBuffer{max: 512}
	n, err := io.Copy(io.MultiWriter(sh, gh, sample), r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if n != size {
		return nil, fmt.Errorf("read %s: size changed while reading (%d of %d bytes)", name, n, size)
	}
	return &localFile{size: n, sample: sample.b, sha256: hex.EncodeToString(sh.Sum(nil)), gitSHA: hex.EncodeToString(gh.Sum(nil))}, nil
}

// open returns the file's content for sending.
func (f *localFile) open() (io.ReadCloser, error) {
	if f.abs == "" {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.abs)
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// uploader is one push: the client, the repository and the options.
type uploader struct {
	c    Client
	repo string
	o    UploadOptions
}

func (u uploader) apiPrefix() string { return u.c.Endpoint + "/api/" + u.o.Type + "s/" + u.repo }

// gitPrefix is where the repository's git endpoints live: /{repo}.git for models, /datasets/{repo}.git.
func (u uploader) gitPrefix() string {
	if u.o.Type == DatasetRepo {
		return u.c.Endpoint + "/datasets/" + u.repo + ".git"
	}
	return u.c.Endpoint + "/" + u.repo + ".git"
}

func (u uploader) createRepo(ctx context.Context) (string, error) {
	org, name, _ := strings.Cut(u.repo, "/")
	body := map[string]any{"name": name, "organization": org, "private": u.o.Private}
	if u.o.Type != ModelRepo {
		body["type"] = u.o.Type
	}
	var out struct {
		URL string `json:"url"`
	}
	status, err := u.do(ctx, "create repository", http.MethodPost, u.c.Endpoint+"/api/repos/create", "application/json", jsonBody(body), &out, http.StatusConflict)
	if err != nil {
		return "", err
	}
	if status == http.StatusConflict || out.URL == "" {
		prefix := u.c.Endpoint + "/"
		if u.o.Type == DatasetRepo {
			prefix += "datasets/"
		}
		return prefix + u.repo, nil
	}
	return out.URL, nil
}

// createBranch makes the revision a branch from main (huggingface_hub's create_branch; one that exists, 409, is
// fine), since the Hub commits only to existing branches.
func (u uploader) createBranch(ctx context.Context) error {
	_, err := u.do(ctx, "create branch "+u.o.Revision, http.MethodPost, u.apiPrefix()+"/branch/"+url.PathEscape(u.o.Revision), "application/json", []byte("{}"), nil, http.StatusConflict)
	return err
}

// preuploadChunk is how many files one preupload request carries (huggingface_hub's chunk).
const preuploadChunk = 256

func (u uploader) preupload(ctx context.Context, files []*localFile) error {
	byPath := map[string]*localFile{}
	for _, f := range files {
		byPath[f.path] = f
	}
	for start := 0; start < len(files); start += preuploadChunk {
		chunk := files[start:min(start+preuploadChunk, len(files))]
		type entry struct {
			Path   string `json:"path"`
			Sample string `json:"sample"`
			Size   int64  `json:"size"`
		}
		req := struct {
			Files []entry `json:"files"`
		}{}
		for _, f := range chunk {
			req.Files = append(req.Files, entry{Path: f.path, Sample: base64.StdEncoding.EncodeToString(f.sample), Size: f.size})
		}
		var resp struct {
			Files []struct {
				Path         string `json:"path"`
				UploadMode   string `json:"uploadMode"`
				ShouldIgnore bool   `json:"shouldIgnore"`
				OID          string `json:"oid"`
			} `json:"files"`
		}
		u2 := u.apiPrefix() + "/preupload/" + url.PathEscape(u.o.Revision)
		if _, err := u.do(ctx, "preupload", http.MethodPost, u2, "application/json", jsonBody(req), &resp); err != nil {
			return err
		}
		for _, r := range resp.Files {
			f := byPath[r.Path]
			if f == nil {
				continue
			}
			switch {
			case r.ShouldIgnore:
				f.mode = "ignore"
			case r.UploadMode == "lfs" || r.UploadMode == "regular":
				f.mode = r.UploadMode
			default:
				return fmt.Errorf("hub: %s: preupload: unknown upload mode %q for %s", u.repo, r.UploadMode, r.Path)
			}
			f.remote = r.OID
		}
		for _, f := range chunk {
			if f.mode == "" {
				return fmt.Errorf("hub: %s: preupload: the Hub said nothing about %s", u.repo, f.path)
			}
		}
	}
	return nil
}

// lfsAction is one action of an LFS batch answer.
type lfsAction struct {
	Href   string            `json:"href"`
	Header map[string]string `json:"header"`
}

func (u uploader) uploadLFS(ctx context.Context, files []*localFile, res *UploadResult) error {
	var total int64
	for _, f := range files {
		total += f.size
	}
	tr := progress.Start(u.o.Progress, "push "+u.repo, int(total), "bytes")
	for start := 0; start < len(files); start += preuploadChunk {
		chunk := files[start:min(start+preuploadChunk, len(files))]
		type object struct {
			OID  string `json:"oid"`
			Size int64  `json:"size"`
		}
		req := map[string]any{"operation": "upload", "transfers": []string{"basic"}, "hash_algo": "sha256",
			"ref": map[string]string{"name": u.o.Revision}}
		var objs []object
		bySHA := map[string]*localFile{}
		for _, f := range chunk {
			if bySHA[f.sha256] == nil {
				objs = append(objs, object{OID: f.sha256, Size: f.size})
			}
			bySHA[f.sha256] = f
		}
		req["objects"] = objs
		var resp struct {
			Transfer string `json:"transfer"`
			Objects  []struct {
				OID     string               `json:"oid"`
				Size    int64                `json:"size"`
				Actions map[string]lfsAction `json:"actions"`
				Error   *struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			} `json:"objects"`
		}
		if _, err := u.do(ctx, "LFS batch", http.MethodPost, u.gitPrefix()+"/info/lfs/objects/batch", "application/vnd.git-lfs+json", jsonBody(req), &resp); err != nil {
			return err
		}
		if resp.Transfer != "" && resp.Transfer != "basic" {
			return fmt.Errorf("hub: %s: LFS batch: the Hub chose transfer %q; ragnb speaks basic", u.repo, resp.Transfer)
		}
		for _, ob := range resp.Objects {
			f := bySHA[ob.OID]
			if f == nil {
				return fmt.Errorf("hub: %s: LFS batch answered an object it was not asked about (%s)", u.repo, ob.OID)
			}
			if ob.Error != nil {
				return fmt.Errorf("hub: %s: LFS batch: %s: %d %s", u.repo, f.path, ob.Error.Code, u.redact(ob.Error.Message))
			}
			up, ok := ob.Actions["upload"]
			if !ok {
				res.Present = append(res.Present, f.path)
				tr.Add(int(f.size))
				continue
			}
			if _, chunked := up.Header["chunk_size"]; chunked {
				return fmt.Errorf("hub: %s: %s: the Hub asked for a multipart upload, which ragnb does not speak", u.repo, f.path)
			}
			if err := u.put(ctx, f, up); err != nil {
				return err
			}
			if v, ok := ob.Actions["verify"]; ok {
				if err := u.verify(ctx, f, v); err != nil {
					return err
				}
			}
			res.Uploaded = append(res.Uploaded, f.path)
			res.Bytes += f.size
			tr.Add(int(f.size))
		}
	}
	tr.Finish()
	return nil
}

// put sends a file's bytes to the storage URL of an upload action, with only the headers the action gives
// (the URL is presigned: no token goes to storage).
func (u uploader) put(ctx context.Context, f *localFile, a lfsAction) error {
	what := "upload " + f.path
	return u.retrying(ctx, func() error {
		fh, err := f.open()
		if err != nil {
			return err
		}
		defer fh.Close()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, a.Href, fh)
		if err != nil {
			return fmt.Errorf("hub: %s: %s: %w", u.repo, what, err)
		}
		req.ContentLength = f.size
		for k, v := range a.Header {
			req.Header.Set(k, v)
		}
		return u.send(req, what, nil)
	})
}

func (u uploader) verify(ctx context.Context, f *localFile, a lfsAction) error {
	body := jsonBody(map[string]any{"oid": f.sha256, "size": f.size})
	what := "verify " + f.path
	return u.retrying(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Href, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("hub: %s: %s: %w", u.repo, what, err)
		}
		req.Header.Set("Content-Type", "application/vnd.git-lfs+json")
		req.Header.Set("Accept", "application/vnd.git-lfs+json")
		for k, v := range a.Header {
			req.Header.Set(k, v)
		}
		u.authorize(req)
		return u.send(req, what, nil)
	})
}

func (u uploader) commit(ctx context.Context, files []*localFile, res *UploadResult) error {
	var b bytes.Buffer
	line := func(key string, value any) {
		buf, _ := json.Marshal(map[string]any{"key": key, "value": value})
		b.Write(buf)
		b.WriteByte('\n')
	}
	header := map[string]any{"summary": u.o.CommitMessage, "description": u.o.CommitDescription}
	line("header", header)
	for _, f := range files {
		if f.mode == "lfs" {
			line("lfsFile", map[string]any{"path": f.path, "algo": "sha256", "oid": f.sha256, "size": f.size})
			continue
		}
		data := f.data
		if f.abs != "" {
			var err error
			if data, err = os.ReadFile(f.abs); err != nil {
				return fmt.Errorf("hub: push %s: %w", u.repo, err)
			}
		}
		line("file", map[string]any{"path": f.path, "encoding": "base64", "content": base64.StdEncoding.EncodeToString(data)})
	}
	var out struct {
		CommitOID string `json:"commitOid"`
		CommitURL string `json:"commitUrl"`
	}
	if _, err := u.do(ctx, "commit", http.MethodPost, u.apiPrefix()+"/commit/"+url.PathEscape(u.o.Revision), "application/x-ndjson", b.Bytes(), &out); err != nil {
		return err
	}
	res.Commit, res.CommitURL = out.CommitOID, out.CommitURL
	for _, f := range files {
		res.Committed = append(res.Committed, f.path)
	}
	return nil
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// authorize adds the token to requests for the endpoint's own host only.
func (u uploader) authorize(req *http.Request) {
	ep, err := url.Parse(u.c.Endpoint)
	if err != nil || ep.Host != req.URL.Host || req.Header.Get("Authorization") != "" {
		return
	}
	req.Header.Set("Authorization", "Bearer "+u.c.Token)
}

// do sends a request with a body to the endpoint (retrying), decodes a 200 answer's JSON into out (nil: none)
// and returns the status; the statuses in ok are accepted too (with nothing decoded).
func (u uploader) do(ctx context.Context, what, method, target, contentType string, body []byte, out any, ok ...int) (int, error) {
	status := 0
	err := u.retrying(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("hub: %s: %s: %w", u.repo, what, err)
		}
		req.Header.Set("Content-Type", contentType)
		if strings.Contains(contentType, "git-lfs") {
			req.Header.Set("Accept", contentType)
		}
		u.authorize(req)
		status, err = u.sendStatus(req, what, out, ok)
		return err
	})
	return status, err
}

func (u uploader) retrying(ctx context.Context, fn func() error) error {
	return u.o.Retry.Do(ctx, func(int) error { return fn() }, nil)
}

func (u uploader) send(req *http.Request, what string, out any) error {
	_, err := u.sendStatus(req, what, out, nil)
	return err
}

// sendStatus sends req once and sorts the outcome: 2xx (and the ok statuses) succeed, 429 and 5xx and
// dropped connections are transient (with the server's Retry-After), anything else is an HTTPError.
func (u uploader) sendStatus(req *http.Request, what string, out any, ok []int) (int, error) {
	hc := u.c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return 0, req.Context().Err()
		}
		// The error names the URL, which carries no token; it is retried as a dropped connection.
		return 0, retry.Transient(fmt.Errorf("hub: %s: %s: %w", u.repo, what, stripURL(err)))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, retry.Transient(fmt.Errorf("hub: %s: %s: reading the answer: %w", u.repo, what, err))
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return s, nil
		}
	}
	if resp.StatusCode/100 == 2 {
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return resp.StatusCode, fmt.Errorf("hub: %s: %s: the Hub's answer is not the expected JSON: %w", u.repo, what, err)
			}
		}
		return resp.StatusCode, nil
	}
	herr := &HTTPError{Repo: u.repo, What: what, Status: resp.StatusCode, Message: u.redact(errorMessage(resp, data)), Write: true}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5 {
		if d, ok := retry.After(resp.Header, time.Now()); ok {
			return resp.StatusCode, retry.TransientAfter(herr, d)
		}
		return resp.StatusCode, retry.Transient(herr)
	}
	return resp.StatusCode, herr
}

// errorMessage is the Hub's explanation of a failure: X-Error-Message, else the JSON body's "error".
func errorMessage(resp *http.Response, body []byte) string {
	if m := resp.Header.Get("X-Error-Message"); m != "" {
		return m
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return ""
}

// redact removes the token from text the server sent back, should it echo it.
func (u uploader) redact(s string) string {
	if u.c.Token == "" {
		return s
	}
	return strings.ReplaceAll(s, u.c.Token, "[token]")
}

// stripURL reduces a *url.Error to its operation and cause: a presigned storage URL's query is a
// credential too, and has no place in an error message.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, hostOf(ue.URL), ue.Err)
	}
	return err
}

func hostOf(raw string) string {
	p, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	return p.Scheme + "://" + p.Host + path.Clean("/"+p.Path)
}

// TokenFromEnv finds the Hugging Face token the way huggingface_hub does: HF_TOKEN, then the deprecated
// HUGGING_FACE_HUB_TOKEN, then the token file `hf auth login` writes (HF_TOKEN_PATH, else $HF_HOME/token,
// else ~/.cache/huggingface/token). "" when there is none.
func TokenFromEnv() string {
	for _, v := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := strings.TrimSpace(os.Getenv(v)); t != "" {
			return t
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		home := os.Getenv("HF_HOME")
		if home == "" {
			if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
				home = filepath.Join(x, "huggingface")
			} else if h, err := os.UserHomeDir(); err == nil {
				home = filepath.Join(h, ".cache", "huggingface")
			}
		}
		if home == "" {
			return ""
		}
		p = filepath.Join(home, "token")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
