package redact

import (
	"errors"
	"strings"
	"testing"
)

func TestSecretsRemovesCredentialsAndKeepsTheMessage(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP 401: invalid api key: Bearer sk-proj-AbC123xyz789", "HTTP 401: invalid api key: Bearer [redacted]"},
		{`{"error": "Incorrect API key provided: sk-abcdef1234567890."}`, `{"error": "Incorrect API key provided: sk-[redacted]."}`},
		{"GET /v1/rerank?api_key=s3cr3t&model=x failed", "GET /v1/rerank?api_key=[redacted]&model=x failed"},
		{`{"Authorization": "Bearer abc.def.ghi"}`, `{"Authorization": "[redacted] [redacted]"}`},
		{`"x-api-key":"k-998877"`, `"x-api-key":"[redacted]"`},
		{"token hf_abcdefghijklmnop rejected", "token [redacted] rejected"},
		{"push with hf_abcdefghijklmnop", "push with hf_[redacted]"},
		{"chat at https://user:pa55@llm.example/v1: refused", "chat at https://[redacted]@llm.example/v1: refused"},
		{"HTTP 500: upstream overloaded, retry in 3 s", "HTTP 500: upstream overloaded, retry in 3 s"},
		{"the task-force reported", "the task-force reported"},
		{"the token limit of 4096 was exceeded", "the token limit of 4096 was exceeded"},
	} {
		got := Secrets(tc.in)
		if got != tc.want {
			t.Errorf("Secrets(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if again := Secrets(got); again != got {
			t.Errorf("not idempotent: %q → %q", got, again)
		}
	}
	err := Error(errors.New("HTTP 401: Bearer sk-live-1234567890"))
	if strings.Contains(err.Error(), "1234567890") || errors.Unwrap(err) != nil || Error(nil) != nil {
		t.Errorf("Error: %v", err)
	}
}
