package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/index"
)

// sample returns the offline financial sample's distinct passages and its questions.
func sample(t testing.TB) ([]ir.Document, []string) {
	t.Helper()
	df, err := datasets.Load("../../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	ctxs, _ := datasets.Strings(df, "context")
	qs, _ := datasets.Strings(df, "question")
	ds, _, err := ir.FromPairs(qs, ctxs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds.Corpus, qs
}

type fixture struct {
	ix  *index.Index
	llm *llmtest.Server
	qs  []string
}

func newFixture(t testing.TB, reply func(llmtest.Request, int) llmtest.Reply) *fixture {
	t.Helper()
	docs, qs := sample(t)
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	e := &toymodel.Embedder{Dim: 64, Seed: 1}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	e.FitIDF(texts)
	ix, err := index.Build(context.Background(), index.Model{Embedder: e, Hash: "toy"}, docs, index.Options{Backend: b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ix: ix, qs: qs}
	if reply != nil {
		f.llm = llmtest.New(reply)
		t.Cleanup(f.llm.Close)
	}
	return f
}

func (f *fixture) pipeline(t testing.TB, rerank bool) *pipeline.Pipeline {
	t.Helper()
	cfg := pipeline.Config{Retriever: pipeline.Dense(f.ix), TopK: 20, TopN: 5}
	if rerank {
		cfg.Reranker = &toymodel.OverlapScorer{}
	}
	if f.llm != nil {
		c, err := llm.New(llm.Config{BaseURL: f.llm.BaseURL(), Model: "fake-chat", NoCache: true, MaxRetries: -1,
			Concurrency: 64, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cfg.LLM = c
	}
	p, err := pipeline.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func post(t testing.TB, url, body string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Post(url+"/ask", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("status %d: body is not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, m, resp.Header
}

func TestAskReturnsAnswerAndSources(t *testing.T) {
	f := newFixture(t, func(req llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: "Tacoma [1]."} })
	var logs bytes.Buffer
	s := New(f.pipeline(t, true), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Info: map[string]any{"docs": f.ix.Len()}})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	q := "Where is Halvorsen Marine headquartered?"
	code, body, hdr := post(t, ts.URL, `{"question": "`+q+`", "top_k": 10, "top_n": 3}`)
	if code != 200 {
		t.Fatalf("status %d: %v", code, body)
	}
	want, _ := f.pipeline(t, true).Do(context.Background(), pipeline.Request{Question: q, TopK: 10, TopN: 3, NoLLM: true}, nil)
	srcs := body["sources"].([]any)
	if len(srcs) != 3 || body["answer"] != "Tacoma [1]." || body["question"] != q || body["retrieved"] != 10.0 {
		t.Fatalf("body %v", body)
	}
	for i, s := range srcs {
		if id := s.(map[string]any)["doc_id"]; id != want.Sources[i].DocID {
			t.Errorf("source %d is %v, the pipeline gives %s", i, id, want.Sources[i].DocID)
		}
	}
	if tm := body["timings"].(map[string]any); tm["total_ms"].(float64) <= 0 {
		t.Errorf("timings %v", tm)
	}
	if !strings.Contains(hdr.Get("Server-Timing"), "rerank;dur=") {
		t.Errorf("Server-Timing %q", hdr.Get("Server-Timing"))
	}
	// no_llm returns the passages only.
	n := f.llm.Count()
	if code, body, _ := post(t, ts.URL, `{"question": "`+q+`", "no_llm": true}`); code != 200 || body["answer"] != "" || f.llm.Count() != n {
		t.Errorf("no_llm: %d %v", code, body)
	}
	// Health.
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h["status"] != "ok" || h["docs"] != float64(f.ix.Len()) || h["answered"] != 2.0 {
		t.Errorf("healthz %d %v", resp.StatusCode, h)
	}
	// The log has one line per request and never the question.
	if strings.Count(logs.String(), `"msg":"request"`) != 3 || strings.Contains(logs.String(), "Halvorsen") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	ts := httptest.NewServer(New(f.pipeline(t, false), Options{MaxBodyBytes: 1024, MaxTopK: 50}).Handler())
	defer ts.Close()
	big := `{"question": "` + strings.Repeat("x", 2000) + `"}`
	for _, c := range []struct {
		body string
		code int
		msg  string
	}{
		{big, 413, "over 1024 bytes"},
		{`{"question": "unterminated`, 400, "bad JSON"},
		{`not json`, 400, "bad JSON"},
		{`{"question": "q", "temperature": 2}`, 400, "unknown field"},
		{`{"question": "q"} {"question": "again"}`, 400, "more than one"},
		{`{"top_k": 3}`, 400, "question"},
		{`{"question": "q", "top_k": 500}`, 400, "capped at 50"},
		{`{"question": "q", "top_k": -1}`, 400, "positive"},
		{`{"question": "q", "top_k": 2, "top_n": 3}`, 400, "exceeds"},
	} {
		code, body, _ := post(t, ts.URL, c.body)
		if code != c.code || !strings.Contains(fmt.Sprint(body["error"]), c.msg) {
			t.Errorf("%.40q: %d %v, want %d with %q", c.body, code, body, c.code, c.msg)
		}
	}
	resp, _ := http.Get(ts.URL + "/ask")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /ask: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// TestLLMFailureIs502WithSources: the chat model's failure is a 502 with the sources and a generic error;
// the upstream URL and what the upstream said (here it echoes the key) reach only the log, redacted.
func TestLLMFailureIs502WithSources(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-serve-secret-777")
	f := newFixture(t, func(r llmtest.Request, _ int) llmtest.Reply {
		return llmtest.Reply{Status: 401, Message: "invalid api key: " + r.Authorization}
	})
	var logs bytes.Buffer
	ts := httptest.NewServer(New(f.pipeline(t, true), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}).Handler())
	defer ts.Close()
	code, body, _ := post(t, ts.URL, `{"question": "What does Brightwater Analytics sell?"}`)
	raw, _ := json.Marshal(body)
	if code != 502 || len(body["sources"].([]any)) != 5 || !strings.Contains(body["error"].(string), "upstream error") ||
		strings.Contains(string(raw), "secret-777") || strings.Contains(string(raw), f.llm.URL) || strings.Contains(string(raw), "127.0.0.1") {
		t.Errorf("LLM failure: %d %s", code, raw)
	}
	if l := logs.String(); !strings.Contains(l, "HTTP 401: invalid api key: Bearer [redacted]") || strings.Contains(l, "secret-777") {
		t.Errorf("log:\n%s", l)
	}
}

// TestBearerTokenGuardsAsk: with an AuthToken, /ask needs it and /healthz stays open.
func TestBearerTokenGuardsAsk(t *testing.T) {
	f := newFixture(t, nil)
	ts := httptest.NewServer(New(f.pipeline(t, false), Options{AuthToken: "let-me-in"}).Handler())
	defer ts.Close()
	for _, c := range []struct {
		header string
		code   int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer let-me-i", 401}, {"let-me-in", 401}, {"Bearer let-me-in", 200}} {
		req, _ := http.NewRequest("POST", ts.URL+"/ask", strings.NewReader(`{"question": "q", "no_llm": true}`))
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("Authorization %q: %d, want %d", c.header, resp.StatusCode, c.code)
		}
	}
	if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz without a token: %v %v", resp, err)
	}
}

// TestHealthzHidesPathsAndTopKAloneLowersTopN: /healthz names an index folder, not where it lives; a
// request's top_k below the default top_n is answered with top_k passages.
func TestHealthzHidesPathsAndTopKAloneLowersTopN(t *testing.T) {
	f := newFixture(t, nil)
	dir := filepath.Join(t.TempDir(), "filings.ix")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(f.pipeline(t, false), Options{Info: map[string]any{"index": dir,
		"model": "models/run3", "llm": "gpt-4o-mini", "docs": 7}}).Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h map[string]any
	json.Unmarshal(b, &h)
	if strings.Contains(string(b), filepath.Dir(dir)) || h["index"] != "filings.ix" || h["llm"] != "gpt-4o-mini" || h["docs"] != 7.0 {
		t.Errorf("healthz %s", b)
	}
	code, body, _ := post(t, ts.URL, `{"question": "What does Brightwater Analytics sell?", "top_k": 1, "no_llm": true}`)
	if code != 200 || len(body["sources"].([]any)) != 1 {
		t.Errorf("top_k 1 alone: %d %v", code, body)
	}
}

func TestTimeoutReturnsRetrievalResults(t *testing.T) {
	f := newFixture(t, func(llmtest.Request, int) llmtest.Reply {
		return llmtest.Reply{Content: "late", Delay: 3 * time.Second}
	})
	ts := httptest.NewServer(New(f.pipeline(t, false), Options{Timeout: 200 * time.Millisecond}).Handler())
	defer ts.Close()
	start := time.Now()
	code, body, _ := post(t, ts.URL, `{"question": "Who is the CEO of Larkspur Foods?"}`)
	if code != 504 || len(body["sources"].([]any)) != 5 || !strings.Contains(body["error"].(string), "timed out after 200ms") {
		t.Errorf("timeout: %d %v", code, body)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the timeout did not cut the slow model off: %v", el)
	}
}

func TestOverloadIs503(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, func(llmtest.Request, int) llmtest.Reply {
		<-release
		return llmtest.Reply{Content: "ok [1]"}
	})
	ts := httptest.NewServer(New(f.pipeline(t, false), Options{MaxConcurrent: 1, MaxQueue: 1}).Handler())
	defer ts.Close()
	codes := make(chan int, 3)
	for i := 0; i < 2; i++ {
		go func() {
			c, _, _ := post(t, ts.URL, `{"question": "dividend policy"}`)
			codes <- c
		}()
	}
	// Wait until one runs (the fake model holds it) and one waits.
	deadline := time.Now().Add(5 * time.Second)
	for f.llm.Count() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	code, body, hdr := post(t, ts.URL, `{"question": "third"}`)
	if code != 503 || hdr.Get("Retry-After") != "1" || !strings.Contains(body["error"].(string), "overloaded") {
		t.Errorf("third request: %d %v", code, body)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if c := <-codes; c != 200 {
			t.Errorf("admitted request got %d", c)
		}
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	f := newFixture(t, func(llmtest.Request, int) llmtest.Reply {
		return llmtest.Reply{Content: "slow but fine [1]", Delay: 400 * time.Millisecond}
	})
	s := New(f.pipeline(t, false), Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	result := make(chan int, 1)
	go func() {
		c, _, _ := post(t, url, `{"question": "revenue by segment"}`)
		result <- c
	}()
	for f.llm.Count() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // SIGTERM: the request in flight must still get its answer
	if c := <-result; c != 200 {
		t.Errorf("in-flight request got %d during shutdown", c)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := http.Post(url+"/ask", "application/json", strings.NewReader(`{"question":"x"}`)); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
	if !s.draining.Load() {
		t.Error("not marked draining")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "shutting down") {
		t.Errorf("healthz while draining: %d %s", rec.Code, rec.Body)
	}
}

// TestLoad200Concurrent: 200 simultaneous questions from the financial sample over loopback, with the
// reranker and the (in-process) chat model; every one must be answered 200 with sources and an answer.
func TestLoad200Concurrent(t *testing.T) {
	f := newFixture(t, func(req llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: "answer [1]"} })
	lat, codes := loadTest(t, f, New(f.pipeline(t, true), Options{}), 200, 1)
	for code, n := range codes {
		if code != 200 {
			t.Errorf("%d responses with status %d", n, code)
		}
	}
	if codes[200] != 200 || f.llm.Count() != 200 {
		t.Errorf("%d answered, %d chat requests; want 200 each", codes[200], f.llm.Count())
	}
	t.Logf("p50 %v p99 %v", percentile(lat, 50), percentile(lat, 99))
}

// loadTest starts s on loopback and sends n concurrent clients × per requests; it returns the latencies and
// the count of each status code (-1 for transport errors).
func loadTest(t testing.TB, f *fixture, s *Server, n, per int) ([]time.Duration, map[int]int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}, Timeout: 2 * time.Minute}
	defer func() {
		// Connections the client dialled but never used look "new" to the server, and Shutdown waits 5 s
		// before treating those as idle; closing them first keeps the test quick.
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/ask"
	var mu sync.Mutex
	var lat []time.Duration
	codes := map[int]int{}
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Go(func() {
			<-startGate
			for j := 0; j < per; j++ {
				q := f.qs[(i*per+j)%len(f.qs)]
				body, _ := json.Marshal(AskRequest{Question: q})
				t0 := time.Now()
				code := -1
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					var a pipeline.Answer
					if json.NewDecoder(resp.Body).Decode(&a) == nil && (resp.StatusCode != 200 || len(a.Sources) > 0) {
						code = resp.StatusCode
					}
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				codes[code]++
				mu.Unlock()
			}
		})
	}
	close(startGate)
	wg.Wait()
	return lat, codes
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// BenchmarkServe200Concurrent: 200 concurrent clients × 5 questions each over loopback against `Serve`,
// corpus = the financial sample's 223 passages, toy 64-d embedder (exact search on the shared backend),
// top 20 → 5. Variants: retrieval only; + word-overlap reranker + in-process chat model answering at once;
// the same with the micro-batching retriever. Reports p50/p99 latency (ms) and requests/s.
func BenchmarkServe200Concurrent(b *testing.B) {
	for _, v := range []struct {
		name           string
		rerank, llm    bool
		batch          bool
		concurrentSlot int
	}{
		{"retrieve", false, false, false, 0},
		{"retrieve+rerank+llm", true, true, false, 0},
		{"batched+rerank+llm", true, true, true, 64},
	} {
		b.Run(v.name, func(b *testing.B) {
			var reply func(llmtest.Request, int) llmtest.Reply
			if v.llm {
				reply = func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "answer [1]"} }
			}
			f := newFixture(b, reply)
			p := f.pipeline(b, v.rerank)
			if v.batch {
				cfg := p.Config()
				cfg.Retriever = pipeline.Batched(cfg.Retriever, 64, 2*time.Millisecond)
				p, _ = pipeline.Build(cfg)
			}
			if _, err := p.Do(context.Background(), pipeline.Request{Question: f.qs[0]}, nil); err != nil { // warm up
				b.Fatal(err)
			}
			var all []time.Duration
			errs := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				lat, codes := loadTest(b, f, New(p, Options{MaxConcurrent: v.concurrentSlot}), 200, 5)
				all = append(all, lat...)
				errs += len(lat) - codes[200]
			}
			b.ReportMetric(float64(percentile(all, 50))/1e6, "p50-ms")
			b.ReportMetric(float64(percentile(all, 99))/1e6, "p99-ms")
			b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(errs), "errors")
		})
	}
}
