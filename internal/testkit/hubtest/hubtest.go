// Package hubtest is an in-process Hugging Face Hub that implements the upload API the official clients speak
// (huggingface_hub, @huggingface/hub): repository creation, preupload, the git LFS batch API with basic
// transfer (presigned-style PUT and verify), and the NDJSON commit. It stores what it receives in memory so
// tests can check every byte, records each request, and injects the failures a real Hub produces: a 401 for a
// bad token, a 429 or 5xx with Retry-After, and an LFS upload cut off mid-body.
//
// It is kept faithful by a test that drives it with @huggingface/hub (tools/hubclient); it is a test helper
// and imports nothing of ragnb.
package hubtest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Server is the fake Hub. Start one with New; its URL is the endpoint (HF_ENDPOINT, hubUrl).
type Server struct {
	*httptest.Server
	// Token is the one valid token; requests to the API without "Bearer <Token>" get 401.
	Token string

	mu       sync.Mutex
	repos    map[string]*Repo
	objects  map[string][]byte
	puts     map[string]int
	requests []Request
	faults   []*fault
	cuts     map[string]int
	commits  int
}

// Repo is a repository as the server holds it.
type Repo struct {
	Type, ID string
	Private  bool
	// Files maps each branch (main from the start) to its files' content at its head.
	Files map[string]map[string]File
	// Commits are the commit summaries, oldest first.
	Commits []string
}

// File is a committed file.
type File struct {
	Data []byte
	LFS  bool
}

// Request is one request the server answered.
type Request struct {
	Method, Path string
	// Authorization is the header as sent ("" when none).
	Authorization string
	Status        int
}

type fault struct {
	method, suffix string
	status         int
	retryAfter     string
	times          int
}

// New starts a server that accepts token.
func New(token string) *Server {
	s := &Server{Token: token, repos: map[string]*Repo{}, objects: map[string][]byte{}, puts: map[string]int{}, cuts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// FailNext makes the next times requests whose path ends with suffix (and method matches) fail with status,
// sending Retry-After when retryAfter is not "".
func (s *Server) FailNext(method, suffix string, status int, retryAfter string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, suffix: suffix, status: status, retryAfter: retryAfter, times: times})
}

// CutUpload makes the next times uploads of the LFS object oid stop after half of its bytes: the server closes
// the connection, as a dropped network would.
func (s *Server) CutUpload(oid string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts[oid] = times
}

// Repo returns a copy of the repository's state ("model" or "dataset" type), or nil.
func (s *Server) Repo(typ, id string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[typ+":"+id]
	if r == nil {
		return nil
	}
	c := *r
	c.Files = map[string]map[string]File{}
	for rev, fs := range r.Files {
		c.Files[rev] = map[string]File{}
		for p, f := range fs {
			c.Files[rev][p] = f
		}
	}
	c.Commits = append([]string(nil), r.Commits...)
	return &c
}

// Puts is how many complete uploads of the LFS object oid the server received.
func (s *Server) Puts(oid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts[oid]
}

// Requests are the requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// recorder captures the status written, for the request log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

var (
	apiRepo  = regexp.MustCompile(`^/api/(models|datasets)/([^/]+/[^/]+)/(preupload|commit|branch)/(.+)$`)
	lfsBatch = regexp.MustCompile(`^/(datasets/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch$`)
	storage  = regexp.MustCompile(`^/lfs-storage/([0-9a-f]{64})$`)
	verify   = regexp.MustCompile(`^/lfs-verify/([0-9a-f]{64})$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Status: rec.status})
		s.mu.Unlock()
	}()
	if s.injected(rec, r) {
		return
	}
	p := r.URL.Path
	if m := storage.FindStringSubmatch(p); m != nil && r.Method == http.MethodPut {
		s.store(rec, w, r, m[1]) // storage is presigned: no token
		return
	}
	if !s.authorized(rec, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && p == "/api/repos/create":
		s.create(rec, r)
	case r.Method == http.MethodPost && apiRepo.MatchString(p):
		m := apiRepo.FindStringSubmatch(p)
		repo := s.repo(strings.TrimSuffix(m[1], "s"), m[2])
		if repo == nil {
			hubError(rec, http.StatusNotFound, "Repository not found")
			return
		}
		rev, err := url.PathUnescape(m[4])
		if err != nil {
			hubError(rec, http.StatusBadRequest, "invalid revision")
			return
		}
		switch {
		case m[3] == "branch":
			s.branch(rec, repo, rev)
		case !s.hasBranch(repo, rev):
			hubError(rec, http.StatusNotFound, "Invalid rev id: "+rev)
		case m[3] == "preupload":
			s.preupload(rec, r, repo, rev)
		default:
			s.commit(rec, r, repo, rev)
		}
	case r.Method == http.MethodPost && lfsBatch.MatchString(p):
		m := lfsBatch.FindStringSubmatch(p)
		typ := "model"
		if m[1] != "" {
			typ = "dataset"
		}
		if s.repo(typ, m[2]) == nil {
			hubError(rec, http.StatusNotFound, "Repository not found")
			return
		}
		s.batch(rec, r)
	case r.Method == http.MethodPost && verify.MatchString(p):
		s.verify(rec, r, verify.FindStringSubmatch(p)[1])
	default:
		hubError(rec, http.StatusNotFound, "no route for "+r.Method+" "+p)
	}
}

func hubError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) injected(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.times > 0 && (f.method == "" || f.method == r.Method) && strings.HasSuffix(r.URL.Path, f.suffix) {
			f.times--
			io.Copy(io.Discard, r.Body)
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			msg := http.StatusText(f.status)
			w.Header().Set("X-Error-Message", msg)
			w.WriteHeader(f.status)
			fmt.Fprintf(w, `{"error":%q}`, msg)
			return true
		}
	}
	return false
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "Bearer "+s.Token && s.Token != "" {
		return true
	}
	hubError(w, http.StatusUnauthorized, "Invalid credentials in Authorization header")
	return false
}

func (s *Server) repo(typ, id string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[typ+":"+id]
}

func (s *Server) repoURL(typ, id string) string {
	if typ == "dataset" {
		return s.URL + "/datasets/" + id
	}
	return s.URL + "/" + id
}

// create is POST /api/repos/create: {name, organization, private | visibility, type}.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name, Organization, Type, Visibility string
		Private                              *bool
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" {
		hubError(w, http.StatusBadRequest, "invalid body: want name and organization")
		return
	}
	id := body.Name
	if body.Organization != "" && !strings.Contains(id, "/") {
		id = body.Organization + "/" + body.Name
	}
	typ := body.Type
	if typ == "" {
		typ = "model"
	}
	if typ != "model" && typ != "dataset" {
		hubError(w, http.StatusBadRequest, "unsupported repository type "+typ)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := typ + ":" + id
	if s.repos[key] != nil {
		w.Header().Set("X-Error-Message", "You already created this "+typ+" repo")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]string{"error": "You already created this " + typ + " repo", "url": s.repoURL(typ, id)})
		return
	}
	private := body.Visibility == "private" || (body.Private != nil && *body.Private)
	s.repos[key] = &Repo{Type: typ, ID: id, Private: private, Files: map[string]map[string]File{"main": {}}}
	writeJSON(w, map[string]string{"url": s.repoURL(typ, id), "name": id, "id": id})
}

func (s *Server) hasBranch(repo *Repo, rev string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := repo.Files[rev]
	return ok
}

// branch is POST /api/{type}s/{repo}/branch/{name}: a new branch at main's head; 409 when it exists.
func (s *Server) branch(w http.ResponseWriter, repo *Repo, rev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := repo.Files[rev]; ok {
		hubError(w, http.StatusConflict, "Reference already exists")
		return
	}
	files := map[string]File{}
	for p, f := range repo.Files["main"] {
		files[p] = f
	}
	repo.Files[rev] = files
	writeJSON(w, map[string]bool{"success": true})
}

// lfsPatterns are the Hub's default .gitattributes LFS patterns.
var lfsPatterns = []string{"*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.mlmodel",
	"*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth",
	"*.rar", "*.safetensors", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst"}

// IsLFS says how the Hub stores a file: LFS for the default .gitattributes patterns, files of 10 MiB or more
// and binary files (a NUL byte in the first 512 bytes).
func IsLFS(p string, size int64, sample []byte) bool {
	for _, pat := range lfsPatterns {
		if ok, _ := path.Match(pat, path.Base(p)); ok {
			return true
		}
	}
	return size >= 10<<20 || bytes.IndexByte(sample, 0) >= 0
}

func gitSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func sha(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// preupload answers each file's uploadMode, and the oid of the file the revision already has at that path.
func (s *Server) preupload(w http.ResponseWriter, r *http.Request, repo *Repo, rev string) {
	var body struct {
		Files []struct {
			Path, Sample string
			Size         int64
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Files == nil {
		hubError(w, http.StatusBadRequest, "invalid body: want files")
		return
	}
	type answer struct {
		Path         string `json:"path"`
		UploadMode   string `json:"uploadMode"`
		ShouldIgnore bool   `json:"shouldIgnore"`
		OID          string `json:"oid,omitempty"`
	}
	out := struct {
		Files     []answer `json:"files"`
		CommitOID string   `json:"commitOid,omitempty"`
	}{Files: []answer{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range body.Files {
		sample, err := base64.StdEncoding.DecodeString(f.Sample)
		if err != nil || len(sample) > 512 {
			hubError(w, http.StatusBadRequest, "invalid sample for "+f.Path)
			return
		}
		a := answer{Path: f.Path, UploadMode: "regular", ShouldIgnore: strings.HasPrefix(f.Path, ".git/")}
		if IsLFS(f.Path, f.Size, sample) {
			a.UploadMode = "lfs"
		}
		if have, ok := repo.Files[rev][f.Path]; ok {
			if have.LFS {
				a.OID = sha(have.Data)
			} else {
				a.OID = gitSHA(have.Data)
			}
		}
		out.Files = append(out.Files, a)
	}
	writeJSON(w, out)
}

// batch is the git LFS batch API: objects already stored come back without actions.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.git-lfs+json") {
		hubError(w, http.StatusNotAcceptable, "Accept must be application/vnd.git-lfs+json")
		return
	}
	var body struct {
		Operation string   `json:"operation"`
		Transfers []string `json:"transfers"`
		HashAlgo  string   `json:"hash_algo"`
		Objects   []struct {
			OID  string `json:"oid"`
			Size int64  `json:"size"`
		} `json:"objects"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Operation != "upload" {
		hubError(w, http.StatusBadRequest, "invalid batch request: want operation upload")
		return
	}
	if body.HashAlgo != "" && body.HashAlgo != "sha256" && body.HashAlgo != "sha_256" {
		hubError(w, http.StatusConflict, "unsupported hash algorithm "+body.HashAlgo)
		return
	}
	basic := len(body.Transfers) == 0
	for _, t := range body.Transfers {
		basic = basic || t == "basic"
	}
	if !basic {
		hubError(w, http.StatusConflict, "no supported transfer (this server speaks basic)")
		return
	}
	type action struct {
		Href   string            `json:"href"`
		Header map[string]string `json:"header,omitempty"`
	}
	type object struct {
		OID     string            `json:"oid"`
		Size    int64             `json:"size"`
		Actions map[string]action `json:"actions,omitempty"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error,omitempty"`
	}
	out := struct {
		Transfer string   `json:"transfer"`
		Objects  []object `json:"objects"`
		HashAlgo string   `json:"hash_algo"`
	}{Transfer: "basic", HashAlgo: "sha256", Objects: []object{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range body.Objects {
		ob := object{OID: o.OID, Size: o.Size}
		if _, err := hex.DecodeString(o.OID); err != nil || len(o.OID) != 64 || o.Size < 0 {
			ob.Error = &struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}{422, "invalid object " + o.OID}
		} else if data, ok := s.objects[o.OID]; !ok || int64(len(data)) != o.Size {
			ob.Actions = map[string]action{
				"upload": {Href: s.URL + "/lfs-storage/" + o.OID},
				"verify": {Href: s.URL + "/lfs-verify/" + o.OID},
			}
		}
		out.Objects = append(out.Objects, ob)
	}
	w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
	json.NewEncoder(w).Encode(out)
}

// store is the storage PUT: the body must hash to the oid in the URL.
func (s *Server) store(rec *recorder, w http.ResponseWriter, r *http.Request, oid string) {
	s.mu.Lock()
	cut := s.cuts[oid] > 0
	if cut {
		s.cuts[oid]--
	}
	s.mu.Unlock()
	if cut {
		io.CopyN(io.Discard, r.Body, max(1, r.ContentLength/2))
		rec.status = 0
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		hubError(rec, http.StatusBadRequest, "reading the upload: "+err.Error())
		return
	}
	if sha(data) != oid {
		hubError(rec, http.StatusBadRequest, "content does not match its oid")
		return
	}
	s.mu.Lock()
	s.objects[oid] = data
	s.puts[oid]++
	s.mu.Unlock()
	rec.WriteHeader(http.StatusOK)
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request, oid string) {
	var body struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.OID != oid {
		hubError(w, http.StatusBadRequest, "invalid verify body")
		return
	}
	s.mu.Lock()
	data, ok := s.objects[oid]
	s.mu.Unlock()
	if !ok || int64(len(data)) != body.Size {
		hubError(w, http.StatusNotFound, "object not found: "+oid)
		return
	}
	writeJSON(w, map[string]bool{"success": true})
}

// commit applies an NDJSON commit: a header line, then file (base64), lfsFile and deletedFile lines.
func (s *Server) commit(w http.ResponseWriter, r *http.Request, repo *Repo, rev string) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson") {
		hubError(w, http.StatusBadRequest, "Content-Type must be application/x-ndjson")
		return
	}
	type line struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var summary string
	changes := map[string]*File{}
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		n++
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			hubError(w, http.StatusBadRequest, fmt.Sprintf("line %d: %v", n, err))
			return
		}
		if n == 1 && l.Key != "header" {
			hubError(w, http.StatusBadRequest, "the first line must be the header")
			return
		}
		var v struct {
			Summary, Path, Content, Encoding, Algo, OID string
			Size                                        *int64
		}
		if err := json.Unmarshal(l.Value, &v); err != nil {
			hubError(w, http.StatusBadRequest, fmt.Sprintf("line %d: %v", n, err))
			return
		}
		switch l.Key {
		case "header":
			summary = v.Summary
		case "file":
			if v.Encoding != "base64" {
				hubError(w, http.StatusBadRequest, "file "+v.Path+": encoding must be base64")
				return
			}
			data, err := base64.StdEncoding.DecodeString(v.Content)
			if err != nil {
				hubError(w, http.StatusBadRequest, "file "+v.Path+": "+err.Error())
				return
			}
			changes[v.Path] = &File{Data: data}
		case "lfsFile":
			s.mu.Lock()
			data, ok := s.objects[v.OID]
			s.mu.Unlock()
			if v.Algo != "sha256" || !ok || (v.Size != nil && *v.Size != int64(len(data))) {
				hubError(w, http.StatusUnprocessableEntity, "Your push was rejected because an LFS pointer pointed to a file that does not exist: "+v.Path)
				return
			}
			changes[v.Path] = &File{Data: data, LFS: true}
		case "deletedFile":
			changes[v.Path] = nil
		default:
			hubError(w, http.StatusBadRequest, "unknown key "+l.Key)
			return
		}
	}
	if err := sc.Err(); err != nil {
		hubError(w, http.StatusBadRequest, err.Error())
		return
	}
	if summary == "" {
		hubError(w, http.StatusBadRequest, "the commit needs a summary")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, f := range changes {
		if f == nil {
			delete(repo.Files[rev], p)
		} else {
			repo.Files[rev][p] = *f
		}
	}
	repo.Commits = append(repo.Commits, summary)
	s.commits++
	oid := sha1.Sum([]byte(repo.ID + "\x00" + strconv.Itoa(s.commits) + "\x00" + summary))
	commit := hex.EncodeToString(oid[:])
	writeJSON(w, map[string]any{"success": true, "commitOid": commit, "commitUrl": s.repoURL(repo.Type, repo.ID) + "/commit/" + commit})
}
