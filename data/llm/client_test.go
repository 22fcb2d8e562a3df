package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

// sleeps records every wait instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newClient(t *testing.T, srv *llmtest.Server, mod func(*llm.Config)) (*llm.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	cfg := llm.Config{BaseURL: srv.BaseURL(), Model: "test-model", APIKey: "sk-secret-123", CacheDir: t.TempDir(),
		MinBackoff: 8 * time.Millisecond, MaxBackoff: 16 * time.Millisecond, Sleep: sl.sleep, Temperature: 0.7}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func TestChatSendsParametersAndCachesWithoutTheKey(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		return llmtest.Reply{Content: "echo: " + r.Last()}
	})
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.MaxTokens = 64; c.Seed = 7; c.JSONMode = true })
	msgs := []llm.Message{llm.System("be brief"), llm.User("hello")}
	got, err := c.Chat(context.Background(), msgs)
	if err != nil || got != "echo: hello" {
		t.Fatalf("Chat = %q, %v", got, err)
	}
	req := srv.Requests()[0]
	if req.Model != "test-model" || len(req.Messages) != 2 || req.Messages[0].Role != "system" ||
		req.Temperature == nil || *req.Temperature != 0.7 || req.MaxTokens == nil || *req.MaxTokens != 64 ||
		req.Seed == nil || *req.Seed != 7 || !strings.Contains(string(req.ResponseFormat), "json_object") {
		t.Errorf("request sent: %+v (response_format %s)", req, req.ResponseFormat)
	}
	if req.Authorization != "Bearer sk-secret-123" {
		t.Errorf("Authorization %q", req.Authorization)
	}
	// Second call: from the cache, no request.
	r, err := c.Complete(context.Background(), llm.Request{Messages: msgs})
	if err != nil || !r.Cached || r.Content != "echo: hello" || srv.Count() != 1 {
		t.Fatalf("cached call: %+v %v, %d requests", r, err, srv.Count())
	}
	if st := c.Stats(); st.Requests != 1 || st.CacheHits != 1 || st.Answers != 1 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	// A client with another key and another base URL shares the cache (neither is part of the key) ...
	other := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: "other"} })
	defer other.Close()
	c2, _ := newClient(t, other, func(cfg *llm.Config) {
		cfg.CacheDir = c.CacheDir()
		cfg.APIKey = "sk-another"
		cfg.MaxTokens, cfg.Seed, cfg.JSONMode = 64, 7, true
	})
	if got, _ := c2.Chat(context.Background(), msgs); got != "echo: hello" || other.Count() != 0 {
		t.Errorf("same model/messages/params via another URL and key: %q, %d requests", got, other.Count())
	}
	// ... but the model, the messages, each parameter and the attempt number are.
	for name, mod := range map[string]func(*llm.Config){
		"model": func(c *llm.Config) { c.Model = "m2" }, "temperature": func(c *llm.Config) { c.Temperature = 0.2 },
		"max tokens": func(c *llm.Config) { c.MaxTokens = 65 }, "seed": func(c *llm.Config) { c.Seed = 8 },
		"json": func(c *llm.Config) { c.JSONMode = false },
	} {
		cc, _ := newClient(t, other, func(cfg *llm.Config) {
			cfg.CacheDir = c.CacheDir()
			cfg.MaxTokens, cfg.Seed, cfg.JSONMode = 64, 7, true
			mod(cfg)
		})
		before := other.Count()
		if got, _ := cc.Chat(context.Background(), msgs); got != "other" || other.Count() != before+1 {
			t.Errorf("changing %s must miss the cache: %q", name, got)
		}
	}
	before := other.Count()
	if r, _ := c2.Complete(context.Background(), llm.Request{Messages: msgs, Attempt: 1}); r.Cached || other.Count() != before+1 {
		t.Errorf("attempt 1 must be a new entry: %+v", r)
	}
	// The key is nowhere on disk.
	filepath.Walk(c.CacheDir(), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "sk-secret") || strings.Contains(string(b), "sk-another") {
				t.Errorf("API key written to %s", p)
			}
		}
		return nil
	})
}

func TestRetriesHonourRetryAfterAndCountEverything(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		switch n {
		case 0:
			return llmtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}}
		case 1:
			return llmtest.Reply{Status: 500}
		case 2:
			return llmtest.Reply{Status: 503, Header: map[string]string{"Retry-After-Ms": "250"}}
		}
		return llmtest.Reply{Content: "finally"}
	})
	defer srv.Close()
	c, sl := newClient(t, srv, nil)
	got, err := c.Chat(context.Background(), []llm.Message{llm.User("q")})
	if err != nil || got != "finally" || srv.Count() != 4 {
		t.Fatalf("got %q, %v after %d requests", got, err, srv.Count())
	}
	st := c.Stats()
	if st.Requests != 4 || st.Retries != 3 || st.RateLimited != 1 || st.ServerErrors != 2 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
	w := sl.all()
	// Retry-After 3 s is honoured exactly (not slept for real); the 500 gets backoff attempt 1: 16 ms·[0.5, 1).
	if len(w) != 3 || w[0] != 3*time.Second || w[1] < 8*time.Millisecond || w[1] >= 16*time.Millisecond ||
		w[2] != 250*time.Millisecond {
		t.Errorf("waits %v", w)
	}
}

func TestPermanentErrorsAndGivingUpAreNotCached(t *testing.T) {
	var status atomic.Int32
	status.Store(400)
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Status: int(status.Load())} })
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.MaxRetries = 2 })
	msgs := []llm.Message{llm.User("q")}
	_, err := c.Chat(context.Background(), msgs)
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") || srv.Count() != 1 {
		t.Fatalf("400: %v after %d requests", err, srv.Count())
	}
	if strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("error leaks the key: %v", err)
	}
	status.Store(503)
	_, err = c.Chat(context.Background(), msgs)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || srv.Count() != 4 {
		t.Fatalf("503 forever: %v after %d requests (openai-go's own retries must be off)", err, srv.Count())
	}
	if st := c.Stats(); st.Failures != 2 || st.Requests != 4 || st.Retries != 2 || st.CacheHits != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSlowAnswerTimesOutAndIsRetried(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		if n == 0 {
			return llmtest.Reply{Delay: 20 * time.Second, Content: "late"}
		}
		return llmtest.Reply{Content: "on time"}
	})
	defer srv.Close()
	c, sl := newClient(t, srv, func(c *llm.Config) { c.Timeout = 500 * time.Millisecond })
	start := time.Now()
	got, err := c.Chat(context.Background(), []llm.Message{llm.User("q")})
	if err != nil || got != "on time" {
		t.Fatalf("%q %v", got, err)
	}
	if st := c.Stats(); st.Timeouts != 1 || st.Retries != 1 || st.Requests != 2 {
		t.Errorf("stats %+v", st)
	}
	if len(sl.all()) != 1 {
		t.Errorf("waits %v", sl.all())
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("the slow attempt was not cut at the timeout: %v", el)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	const limit = 3
	var inflight, peak atomic.Int32
	full := make(chan struct{})
	var once sync.Once
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		cur := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		if cur == limit {
			once.Do(func() { close(full) })
		}
		// The first requests wait until the limit is reached, so the peak is reached deterministically.
		select {
		case <-full:
		case <-time.After(5 * time.Second):
			return llmtest.Reply{Content: "never reached the limit"}
		}
		return llmtest.Reply{Content: r.Last()}
	})
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.Concurrency = limit; c.NoCache = true })
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := c.Chat(context.Background(), []llm.Message{llm.User(fmt.Sprint(i))})
			if err == nil && got != fmt.Sprint(i) {
				err = fmt.Errorf("answer %q", got)
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if peak.Load() != limit {
		t.Errorf("peak in flight %d, want %d", peak.Load(), limit)
	}
}

func TestRateLimitSpacesRequestStarts(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: "ok"} })
	defer srv.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, sl := newClient(t, srv, func(c *llm.Config) {
		c.RequestsPerSecond = 10
		c.Now = func() time.Time { return t0 } // a frozen clock: each start reserves the next 100 ms slot
		c.NoCache = true
	})
	for i := 0; i < 4; i++ {
		if _, err := c.Chat(context.Background(), []llm.Message{llm.User("x")}); err != nil {
			t.Fatal(err)
		}
	}
	w := sl.all()
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	if fmt.Sprint(w) != fmt.Sprint(want) {
		t.Errorf("rate-limit waits %v, want %v", w, want)
	}
}

func TestChatStream(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		if !r.Stream {
			return llmtest.Reply{Status: 400}
		}
		switch r.Last() {
		case "flaky":
			if n == 0 {
				return llmtest.Reply{Status: 502}
			}
		case "broken":
			return llmtest.Reply{Chunks: []string{"par", "tial"}, BreakStream: true}
		}
		return llmtest.Reply{Chunks: []string{"Hel", "lo", ", world"}}
	})
	defer srv.Close()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.MaxRetries = 2 })
	ctx := context.Background()
	for _, prompt := range []string{"flaky", "hi"} {
		var deltas []string
		got, err := c.ChatStream(ctx, []llm.Message{llm.User(prompt)}, func(d string) { deltas = append(deltas, d) })
		if err != nil || got != "Hello, world" || strings.Join(deltas, "|") != "Hel|lo|, world" {
			t.Errorf("%s: %q %v deltas %q", prompt, got, err, deltas)
		}
	}
	if st := c.Stats(); st.Requests != 3 || st.Retries != 1 {
		t.Errorf("stats %+v", st)
	}
	// Replayed from the cache as one delta; Chat shares the entry.
	var deltas []string
	got, err := c.ChatStream(ctx, []llm.Message{llm.User("hi")}, func(d string) { deltas = append(deltas, d) })
	if err != nil || got != "Hello, world" || len(deltas) != 1 || srv.Count() != 3 {
		t.Errorf("cached stream: %q %v %q, %d requests", got, err, deltas, srv.Count())
	}
	if got, _ := c.Chat(ctx, []llm.Message{llm.User("hi")}); got != "Hello, world" || srv.Count() != 3 {
		t.Errorf("Chat after stream: %q", got)
	}
	// A stream that breaks after delivering text is an error, not retried, not cached.
	got, err = c.ChatStream(ctx, []llm.Message{llm.User("broken")}, nil)
	if err == nil || got != "partial" || srv.Count() != 4 {
		t.Errorf("broken stream: %q %v, %d requests", got, err, srv.Count())
	}
}

func TestConfigFromEnvironmentAndRedaction(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: r.Authorization} })
	defer srv.Close()
	t.Setenv(llm.EnvBaseURL, srv.BaseURL())
	t.Setenv(llm.EnvAPIKey, "sk-from-env")
	if _, err := llm.New(llm.Config{}); err == nil || !strings.Contains(err.Error(), "model") {
		t.Errorf("no model: %v", err)
	}
	cfg := llm.Config{Model: "m", NoCache: true}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Chat(context.Background(), []llm.Message{llm.User("x")}); got != "Bearer sk-from-env" || err != nil {
		t.Errorf("env base URL and key: %q %v", got, err)
	}
	if _, err := c.Chat(context.Background(), []llm.Message{{Role: "tool", Content: "x"}}); err == nil {
		t.Error("unknown role accepted")
	}
	cfg.APIKey = "sk-visible?"
	b, _ := json.Marshal(cfg)
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), string(b)} {
		if strings.Contains(s, "sk-visible") {
			t.Errorf("key printed: %s", s)
		}
	}
}

// TestRejectedAnswersAreNotCached: an answer the caller's parser rejects comes back as a *RejectedError and
// is not cached, so a re-run against a server that now answers well asks again; a cached answer the parser
// rejects (cached before the check existed) is asked again too.
func TestRejectedAnswersAreNotCached(t *testing.T) {
	var good atomic.Bool
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		if good.Load() {
			return llmtest.Reply{Content: `{"score": 1}`}
		}
		return llmtest.Reply{Content: "I cannot answer that."}
	})
	defer srv.Close()
	dir := t.TempDir()
	c, _ := newClient(t, srv, func(c *llm.Config) { c.CacheDir = dir })
	isJSON := func(s string) error {
		if !strings.HasPrefix(s, "{") {
			return errors.New("no JSON")
		}
		return nil
	}
	req := llm.Request{Messages: []llm.Message{llm.User("q")}, Accept: isJSON}
	r, err := c.Complete(context.Background(), req)
	var rej *llm.RejectedError
	if !errors.As(err, &rej) || rej.Content != "I cannot answer that." || r.Content != rej.Content {
		t.Fatalf("rejected answer: %+v, %v", r, err)
	}
	good.Store(true)
	c2, _ := newClient(t, srv, func(c *llm.Config) { c.CacheDir = dir })
	if r, err := c2.Complete(context.Background(), req); err != nil || r.Cached || r.Content != `{"score": 1}` || srv.Count() != 2 {
		t.Fatalf("re-run after a rejected answer: %+v, %v, %d requests (want a new request)", r, err, srv.Count())
	}
	if r, err := c2.Complete(context.Background(), req); err != nil || !r.Cached || srv.Count() != 2 {
		t.Fatalf("an accepted answer is cached: %+v, %v, %d requests", r, err, srv.Count())
	}

	// A prose answer cached without a check is replaced once a check rejects it.
	good.Store(false)
	plain := llm.Request{Messages: []llm.Message{llm.User("other")}}
	if _, err := c2.Complete(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	good.Store(true)
	plain.Accept = isJSON
	if r, err := c2.Complete(context.Background(), plain); err != nil || r.Cached || srv.Count() != 4 {
		t.Fatalf("a cached answer the check rejects: %+v, %v, %d requests", r, err, srv.Count())
	}
}

// TestUpstreamErrorsAreRedacted: a 401 whose message echoes the Authorization header never carries the key
// into the error.
func TestUpstreamErrorsAreRedacted(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		return llmtest.Reply{Status: 401, Message: "invalid api key: " + r.Authorization + " (api_key=sk-secret-123)"}
	})
	defer srv.Close()
	c, _ := newClient(t, srv, nil)
	_, err := c.Chat(context.Background(), []llm.Message{llm.User("q")})
	if err == nil || strings.Contains(err.Error(), "secret-123") || !strings.Contains(err.Error(), "HTTP 401: invalid api key: Bearer [redacted]") {
		t.Errorf("error %v", err)
	}
}
