package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ragnb/ragnb/internal/redact"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/ragnb/ragnb/internal/diskkv"
	"github.com/ragnb/ragnb/internal/retry"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// System, User and Assistant build messages of that role.
func System(content string) Message    { return Message{Role: "system", Content: content} }
func User(content string) Message      { return Message{Role: "user", Content: content} }
func Assistant(content string) Message { return Message{Role: "assistant", Content: content} }

// Request is one chat completion to make.
type Request struct {
	Messages []Message
	// Attempt salts the cache key without being sent. A caller that got an unusable answer (say, not JSON)
	// asks again with Attempt+1.
	Attempt int
	// Accept, when set, checks an answer's content (the caller's parser): an answer it rejects is returned
	// with a *RejectedError and is not cached, and a cached answer it rejects (one cached before the check,
	// or by an older parser) is asked again. So the cache holds only usable answers, and a re-run against a
	// server that now answers well retries what failed instead of replaying the failure.
	Accept func(content string) error
}

// RejectedError is Complete's error for an answer that Request.Accept rejected: the server answered, the
// answer is unusable. Callers ask again with Attempt+1, or give up naming Err.
type RejectedError struct {
	Content string
	Err     error
}

func (e *RejectedError) Error() string { return "unusable answer: " + e.Err.Error() }

func (e *RejectedError) Unwrap() error { return e.Err }

// Response is the answer to a Request.
type Response struct {
	Content      string `json:"content"`
	FinishReason string `json:"finish_reason,omitempty"`
	// Cached is true when the answer came from the disk cache (no request made).
	Cached           bool `json:"-"`
	PromptTokens     int  `json:"prompt_tokens,omitempty"`
	CompletionTokens int  `json:"completion_tokens,omitempty"`
}

// Stats counts what a Client did. Requests counts HTTP attempts: Requests = Answers + Failures + Retries,
// less the failed calls that were cancelled before their first attempt. CacheHits are answers served from disk.
type Stats struct {
	Requests, CacheHits, Retries, Failures  int
	RateLimited, ServerErrors, Timeouts     int
	PromptTokens, CompletionTokens, Answers int
}

// Sub is s − o, for the work done between two snapshots.
func (s Stats) Sub(o Stats) Stats {
	return Stats{s.Requests - o.Requests, s.CacheHits - o.CacheHits, s.Retries - o.Retries, s.Failures - o.Failures,
		s.RateLimited - o.RateLimited, s.ServerErrors - o.ServerErrors, s.Timeouts - o.Timeouts,
		s.PromptTokens - o.PromptTokens, s.CompletionTokens - o.CompletionTokens, s.Answers - o.Answers}
}

type counters struct {
	requests, cacheHits, retries, failures atomic.Int64
	rateLimited, serverErrors, timeouts    atomic.Int64
	promptTokens, completionTokens, answer atomic.Int64
}

// Client talks to one model on one endpoint. It is safe for concurrent use; Concurrency bounds the requests
// in flight across all callers.
type Client struct {
	cfg    Config
	oa     openai.Client
	store  *diskkv.Store
	sem    chan struct{}
	lim    *limiter
	policy retry.Policy
	n      counters
}

// New checks cfg, fills defaults (see Config) and builds a client. Nothing is sent until the first call.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(string(cfg.APIKey)),
		option.WithMaxRetries(0), // retries are ours: counted, Retry-After honoured, clock injectable
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	c := &Client{
		cfg: cfg,
		oa:  openai.NewClient(opts...),
		sem: make(chan struct{}, cfg.Concurrency),
		policy: retry.Policy{MaxRetries: cfg.MaxRetries, MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff,
			Sleep: cfg.Sleep},
	}
	if !cfg.NoCache {
		c.store = &diskkv.Store{Dir: cfg.CacheDir}
	}
	if cfg.RequestsPerSecond > 0 {
		c.lim = &limiter{interval: time.Duration(float64(time.Second) / cfg.RequestsPerSecond), now: cfg.Now,
			sleep: c.sleep}
	}
	return c, nil
}

// Model is the model this client asks.
func (c *Client) Model() string { return c.cfg.Model }

// Concurrency is the number of requests the client keeps in flight at most; callers size worker pools by it.
func (c *Client) Concurrency() int { return c.cfg.Concurrency }

// CacheDir is where answers are cached ("" when the cache is off).
func (c *Client) CacheDir() string {
	if c.store == nil {
		return ""
	}
	return c.store.Dir
}

// Stats is a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{int(c.n.requests.Load()), int(c.n.cacheHits.Load()), int(c.n.retries.Load()),
		int(c.n.failures.Load()), int(c.n.rateLimited.Load()), int(c.n.serverErrors.Load()),
		int(c.n.timeouts.Load()), int(c.n.promptTokens.Load()), int(c.n.completionTokens.Load()),
		int(c.n.answer.Load())}
}

// Chat sends messages and returns the answer text.
func (c *Client) Chat(ctx context.Context, messages []Message) (string, error) {
	r, err := c.Complete(ctx, Request{Messages: messages})
	return r.Content, err
}

// cacheKey is what identifies an answer: the model, the messages and every parameter that changes the answer.
// The base URL and the API key are deliberately not part of it.
type cacheKey struct {
	Version     int       `json:"v"`
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature *float64  `json:"temperature,omitempty"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Seed        int       `json:"seed,omitempty"`
	JSONMode    bool      `json:"json_mode,omitempty"`
	Attempt     int       `json:"attempt,omitempty"`
}

type cacheEntry struct {
	Key      cacheKey  `json:"key"`
	Response Response  `json:"response"`
	Created  time.Time `json:"created"`
}

func (c *Client) key(req Request) cacheKey {
	k := cacheKey{Version: 1, Model: c.cfg.Model, Messages: req.Messages, MaxTokens: c.cfg.MaxTokens,
		Seed: c.cfg.Seed, JSONMode: c.cfg.JSONMode, Attempt: req.Attempt}
	if c.cfg.Temperature >= 0 {
		t := c.cfg.Temperature
		k.Temperature = &t
	}
	return k
}

// lookup returns the cached answer for key, if any.
func (c *Client) lookup(key cacheKey) (hash string, r Response, ok bool, err error) {
	if c.store == nil {
		return "", r, false, nil
	}
	hash, err = diskkv.Hash(key)
	if err != nil {
		return "", r, false, err
	}
	var e cacheEntry
	found, err := c.store.Get(hash, &e)
	if err != nil || !found {
		return hash, r, false, err
	}
	c.n.cacheHits.Add(1)
	e.Response.Cached = true
	return hash, e.Response, true, nil
}

func (c *Client) save(hash string, key cacheKey, r Response) error {
	if c.store == nil {
		return nil
	}
	return c.store.Put(hash, cacheEntry{Key: key, Response: r, Created: c.cfg.Now().UTC()})
}

func (c *Client) params(msgs []Message) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: shared.ChatModel(c.cfg.Model)}
	for _, m := range msgs {
		switch m.Role {
		case "system":
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case "assistant":
			p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
		default:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		}
	}
	if c.cfg.Temperature >= 0 {
		p.Temperature = openai.Float(c.cfg.Temperature)
	}
	if c.cfg.MaxTokens > 0 {
		p.MaxTokens = openai.Int(int64(c.cfg.MaxTokens))
	}
	if c.cfg.Seed != 0 {
		p.Seed = openai.Int(int64(c.cfg.Seed))
	}
	if c.cfg.JSONMode {
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	return p
}

func checkMessages(msgs []Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("llm: no messages")
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return fmt.Errorf("llm: message %d has role %q (want system, user or assistant)", i, m.Role)
		}
	}
	return nil
}

// Complete answers req from the cache, or asks the server (retrying transient failures) and caches the answer.
// Only answers are cached, never failures nor answers that req.Accept rejects, so a re-run asks again for what
// failed.
func (c *Client) Complete(ctx context.Context, req Request) (Response, error) {
	if err := checkMessages(req.Messages); err != nil {
		return Response{}, err
	}
	key := c.key(req)
	hash, r, ok, err := c.lookup(key)
	if err != nil {
		return Response{}, err
	}
	if ok && (req.Accept == nil || req.Accept(r.Content) == nil) {
		return r, nil
	}
	params := c.params(req.Messages)
	err = c.policy.Do(ctx, func(attempt int) error {
		release, err := c.acquire(ctx)
		if err != nil {
			return err
		}
		defer release()
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		c.n.requests.Add(1)
		out, err := c.oa.Chat.Completions.New(actx, params)
		if err != nil {
			return c.classify(ctx, err)
		}
		if len(out.Choices) == 0 {
			return fmt.Errorf("the server answered with no choices")
		}
		r = Response{Content: out.Choices[0].Message.Content, FinishReason: out.Choices[0].FinishReason,
			PromptTokens: int(out.Usage.PromptTokens), CompletionTokens: int(out.Usage.CompletionTokens)}
		return nil
	}, c.onRetry)
	if err != nil {
		c.n.failures.Add(1)
		return Response{}, fmt.Errorf("chat %s at %s: %w", c.cfg.Model, redact.Secrets(c.cfg.BaseURL), err)
	}
	c.count(r)
	if req.Accept != nil {
		if err := req.Accept(r.Content); err != nil {
			return r, &RejectedError{Content: r.Content, Err: err}
		}
	}
	if err := c.save(hash, key, r); err != nil {
		return r, err
	}
	return r, nil
}

// ChatStream sends messages and calls onDelta with each piece of the answer as it arrives; it returns the
// whole answer. A cached answer is delivered as one delta. Failures before the first delta are retried like
// Complete's; a stream that breaks after text was delivered is an error (the text cannot be taken back).
func (c *Client) ChatStream(ctx context.Context, messages []Message, onDelta func(string)) (string, error) {
	if err := checkMessages(messages); err != nil {
		return "", err
	}
	if onDelta == nil {
		onDelta = func(string) {}
	}
	req := Request{Messages: messages}
	key := c.key(req)
	hash, r, ok, err := c.lookup(key)
	if err != nil {
		return "", err
	}
	if ok {
		onDelta(r.Content)
		return r.Content, nil
	}
	params := c.params(messages)
	var sb strings.Builder
	err = c.policy.Do(ctx, func(attempt int) error {
		release, err := c.acquire(ctx)
		if err != nil {
			return err
		}
		defer release()
		actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		c.n.requests.Add(1)
		stream := c.oa.Chat.Completions.NewStreaming(actx, params)
		defer stream.Close()
		for stream.Next() {
			chunk := stream.Current()
			if len(chunk.Choices) > 0 {
				ch := chunk.Choices[0]
				if d := ch.Delta.Content; d != "" {
					sb.WriteString(d)
					onDelta(d)
				}
				if ch.FinishReason != "" {
					r.FinishReason = ch.FinishReason
				}
			}
			if chunk.Usage.CompletionTokens > 0 {
				r.PromptTokens, r.CompletionTokens = int(chunk.Usage.PromptTokens), int(chunk.Usage.CompletionTokens)
			}
		}
		if err := stream.Err(); err != nil {
			if sb.Len() > 0 {
				return fmt.Errorf("stream broke after %d bytes: %w", sb.Len(), err)
			}
			return c.classify(ctx, err)
		}
		return nil
	}, c.onRetry)
	if err != nil {
		c.n.failures.Add(1)
		return sb.String(), fmt.Errorf("chat stream %s at %s: %w", c.cfg.Model, redact.Secrets(c.cfg.BaseURL), err)
	}
	r.Content = sb.String()
	c.count(r)
	return r.Content, c.save(hash, key, r)
}

func (c *Client) count(r Response) {
	c.n.answer.Add(1)
	c.n.promptTokens.Add(int64(r.PromptTokens))
	c.n.completionTokens.Add(int64(r.CompletionTokens))
}

func (c *Client) onRetry(int, error, time.Duration) { c.n.retries.Add(1) }

// classify turns an attempt's error into a transient one (retried) or a permanent one.
func (c *Client) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		msg := fmt.Errorf("HTTP %d", apiErr.StatusCode)
		if apiErr.Message != "" {
			// Servers echo the request's credentials ("invalid api key: Bearer sk-…"): redact before the
			// text reaches an error, a summary or a log.
			msg = fmt.Errorf("HTTP %d: %s", apiErr.StatusCode, redact.Secrets(apiErr.Message))
		}
		if !retry.StatusTransient(apiErr.StatusCode) {
			return msg
		}
		if apiErr.StatusCode == 429 {
			c.n.rateLimited.Add(1)
		} else if apiErr.StatusCode >= 500 {
			c.n.serverErrors.Add(1)
		}
		if apiErr.Response != nil {
			if d, ok := retry.After(apiErr.Response.Header, c.cfg.Now()); ok {
				return retry.TransientAfter(msg, d)
			}
		}
		return retry.Transient(msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		c.n.timeouts.Add(1)
		return retry.Transient(fmt.Errorf("no answer within %v", c.cfg.Timeout))
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
		return retry.Transient(err)
	}
	return err
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.cfg.Sleep != nil {
		return c.cfg.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
}

// acquire waits for a concurrency slot and then for the rate limiter.
func (c *Client) acquire(ctx context.Context) (release func(), err error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release = func() { <-c.sem }
	if c.lim != nil {
		if err := c.lim.wait(ctx); err != nil {
			release()
			return nil, err
		}
	}
	return release, nil
}

// limiter spaces request starts interval apart: each caller reserves the next free slot and waits for it.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	return l.sleep(ctx, slot.Sub(now))
}
