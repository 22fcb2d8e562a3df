// Package llmtest is an in-process OpenAI-compatible chat server for tests: real HTTP on a loopback port,
// answering /chat/completions (plain and streamed) however the test's handler decides — valid JSON, fenced
// JSON, garbage, 429 with Retry-After, 5xx, or slowly. It counts and records every request.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Message is one chat message as received.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what the client sent.
type Request struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    *float64        `json:"temperature"`
	MaxTokens      *int            `json:"max_tokens"`
	Seed           *int            `json:"seed"`
	Stream         bool            `json:"stream"`
	ResponseFormat json.RawMessage `json:"response_format"`
	// Authorization is the header as received ("" when absent).
	Authorization string `json:"-"`
}

// Last is the content of the last message (usually the user prompt).
func (r Request) Last() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[len(r.Messages)-1].Content
}

// Reply is what the server answers.
type Reply struct {
	// Status defaults to 200. A non-200 status sends an OpenAI-style error body whose message is Message
	// (default: the status text).
	Status  int
	Message string
	// Header is added to the response (e.g. Retry-After).
	Header map[string]string
	// Content is the assistant message.
	Content string
	// Delay is waited before answering (cut short if the client goes away).
	Delay time.Duration
	// Raw, when set, is sent as the body verbatim instead of a chat completion.
	Raw string
	// Chunks splits a streamed answer (default: Content as one chunk); BreakStream drops the connection
	// after them without [DONE].
	Chunks      []string
	BreakStream bool
}

// Server is the fake endpoint. URL+"/v1" is the base URL to give the client.
type Server struct {
	*httptest.Server
	// Handle decides the reply; n is the 0-based index of this request among all the server got.
	Handle func(req Request, n int) Reply

	mu   sync.Mutex
	reqs []Request
}

// New starts a server with handler h. Close it when done (t.Cleanup(s.Close)).
func New(h func(req Request, n int) Reply) *Server {
	s := &Server{Handle: h}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the OpenAI-style base URL (with /v1).
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Count is the number of chat requests received so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Requests is a copy of every request received, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.Authorization = r.Header.Get("Authorization")
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()

	rep := s.Handle(req, n)
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Status != 0 && rep.Status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.Status)
		msg := rep.Message
		if msg == "" {
			msg = http.StatusText(rep.Status)
		}
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"test","code":"%d"}}`, msg, rep.Status)
		return
	}
	if rep.Raw != "" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, rep.Raw)
		return
	}
	if req.Stream {
		s.stream(w, req, rep)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": 0, "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": rep.Content}}},
		"usage": map[string]any{"prompt_tokens": len(req.Last()) / 4, "completion_tokens": len(rep.Content) / 4,
			"total_tokens": len(req.Last())/4 + len(rep.Content)/4},
	})
}

func (s *Server) stream(w http.ResponseWriter, req Request, rep Reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	chunks := rep.Chunks
	if chunks == nil {
		chunks = []string{rep.Content}
	}
	fl, _ := w.(http.Flusher)
	for _, c := range chunks {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 0,
			"model": req.Model, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": c}}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	if rep.BreakStream {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	b, _ := json.Marshal(map[string]any{"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 0,
		"model": req.Model, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
}
