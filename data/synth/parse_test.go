package synth

import (
	"strings"
	"testing"
)

func TestParseQuestionsTolerant(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // questions
		answer0  string
	}{
		{"object", `{"questions": [{"question": "What grew?", "answer": "Revenue"}, {"question": "By how much?"}]}`,
			[]string{"What grew?", "By how much?"}, "Revenue"},
		{"fenced with prose", "Sure! Here are your questions:\n```json\n{\"questions\": [{\"question\": \"Q1?\", \"answer\": \"A1\"}]}\n```\nHope this helps.",
			[]string{"Q1?"}, "A1"},
		{"fence without language", "```\n[\"Q1?\", \"Q2?\"]\n```", []string{"Q1?", "Q2?"}, ""},
		{"leading and trailing prose", `Here you go: [{"query": "Q1?"}] -- let me know {if} you need more`, []string{"Q1?"}, ""},
		{"think block", "<think>maybe {\"questions\": [\"wrong?\"]}</think>\n{\"questions\": [\"right?\"]}", []string{"right?"}, ""},
		{"trailing commas", `{"questions": [{"question": "Q1?", "answer": "A",},],}`, []string{"Q1?"}, "A"},
		{"other key, upper case", `{"Items": [{"Question": "Q1?", "Answer": "A"}]}`, []string{"Q1?"}, "A"},
		{"single object", `{"question": "Only one?", "answer": "yes"}`, []string{"Only one?"}, "yes"},
		{"first array key", `{"note": "x", "list": ["Q1?"]}`, []string{"Q1?"}, ""},
		{"braces in prose before", `I {think} this works: {"questions": ["Q1?"]}`, []string{"Q1?"}, ""},
		{"empty question kept for the filter", `{"questions": [{"question": ""}, {"question": "Q?"}]}`, []string{"", "Q?"}, ""},
	} {
		items, err := ParseQuestions(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var qs []string
		for _, it := range items {
			qs = append(qs, it.Question)
		}
		if strings.Join(qs, "|") != strings.Join(tc.want, "|") || items[0].Answer != tc.answer0 {
			t.Errorf("%s: got %q (answer %q), want %q (answer %q)", tc.name, qs, items[0].Answer, tc.want, tc.answer0)
		}
	}
	extras, err := ParseQuestions(`{"questions":[{"question":"Q","negative_query":"NQ","positive_passage":"PP","negative_passage":"NP"}]}`)
	if err != nil || extras[0].NegativeQuery != "NQ" || extras[0].PositivePassage != "PP" || extras[0].NegativePassage != "NP" {
		t.Errorf("extra columns: %+v %v", extras, err)
	}
	for _, bad := range []string{"", "I'm sorry, I cannot help with that.", `{"answer": 42}`, `[1, 2, 3]`, "```json\n{broken\n```", `{"questions": []}`} {
		if items, err := ParseQuestions(bad); err == nil {
			t.Errorf("%q: parsed %+v, want an error", bad, items)
		}
	}
}

func TestContentWordsAndOverlap(t *testing.T) {
	if got := strings.Join(ContentWords("What were NVIDIA's revenues in 2023, and did the GPUs grow?"), " "); got != "nvidia revenue 2023 gpu grow" {
		t.Errorf("ContentWords = %q", got)
	}
	// Question words nvidia, revenue, 2023, grow; the passage has nvidia, revenue, 2023: 3/4.
	if got := Overlap("What was NVIDIA's revenue in 2023 and did it grow?", "NVIDIA reported revenues of $27 billion for fiscal 2023."); got != 0.75 {
		t.Errorf("Overlap = %v, want 0.75", got)
	}
	if Overlap("What is it?", "It is a thing.") != 0 {
		t.Error("a question without content words must have overlap 0")
	}
	if NormalizeQuestion("  What's the  REVENUE? ") != NormalizeQuestion("what s the revenue") {
		t.Error("dedupe key must ignore case, punctuation and spacing")
	}
}
