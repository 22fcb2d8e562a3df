package traces

import "strings"

// Inputs and outputs are whatever the application logged: a string, an object whose question or answer sits
// under a conventional key, or chat messages. These keys are the ones LangChain, LlamaIndex and the OpenAI
// SDK integrations of both tools write.
var (
	questionKeys = []string{"question", "query", "input", "user_input", "prompt", "q", "message", "text", "content"}
	answerKeys   = []string{"answer", "output", "result", "response", "text", "content", "completion", "generation", "message"}
)

// fill sets the question, the passages and the answer from a trace's steps: the question from the first of
// roots (the trace, its root span or run) whose input field has one, else from the retriever's query; the
// passages from the retriever's output; the answer from the first root's output that has one, else from the
// last generation's.
func (t *Trace) fill(roots []*record, retriever, lastGen *record, in, out string) error {
	for _, r := range roots {
		if t.Question == "" {
			t.Question = questionOf(r.v[in])
		}
		if t.Answer == "" {
			t.Answer = answerOf(r.v[out])
		}
	}
	if retriever != nil {
		if t.Question == "" {
			t.Question = questionOf(retriever.v[in])
		}
		docs, err := documentsOf(*retriever, out)
		if err != nil {
			return err
		}
		t.Documents = docs
	}
	if t.Answer == "" && lastGen != nil {
		t.Answer = answerOf(lastGen.v[out])
	}
	return nil
}

// questionOf is the user's question in an input: the last user message of a chat.
func questionOf(v any) string { return textOf(v, questionKeys, "user", 0) }

// answerOf is the answer in an output: the last assistant message of a chat, the first choice or generation.
func answerOf(v any) string { return textOf(v, answerKeys, "assistant", 0) }

func textOf(v any, keys []string, role string, depth int) string {
	if depth > 4 {
		return ""
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case map[string]any:
		for _, k := range keys {
			if e, ok := x[k]; ok {
				if s := textOf(e, keys, role, depth+1); s != "" {
					return s
				}
			}
		}
		for _, k := range []string{"messages", "choices", "generations"} {
			if e, ok := x[k]; ok {
				if s := textOf(e, keys, role, depth+1); s != "" {
					return s
				}
			}
		}
	case []any:
		// Chat messages: the last one in the role; content parts [{type: text, text}] are joined.
		for i := len(x) - 1; i >= 0; i-- {
			m, ok := x[i].(map[string]any)
			if !ok {
				continue
			}
			r, _ := m["role"].(string)
			if r == "" {
				r, _ = m["type"].(string) // LangChain messages: {type: human|ai, content}
			}
			if r == role || (role == "user" && r == "human") || (role == "assistant" && r == "ai") {
				return textOf(m["content"], keys, role, depth+1)
			}
		}
		var parts []string
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && m["role"] == nil {
				if t, ok := m["text"].(string); ok && (m["type"] == nil || m["type"] == "text") {
					parts = append(parts, t)
				}
			}
		}
		if len(parts) > 0 {
			return strings.TrimSpace(strings.Join(parts, "\n"))
		}
		if len(x) > 0 {
			return textOf(x[0], keys, role, depth+1) // choices[0], generations[0][0]
		}
	}
	return ""
}
