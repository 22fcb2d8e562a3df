package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/workflow"
)

// llmFlags are the chat-endpoint flags shared by generate, score, ask and serve, bound to the step's
// workflow.LLMOptions (their defaults are the step's). The API key never comes from a flag value (shell
// history, process lists): --api-key-env names the environment variable that holds it.
type llmFlags struct {
	modelFlag string // the flag naming the chat model ("model" unless registered otherwise)
	o         workflow.LLMOptions
	keyEnv    string
	cacheRoot string
}

func (f *llmFlags) register(fs *flag.FlagSet, def workflow.LLMOptions, modelHelp string) {
	f.registerAs(fs, "model", def, modelHelp)
}

// registerAs is register with the chat model under another flag name, for commands whose --model is a
// model directory (ask, serve).
func (f *llmFlags) registerAs(fs *flag.FlagSet, modelFlag string, def workflow.LLMOptions, modelHelp string) {
	f.modelFlag = modelFlag
	o := &f.o
	fs.StringVar(&o.Model, modelFlag, def.Model, modelHelp)
	fs.StringVar(&o.BaseURL, "base-url", def.BaseURL, "OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM); default $OPENAI_BASE_URL, else "+llm.DefaultBaseURL)
	fs.StringVar(&f.keyEnv, "api-key-env", llm.EnvAPIKey, "name of the environment variable holding the API key; $"+llm.EnvAPIKey+" may be unset (local servers need no key), another named variable must be set; the key is never logged or cached")
	fs.Float64Var(&o.Temperature, "temperature", def.Temperature, "sampling temperature (negative: the server's default)")
	fs.IntVar(&o.MaxTokens, "max-tokens", def.MaxTokens, "answer length cap in tokens (0: the server's default)")
	fs.IntVar(&o.Seed, "seed", def.Seed, "sampling seed sent to the server (0: none)")
	fs.BoolVar(&o.JSONMode, "json-mode", def.JSONMode, `ask for response_format {"type":"json_object"} (not every server supports it)`)
	fs.IntVar(&o.Concurrency, "concurrency", def.Concurrency, "requests in flight at once")
	fs.Float64Var(&o.RequestsPerSecond, "rps", def.RequestsPerSecond, "requests per second at most (0: unlimited)")
	fs.IntVar(&o.Retries, "retries", def.Retries, "retries per request on 408/409/429/5xx, timeouts and dropped connections (backoff with jitter; Retry-After honoured)")
	fs.DurationVar(&o.Timeout, "timeout", def.Timeout, "time limit of one attempt")
	fs.StringVar(&f.cacheRoot, "cache", "", "cache root (default $RAGNB_CACHE, else .ragnb): chat answers are kept under llm/, rerank answers under rerank/")
	fs.BoolVar(&o.NoCache, "no-cache", def.NoCache, "do not read or write the response cache")
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

// options are the step's LLMOptions from the flags, the key read from the environment.
func (f *llmFlags) options() (workflow.LLMOptions, error) {
	o := f.o
	if o.Model == "" {
		name := f.modelFlag
		if name == "" {
			name = "model"
		}
		return o, usagef("--%s is required", name)
	}
	o.CacheDir = f.cacheDir("llm")
	key, err := apiKey(f.keyEnv, llm.EnvAPIKey)
	if err != nil {
		return o, err
	}
	o.APIKey = key
	return o, nil
}

// cacheDir is the answer cache of kind (llm, rerank) under --cache ("" when not given: the library's default).
func (f *llmFlags) cacheDir(kind string) string {
	if f.cacheRoot == "" {
		return ""
	}
	return filepath.Join(f.cacheRoot, kind)
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
