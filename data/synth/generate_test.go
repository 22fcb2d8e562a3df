package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// passageOf pulls the chunk text out of a prompt built from DefaultTemplate.
func passageOf(prompt string) string {
	parts := strings.Split(prompt, `"""`)
	if len(parts) < 3 {
		return ""
	}
	return strings.TrimSpace(parts[1])
}

// questionsAbout writes n questions made of the passage's own words (so they pass the overlap check).
func questionsAbout(passage string, n int) []string {
	w := ContentWords(passage)
	var qs []string
	for i := 0; i < n; i++ {
		qs = append(qs, fmt.Sprintf("What about %s %s %s?", w[0], w[1], w[(2+i)%len(w)]))
	}
	return qs
}

func jsonQuestions(qs []string) string {
	var items []map[string]string
	for _, q := range qs {
		items = append(items, map[string]string{"question": q, "answer": "an answer"})
	}
	b, _ := json.Marshal(map[string]any{"questions": items})
	return string(b)
}

type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return ctx.Err()
}

func client(t testing.TB, srv *llmtest.Server, cacheDir string, rec *recorder, mod func(*llm.Config)) *llm.Client {
	cfg := llm.Config{BaseURL: srv.BaseURL(), Model: "gen-model", APIKey: "sk-test", CacheDir: cacheDir,
		Concurrency: 4, Timeout: time.Second, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Temperature: 0.7}
	if rec != nil {
		cfg.Sleep = rec.sleep
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := llm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const alpha = "Alpha Corporation revenue grew strongly during 2023 because cloud demand increased across every region."

// scenario is the in-process server's behaviour, keyed by a marker word in each chunk.
func scenario() (chunks []documents.Chunk, handler func(llmtest.Request, int) llmtest.Reply) {
	texts := []string{
		alpha,
		"Bravo Industries opened three factories in Ohio producing electric buses. Marker fenced.",
		"Charlie Bank lends money to farmers in Kenya through mobile phones. Marker garbage.",
		"Delta Airlines added routes between Lisbon and Boston every summer. Marker garbageonce.",
		"Echo Pharmaceuticals tested vaccines against malaria in clinical trials. Marker ratelimited.",
		"Foxtrot Mining extracts copper from deposits in Chile and Peru. Marker servererror.",
		"Golf Retail sells sporting equipment through catalogues and stores. Marker slow.",
		alpha + " Marker filtered.",
		"Hotel Software builds booking systems for independent hotels worldwide. Marker short.",
		"India Shipping operates container vessels between Mumbai and Rotterdam. Marker surplus.",
	}
	for i, tx := range texts {
		chunks = append(chunks, documents.Chunk{ID: fmt.Sprintf("doc.txt#%d", i), Source: "doc.txt", Index: i, Start: i * 1000,
			End: i*1000 + len(tx), Text: tx})
	}
	var mu sync.Mutex
	seen := map[string]int{} // requests per marker
	handler = func(r llmtest.Request, n int) llmtest.Reply {
		p := passageOf(r.Last())
		marker := "valid"
		if i := strings.Index(p, "Marker "); i >= 0 {
			marker = strings.TrimSuffix(p[i+len("Marker "):], ".")
		}
		mu.Lock()
		k := seen[marker]
		seen[marker]++
		mu.Unlock()
		good := llmtest.Reply{Content: jsonQuestions(questionsAbout(p, 3))}
		switch marker {
		case "fenced":
			return llmtest.Reply{Content: "Here are the questions:\n```json\n" + jsonQuestions(questionsAbout(p, 3)) + "\n```\nEnjoy!"}
		case "garbage":
			return llmtest.Reply{Content: "I am sorry, but I cannot help with that request."}
		case "garbageonce":
			if k == 0 {
				return llmtest.Reply{Content: "questions: one, two, three"}
			}
		case "ratelimited":
			if k == 0 {
				return llmtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "2"}}
			}
		case "servererror":
			if k == 0 {
				return llmtest.Reply{Status: 500}
			}
			if k == 1 {
				return llmtest.Reply{Status: 502}
			}
		case "slow":
			if k == 0 {
				return llmtest.Reply{Delay: 20 * time.Second, Content: "too late"} // cut at the 1 s timeout
			}
		case "filtered":
			dup := questionsAbout(alpha, 1)[0] // the first question of chunk 0
			return llmtest.Reply{Content: jsonQuestions([]string{dup, "  ", "What is the capital of France?", "spare?"})}
		case "short":
			return llmtest.Reply{Content: jsonQuestions(questionsAbout(p, 1))}
		case "surplus":
			return llmtest.Reply{Content: jsonQuestions(questionsAbout(p, 5))}
		}
		return good
	}
	return chunks, handler
}

func TestGenerateQAAccountsForEverythingAndResumesFromCache(t *testing.T) {
	chunks, h := scenario()
	srv := llmtest.New(h)
	defer srv.Close()
	cacheDir := t.TempDir()
	rec := &recorder{}
	var last progress.Report
	var reports int
	rows, sum, err := GenerateQA(context.Background(), client(t, srv, cacheDir, rec, nil), chunks, Config{},
		func(r progress.Report) { last = r; reports++ })
	if err != nil {
		t.Fatal(err)
	}
	// Hand count, N = 3 over 10 chunks: chunk 2 fails (garbage twice); chunk 7 returns 4 (1 surplus): a
	// duplicate of chunk 0's first question, an empty one, an unanswerable one; chunk 8 returns 1; chunk 9
	// returns 5 (2 surplus).
	want := Summary{Chunks: 10, Requested: 30, Returned: 25, Generated: 22, Missing: 5, Surplus: 3, Reasked: 2,
		Filtered: map[string]int{FilterEmpty: 1, FilterNotAnswerable: 1, FilterDuplicate: 1}}
	if sum.Chunks != want.Chunks || sum.Requested != want.Requested || sum.Returned != want.Returned ||
		sum.Generated != want.Generated || sum.Missing != want.Missing || sum.Surplus != want.Surplus ||
		sum.Reasked != want.Reasked || !reflect.DeepEqual(sum.Filtered, want.Filtered) || sum.Skipped != 0 {
		t.Errorf("summary:\n%s\nwant %+v", sum, want)
	}
	if sum.Requested != sum.Generated+sum.FilteredTotal()+sum.Missing || len(rows) != sum.Generated {
		t.Errorf("counts do not add up: %+v, %d rows", sum, len(rows))
	}
	if len(sum.Failed) != 1 || sum.Failed[0].ChunkID != "doc.txt#2" || !strings.Contains(sum.Failed[0].Err, "unusable answer after 2 attempts") {
		t.Errorf("failed: %+v", sum.Failed)
	}
	// Requests: 1 per plain chunk, 2 for garbage, garbage-once, 429 and slow, 3 for the two 5xx = 16.
	if srv.Count() != 16 {
		t.Errorf("%d requests, want 16", srv.Count())
	}
	st := sum.LLM
	if st.Requests != 16 || st.Retries != 4 || st.RateLimited != 1 || st.ServerErrors != 2 || st.Timeouts != 1 ||
		st.Answers != 12 || st.CacheHits != 0 || st.Failures != 0 {
		t.Errorf("llm stats %+v", st)
	}
	honoured := false
	for _, d := range rec.sleeps {
		honoured = honoured || d == 2*time.Second
	}
	if !honoured {
		t.Errorf("Retry-After: 2 not honoured; waits %v", rec.sleeps)
	}
	// Rows: chunk order, provenance kept, passages are the chunks.
	if rows[0].ChunkID != "doc.txt#0" || rows[0].Passage != alpha || rows[0].Start != 0 || rows[0].End != len(alpha) ||
		rows[0].Answer != "an answer" || rows[len(rows)-1].ChunkID != "doc.txt#9" {
		t.Errorf("rows[0] %+v, last %+v", rows[0], rows[len(rows)-1])
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].ChunkIndex < rows[i-1].ChunkIndex {
			t.Fatalf("rows out of chunk order at %d", i)
		}
	}
	if last.Done != 10 || last.Total != 10 || last.Values["failed"] != 1 || reports < 11 {
		t.Errorf("last progress report %+v after %d reports", last, reports)
	}

	// Second run, fresh client on the same cache: answers that parsed come from the cache; the three that did
	// not (garbage twice, garbage-once's first) were not cached and are asked again — the server now answers
	// garbage-once well at the first attempt. The same rows and counts.
	rows2, sum2, err := GenerateQA(context.Background(), client(t, srv, cacheDir, nil, nil), chunks, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 19 || sum2.LLM.Requests != 3 || sum2.LLM.CacheHits != 8 {
		t.Errorf("re-run made %d requests (stats %+v), want 3", srv.Count()-16, sum2.LLM)
	}
	if !reflect.DeepEqual(rows, rows2) || sum2.Generated != sum.Generated || !reflect.DeepEqual(sum2.Filtered, sum.Filtered) ||
		len(sum2.Failed) != 1 || sum2.Missing != sum.Missing {
		t.Errorf("re-run differs:\n%s\nvs\n%s", sum2, sum)
	}
}

func TestGenerateQAFailedChunkIsReportedAndRetriedOnRerun(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		p := passageOf(r.Last())
		if strings.Contains(p, "down") {
			return llmtest.Reply{Status: 503}
		}
		return llmtest.Reply{Content: jsonQuestions(questionsAbout(p, 2))}
	})
	defer srv.Close()
	chunks := []documents.Chunk{
		{ID: "a#0", Text: "Kappa Foods bakes bread for supermarkets in Norway."},
		{ID: "a#1", Text: "Lambda Energy server is down for maintenance overnight."},
		{ID: "a#2", Text: "Mu Textiles weaves cotton fabric for fashion brands in Italy."},
	}
	cacheDir := t.TempDir()
	mod := func(c *llm.Config) { c.MaxRetries = 2 }
	cfg := Config{QuestionsPerChunk: 2}
	rows, sum, err := GenerateQA(context.Background(), client(t, srv, cacheDir, &recorder{}, mod), chunks, cfg, nil)
	if err != nil || len(rows) != 4 || len(sum.Failed) != 1 || sum.Failed[0].ChunkID != "a#1" ||
		!strings.Contains(sum.Failed[0].Err, "gave up after 3 attempts") || !strings.Contains(sum.Failed[0].Err, "HTTP 503") {
		t.Fatalf("rows %d, err %v, failed %+v", len(rows), err, sum.Failed)
	}
	if sum.Missing != 2 || sum.LLM.Failures != 1 || srv.Count() != 5 {
		t.Errorf("summary %+v, %d requests", sum, srv.Count())
	}
	// The re-run asks only for the failed chunk (3 attempts again): answers are cached, failures are not.
	_, sum2, _ := GenerateQA(context.Background(), client(t, srv, cacheDir, &recorder{}, mod), chunks, cfg, nil)
	if srv.Count() != 8 || sum2.LLM.CacheHits != 2 || sum2.LLM.Requests != 3 {
		t.Errorf("re-run: %d requests in all, stats %+v", srv.Count(), sum2.LLM)
	}
	// Every chunk failing is an error, with the summary still filled in.
	_, sum3, err := GenerateQA(context.Background(), client(t, srv, cacheDir, &recorder{}, mod), chunks[1:2], cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "all 1 chunks failed") || len(sum3.Failed) != 1 {
		t.Errorf("all failed: %v %+v", err, sum3)
	}
}

func TestGenerateQACancelledKeepsProducedRows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		p := passageOf(r.Last())
		if strings.Contains(p, "Second") {
			cancel() // a Ctrl-C while chunk 1 is in flight
			return llmtest.Reply{Delay: 5 * time.Second}
		}
		return llmtest.Reply{Content: jsonQuestions(questionsAbout(p, 3))}
	})
	defer srv.Close()
	var chunks []documents.Chunk
	for i, w := range []string{"First", "Second", "Third", "Fourth"} {
		chunks = append(chunks, documents.Chunk{ID: fmt.Sprint(i), Index: i, Text: w + " chunk about nickel smelting in Canada."})
	}
	rows, sum, err := GenerateQA(ctx, client(t, srv, t.TempDir(), nil, func(c *llm.Config) { c.Timeout = time.Minute }),
		chunks, Config{Workers: 1}, nil)
	if !errors.Is(err, context.Canceled) || len(rows) != 3 || rows[0].ChunkID != "0" {
		t.Fatalf("err %v, %d rows", err, len(rows))
	}
	if sum.Skipped != 2 || len(sum.Failed) != 1 || sum.Failed[0].ChunkID != "1" || sum.Missing != 9 ||
		sum.Requested != sum.Generated+sum.FilteredTotal()+sum.Missing {
		t.Errorf("summary after cancel: %+v", sum)
	}
}

// judge marks questions containing "bad" as unanswerable and cannot score those containing "unknown".
type judge struct{ calls int }

func (j *judge) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	j.calls++
	out := make([]float64, len(pairs))
	var err error
	for i, p := range pairs {
		switch {
		case strings.Contains(p.Query, "unknown"):
			out[i] = math.NaN()
			err = fmt.Errorf("pair %d: judge unavailable", i)
		case strings.Contains(p.Query, "bad"):
			out[i] = 0.1
		default:
			out[i] = 0.9
		}
	}
	return out, err
}

func TestGenerateQAExtraColumnsAndAnswerCheck(t *testing.T) {
	var prompts []string
	var mu sync.Mutex
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		mu.Lock()
		prompts = append(prompts, r.Last())
		mu.Unlock()
		return llmtest.Reply{Content: `{"questions": [
 {"question": "Which metal does Nu Metals refine in Sweden?", "answer": "zinc", "negative_query": "Which metal does Nu Metals import?", "positive_passage": "Nu Metals refines zinc.", "negative_passage": "Nu Metals was founded in 1901."},
 {"question": "Is Nu Metals bad at refining zinc in Sweden?", "negative_query": "x", "positive_passage": "y", "negative_passage": "z"},
 {"question": "Has Nu Metals an unknown zinc refining capacity in Sweden?"}]}`}
	})
	defer srv.Close()
	j := &judge{}
	chunks := []documents.Chunk{{ID: "m#0", Text: "Nu Metals refines zinc at its plant in Sweden and sells it to battery makers."}}
	rows, sum, err := GenerateQA(context.Background(), client(t, srv, t.TempDir(), nil, nil), chunks,
		Config{ExtraColumns: true, AnswerCheck: j}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prompts[0], `"negative_query"`) || !strings.Contains(prompts[0], chunks[0].Text) {
		t.Errorf("extra-columns prompt: %s", prompts[0])
	}
	if j.calls != 1 || len(rows) != 2 || sum.Filtered[FilterJudged] != 1 || len(sum.CheckErrors) != 1 || sum.ExtrasIncomplete != 1 {
		t.Fatalf("rows %+v\nsummary %s", rows, sum)
	}
	r := rows[0]
	if r.PositiveRetrieval != r.Question || r.NegativeRetrieval != "Which metal does Nu Metals import?" ||
		r.PositiveReranking != "Nu Metals refines zinc." || r.NegativeReranking != "Nu Metals was founded in 1901." {
		t.Errorf("extra columns %+v", r)
	}
	// The JSON row has the pairs-format columns and the synthetic-data-generator's.
	b, _ := json.Marshal(r)
	for _, k := range []string{`"anchor"`, `"positive"`, `"positive_retrieval"`, `"negative_retrieval"`, `"positive_reranking"`, `"negative_reranking"`, `"chunk_id"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("row JSON lacks %s: %s", k, b)
		}
	}
}

func TestTemplates(t *testing.T) {
	ch := documents.Chunk{ID: "d#3", Source: "d.md", Index: 3, Text: "Some text."}
	msgs, err := Config{Template: "N={{.N}} src={{.Source}} id={{.ChunkID}} i={{.Index}}: {{.Passage}}", System: "-"}.Prompt(ch)
	if err != nil || len(msgs) != 1 || msgs[0].Content != "N=3 src=d.md id=d#3 i=3: Some text." {
		t.Errorf("custom template: %+v %v", msgs, err)
	}
	msgs, _ = Config{QuestionsPerChunk: 5}.Prompt(ch)
	if len(msgs) != 2 || msgs[0].Content != DefaultSystem || !strings.Contains(msgs[1].Content, "Write 5 different questions") {
		t.Errorf("default template: %+v", msgs)
	}
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply { return llmtest.Reply{Content: "[]"} })
	defer srv.Close()
	for _, bad := range []string{"{{.Nope}}", "{{.N"} {
		_, _, err := GenerateQA(context.Background(), client(t, srv, t.TempDir(), nil, nil), []documents.Chunk{ch}, Config{Template: bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "template") || srv.Count() != 0 {
			t.Errorf("template %q: %v, %d requests", bad, err, srv.Count())
		}
	}
}
