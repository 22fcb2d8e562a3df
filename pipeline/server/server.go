// Package server serves an answer pipeline over HTTP with JSON: POST /ask answers a question with its
// sources and timings, GET /healthz says whether the service is up. It guards the pipeline: a request body
// limit (413), a per-request timeout (504, with whatever retrieval produced), a bound on requests in flight
// and waiting (503 with Retry-After beyond it), and a graceful shutdown that stops accepting connections,
// turns /healthz to 503 and lets requests in flight finish. It logs one structured line per request
// (log/slog): method, path, status, duration, stage timings — never the question text, an answer or a key.
//
// It owns HTTP concerns only; answering is package pipeline's.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ragnb/ragnb/internal/redact"

	"github.com/ragnb/ragnb/pipeline"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes bounds a request body (default 64 KiB); larger bodies get 413.
	MaxBodyBytes int64
	// Timeout bounds one /ask from arrival to answer, waiting included (default 60 s); past it the answer
	// so far is returned with 504.
	Timeout time.Duration
	// MaxConcurrent is the number of questions answered at once (default 4 × GOMAXPROCS).
	MaxConcurrent int
	// MaxQueue is the number of requests that may wait for a slot (default 256); more get 503.
	MaxQueue int
	// MaxTopK caps a request's top_k (default 200).
	MaxTopK int
	// ShutdownGrace bounds how long shutdown waits for requests in flight (default 30 s).
	ShutdownGrace time.Duration
	// DrainDelay is how long /healthz answers 503 before the listener closes (default 0), so a load
	// balancer polling it stops sending new requests first.
	DrainDelay time.Duration
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Info is added to the /healthz body (index size, model names...). It must hold no secrets; a string
	// that names a file or folder on this machine is reduced to its last element, so /healthz never tells a
	// client the server's directory layout.
	Info map[string]any
	// AuthToken, when set, is the bearer token every /ask must carry ("Authorization: Bearer TOKEN"); a
	// request without it gets 401. /healthz stays open for load balancers and says nothing private.
	AuthToken string `json:"-"`
	// API answers every other path (NewAPI: the OpenAI, Cohere and TEI model routes); nil: 404.
	API http.Handler
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	if o.MaxQueue < 0 {
		o.MaxQueue = 0
	} else if o.MaxQueue == 0 {
		o.MaxQueue = 256
	}
	if o.MaxTopK <= 0 {
		o.MaxTopK = 200
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Server serves one pipeline.
type Server struct {
	p        *pipeline.Pipeline
	opts     Options
	slots    chan struct{}
	admitted atomic.Int64 // requests running or waiting for a slot
	draining atomic.Bool
	started  time.Time
	served   atomic.Int64
}

// New returns a server for p.
func New(p *pipeline.Pipeline, opts Options) *Server {
	opts = opts.withDefaults()
	return &Server{p: p, opts: opts, slots: make(chan struct{}, opts.MaxConcurrent), started: time.Now()}
}

// Options returns the server's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// AskRequest is the body of POST /ask.
type AskRequest struct {
	Question string `json:"question"`
	// TopK and TopN override the pipeline's (0: keep).
	TopK int `json:"top_k,omitempty"`
	TopN int `json:"top_n,omitempty"`
	// NoLLM returns the ranked passages without generating an answer.
	NoLLM bool `json:"no_llm,omitempty"`
}

// Handler routes /ask and /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ask", s.ask)
	mux.HandleFunc("/healthz", s.health)
	if s.opts.API != nil {
		mux.Handle("/", s.opts.API)
	}
	return s.logged(mux)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// authorized reports whether r carries the AuthToken (always true without one). The tokens are compared
// through their SHA-256, in constant time, so neither the content nor the length leaks through timing.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.AuthToken == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.opts.AuthToken))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && ok
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ragnb"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{"missing or wrong bearer token"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{"POST a JSON body {\"question\": ...} to /ask"})
		return
	}
	var req AskRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{fmt.Sprintf("request body over %d bytes", tooBig.Limit)})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{"bad JSON: " + err.Error()})
		return
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, errorBody{"bad JSON: more than one value in the body"})
		return
	}
	switch {
	case req.Question == "":
		writeJSON(w, http.StatusBadRequest, errorBody{`"question" is required`})
		return
	case req.TopK < 0 || req.TopN < 0:
		writeJSON(w, http.StatusBadRequest, errorBody{"top_k and top_n must be positive"})
		return
	case req.TopK > s.opts.MaxTopK || req.TopN > s.opts.MaxTopK:
		writeJSON(w, http.StatusBadRequest, errorBody{fmt.Sprintf("top_k and top_n are capped at %d", s.opts.MaxTopK)})
		return
	}

	// Admission: a bounded number run, a bounded number wait; the rest are turned away at once.
	if s.admitted.Add(1) > int64(s.opts.MaxConcurrent+s.opts.MaxQueue) {
		s.admitted.Add(-1)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{"overloaded: too many requests in flight; retry shortly"})
		return
	}
	defer s.admitted.Add(-1)
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.timeoutOrGone(w, r, pipeline.Answer{Question: req.Question}, "waiting for a free slot")
		return
	}
	defer func() { <-s.slots }()

	a, err := s.p.Do(ctx, pipeline.Request{Question: req.Question, TopK: req.TopK, TopN: req.TopN, NoLLM: req.NoLLM}, nil)
	setTimings(w, a.Timings)
	if err == nil {
		s.served.Add(1)
		writeJSON(w, http.StatusOK, a)
		return
	}
	if ctx.Err() != nil {
		s.timeoutOrGone(w, r, a, "answering")
		return
	}
	var se *pipeline.StageError
	switch {
	case errors.As(err, &se) && se.Stage == "generate":
		// The chat model failed. Its error names the upstream URL and may quote what the upstream said
		// (credentials included): the details go to the log, redacted; the client learns only that the
		// upstream failed, with the sources found.
		s.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "upstream error", slog.String("stage", se.Stage),
			slog.String("error", redact.Secrets(err.Error())))
		a.Error = "the answer model failed (upstream error; details in the server log)"
		writeJSON(w, http.StatusBadGateway, a)
	case errors.As(err, &se) && (se.Stage == "retrieve" || se.Stage == "rerank" || se.Stage == "prompt"):
		s.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("stage", se.Stage),
			slog.String("error", redact.Secrets(err.Error())))
		a.Error = "pipeline: " + se.Stage + " failed (details in the server log)"
		writeJSON(w, http.StatusInternalServerError, a)
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{err.Error()}) // the request's own settings
	}
}

// timeoutOrGone answers 504 with a when the deadline passed; a client that went away gets nothing.
func (s *Server) timeoutOrGone(w http.ResponseWriter, r *http.Request, a pipeline.Answer, what string) {
	if r.Context().Err() != nil {
		w.WriteHeader(499) // client closed the request (nginx's code; only the log sees it)
		return
	}
	a.Error = fmt.Sprintf("timed out after %v %s", s.opts.Timeout, what)
	writeJSON(w, http.StatusGatewayTimeout, a)
}

// setTimings adds a Server-Timing header (visible in browser dev tools and load-testing tools).
func setTimings(w http.ResponseWriter, t pipeline.Timings) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	w.Header().Set("Server-Timing", "embed;dur="+ms(t.Embed)+", search;dur="+ms(t.Search)+", rerank;dur="+
		ms(t.Rerank)+", generate;dur="+ms(t.Generate)+", total;dur="+ms(t.Total))
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{"GET /healthz"})
		return
	}
	body := map[string]any{"status": "ok", "uptime_s": int(time.Since(s.started).Seconds()),
		"in_flight": s.admitted.Load(), "answered": s.served.Load()}
	for k, v := range s.opts.Info {
		body[k] = withoutPath(v)
	}
	status := http.StatusOK
	if s.draining.Load() {
		body["status"] = "shutting down"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

// withoutPath reduces a string naming an existing file or folder, or an absolute or relative path, to its
// last element (an index folder's name tells an operator which index; its location is nobody's business).
func withoutPath(v any) any {
	p, ok := v.(string)
	if !ok || p == "" {
		return v
	}
	_, err := os.Stat(p)
	if err == nil || filepath.IsAbs(p) || strings.HasPrefix(p, "."+string(filepath.Separator)) || strings.HasPrefix(p, "~") {
		return filepath.Base(filepath.Clean(p))
	}
	return v
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logged writes one log line per request.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.opts.Logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Float64("ms", float64(time.Since(start))/1e6), slog.String("timing", sw.Header().Get("Server-Timing")))
	})
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully: /healthz turns 503 (for DrainDelay),
// the listener closes, and requests in flight get up to ShutdownGrace to finish. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.Timeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.opts.Logger.Info("shutting down", slog.Int64("in_flight", s.admitted.Load()))
	if s.opts.DrainDelay > 0 {
		time.Sleep(s.opts.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.opts.Logger.Info("stopped", slog.Int64("answered", s.served.Load()))
	return nil
}

// ListenAndServe listens on addr (e.g. 127.0.0.1:8080) and serves until ctx is cancelled.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return s.Serve(ctx, ln)
}
