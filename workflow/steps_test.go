package workflow

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/mining"
)

// server answers generation prompts with two questions from the chunk's words (chunks holding "FAIL" get a
// 400) and judge prompts with 0.8.
func server(t *testing.T) *llmtest.Server {
	s := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		if strings.Contains(r.Last(), "How relevant is the passage") {
			return llmtest.Reply{Content: `{"score": 0.8}`}
		}
		if strings.Contains(r.Last(), "FAIL") {
			return llmtest.Reply{Status: 400}
		}
		w := strings.Fields(strings.Split(r.Last(), `"""`)[1])
		return llmtest.Reply{Content: fmt.Sprintf(`{"questions": [{"question": "What about %s %s?"}, {"question": "Why %s %s?"}]}`, w[0], w[1], w[2], w[3])}
	})
	t.Cleanup(s.Close)
	return s
}

func testEnv(t *testing.T) Env {
	s, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return Env{Cache: s}
}

func llmOptions(t *testing.T, s *llmtest.Server, temperature float64) LLMOptions {
	o := DefaultLLMOptions()
	o.BaseURL, o.Model, o.Temperature, o.CacheDir, o.Retries = s.BaseURL(), "m", temperature, t.TempDir(), 0
	return o
}

// legacyLLM is the LLM's identity as the prelude wrote it in its keys before the workflow layer.
func legacyLLM(s *llmtest.Server, temperature float64) map[string]any {
	u, _ := url.Parse(s.BaseURL())
	return map[string]any{"model": "m", "endpoint": u.Host + u.Path, "temperature": temperature, "max_tokens": 0, "seed": 0}
}

func cached(t *testing.T, env Env, key cache.Key) bool {
	t.Helper()
	_, ok, err := env.Cache.Lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Generate memoises a complete table under the key the prelude used (its QAOptions with zero defaults), and
// does not memoise a table with failed chunks.
func TestGenerateKeepsThePreludeKeyAndSkipsPartialTables(t *testing.T) {
	s := server(t)
	env := testEnv(t)
	o := DefaultGenerateOptions()
	o.LLM = llmOptions(t, s, 0.7)
	chunks := []documents.Chunk{{ID: "a#0", Source: "a", Text: "Zinc smelters in Norway cut emissions."},
		{ID: "b#0", Source: "b", Text: "Copper mines in Chile expanded output."}}
	g, err := Generate(context.Background(), env, GenerateInput{Chunks: chunks, DataID: "chunks-1"}, o)
	if err != nil || g.Cached || g.Frame.Nrow() != 4 {
		t.Fatalf("generate: %v, cached %v, %d rows", err, g.Cached, g.Frame.Nrow())
	}
	legacy := cache.Key{Step: "generate-qa", Version: 1, Inputs: []string{"chunks-1"}, Params: map[string]any{
		"llm": legacyLLM(s, 0.7), "qa": struct {
			QuestionsPerChunk int
			System, Template  string
			ExtraColumns      bool
			MinOverlap        float64
		}{}}}
	if !cached(t, env, legacy) {
		t.Error("the table is not under the prelude's key")
	}
	requests := s.Count()
	if g, err = Generate(context.Background(), env, GenerateInput{Chunks: chunks, DataID: "chunks-1"}, o); err != nil || !g.Cached || g.Frame.Nrow() != 4 || s.Count() != requests {
		t.Errorf("second run: %v, cached %v, %d rows, %d requests", err, g.Cached, g.Frame.Nrow(), s.Count()-requests)
	}

	chunks = append(chunks, documents.Chunk{ID: "c#0", Source: "c", Text: "FAIL this chunk every time."})
	for range 2 {
		g, err = Generate(context.Background(), env, GenerateInput{Chunks: chunks, DataID: "chunks-2"}, o)
		if err != nil || g.Cached || g.Frame.Nrow() != 4 || len(g.Summary.Failed) != 1 {
			t.Errorf("partial: %v, cached %v, %d rows, failed %v", err, g.Cached, g.Frame.Nrow(), g.Summary.Failed)
		}
	}
}

// Score memoises under the prelude's key (teacher identity, teacher.ScoreOptions with zero defaults).
func TestScoreKeepsThePreludeKey(t *testing.T) {
	s := server(t)
	env := testEnv(t)
	df := dataframe.New(series.New([]string{"q1", "q2"}, series.String, "anchor"),
		series.New([]string{"p1", "p2"}, series.String, "positive"))
	tch := DefaultTeacher(TeacherLLM)
	tch.LLM = llmOptions(t, s, 0)
	res, err := Score(context.Background(), env, ScoreInput{Frame: df, DataID: "pairs-1", Teacher: tch}, DefaultScoreOptions())
	if err != nil || res.Frame.Col("score").Float()[1] != 0.8 {
		t.Fatalf("score: %v %v", err, res)
	}
	legacy := cache.Key{Step: "score-teacher", Version: 1, Inputs: []string{"pairs-1"},
		Params: map[string]any{"teacher": map[string]any{"llm-judge": legacyLLM(s, 0)}, "options": teacher.ScoreOptions{}}}
	if !cached(t, env, legacy) {
		t.Error("the scores are not under the prelude's key")
	}
}

// Embed stores its vectors under mining.EmbedKey, so mining finds what `ragnb embed` or the notebook embedded.
func TestEmbedSharesMiningsKey(t *testing.T) {
	env := testEnv(t)
	m, err := OpenModel(context.Background(), env, filepath.Join("..", "testdata", "models", "tiny-bert-mean"), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"zinc smelters", "copper mines", "container freight"}
	e, err := Embed(context.Background(), env, EmbedInput{Texts: texts, Model: m}, EmbedOptions{Queries: true})
	if err != nil || e.Cached || e.Vectors.Rows != 3 {
		t.Fatalf("embed: %v %+v", err, e)
	}
	if !cached(t, env, mining.EmbedKey(m.EmbedID(), cache.HashStrings(texts...), true)) {
		t.Error("the vectors are not under mining.EmbedKey")
	}
	again, err := Embed(context.Background(), env, EmbedInput{Texts: texts, Model: m}, EmbedOptions{Queries: true})
	if err != nil || !again.Cached || again.Vectors.Dim != e.Vectors.Dim {
		t.Errorf("second run: %v, cached %v", err, again.Cached)
	}
	p := "search: "
	lit, err := Embed(context.Background(), env, EmbedInput{Texts: texts, Model: m}, EmbedOptions{Prompt: &p})
	if err != nil || lit.Cached {
		t.Errorf("a literal prompt hit the cache of the model's prompt: %v", err)
	}
}

// A failed run writes beside the requested file; a complete one replaces it and removes the partial one.
func TestWriteOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pairs.csv")
	df := dataframe.New(series.New([]string{"a"}, series.String, "anchor"))
	o, err := WriteOutput(df, out, false)
	if err != nil || o.Path != filepath.Join(dir, "pairs.partial.csv") || !o.Partial || o.Rows != 1 {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := WriteOutput(df, out, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(o.Path); !os.IsNotExist(err) {
		t.Errorf("the partial file outlived a complete run: %v", err)
	}
}
