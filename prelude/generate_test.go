package prelude

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/llmtest"
)

// questionsFor answers a generation request with two questions built from the chunk's own words, so they pass
// the answerability check; a chunk containing "FAIL" is refused with a 400 every time (failures are not
// cached by the llm client, unlike unusable answers, which replay as they are).
func questionsFor(req llmtest.Request, n int) llmtest.Reply {
	last := req.Last()
	if strings.Contains(last, "FAIL") {
		return llmtest.Reply{Status: 400, Content: "bad request"}
	}
	passage := last
	if parts := strings.Split(last, `"""`); len(parts) == 3 {
		passage = parts[1] // the prompt quotes the chunk between triple quotes
	}
	var words []string
	for _, w := range strings.Fields(passage) {
		w = strings.Trim(w, ".,;:\"'()")
		if len(w) > 6 && len(words) < 4 {
			words = append(words, strings.ToLower(w))
		}
	}
	q1 := fmt.Sprintf("What does the filing say about %s?", strings.Join(words[:2], " and "))
	q2 := fmt.Sprintf("How is %s described?", strings.Join(words[2:], " "))
	b, _ := json.Marshal(map[string]any{"questions": []string{q1, q2}})
	return llmtest.Reply{Content: "```json\n" + string(b) + "\n```"}
}

func TestGenerateQAFromDocs(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv("OPENAI_API_KEY", "sk-test-never-stored")
	srv := llmtest.New(questionsFor)
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.md"), []byte("# Acme\n\nAcme Robotics manufactures warehouse automation "+
		"platforms. Revenue increased substantially because subscription renewals accelerated.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("Borealis Shipping operates refrigerated container vessels "+
		"between northern harbours. Bunker expenses declined following efficiency retrofits.\n"), 0o644)

	docs := LoadDocs(dir)
	if docs.Len() != 2 || docs.Err() != nil {
		t.Fatalf("LoadDocs: %v rows, %v", docs.Len(), docs.Err())
	}
	chunks := docs.Chunk(64, 8)
	if chunks.Len() != 2 || !strings.HasSuffix(chunks.Column("chunk_id")[0], "a.md#0") {
		t.Fatalf("chunks: %v\n%v", chunks.Column("chunk_id"), chunks.Err())
	}
	l := LLM{BaseURL: srv.BaseURL(), Model: "test-model", Temperature: 0.5}
	qa := chunks.GenerateQA(l, QAOptions{QuestionsPerChunk: 2})
	if err := qa.Err(); err != nil {
		t.Fatal(err)
	}
	if qa.Len() != 4 || srv.Count() != 2 {
		t.Fatalf("%d pairs from %d requests, want 4 from 2:\n%s", qa.Len(), srv.Count(), qa)
	}
	if pos := qa.Column("positive")[0]; !strings.Contains(pos, "Acme Robotics") {
		t.Errorf("the positive is the chunk text, got %q", pos)
	}
	if a := srv.Requests()[0].Authorization; a != "Bearer sk-test-never-stored" {
		t.Errorf("the key from the environment was not sent: %q", a)
	}
	// The second run is served from the step cache: no request at all.
	again := chunks.GenerateQA(l, QAOptions{QuestionsPerChunk: 2})
	if again.Len() != 4 || srv.Count() != 2 || !strings.Contains(strings.Join(again.Notes(), "\n"), "from cache") {
		t.Errorf("re-run: %d rows, %d requests, notes %v", again.Len(), srv.Count(), again.Notes())
	}
	// Nothing in the cache holds the key.
	filepath.Walk(os.Getenv("RAGNB_CACHE"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "sk-test-never-stored") {
				t.Errorf("the API key was written to %s", p)
			}
		}
		return nil
	})
}

func TestGenerateQAPartialFailureIsNotMemoised(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	srv := llmtest.New(questionsFor)
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.txt"), []byte("Cascadia Foods distributes frozen vegetables across regional supermarkets.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("FAIL this document always produces garbage answers.\n"), 0o644)
	chunks := LoadDocs(dir).Chunk(64, 0)
	l := LLM{BaseURL: srv.BaseURL(), Model: "m"}
	qa := chunks.GenerateQA(l, QAOptions{QuestionsPerChunk: 2})
	if qa.Err() != nil || qa.Len() != 2 {
		t.Fatalf("want the good chunk's 2 pairs despite the failed one: %d, %v", qa.Len(), qa.Err())
	}
	notes := strings.Join(qa.Notes(), "\n")
	if !strings.Contains(notes, "1 failed chunks") || !strings.Contains(notes, "bad.txt#0") || !strings.Contains(notes, "400") {
		t.Errorf("the failed chunk must be reported: %s", notes)
	}
	before := srv.Count()
	again := chunks.GenerateQA(l, QAOptions{QuestionsPerChunk: 2})
	// The good chunk replays from the answer cache; only the failed one is asked again.
	if again.Len() != 2 || srv.Count() <= before || strings.Contains(strings.Join(again.Notes(), "\n"), "from cache") {
		t.Errorf("a partial result must not be memoised: %d rows, requests %d → %d, notes %v",
			again.Len(), before, srv.Count(), again.Notes())
	}
	for _, r := range srv.Requests()[before:] {
		if !strings.Contains(r.Last(), "FAIL") {
			t.Errorf("the good chunk was asked again: %.60q", r.Last())
		}
	}
}

func TestScoreWithTeachers(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	pairs, _, test := samplePairs(t)
	m := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	scored := test.Head(5).ScoreWithTeacher(EmbedderTeacher(m), ScoreOptions{})
	if err := scored.Err(); err != nil {
		t.Fatal(err)
	}
	s, err := scored.Floats("score")
	if err != nil || len(s) != 5 {
		t.Fatalf("scores %v, %v", s, err)
	}
	// The cosine of the model's own embeddings, computed here independently.
	bi, _ := m.BiEncoder()
	q, _ := bi.EmbedQueries(t.Context(), test.Head(5).Column("anchor"), nil)
	p, _ := bi.EmbedDocuments(t.Context(), test.Head(5).Column("positive"), nil)
	for i := range s {
		var dot, nq, np float64
		for j := 0; j < q.Dim; j++ {
			a, b := float64(q.Row(i)[j]), float64(p.Row(i)[j])
			dot, nq, np = dot+a*b, nq+a*a, np+b*b
		}
		if want := dot / math.Sqrt(nq*np); math.Abs(s[i]-want) > 1e-5 {
			t.Errorf("row %d: score %v, cosine %v", i, s[i], want)
		}
	}

	// LLM judge through the fake server: it answers 0.8 for everything.
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: `{"score": 0.8}`} })
	defer srv.Close()
	judged := test.Head(3).ScoreWithTeacher(LLMJudge(LLM{BaseURL: srv.BaseURL(), Model: "judge"}), ScoreOptions{Column: "llm"})
	if v, err := judged.Floats("llm"); err != nil || len(v) != 3 || v[0] != 0.8 {
		t.Errorf("judge scores %v %v", v, err)
	}
	// A teacher that cannot be built fails the chain with its reason.
	bad := test.ScoreWithTeacher(CrossEncoderTeacher(m), ScoreOptions{})
	if bad.Err() == nil || !strings.Contains(bad.String(), "ScoreWithTeacher") {
		t.Errorf("a static model is no cross-encoder: %v", bad.Err())
	}
}

// TestGeneratedPairsSaveAsLlamaIndex: a GenerateQA table saved with SaveLlamaIndex (its Chunk table as the
// nodes) is LlamaIndex's EmbeddingQAFinetuneDataset with every chunk a node — the failed chunk too — each
// question relevant to its chunk, and the same table writes the same bytes; LoadLlamaIndex reads it back as
// the same pairs and evaluates a model on it.
func TestGeneratedPairsSaveAsLlamaIndex(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	t.Setenv(EnvModel, "")
	srv := llmtest.New(questionsFor)
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("Cascadia Foods distributes frozen vegetables across regional supermarkets.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("Borealis Shipping operates refrigerated container vessels between harbours.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.txt"), []byte("FAIL this document always produces garbage answers.\n"), 0o644)
	chunks := LoadDocs(dir).Chunk(64, 0)
	qa := chunks.GenerateQA(LLM{BaseURL: srv.BaseURL(), Model: "m"}, QAOptions{QuestionsPerChunk: 2})
	if qa.Err() != nil || qa.Len() != 4 {
		t.Fatalf("%d pairs, %v", qa.Len(), qa.Err())
	}
	path := filepath.Join(dir, "qa.json")
	if err := qa.SaveLlamaIndex(path, chunks); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Queries      map[string]string   `json:"queries"`
		Corpus       map[string]string   `json:"corpus"`
		RelevantDocs map[string][]string `json:"relevant_docs"`
		Mode         string              `json:"mode"`
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Queries) != 4 || len(doc.Corpus) != 3 || doc.Mode != "text" {
		t.Fatalf("%d queries, %d nodes, mode %q:\n%s", len(doc.Queries), len(doc.Corpus), doc.Mode, b)
	}
	ids, texts := qa.Column("chunk_id"), qa.Column("positive")
	for i, q := range qa.Column("anchor") {
		qid := fmt.Sprintf("%s/q%d", ids[i], i%2+1)
		if doc.Queries[qid] != q || len(doc.RelevantDocs[qid]) != 1 || doc.Corpus[doc.RelevantDocs[qid][0]] != texts[i] {
			t.Errorf("row %d: query %s = %q relevant to %v", i+1, qid, doc.Queries[qid], doc.RelevantDocs[qid])
		}
	}
	again := filepath.Join(dir, "again.json")
	if err := qa.SaveLlamaIndex(again, chunks); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(again); string(b2) != string(b) {
		t.Error("the same table wrote a different file")
	}
	l := LoadLlamaIndex(path)
	if l.Err() != nil || !reflect.DeepEqual(l.Pairs().Column("anchor"), qa.Column("anchor")) {
		t.Fatalf("read back: %v %v", l.Err(), l.Pairs().Column("anchor"))
	}
	m := l.Evaluate(StaticModel(l.Pairs(), "positive", StaticOptions{Dim: 32}), EvalOptions{})
	if _, ok := m.Values()["dim_32_cosine_hit_rate@1"]; m.Err() != nil || !ok {
		t.Errorf("evaluate on it: %v %v", m.Err(), m.Keys())
	}
	// Plain pairs (no chunk_id): their distinct positives are the nodes.
	if err := FromFrame("p", l.Pairs().Frame()).SaveLlamaIndex(filepath.Join(dir, "plain.json"), nil); err != nil {
		t.Fatal(err)
	}
	if p := LoadLlamaIndex(filepath.Join(dir, "plain.json")); p.Err() != nil || p.Pairs().Len() != 4 {
		t.Errorf("plain pairs: %v", p.Err())
	}
}
