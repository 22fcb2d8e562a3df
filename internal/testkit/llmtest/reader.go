package llmtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Reader is a handler that reads what ragnb's default prompts ask and answers each in kind, from the text it
// was given — the stand-in for a real model in end-to-end runs (a notebook, an exported program):
//
//   - question generation (synth.DefaultTemplate, the passage between triple quotes): N questions, each made
//     of content words from one sentence of the passage, in the JSON shape the template asks for;
//   - relevance judging (teacher.DefaultJudgeTemplate, "Query:" and a quoted passage): the share of the
//     query's content words found in the passage, as {"score": s};
//   - answering (pipeline.DefaultTemplate, numbered passages and "Question:"): the first passage's first
//     sentence, cited as [1].
//
// Its answers depend only on the prompt, so a run is reproducible and the llm package's answer cache replays
// it. Prompts it does not recognise get a 400 naming what it expected.
func Reader(req Request, _ int) Reply {
	last := req.Last()
	quoted := ""
	if parts := strings.Split(last, `"""`); len(parts) >= 3 {
		quoted = strings.TrimSpace(parts[1])
	}
	switch {
	case strings.Contains(last, "different questions") && quoted != "":
		return Reply{Content: generated(quoted, questionCount(last))}
	case strings.Contains(last, "Query:") && quoted != "":
		q := strings.TrimSpace(between(last, "Query:", "\n"))
		return Reply{Content: fmt.Sprintf(`{"score": %.3f}`, overlap(q, quoted))}
	case strings.Contains(last, "Question:") && strings.Contains(last, "[1]"):
		first := strings.TrimSpace(between(last, "[1]", "\n"))
		if i := strings.Index(first, ")"); strings.HasPrefix(first, "(document") && i > 0 {
			first = strings.TrimSpace(first[i+1:])
		}
		return Reply{Content: firstSentence(first) + " [1]"}
	}
	return Reply{Status: 400, Message: "llmtest.Reader: not a question-generation, judge or answer prompt"}
}

var (
	countRE    = regexp.MustCompile(`Write (\d+) different questions`)
	sentenceRE = regexp.MustCompile(`[.!?]\s+|\n+`)
)

func questionCount(prompt string) int {
	n := 1
	if m := countRE.FindStringSubmatch(prompt); m != nil {
		fmt.Sscan(m[1], &n)
	}
	return max(n, 1)
}

// generated writes n questions about passage, question i from its i-th sentence (cycling), with an answer
// taken from that sentence.
func generated(passage string, n int) string {
	sentences := splitSentences(passage)
	type qa struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	}
	out := make([]qa, 0, n)
	for i := range n {
		s := sentences[i%len(sentences)]
		words := contentWords(s)
		if len(words) > 6 {
			words = words[:6]
		}
		q := "What does the filing say about " + strings.Join(words, " ") + "?"
		if i >= len(sentences) { // a second pass over the sentences asks differently
			q = "How is " + strings.Join(words, " ") + " described?"
		}
		out = append(out, qa{Question: q, Answer: s})
	}
	b, _ := json.Marshal(map[string]any{"questions": out})
	return string(b)
}

func splitSentences(text string) []string {
	var out []string
	for _, s := range sentenceRE.Split(text, -1) {
		if len(contentWords(s)) >= 3 {
			out = append(out, strings.TrimSpace(s))
		}
	}
	if len(out) == 0 {
		out = []string{text}
	}
	return out
}

func firstSentence(text string) string {
	return splitSentences(text)[0]
}

// contentWords are the lower-cased words of s longer than three letters.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) > 3 {
			out = append(out, strings.ToLower(w))
		}
	}
	return out
}

// overlap is the share of query's content words that occur in passage.
func overlap(query, passage string) float64 {
	qw := contentWords(query)
	if len(qw) == 0 {
		return 0
	}
	in := map[string]bool{}
	for _, w := range contentWords(passage) {
		in[w] = true
	}
	hit := 0
	for _, w := range qw {
		if in[w] {
			hit++
		}
	}
	return float64(hit) / float64(len(qw))
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		s = s[:j]
	}
	return s
}
