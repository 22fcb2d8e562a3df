package synth

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Item is one generated question with what came with it.
type Item struct {
	Question string `json:"question"`
	Answer   string `json:"answer,omitempty"`
	// The optional extra columns (synthetic-data-generator shape): a query the passage does not answer, a
	// passage that answers the question in other words, a passage on the topic that does not answer it.
	NegativeQuery   string `json:"negative_query,omitempty"`
	PositivePassage string `json:"positive_passage,omitempty"`
	NegativePassage string `json:"negative_passage,omitempty"`
}

var (
	thinkBlock = regexp.MustCompile(`(?s)<think>.*?</think>`)
	fenced     = regexp.MustCompile("(?s)```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```")
	trailComma = regexp.MustCompile(`,(\s*[}\]])`)
)

// ParseQuestions reads the questions out of a model's answer, tolerating what models wrap JSON in: <think>
// blocks, ``` code fences (with or without a language), prose before or after, trailing commas. The JSON may
// be an array of questions or an object holding one ("questions", "queries", "items", "data" or the first
// array it has), or a single question object; a question is a string or an object with "question" (or
// "query", "q") and optionally "answer" and the extra-column keys. It fails when no JSON value with at least
// one question is found.
func ParseQuestions(text string) ([]Item, error) {
	text = thinkBlock.ReplaceAllString(text, "")
	var candidates []string
	for _, m := range fenced.FindAllStringSubmatch(text, -1) {
		candidates = append(candidates, m[1])
	}
	candidates = append(candidates, text)
	var firstErr error
	for _, c := range candidates {
		for _, v := range jsonValues(c) {
			items, err := itemsFrom(v)
			if err == nil && len(items) > 0 {
				return items, nil
			}
			if firstErr == nil && err != nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("no JSON with questions in the answer %q", snippet(text, 120))
}

// jsonValues decodes the JSON values that start at each '{' or '[' of s (trying at most 20 starts), reading one
// value from each and ignoring what follows; a failed decode is retried with trailing commas removed.
func jsonValues(s string) []any {
	var out []any
	tries := 0
	for i := 0; i < len(s) && tries < 20; i++ {
		if s[i] != '{' && s[i] != '[' {
			continue
		}
		tries++
		for _, src := range []string{s[i:], trailComma.ReplaceAllString(s[i:], "$1")} {
			dec := json.NewDecoder(strings.NewReader(src))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err == nil {
				out = append(out, v)
				i += int(dec.InputOffset()) - 1
				break
			}
		}
	}
	return out
}

func itemsFrom(v any) ([]Item, error) {
	switch t := v.(type) {
	case []any:
		var items []Item
		for _, e := range t {
			if it, ok := itemFrom(e); ok {
				items = append(items, it)
			}
		}
		if len(items) == 0 && len(t) > 0 {
			return nil, fmt.Errorf("a JSON array without questions")
		}
		return items, nil
	case map[string]any:
		for _, k := range []string{"questions", "queries", "items", "data", "results", "qa", "pairs"} {
			if a, ok := lookup(t, k).([]any); ok {
				return itemsFrom(a)
			}
		}
		if it, ok := itemFrom(t); ok {
			return []Item{it}, nil
		}
		for _, k := range sortedKeys(t) {
			if a, ok := t[k].([]any); ok {
				return itemsFrom(a)
			}
		}
		return nil, fmt.Errorf("a JSON object without questions (keys %v)", sortedKeys(t))
	}
	return nil, fmt.Errorf("JSON %T is not a list of questions", v)
}

func itemFrom(e any) (Item, bool) {
	switch t := e.(type) {
	case string:
		return Item{Question: t}, true
	case map[string]any:
		it := Item{
			Question:        str(t, "question", "query", "q"),
			Answer:          str(t, "answer", "a", "response"),
			NegativeQuery:   str(t, "negative_query", "negative_retrieval", "hard_negative_query"),
			PositivePassage: str(t, "positive_passage", "positive_reranking", "similar_passage"),
			NegativePassage: str(t, "negative_passage", "negative_reranking", "hard_negative_passage"),
		}
		_, has := lookupOK(t, "question", "query", "q")
		return it, has
	}
	return Item{}, false
}

// lookup finds key case-insensitively.
func lookup(m map[string]any, key string) any {
	v, _ := lookupOK(m, key)
	return v
}

func lookupOK(m map[string]any, keys ...string) (any, bool) {
	for _, key := range keys {
		if v, ok := m[key]; ok {
			return v, true
		}
		for k, v := range m {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
	}
	return nil, false
}

func str(m map[string]any, keys ...string) string {
	v, _ := lookupOK(m, keys...)
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// snippet is s with its whitespace collapsed, cut to at most n bytes (on a rune boundary).
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
