package llmtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/pipeline"
)

func ask(t *testing.T, prompt string) Reply {
	t.Helper()
	return Reader(Request{Messages: []Message{{Role: "user", Content: prompt}}}, 0)
}

func TestReaderAnswersTheDefaultPrompts(t *testing.T) {
	passage := "Ashgrove Home Retail sells furniture through stores. Revenue grew 12% because online orders doubled."
	gen := strings.Replace(strings.Replace(synth.DefaultTemplate, "{{.N}}", "3", 1), "{{.Passage}}", passage, 1)
	var out struct {
		Questions []struct{ Question, Answer string }
	}
	if err := json.Unmarshal([]byte(ask(t, gen).Content), &out); err != nil || len(out.Questions) != 3 {
		t.Fatalf("generation: %v, %+v", err, out)
	}
	if !strings.Contains(out.Questions[1].Question, "revenue grew") || !strings.Contains(passage, out.Questions[1].Answer) {
		t.Errorf("question 2 %+v is not from the passage's second sentence", out.Questions[1])
	}

	judge := strings.NewReplacer("{{.Query}}", "How much did revenue grow?", "{{.Passage}}", passage).Replace(teacher.DefaultJudgeTemplate)
	var score struct{ Score float64 }
	if err := json.Unmarshal([]byte(ask(t, judge).Content), &score); err != nil || score.Score != 0.333 {
		t.Errorf("judge: %v, score %v (want 0.333: of much, revenue, grow only revenue is in the passage)", err, score.Score)
	}

	answer := "Passages:\n\n[1] (document p1) " + passage + "\n\nQuestion: What does Ashgrove sell?\nAnswer, citing passages as [n]:"
	if !strings.HasPrefix(pipeline.DefaultTemplate, "Passages:") {
		t.Fatalf("pipeline.DefaultTemplate changed shape: %q", pipeline.DefaultTemplate)
	}
	if got := ask(t, answer).Content; got != "Ashgrove Home Retail sells furniture through stores [1]" {
		t.Errorf("answer %q", got)
	}
	if r := ask(t, "hello"); r.Status != 400 {
		t.Errorf("an unknown prompt got %+v", r)
	}
}
