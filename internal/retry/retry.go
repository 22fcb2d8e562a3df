// Package retry runs a remote call again after transient failures: HTTP 408, 409, 429 and 5xx answers, timeouts
// and dropped connections. It waits with exponential backoff and jitter, or exactly as long as the server's
// Retry-After (or Retry-After-Ms) header asks. The clock is injectable so tests never sleep for real. It owns
// the policy only; the HTTP clients that use it (llm, teacher) decide what a failure is.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often and how long to wait. The zero value retries 5 times, starting at 1 s, doubling up to 60 s.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt (0 = use the default 5; negative = none).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff (defaults 1 s and 60 s).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps a server-directed delay; a longer one is waited for at most this long (default 5 min).
	MaxRetryAfter time.Duration
	// Sleep waits for d or until ctx is done (default: a timer). Tests pass a recorder that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) (default math/rand/v2). The backoff for attempt n is
	// b·(1+j)/2 with b = min(MaxBackoff, MinBackoff·2ⁿ): "equal jitter", never less than half of b.
	Jitter func() float64
}

// Retries is MaxRetries with the default applied.
func (p Policy) Retries() int {
	switch {
	case p.MaxRetries < 0:
		return 0
	case p.MaxRetries == 0:
		return 5
	}
	return p.MaxRetries
}

// Backoff is the delay before retry number attempt (0-based) when the server gave no Retry-After.
func (p Policy) Backoff(attempt int) time.Duration {
	lo, hi := p.MinBackoff, p.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	b := float64(lo) * math.Pow(2, float64(attempt))
	if b > float64(hi) {
		b = float64(hi)
	}
	j := rand.Float64()
	if p.Jitter != nil {
		j = p.Jitter()
	}
	return time.Duration(b * (1 + j) / 2)
}

// Error marks an error as transient. When Directed, After is the server's delay (Retry-After), honoured
// as is (capped by MaxRetryAfter); otherwise the backoff decides.
type Error struct {
	Err      error
	After    time.Duration
	Directed bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Transient wraps err as retryable after the backoff.
func Transient(err error) error { return &Error{Err: err} }

// TransientAfter wraps err as retryable after the server-directed delay d.
func TransientAfter(err error, d time.Duration) error {
	return &Error{Err: err, After: d, Directed: true}
}

// IsTransient reports whether err (or an error it wraps) was marked retryable.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Do calls fn until it succeeds, returns an error not marked Transient, the retries are spent or ctx is done.
// fn gets the 0-based attempt number. onRetry (may be nil) hears about each retry before its wait. The error
// after spent retries says how many attempts were made and wraps the last failure.
func (p Policy) Do(ctx context.Context, fn func(attempt int) error, onRetry func(attempt int, err error, wait time.Duration)) error {
	retries := p.Retries()
	for attempt := 0; ; attempt++ {
		err := fn(attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
		}
		if ctx.Err() != nil {
			return err
		}
		var te *Error
		if !errors.As(err, &te) {
			return err
		}
		if attempt >= retries {
			return fmt.Errorf("gave up after %d attempts: %w", attempt+1, te.Err)
		}
		wait := p.Backoff(attempt)
		if te.Directed {
			wait = min(te.After, p.maxRetryAfter())
		}
		if onRetry != nil {
			onRetry(attempt, te.Err, wait)
		}
		if err := p.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (while waiting to retry after: %v)", err, te.Err)
		}
	}
}

func (p Policy) maxRetryAfter() time.Duration {
	if p.MaxRetryAfter > 0 {
		return p.MaxRetryAfter
	}
	return 5 * time.Minute
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Sleep waits for d or until ctx is done, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// StatusTransient reports whether an HTTP status is worth retrying: 408, 409, 425, 429 and every 5xx.
func StatusTransient(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}

// After reads a server-directed delay from Retry-After-Ms (milliseconds) or Retry-After (seconds, possibly
// fractional, or an HTTP date, measured from now). ok is false when neither header holds a usable value.
func After(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if h == nil {
		return 0, false
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
