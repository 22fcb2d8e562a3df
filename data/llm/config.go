// Package llm is ragnb's client for any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp's
// server, TGI...) through openai-go: a concurrency limit, a request-rate limit, its own retries with backoff,
// jitter and Retry-After, a per-attempt timeout, and a disk cache of every answer keyed by (model, messages,
// parameters) — never by the API key — so a re-run, or a run after a crash, pays for nothing twice. It also
// streams answers for the notebook. What to ask, and what an answer means, is the callers' business (synth,
// teacher, the answer pipeline).
package llm

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ragnb/ragnb/cache"
)

// Environment variables read when the Config leaves the matching field empty (the same ones openai-go reads).
const (
	EnvBaseURL = "OPENAI_BASE_URL"
	EnvAPIKey  = "OPENAI_API_KEY"
)

// DefaultBaseURL is used when neither Config.BaseURL nor OPENAI_BASE_URL is set.
const DefaultBaseURL = "https://api.openai.com/v1"

// Secret holds an API key. It prints and marshals as "[redacted]", so logging a Config never leaks it.
type Secret string

func (Secret) String() string                 { return "[redacted]" }
func (Secret) GoString() string               { return `"[redacted]"` }
func (Secret) MarshalJSON() ([]byte, error)   { return []byte(`"[redacted]"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Config describes the endpoint and how to call it. The zero value of every tuning field picks a default.
type Config struct {
	// BaseURL of the OpenAI-compatible API, e.g. http://localhost:11434/v1 (Ollama), http://host:8000/v1
	// (vLLM), http://localhost:8080/v1 (llama.cpp). Empty: $OPENAI_BASE_URL, else DefaultBaseURL.
	BaseURL string
	// Model is the model name the server knows (required).
	Model string
	// APIKey is sent as a bearer token; empty: $OPENAI_API_KEY; still empty: no Authorization header (local
	// servers). Never part of a cache key, a cache entry, an error or a log line.
	APIKey Secret
	// Temperature is sent as is; a negative value leaves it to the server. Zero is a real (greedy) setting.
	Temperature float64
	// MaxTokens caps the answer length (max_tokens); 0 leaves it to the server.
	MaxTokens int
	// Seed is sent when non-zero (servers that honour it answer reproducibly).
	Seed int
	// JSONMode asks for response_format {"type":"json_object"}. Not every server supports it; the parsers
	// in synth and teacher cope with prose around JSON either way.
	JSONMode bool

	// Concurrency is the number of requests in flight at once (default 4).
	Concurrency int
	// RequestsPerSecond spaces request starts evenly; 0 means unlimited.
	RequestsPerSecond float64
	// MaxRetries after the first attempt on 408/409/429/5xx, timeouts and dropped connections (default 5;
	// negative: none). openai-go's own retries are switched off so that every attempt is counted here.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff with jitter (defaults 1 s and 60 s). A server's
	// Retry-After (or Retry-After-Ms) is honoured instead when present, up to 5 minutes.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 2 minutes); for a stream it bounds the whole stream.
	Timeout time.Duration

	// CacheDir holds the response cache; empty: cache.DefaultDir()/llm.
	CacheDir string
	// NoCache turns the response cache off.
	NoCache bool

	// HTTPClient replaces http.DefaultClient (proxies, custom TLS, tests).
	HTTPClient *http.Client
	// Sleep replaces the real wait between retries and for the rate limit (tests record waits instead).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now replaces time.Now for the rate limiter and HTTP-date Retry-After values.
	Now func() time.Time
}

// resolved fills defaults and the environment into a copy of c.
func (c Config) resolved() (Config, error) {
	if c.Model == "" {
		return c, fmt.Errorf("llm: no model given")
	}
	if c.BaseURL == "" {
		c.BaseURL = os.Getenv(EnvBaseURL)
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.APIKey == "" {
		c.APIKey = Secret(os.Getenv(EnvAPIKey))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.RequestsPerSecond < 0 {
		return c, fmt.Errorf("llm: negative requests per second %v", c.RequestsPerSecond)
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(cache.DefaultDir(), cache.LLMAnswers)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
