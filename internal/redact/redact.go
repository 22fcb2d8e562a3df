// Package redact removes credentials from text that came from elsewhere — an upstream server's error body,
// a URL a user typed — before it reaches an error, a log line, a summary file or an HTTP response. Servers
// echo what they were sent ("invalid api key: Bearer sk-…"), so every message built from an upstream answer
// goes through Secrets. It recognises the shapes of credentials, not particular values: bearer tokens, keys
// with a known prefix (sk-, hf_, ghp_, AIza…), key=value and "key": "value" pairs named like a secret, and
// passwords in URLs.
package redact

import "regexp"

// Mask replaces what a secret was.
const Mask = "[redacted]"

// rule is one credential shape and its replacement (which keeps the label, so the message still says what
// was wrong).
type rule struct {
	re   *regexp.Regexp
	repl string
}

func rules() []rule {
	return []rule{
		{regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[^\s"',;}\[]+`), "${1}${2}" + Mask},
		// "token X" only when X looks like a credential, so "the token limit" stays readable.
		{regexp.MustCompile(`(?i)\b(token)(\s+)[A-Za-z0-9._\-]{16,}`), "${1}${2}" + Mask},
		{regexp.MustCompile(`\b(sk|rk|pk)-[A-Za-z0-9_\-]{6,}`), "${1}-" + Mask},
		{regexp.MustCompile(`\b(hf|ghp|gho|ghs|github_pat|xox[abp])_[A-Za-z0-9_]{8,}`), "${1}_" + Mask},
		{regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{20,}`), Mask},
		{regexp.MustCompile(`(?i)\b((?:x-)?api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|secret|password|passwd|authorization)(["']?\s*[:=]\s*["']?)([^\s"'&,;}\[]+)`),
			"${1}${2}" + Mask},
		{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@`), "${1}" + Mask + "@"},
	}
}

// Secrets returns s with every credential it recognises replaced by Mask. It is idempotent.
func Secrets(s string) string {
	for _, r := range rules() {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// Error is err with its message passed through Secrets (nil stays nil). The result does not wrap err:
// unwrapping would hand the unredacted text back to whoever prints the chain.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return redacted(Secrets(err.Error()))
}

type redacted string

func (e redacted) Error() string { return string(e) }
