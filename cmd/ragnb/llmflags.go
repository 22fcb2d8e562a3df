package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ragnb/ragnb/data/llm"
)

// llmFlags are the chat-endpoint flags shared by generate and score. The API key never comes from a flag
// value (shell history, process lists): --api-key-env names the environment variable that holds it.
type llmFlags struct {
	modelFlag                        string // the flag naming the chat model ("model" unless registered otherwise)
	model, baseURL, keyEnv, cacheDir string
	temperature                      float64
	maxTokens, seed, concurrency     int
	retries                          int
	rps                              float64
	timeout                          time.Duration
	jsonMode, noCache                bool
}

func (f *llmFlags) register(fs *flag.FlagSet, temperature float64, modelHelp string) {
	f.registerAs(fs, "model", temperature, modelHelp)
}

// registerAs is register with the chat model under another flag name, for commands whose --model is a
// model directory (ask, serve).
func (f *llmFlags) registerAs(fs *flag.FlagSet, modelFlag string, temperature float64, modelHelp string) {
	f.modelFlag = modelFlag
	fs.StringVar(&f.model, modelFlag, "", modelHelp)
	fs.StringVar(&f.baseURL, "base-url", "", "OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM); default $OPENAI_BASE_URL, else "+llm.DefaultBaseURL)
	fs.StringVar(&f.keyEnv, "api-key-env", llm.EnvAPIKey, "name of the environment variable holding the API key; $"+llm.EnvAPIKey+" may be unset (local servers need no key), another named variable must be set; the key is never logged or cached")
	fs.Float64Var(&f.temperature, "temperature", temperature, "sampling temperature (negative: the server's default)")
	fs.IntVar(&f.maxTokens, "max-tokens", 0, "answer length cap in tokens (0: the server's default)")
	fs.IntVar(&f.seed, "seed", 0, "sampling seed sent to the server (0: none)")
	fs.BoolVar(&f.jsonMode, "json-mode", false, `ask for response_format {"type":"json_object"} (not every server supports it)`)
	fs.IntVar(&f.concurrency, "concurrency", 4, "requests in flight at once")
	fs.Float64Var(&f.rps, "rps", 0, "requests per second at most (0: unlimited)")
	fs.IntVar(&f.retries, "retries", 5, "retries per request on 408/409/429/5xx, timeouts and dropped connections (backoff with jitter; Retry-After honoured)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "time limit of one attempt")
	fs.StringVar(&f.cacheDir, "cache", "", "cache root (default $RAGNB_CACHE, else .ragnb): chat answers are kept under llm/, rerank answers under rerank/")
	fs.BoolVar(&f.noCache, "no-cache", false, "do not read or write the response cache")
	if modelFlag != "model" {
		// In commands where the chat model is one stage among others, say which stage these flags tune.
		for _, name := range []string{"base-url", "api-key-env", "temperature", "max-tokens", "seed", "json-mode",
			"concurrency", "rps", "retries", "timeout", "cache", "no-cache"} {
			if fl := fs.Lookup(name); fl != nil {
				fl.Usage = "chat model: " + fl.Usage
			}
		}
	}
}

func (f *llmFlags) client() (*llm.Client, error) {
	if f.model == "" {
		name := f.modelFlag
		if name == "" {
			name = "model"
		}
		return nil, usagef("--%s is required", name)
	}
	retries := f.retries
	if retries == 0 {
		retries = -1 // llm: 0 means the default, negative means none
	}
	cfg := llm.Config{BaseURL: f.baseURL, Model: f.model, Temperature: f.temperature, MaxTokens: f.maxTokens,
		Seed: f.seed, JSONMode: f.jsonMode, Concurrency: f.concurrency, RequestsPerSecond: f.rps,
		MaxRetries: retries, Timeout: f.timeout, NoCache: f.noCache}
	if f.cacheDir != "" {
		cfg.CacheDir = filepath.Join(f.cacheDir, "llm")
	}
	key, err := apiKey(f.keyEnv, llm.EnvAPIKey)
	if err != nil {
		return nil, err
	}
	cfg.APIKey = key
	return llm.New(cfg)
}

// apiKey reads the key from the environment variable name. The default variable may be unset (no key); a
// variable the user named explicitly must hold one.
func apiKey(name, defaultName string) (llm.Secret, error) {
	if name == "" {
		name = defaultName
	}
	v := os.Getenv(name)
	if v == "" && name != defaultName {
		return "", fmt.Errorf("--api-key-env %s: the variable is not set", name)
	}
	return llm.Secret(v), nil
}
