package prelude

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

func countManifests(t *testing.T) int {
	n := 0
	filepath.Walk(os.Getenv("RAGNB_CACHE"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "manifest.json" {
			n++
		}
		return nil
	})
	return n
}

func TestBuildPipelineAndAsk(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	t.Setenv(EnvLLMModel, "")
	pairs, _, test := samplePairs(t)
	m := StaticModel(pairs, "positive", StaticOptions{Dim: 128})

	p := BuildPipeline(m, PipelineOptions{Corpus: pairs, TopN: 3})
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.String(), "223 passages") || !strings.Contains(p.String(), "no LLM") {
		t.Errorf("description: %s", p)
	}
	q := test.Column("anchor")[0]
	a := p.Ask(q)
	if a.Error != "" || len(a.Sources) != 3 || a.Text != "" {
		t.Fatalf("no-LLM answer: error %q, %d sources, text %q", a.Error, len(a.Sources), a.Text)
	}
	for i, s := range a.Sources[1:] {
		if s.RetrieveScore > a.Sources[i].RetrieveScore {
			t.Errorf("sources not in score order: %v", a.Sources)
		}
	}
	// The index is memoised: building again opens it and stores nothing new.
	before := countManifests(t)
	if again := BuildPipeline(m, PipelineOptions{Corpus: pairs, TopN: 3}); again.Err() != nil || countManifests(t) != before {
		t.Errorf("a second build should reuse the stored index: %v, %d → %d entries", again.Err(), before, countManifests(t))
	}

	// With an LLM: the answer comes from the endpoint, the prompt cites the kept passages.
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply {
		return llmtest.Reply{Content: "The answer is in [1]."}
	})
	defer srv.Close()
	withLLM := BuildPipeline(m, PipelineOptions{Corpus: pairs, TopN: 2, LLM: LLM{BaseURL: srv.BaseURL(), Model: "chat"}})
	a = withLLM.Ask(q)
	if a.Error != "" || !strings.Contains(a.Text, "[1]") || len(a.Sources) != 2 {
		t.Fatalf("LLM answer: %+v", a)
	}
	prompt := srv.Requests()[0].Last()
	if !strings.Contains(prompt, a.Sources[0].Text) || !strings.Contains(prompt, a.Sources[1].Text) {
		t.Error("the prompt does not hold the kept passages")
	}

	bm := BuildPipeline(nil, PipelineOptions{Corpus: pairs, TopN: 3, Name: "bm25"})
	if c := ComparePipelines(bm, p, test, 4); c == nil || len(c.Rows) != 4 {
		t.Fatalf("comparison: %+v", c)
	} else {
		for _, r := range c.Rows {
			if r.Gold == "" {
				t.Errorf("row %q has no gold passage id", r.Question)
			}
		}
	}
	if bad := BuildPipeline(m, PipelineOptions{}); bad.Err() == nil || !strings.Contains(bad.String(), "no corpus") {
		t.Errorf("no corpus: %v", bad.Err())
	}
	if bad := BuildPipeline(m, PipelineOptions{Corpus: pairs, Reranker: m}); bad.Err() == nil || !strings.Contains(bad.Err().Error(), "reranker") {
		t.Errorf("a static model as reranker: %v", bad.Err())
	}
}

// TestComparePipelinesJudgesAnswers: with an LLM on the fine-tuned pipeline, every answer of both is judged
// with the answer template and the summary reports the means; the judge's scores are the server's.
func TestComparePipelinesJudgesAnswers(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, _, test := samplePairs(t)
	m := StaticModel(pairs, "positive", StaticOptions{Dim: 128})
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply {
		if strings.Contains(req.Last(), "How good is the answer") {
			if strings.Contains(req.Last(), "Answer: from BM25") {
				return llmtest.Reply{Content: `{"score": 0.25}`}
			}
			return llmtest.Reply{Content: `{"score": 0.75}`}
		}
		if strings.Contains(req.Messages[0].Content, "bm25 system") {
			return llmtest.Reply{Content: "from BM25 [1]"}
		}
		return llmtest.Reply{Content: "from the model [1]"}
	})
	defer srv.Close()
	llm := LLM{BaseURL: srv.BaseURL(), Model: "chat"}
	bm := BuildPipeline(nil, PipelineOptions{Corpus: pairs, TopN: 2, Name: "bm25", LLM: llm, System: "bm25 system"})
	p := BuildPipeline(m, PipelineOptions{Corpus: pairs, TopN: 2, LLM: llm})
	c := ComparePipelines(bm, p, test, 6)
	if c == nil || !c.Judged {
		t.Fatalf("comparison not judged: %+v", c)
	}
	for _, r := range c.Rows {
		if r.BaseScore != 0.25 || r.TunedScore != 0.75 {
			t.Errorf("row %q: scores %v, %v", r.Question, r.BaseScore, r.TunedScore)
		}
	}
	if s := c.Summary(); !strings.Contains(s, "answers judged (mean 0–1): bm25 0.250 over 6") || !strings.Contains(s, "0.750 over 6") {
		t.Errorf("summary %q", s)
	}
	judged := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Last(), "How good is the answer") {
			judged++
			if !strings.Contains(r.Last(), "Sources:\n[1] ") {
				t.Errorf("the judge did not see the sources: %q", r.Last())
			}
		}
	}
	if judged != 12 {
		t.Errorf("%d judge requests, want 12 (6 questions × 2 pipelines)", judged)
	}
}
