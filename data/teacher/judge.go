package teacher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/relevance"
)

// DefaultJudgeSystem is the LLM judge's system prompt.
const DefaultJudgeSystem = "You judge search results. You answer with JSON only, no prose."

// DefaultJudgeTemplate is the LLM judge's user prompt, a text/template over {{.Query}} and {{.Passage}}.
const DefaultJudgeTemplate = `How relevant is the passage to the query? Score it from 0 to 1:
1 = the passage fully answers the query; 0.5 = related, answers it in part; 0 = unrelated.

Query: {{.Query}}

Passage:
"""
{{.Passage}}
"""

Answer with JSON only: {"score": <a number from 0 to 1>}`

// LLMJudge scores (query, passage) pairs with a chat model: a relevance in [0, 1] read from each answer by
// ParseScore. Answers are cached by the llm client, so re-scoring costs nothing.
type LLMJudge struct {
	Client *llm.Client
	// System and Template replace DefaultJudgeSystem and DefaultJudgeTemplate ("-" as System sends none).
	System, Template string
	// Workers is the number of pairs in flight (default: the client's Concurrency).
	Workers int
	// ParseRetries is how often a pair is asked again when its answer holds no score (default 1).
	ParseRetries int
}

// ScorePairs implements relevance.Scorer. Identical pairs are asked once. A pair whose request fails or whose
// answers hold no score gets NaN, and the error (returned with all the scores) counts them and names the first.
func (j *LLMJudge) ScorePairs(ctx context.Context, pairs []relevance.Pair, report progress.Func) ([]float64, error) {
	if j.Client == nil {
		return nil, fmt.Errorf("llm judge: no client")
	}
	system, src := j.System, j.Template
	if system == "" {
		system = DefaultJudgeSystem
	}
	if src == "" {
		src = DefaultJudgeTemplate
	}
	tpl, err := template.New("judge").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("llm judge template: %w", err)
	}
	if err := tpl.Execute(&bytes.Buffer{}, relevance.Pair{}); err != nil {
		return nil, fmt.Errorf("llm judge template: %w", err)
	}
	retries := j.ParseRetries
	if retries == 0 {
		retries = 1
	}
	retries = max(retries, 0)

	uniq, index := uniquePairs(pairs)
	scores, errs := notScored(len(uniq))
	workers := j.Workers
	if workers <= 0 {
		workers = j.Client.Concurrency()
	}
	tr := progress.Start(report, "llm judge", len(uniq), "pairs")
	var mu sync.Mutex
	forEach(ctx, len(uniq), workers, func(i int) {
		scores[i], errs[i] = j.scoreOne(ctx, tpl, system, retries, uniq[i])
		mu.Lock()
		tr.Add(1)
		mu.Unlock()
	})
	tr.End(ctx.Err())
	out := make([]float64, len(pairs))
	for i, u := range index {
		out[i] = scores[u]
	}
	return out, collect(ctx, "llm judge", index, errs)
}

func (j *LLMJudge) scoreOne(ctx context.Context, tpl *template.Template, system string, retries int, p relevance.Pair) (float64, error) {
	if ctx.Err() != nil {
		return math.NaN(), ctx.Err()
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, p); err != nil {
		return math.NaN(), err
	}
	var msgs []llm.Message
	if system != "-" {
		msgs = append(msgs, llm.System(system))
	}
	msgs = append(msgs, llm.User(b.String()))
	var lastErr error
	for attempt := 0; attempt <= retries; attempt++ {
		resp, err := j.Client.Complete(ctx, llm.Request{Messages: msgs, Attempt: attempt})
		if err != nil {
			return math.NaN(), err
		}
		s, err := ParseScore(resp.Content)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return math.NaN(), lastErr
}

var (
	thinkBlock = regexp.MustCompile(`(?s)<think>.*?</think>`)
	fraction   = regexp.MustCompile(`(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)`)
	number     = regexp.MustCompile(`-?\d+(?:\.\d+)?`)
	scoreKey   = regexp.MustCompile(`(?i)"?(?:relevance_score|relevance|score|rating)"?\s*[:=]\s*"?(-?\d+(?:\.\d+)?)`)
)

// ParseScore reads a relevance in [0, 1] from a judge's answer, robustly: a JSON object's "score" (or
// "relevance", "relevance_score", "rating"; a number or a numeric string) anywhere in the text, fenced or
// not; else "score: 0.8"-style text; else a fraction "8/10"; else the first number; else a bare yes / no
// (1 / 0). Values above 1 are read as a 0–10 scale (up to 10) or a 0–100 scale (up to 100). <think> blocks
// are ignored. Anything else, or a number out of those ranges, is an error.
func ParseScore(text string) (float64, error) {
	t := strings.TrimSpace(thinkBlock.ReplaceAllString(text, ""))
	if v, ok := jsonScore(t); ok {
		return scale(v, text)
	}
	if m := scoreKey.FindStringSubmatch(t); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return scale(v, text)
	}
	if m := fraction.FindStringSubmatch(t); m != nil {
		a, _ := strconv.ParseFloat(m[1], 64)
		b, _ := strconv.ParseFloat(m[2], 64)
		if b > 0 && a >= 0 && a <= b {
			return a / b, nil
		}
	}
	if m := number.FindString(t); m != "" {
		v, _ := strconv.ParseFloat(m, 64)
		return scale(v, text)
	}
	switch strings.ToLower(strings.Trim(t, " .!\"'`\n")) {
	case "yes", "relevant", "true":
		return 1, nil
	case "no", "irrelevant", "not relevant", "false":
		return 0, nil
	}
	return math.NaN(), fmt.Errorf("no score in the answer %q", snippet(text, 120))
}

func jsonScore(t string) (float64, bool) {
	for i := 0; i < len(t); i++ {
		if t[i] != '{' {
			continue
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(t[i:]))
		dec.UseNumber()
		if dec.Decode(&m) != nil {
			continue
		}
		for _, k := range []string{"score", "relevance", "relevance_score", "rating"} {
			for key, v := range m {
				if !strings.EqualFold(key, k) {
					continue
				}
				switch x := v.(type) {
				case json.Number:
					f, err := x.Float64()
					return f, err == nil
				case string:
					f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
					return f, err == nil
				}
			}
		}
	}
	return 0, false
}

func scale(v float64, text string) (float64, error) {
	switch {
	case v >= 0 && v <= 1:
		return v, nil
	case v > 1 && v <= 10:
		return v / 10, nil
	case v > 10 && v <= 100:
		return v / 100, nil
	}
	return math.NaN(), fmt.Errorf("score %v out of range in the answer %q", v, snippet(text, 120))
}

func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
