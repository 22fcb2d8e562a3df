package retry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAfterHeaders(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second, true},
		{http.Header{"Retry-After": {"0.25"}}, 250 * time.Millisecond, true},
		{http.Header{"Retry-After": {"0"}}, 0, true},
		{http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"9"}}, 1500 * time.Millisecond, true},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second, true},
		{http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{"Retry-After": {"-3"}}, 0, false},
		{http.Header{}, 0, false},
		{nil, 0, false},
	} {
		got, ok := After(tc.h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("After(%v) = %v, %v; want %v, %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffDoublesWithinJitterBounds(t *testing.T) {
	p := Policy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for _, j := range []float64{0, 0.5, 0.999} {
		p.Jitter = func() float64 { return j }
		for attempt, base := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
			base *= time.Millisecond
			want := time.Duration(float64(base) * (1 + j) / 2)
			if got := p.Backoff(attempt); got != want {
				t.Errorf("jitter %v attempt %d: %v, want %v", j, attempt, got, want)
			}
		}
	}
}

func TestStatusTransient(t *testing.T) {
	for code, want := range map[int]bool{200: false, 400: false, 401: false, 404: false, 422: false,
		408: true, 409: true, 429: true, 500: true, 502: true, 503: true, 504: true} {
		if StatusTransient(code) != want {
			t.Errorf("StatusTransient(%d) = %v", code, !want)
		}
	}
}

func TestDoHonoursRetryAfterAndGivesUp(t *testing.T) {
	var slept []time.Duration
	p := Policy{MaxRetries: 3, MinBackoff: 10 * time.Millisecond, MaxRetryAfter: 20 * time.Second,
		Jitter: func() float64 { return 0 },
		Sleep:  func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	boom := errors.New("503")
	calls := 0
	var retried []int
	err := p.Do(context.Background(), func(attempt int) error {
		if attempt != calls {
			t.Errorf("attempt %d on call %d", attempt, calls)
		}
		calls++
		switch attempt {
		case 0:
			return TransientAfter(boom, 7*time.Second)
		case 1:
			return TransientAfter(boom, time.Hour) // capped by MaxRetryAfter
		default:
			return Transient(boom)
		}
	}, func(attempt int, err error, wait time.Duration) { retried = append(retried, attempt) })
	if calls != 4 || !errors.Is(err, boom) || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("calls %d, err %v", calls, err)
	}
	// waits: Retry-After 7 s, capped 20 s, backoff 10ms·2²·(1+0)/2 = 20 ms.
	want := []time.Duration{7 * time.Second, 20 * time.Second, 20 * time.Millisecond}
	if len(slept) != len(want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	for i := range want {
		if slept[i] != want[i] {
			t.Errorf("wait %d = %v, want %v", i, slept[i], want[i])
		}
	}
	if len(retried) != 3 {
		t.Errorf("onRetry called for %v", retried)
	}
}

func TestDoStopsOnPermanentErrorAndCancel(t *testing.T) {
	p := Policy{Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	perm := errors.New("400 bad request")
	calls := 0
	if err := p.Do(context.Background(), func(int) error { calls++; return perm }, nil); err != perm || calls != 1 {
		t.Errorf("permanent: calls %d err %v", calls, err)
	}
	calls = 0
	if err := p.Do(context.Background(), func(a int) error {
		calls++
		if a < 2 {
			return Transient(errors.New("x"))
		}
		return nil
	}, nil); err != nil || calls != 3 {
		t.Errorf("recovering: calls %d err %v", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.Sleep = nil // the real timer, cancelled before it fires
	calls = 0
	err := p.Do(ctx, func(int) error { calls++; cancel(); return Transient(errors.New("x")) }, nil)
	if calls != 1 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "x") {
		t.Errorf("cancelled: calls %d err %v", calls, err)
	}
	if (Policy{MaxRetries: -1}).Retries() != 0 || (Policy{}).Retries() != 5 {
		t.Error("Retries defaults")
	}
}
