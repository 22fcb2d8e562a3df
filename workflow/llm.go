package workflow

import (
	"net/url"
	"os"
	"time"

	"github.com/ragnb/ragnb/data/llm"
)

// LLMOptions name an OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp's server, TGI...) and
// how to call it, for the steps that ask one: generation, the LLM judge, the answer pipeline. The API key
// comes from the environment or a flag at call time and is never part of the options' JSON (a cache key, a
// log line).
type LLMOptions struct {
	// BaseURL of the API ("" = $OPENAI_BASE_URL, else llm.DefaultBaseURL).
	BaseURL string `json:"base_url"`
	// Model is the model name the server knows (required to call it).
	Model string `json:"model"`
	// APIKey is sent as a bearer token ("" = $OPENAI_API_KEY, still empty: none).
	APIKey llm.Secret `json:"-"`
	// Temperature is sent as is; negative leaves it to the server.
	Temperature float64 `json:"temperature"`
	// MaxTokens caps an answer (0: the server's default); Seed is sent when non-zero.
	MaxTokens int `json:"max_tokens"`
	Seed      int `json:"seed"`
	// JSONMode asks for response_format {"type":"json_object"}.
	JSONMode bool `json:"json_mode"`
	// Concurrency is the number of requests in flight; RequestsPerSecond spaces them (0: no limit).
	Concurrency       int     `json:"concurrency"`
	RequestsPerSecond float64 `json:"rps"`
	// Retries per request on 408/409/429/5xx, timeouts and dropped connections (0: none).
	Retries int `json:"retries"`
	// Timeout bounds one attempt.
	Timeout time.Duration `json:"timeout"`
	// CacheDir holds the answer cache ("" = cache.DefaultDir()/llm); NoCache turns it off.
	CacheDir string `json:"cache_dir"`
	NoCache  bool   `json:"no_cache"`
}

// DefaultLLMOptions are the endpoint defaults of every step that asks a chat model, the same on the command
// line and in the prelude: greedy answers (temperature 0: a judge and an answer should not vary between
// runs; generation raises it, see DefaultGenerateOptions), 4 requests in flight, 5 retries, 2 minutes per
// attempt.
func DefaultLLMOptions() LLMOptions {
	return LLMOptions{Concurrency: 4, Retries: 5, Timeout: 2 * time.Minute}
}

// Client is the chat client these options describe.
func (o LLMOptions) Client() (*llm.Client, error) {
	retries := o.Retries
	if retries == 0 {
		retries = -1 // llm: 0 is its default, negative none
	}
	return llm.New(llm.Config{BaseURL: o.BaseURL, Model: o.Model, APIKey: o.APIKey, Temperature: o.Temperature,
		MaxTokens: o.MaxTokens, Seed: o.Seed, JSONMode: o.JSONMode, Concurrency: o.Concurrency,
		RequestsPerSecond: o.RequestsPerSecond, MaxRetries: retries, Timeout: o.Timeout, CacheDir: o.CacheDir,
		NoCache: o.NoCache})
}

// identity is what decides the answers: the model, where it is served and the sampling (never the key, nor
// how the calls are paced). It is the form the prelude's cache keys have always held.
func (o LLMOptions) identity() map[string]any {
	base := o.BaseURL
	if base == "" {
		base = os.Getenv(llm.EnvBaseURL)
	}
	if base == "" {
		base = llm.DefaultBaseURL
	}
	host := base
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Host + u.Path
	}
	return map[string]any{"model": o.Model, "endpoint": host, "temperature": o.Temperature, "max_tokens": o.MaxTokens,
		"seed": o.Seed}
}
