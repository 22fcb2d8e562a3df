// Package weaviate keeps a ragnb corpus in a Weaviate collection and searches it there: a small client for
// Weaviate's REST and GraphQL API over net/http (schema, batch import, cursor listing, batch delete,
// nearVector and hybrid queries), the record of the model a collection was written with, idempotent pushes
// (object UUIDs derived from document ids) and a searcher that embeds questions with that model.
//
// It owns the wire format and the collection's ragnb record. It does not own embedding (vector.Embedder), the
// local index format (retrieval/index) or answering (package pipeline, which adapts Searcher to its
// Retriever). The official Go client is not used: it pulls gRPC and protobuf into every program that links
// this package, notebook cells included, for the five endpoints used here.
package weaviate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ragnb/ragnb/internal/retry"
)

// Options configure a Client.
type Options struct {
	// APIKey is sent as a bearer token when set. It never appears in errors.
	APIKey string
	// HTTP is the client used (default: one with a 60 s timeout per request).
	HTTP *http.Client
	// Retry is the policy for transient failures (429, 5xx, dropped connections); the zero value retries 5
	// times from 1 s.
	Retry retry.Policy
}

// Client talks to one Weaviate server.
type Client struct {
	base  *url.URL
	key   string
	http  *http.Client
	retry retry.Policy
}

// New returns a client for the server at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("weaviate: bad server URL %q (want http://host:port)", baseURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("weaviate: put credentials in an API key variable, not in the URL")
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: u, key: o.APIKey, http: hc, retry: o.Retry}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// StatusError is an answer other than the one expected.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("weaviate: %s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// do sends one request (retrying transient failures) and decodes a JSON answer into out (nil: discard).
// want lists the accepted statuses; a 404 outside it is a *StatusError the caller may test for.
func (c *Client) do(ctx context.Context, method, path string, body, out any, want ...int) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("weaviate: %s %s: %w", method, path, err)
		}
	}
	return c.retry.Do(ctx, func(int) error {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
		if err != nil {
			return fmt.Errorf("weaviate: %w", err)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A refused or dropped connection: the server may be restarting.
			return retry.Transient(fmt.Errorf("weaviate: %s %s: %w", method, path, redactURL(err)))
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return retry.Transient(fmt.Errorf("weaviate: %s %s: read answer: %w", method, path, err))
		}
		for _, w := range want {
			if resp.StatusCode != w {
				continue
			}
			if out == nil || len(bytes.TrimSpace(b)) == 0 {
				return nil
			}
			if err := json.Unmarshal(b, out); err != nil {
				return fmt.Errorf("weaviate: %s %s: decode answer: %w", method, path, err)
			}
			return nil
		}
		se := &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: clip(string(b), 400)}
		if retry.StatusTransient(resp.StatusCode) {
			if d, ok := retry.After(resp.Header, time.Now()); ok {
				return retry.TransientAfter(se, d)
			}
			return retry.Transient(se)
		}
		return se
	}, nil)
}

// redactURL drops the request URL from a transport error (it would repeat the server address only, but a
// proxy URL could carry credentials).
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Ready reports whether the server answers /v1/.well-known/ready with 200 (one try, no retries).
func (c *Client) Ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/v1/.well-known/ready", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("weaviate: %s not ready: %w", c.base, redactURL(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("weaviate: %s not ready: HTTP %d", c.base, resp.StatusCode)
	}
	return nil
}

// WaitReady polls Ready every 200 ms until it succeeds or timeout passes.
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := c.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waited %s)", err, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var className = regexp.MustCompile(`^[A-Z][_0-9A-Za-z]*$`)

// CollectionName turns a free name (an index directory's base name) into a valid Weaviate class name: letters,
// digits and underscores, the first letter upper case (Weaviate capitalises it anyway).
func CollectionName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := strings.Trim(b.String(), "_")
	if n == "" || n[0] < 'A' || (n[0] > 'Z' && n[0] < 'a') || n[0] > 'z' {
		n = "Ragnb_" + n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// CheckCollectionName says why name is not a class name Weaviate accepts as written.
func CheckCollectionName(name string) error {
	if !className.MatchString(name) {
		return fmt.Errorf("weaviate: collection name %q: want a capital letter then letters, digits or _ (e.g. %s)", name, CollectionName(name))
	}
	return nil
}
