package teacher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
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

// DefaultAnswerJudgeTemplate asks the judge about a pipeline's answer instead of a passage: {{.Query}} is the
// question, {{.Passage}} the answer followed by its numbered sources (pipeline.JudgedPair). It rewards answers
// that are correct and supported by the sources, as RAG answer-quality judges (faithfulness, relevance) do.
const DefaultAnswerJudgeTemplate = `How good is the answer to the query? Judge it only by the sources the answer was given. Score it from 0 to 1:
1 = answers the query correctly and completely, every claim supported by the sources; 0.5 = partly answers it, or partly unsupported; 0 = wrong, unsupported by the sources, or no answer.

Query: {{.Query}}

Answer and sources:
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
func (j *LLMJudge) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
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
	if err := tpl.Execute(&bytes.Buffer{}, ir.Pair{}); err != nil {
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

func (j *LLMJudge) scoreOne(ctx context.Context, tpl *template.Template, system string, retries int, p ir.Pair) (float64, error) {
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
		var score float64
		accept := func(content string) (err error) {
			score, err = ParseScore(content)
			return err
		}
		_, err := j.Client.Complete(ctx, llm.Request{Messages: msgs, Attempt: attempt, Accept: accept})
		var rejected *llm.RejectedError
		if errors.As(err, &rejected) {
			lastErr = rejected.Err // not cached: a re-run asks again
			continue
		}
		if err != nil {
			return math.NaN(), err
		}
		return score, nil
	}
	return math.NaN(), lastErr
}

var (
	thinkBlock = regexp.MustCompile(`(?s)<think>.*?</think>`)
	fraction   = regexp.MustCompile(`(-?\d+(?:\.\d+)?)\s*/\s*(1|5|10|100)\b`)
	bareNumber = regexp.MustCompile(`^-?\d+(?:\.\d+)?$`)
	scoreKey   = regexp.MustCompile(`(?i)"?(?:relevance_score|relevance|score|rating)"?\s*[:=]\s*"?(-?\d+(?:\.\d+)?)`)
	scoreKeys  = []string{"score", "relevance", "relevance_score", "rating"}
)

// ParseScore reads a relevance in [0, 1] from a judge's answer: a JSON object's "score" (or "relevance",
// "relevance_score", "rating"; a number or a numeric string) anywhere in the text, fenced or not; else
// "score: 0.8"-style text; else a rating on a 1, 5, 10 or 100 scale ("8/10"); else an answer that is only a
// number; else a bare yes / no (1 / 0). Values above 1 are read as a 0–10 scale (up to 10) or a 0–100 scale
// (up to 100). <think> blocks are ignored. Anything else is an error, never a guess: a JSON object without a
// score key is not 0, and a refusal in prose ("I cannot evaluate this: the passage is cut off after 3
// sentences") is not the first number in it.
func ParseScore(text string) (float64, error) {
	t := strings.TrimSpace(thinkBlock.ReplaceAllString(text, ""))
	v, found, isJSON := jsonScore(t)
	if found {
		return scale(v, text)
	}
	if m := scoreKey.FindStringSubmatch(t); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return scale(v, text)
	}
	if isJSON {
		return math.NaN(), fmt.Errorf("no score key (%s) in the JSON answer %q", strings.Join(scoreKeys, ", "), snippet(text, 120))
	}
	if m := fraction.FindStringSubmatch(t); m != nil {
		a, _ := strconv.ParseFloat(m[1], 64)
		b, _ := strconv.ParseFloat(m[2], 64)
		if a >= 0 && a <= b {
			return a / b, nil
		}
	}
	bare := strings.Trim(t, " .!\"'`\n")
	if bareNumber.MatchString(bare) {
		v, _ := strconv.ParseFloat(bare, 64)
		return scale(v, text)
	}
	switch strings.ToLower(bare) {
	case "yes", "relevant", "true":
		return 1, nil
	case "no", "irrelevant", "not relevant", "false":
		return 0, nil
	}
	return math.NaN(), fmt.Errorf("no score in the answer %q", snippet(text, 120))
}

// jsonScore returns the score of the first JSON object in t that has a score key (found), and whether t
// holds a JSON object at all (isJSON).
func jsonScore(t string) (v float64, found, isJSON bool) {
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
		isJSON = true
		for _, k := range scoreKeys {
			for key, v := range m {
				if !strings.EqualFold(key, k) {
					continue
				}
				switch x := v.(type) {
				case json.Number:
					f, err := x.Float64()
					return f, err == nil, true
				case string:
					f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
					return f, err == nil, true
				}
			}
		}
	}
	return 0, false, isJSON
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
