package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/gpu"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/vector"
)

// docs is a small corpus where the question below shares words with several passages in different amounts,
// so the word-overlap reranker reorders what the bag-of-words retriever found.
var docs = []ir.Document{
	{ID: "rev", Text: "Total revenue grew 12 percent to 4.2 billion dollars, driven by cloud subscriptions."},
	{ID: "cloud", Text: "Cloud subscriptions revenue grew fastest; cloud margin improved on data center scale."},
	{ID: "debt", Text: "Long-term debt fell after the company repaid its 2025 notes."},
	{ID: "div", Title: "Dividends", Text: "The board raised the quarterly dividend and extended the share buyback."},
	{ID: "emp", Text: "The company employed 11,200 people at year end, most of them in engineering."},
	{ID: "risk", Text: "Risk factors include supply chain disruption and litigation over patents."},
	{ID: "growth", Text: "What drove revenue growth? Pricing, cloud subscriptions and new customers drove total revenue growth this year."},
	{ID: "tax", Text: "The effective tax rate was 17 percent."},
}

const question = "What drove total revenue growth this year?"

func toyModel() (*toymodel.Embedder, index.Model) {
	e := &toymodel.Embedder{Dim: 48, Seed: 11, QueryPrefix: "Represent this question: "}
	return e, index.Model{Embedder: e, Hash: "toy-11", Name: "toy"}
}

func buildIndex(t testing.TB, corpus []ir.Document) (*toymodel.Embedder, *index.Index) {
	t.Helper()
	b, err := gpu.Shared()
	if err != nil {
		t.Fatal(err)
	}
	e, m := toyModel()
	ix, err := index.Build(context.Background(), m, corpus, index.Options{Backend: b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, ix
}

// expectedOrder is computed without the pipeline: brute-force cosine of the toy model's vectors for the
// first stage (top k), then a stable sort by word overlap, top n.
func expectedOrder(t *testing.T, q string, k, n int, rerank bool) (retrieved, final []string) {
	t.Helper()
	e, _ := toyModel()
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Content()
	}
	dv, _ := e.EmbedDocuments(context.Background(), texts, nil)
	qv, _ := e.EmbedQueries(context.Background(), []string{q}, nil)
	idx := make([]int, len(docs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return vector.Cosine(qv.Row(0), dv.Row(idx[a])) > vector.Cosine(qv.Row(0), dv.Row(idx[b]))
	})
	idx = idx[:k]
	for _, i := range idx {
		retrieved = append(retrieved, docs[i].ID)
	}
	if rerank {
		sort.SliceStable(idx, func(a, b int) bool {
			return toymodel.Overlap(q, docs[idx[a]].Content()) > toymodel.Overlap(q, docs[idx[b]].Content())
		})
	}
	for _, i := range idx[:n] {
		final = append(final, docs[i].ID)
	}
	return retrieved, final
}

func fakeLLM(t *testing.T, h func(req llmtest.Request, n int) llmtest.Reply) (*llmtest.Server, *llm.Client) {
	t.Helper()
	srv := llmtest.New(h)
	t.Cleanup(srv.Close)
	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), Model: "fake-chat", NoCache: true, MaxRetries: 1,
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

var passageMark = regexp.MustCompile(`\[(\d+)\] \(document (\S+)\)`)

func TestPromptHoldsExactlyTheRerankedPassagesInOrder(t *testing.T) {
	_, ix := buildIndex(t, docs)
	srv, client := fakeLLM(t, func(req llmtest.Request, n int) llmtest.Reply {
		return llmtest.Reply{Content: "Cloud subscriptions and pricing [1], as the filing says [2]."}
	})
	p, err := Build(Config{Retriever: Dense(ix), TopK: 5, TopN: 3, Reranker: &toymodel.OverlapScorer{}, LLM: client})
	if err != nil {
		t.Fatal(err)
	}
	retrieved, want := expectedOrder(t, question, 5, 3, true)
	if _, noRerank := expectedOrder(t, question, 5, 3, false); strings.Join(noRerank, " ") == strings.Join(want, " ") {
		t.Fatalf("test corpus does not exercise reranking: both orders %v", want)
	}
	a, err := p.Ask(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d chat requests, want 1", len(reqs))
	}
	got := reqs[0]
	if len(got.Messages) != 2 || got.Messages[0].Role != "system" || got.Messages[0].Content != DefaultSystem || got.Model != "fake-chat" {
		t.Errorf("messages %+v", got.Messages)
	}
	prompt := got.Last()
	marks := passageMark.FindAllStringSubmatch(prompt, -1)
	if len(marks) != len(want) {
		t.Fatalf("prompt cites %d passages, want %d:\n%s", len(marks), len(want), prompt)
	}
	last := -1
	for i, m := range marks {
		if m[1] != fmt.Sprint(i+1) || m[2] != want[i] {
			t.Errorf("prompt passage %d is [%s] %s, want [%d] %s", i, m[1], m[2], i+1, want[i])
		}
		d, _ := ix.Lookup(want[i])
		at := strings.Index(prompt, d.Text)
		if at < last || at < 0 {
			t.Errorf("passage %s text missing or out of order in the prompt", want[i])
		}
		last = at
	}
	for _, d := range docs {
		if !contains(want, d.ID) && strings.Contains(prompt, d.Text) {
			t.Errorf("passage %s, not among the reranked top 3, is in the prompt", d.ID)
		}
	}
	if !strings.Contains(prompt, "Question: "+question) || a.Prompt != prompt {
		t.Errorf("prompt lacks the question or differs from Answer.Prompt:\n%s", prompt)
	}
	// The answer and its sources come back.
	if a.Text != "Cloud subscriptions and pricing [1], as the filing says [2]." || a.Model != "fake-chat" {
		t.Errorf("answer %q from %q", a.Text, a.Model)
	}
	if fmt.Sprint(a.Cited) != "[1 2]" || !a.Reranked || a.Retrieved != 5 {
		t.Errorf("cited %v reranked %v retrieved %d", a.Cited, a.Reranked, a.Retrieved)
	}
	for i, s := range a.Sources {
		if s.Rank != i+1 || s.DocID != want[i] || s.RetrieveRank != indexOf(retrieved, s.DocID)+1 {
			t.Errorf("source %d: %+v (want %s, retrieval rank %d)", i, s, want[i], indexOf(retrieved, s.DocID)+1)
		}
		d, _ := ix.Lookup(s.DocID)
		if s.Text != d.Text || s.Title != d.Title {
			t.Errorf("source %s text %q", s.DocID, s.Text)
		}
		if want := toymodel.Overlap(question, d.Content()); s.RerankScore != want {
			t.Errorf("source %s rerank score %v, want %v", s.DocID, s.RerankScore, want)
		}
		if i > 0 && s.RerankScore > a.Sources[i-1].RerankScore {
			t.Errorf("sources not in rerank order")
		}
	}
	if a.Timings.Total <= 0 || a.Timings.Generate <= 0 || a.Timings.Total < a.Timings.Generate+a.Timings.Rerank {
		t.Errorf("timings %+v", a.Timings)
	}
}

func contains(xs []string, x string) bool { return indexOf(xs, x) >= 0 }

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func TestWithoutRerankerOrWithoutLLM(t *testing.T) {
	_, ix := buildIndex(t, docs)
	retrieved, _ := expectedOrder(t, question, 4, 4, false)

	p, _ := Build(Config{Retriever: Dense(ix), TopK: 4, TopN: 2})
	a, err := p.Ask(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	if ids(a) != strings.Join(retrieved[:2], " ") || a.Reranked || a.Text != "" || a.Model != "" {
		t.Errorf("no reranker, no LLM: sources %s (want %v), answer %q", ids(a), retrieved[:2], a.Text)
	}
	if marks := passageMark.FindAllStringSubmatch(a.Prompt, -1); len(marks) != 2 || marks[0][2] != retrieved[0] {
		t.Errorf("the prompt that would be sent: %q", a.Prompt)
	}
	for _, s := range a.Sources {
		if s.RerankScore != 0 || s.Rank != s.RetrieveRank {
			t.Errorf("unreranked source %+v", s)
		}
	}

	// With an LLM but NoLLM per request, nothing is sent.
	srv, client := fakeLLM(t, func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "x"} })
	p2, _ := Build(Config{Retriever: Dense(ix), TopK: 4, TopN: 2, LLM: client})
	a2, err := p2.Do(context.Background(), Request{Question: question, NoLLM: true}, nil)
	if err != nil || srv.Count() != 0 || ids(a2) != ids(a) {
		t.Errorf("NoLLM: %v, %d requests, sources %s", err, srv.Count(), ids(a2))
	}
	// Per-request top k / top n.
	a3, err := p2.Do(context.Background(), Request{Question: question, TopK: 3, TopN: 3, NoLLM: true}, nil)
	if err != nil || a3.Retrieved != 3 || len(a3.Sources) != 3 {
		t.Errorf("top 3/3: %v, %d retrieved, %d sources", err, a3.Retrieved, len(a3.Sources))
	}
	if _, err := p2.Do(context.Background(), Request{Question: question, TopK: 2, TopN: 3}, nil); err == nil {
		t.Error("top n > top k: want an error")
	}
	// A top k below the default top n, alone, lowers top n to it.
	a4, err := p2.Do(context.Background(), Request{Question: question, TopK: 1, NoLLM: true}, nil)
	if err != nil || a4.Retrieved != 1 || len(a4.Sources) != 1 {
		t.Errorf("top_k 1 alone: %v, %d retrieved, %d sources", err, a4.Retrieved, len(a4.Sources))
	}
	if _, err := p2.Ask(context.Background(), "   "); err == nil {
		t.Error("empty question: want an error")
	}
}

func ids(a Answer) string {
	var s []string
	for _, x := range a.Sources {
		s = append(s, x.DocID)
	}
	return strings.Join(s, " ")
}

func TestLLMFailureKeepsRetrievalResults(t *testing.T) {
	_, ix := buildIndex(t, docs)
	cases := map[string]llmtest.Reply{
		"server error": {Status: 500},
		"garbage":      {Raw: "<html>this is not json</html>"},
		"empty answer": {Content: "  "},
		"no choices":   {Raw: `{"id":"x","object":"chat.completion","choices":[]}`},
	}
	_, want := expectedOrder(t, question, 5, 3, true)
	for name, reply := range cases {
		t.Run(name, func(t *testing.T) {
			srv, client := fakeLLM(t, func(llmtest.Request, int) llmtest.Reply { return reply })
			p, _ := Build(Config{Retriever: Dense(ix), TopK: 5, TopN: 3, Reranker: &toymodel.OverlapScorer{}, LLM: client})
			a, err := p.Ask(context.Background(), question)
			var se *StageError
			if !errors.As(err, &se) || se.Stage != "generate" {
				t.Fatalf("error %v, want a generate StageError", err)
			}
			if !strings.Contains(err.Error(), "pipeline: generate:") || a.Error != err.Error() {
				t.Errorf("error text %q / Answer.Error %q", err, a.Error)
			}
			if ids(a) != strings.Join(want, " ") || a.Prompt == "" || !a.Reranked {
				t.Errorf("the retrieval results were not kept: sources %q prompt %d bytes", ids(a), len(a.Prompt))
			}
			if srv.Count() < 1 {
				t.Error("the LLM was not asked")
			}
			// The answer, with its error, still marshals for the server.
			if _, err := json.Marshal(a); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestStreamingDeliversDeltas(t *testing.T) {
	_, ix := buildIndex(t, docs)
	_, client := fakeLLM(t, func(req llmtest.Request, n int) llmtest.Reply {
		if !req.Stream {
			t.Error("AskStream did not stream")
		}
		return llmtest.Reply{Chunks: []string{"Pricing ", "and cloud ", "[1]."}}
	})
	p, _ := Build(Config{Retriever: Dense(ix), LLM: client})
	var got []string
	a, err := p.AskStream(context.Background(), question, func(d string) { got = append(got, d) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "Pricing |and cloud |[1]." || a.Text != "Pricing and cloud [1]." {
		t.Errorf("deltas %q, answer %q", got, a.Text)
	}
	// A stream that breaks after text keeps the text and names the stage.
	_, broken := fakeLLM(t, func(llmtest.Request, int) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Partial "}, BreakStream: true}
	})
	p2, _ := Build(Config{Retriever: Dense(ix), LLM: broken})
	a2, err := p2.AskStream(context.Background(), question, func(string) {})
	if err == nil || a2.Text != "Partial " || len(a2.Sources) == 0 {
		t.Errorf("broken stream: err %v, text %q, %d sources", err, a2.Text, len(a2.Sources))
	}
}

func TestRerankerAndRetrieverFailures(t *testing.T) {
	_, ix := buildIndex(t, docs)
	retrieved, _ := expectedOrder(t, question, 5, 3, false)
	p, _ := Build(Config{Retriever: Dense(ix), TopK: 5, TopN: 3, Reranker: &toymodel.OverlapScorer{Fail: errors.New("cuda oom")}})
	a, err := p.Ask(context.Background(), question)
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "rerank" || !strings.Contains(err.Error(), "cuda oom") {
		t.Fatalf("reranker failure: %v", err)
	}
	if ids(a) != strings.Join(retrieved[:3], " ") || a.Reranked {
		t.Errorf("reranker failure should keep retrieval order: %s", ids(a))
	}
	bad := &toymodel.Embedder{Dim: 48, Fail: errors.New("tokenizer missing")}
	badIx, _ := index.Build(context.Background(), index.Model{Embedder: bad, Hash: "b"}, nil, index.Options{}, nil)
	p2, _ := Build(Config{Retriever: Dense(badIx)})
	if _, err := p2.Ask(context.Background(), question); !errors.As(err, &se) || se.Stage != "retrieve" {
		t.Errorf("retriever failure: %v", err)
	}
}

func TestLexicalRetrieverAndCustomTemplate(t *testing.T) {
	r, err := Lexical(docs, bm25.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	srv, client := fakeLLM(t, func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "ok [1]"} })
	p, err := Build(Config{Retriever: r, TopK: 3, TopN: 2, LLM: client, System: "-",
		Template: "Q={{.Question}}{{range .Passages}}|{{.Rank}}:{{.DocID}}{{end}}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ask(context.Background(), "quarterly dividend buyback"); err != nil {
		t.Fatal(err)
	}
	// BM25 by hand: "div" is the only document with dividend/buyback/quarterly, and BM25 returns only
	// documents sharing a term.
	req := srv.Requests()[0]
	if len(req.Messages) != 1 || req.Last() != "Q=quarterly dividend buyback|1:div" {
		t.Errorf("custom template / no system prompt: %+v", req.Messages)
	}
	if _, err := Build(Config{Retriever: r, Template: "{{.Nope"}); err == nil {
		t.Error("broken template: want an error")
	}
	p2, _ := Build(Config{Retriever: r, Template: "{{.Missing}}"})
	if _, err := p2.Ask(context.Background(), "dividend"); err == nil {
		t.Error("template naming a missing field: want a prompt error")
	}
	if _, err := Build(Config{Retriever: r, TopK: 2, TopN: 3}); err == nil {
		t.Error("top n > top k: want an error")
	}
}

func TestCitations(t *testing.T) {
	for text, want := range map[string]string{
		"A [2] and B [1][2], C [3, 1]": "[2 1 3]",
		"none":                         "[]",
		"out of range [9] [0] [1]":     "[1]",
	} {
		if got := fmt.Sprint(Citations(text, 3)); got != want && !(want == "[]" && got == "[]") {
			t.Errorf("%q: %v, want %s", text, got, want)
		}
	}
}

func TestAskManyBatchesRetrievalAndKeepsOrder(t *testing.T) {
	e, ix := buildIndex(t, docs)
	var mu sync.Mutex
	inFlight, peak := 0, 0
	_, client := fakeLLM(t, func(req llmtest.Request, n int) llmtest.Reply {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		// Echo the first passage's id so each answer can be matched to its question.
		m := passageMark.FindStringSubmatch(req.Last())
		return llmtest.Reply{Content: "see " + m[2]}
	})
	p, _ := Build(Config{Retriever: Dense(ix), TopK: 4, TopN: 2, LLM: client})
	qs := []string{"tax rate", "dividend buyback", "", "employees engineering", "debt notes repaid"}
	calls := e.Calls.Load()
	answers, err := p.AskMany(context.Background(), qs, 3, nil)
	if err == nil || !strings.Contains(err.Error(), "question 3") {
		t.Errorf("the empty question should fail alone: %v", err)
	}
	if e.Calls.Load()-calls != 1 {
		t.Errorf("%d embedding calls for 4 questions, want 1 batch", e.Calls.Load()-calls)
	}
	for i, a := range answers {
		if a.Question != qs[i] {
			t.Errorf("answer %d is for %q", i, a.Question)
		}
		if qs[i] == "" {
			if a.Error == "" {
				t.Error("empty question without an error")
			}
			continue
		}
		single, _ := p.Do(context.Background(), Request{Question: qs[i], NoLLM: true}, nil)
		if ids(a) != ids(single) || a.Text != "see "+a.Sources[0].DocID {
			t.Errorf("%q: batched sources %s vs single %s, answer %q", qs[i], ids(a), ids(single), a.Text)
		}
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak concurrency %d, want 2..3", peak)
	}
}

func TestBatchedRetrieverGathersConcurrentCalls(t *testing.T) {
	e, ix := buildIndex(t, docs)
	br := Batched(Dense(ix), 8, 50*time.Millisecond)
	qs := []string{"tax rate", "dividend", "debt", "employees", "cloud margin", "patents litigation"}
	want := make([]string, len(qs))
	for i, q := range qs {
		c, _, err := Dense(ix).Retrieve(context.Background(), []string{q}, 3)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = c[0][0].DocID + c[0][1].DocID + c[0][2].DocID
	}
	calls := e.Calls.Load()
	var wg sync.WaitGroup
	got := make([]string, len(qs))
	for i, q := range qs {
		wg.Go(func() {
			c, _, err := br.Retrieve(context.Background(), []string{q}, 3)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = c[0][0].DocID + c[0][1].DocID + c[0][2].DocID
		})
	}
	wg.Wait()
	if n := e.Calls.Load() - calls; n >= int64(len(qs)) {
		t.Errorf("%d embedding calls for %d concurrent questions: nothing was batched", n, len(qs))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batched results %v, single %v", got, want)
	}
	// A cancelled caller gets its error without waiting for the batch.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := br.Retrieve(ctx, []string{"tax"}, 3); err == nil {
		t.Error("cancelled call: want an error")
	}
}

func TestCompareSideBySide(t *testing.T) {
	_, ix := buildIndex(t, docs)
	lex, _ := Lexical(docs, bm25.DefaultParams())
	base, _ := Build(Config{Name: "bm25", Retriever: lex, TopK: 3, TopN: 2})
	tuned, _ := Build(Config{Name: "dense+rerank", Retriever: Dense(ix), TopK: 5, TopN: 2, Reranker: &toymodel.OverlapScorer{}})
	qs := []string{"quarterly dividend", "effective tax rate", "who are the employees"}
	gold := []string{"div", "tax", "nonexistent"}
	c, err := Compare(context.Background(), base, tuned, qs, gold, nil)
	if err != nil {
		t.Fatal(err)
	}
	df := c.Frame()
	wantCols := []string{"question", "gold", "bm25 sources", "bm25 gold rank", "dense+rerank sources", "dense+rerank gold rank"}
	if fmt.Sprint(df.Names()) != fmt.Sprint(wantCols) || df.Nrow() != 3 {
		t.Fatalf("columns %v rows %d", df.Names(), df.Nrow())
	}
	for i, r := range c.Rows {
		for _, side := range []struct {
			col string
			a   Answer
		}{{"bm25", r.Base}, {"dense+rerank", r.Tuned}} {
			rank := GoldRank(side.a, gold[i])
			wantCell := "–"
			if rank > 0 {
				wantCell = fmt.Sprint(rank)
			}
			if got := df.Col(side.col + " gold rank").Elem(i).String(); got != wantCell {
				t.Errorf("row %d %s gold rank %q, want %q", i, side.col, got, wantCell)
			}
			if got := df.Col(side.col + " sources").Elem(i).String(); got != ids(side.a) {
				t.Errorf("row %d %s sources %q", i, side.col, got)
			}
		}
	}
	if GoldRank(c.Rows[0].Base, "div") != 1 || GoldRank(c.Rows[2].Base, "nonexistent") != 0 {
		t.Error("BM25 should put the only dividend passage first and cannot find a nonexistent id")
	}
	sum := c.Summary()
	if !strings.Contains(sum, "bm25: gold in sources 2/3") {
		t.Errorf("summary %q", sum)
	}
	if !strings.Contains(c.Text(), "dense+rerank sources") || !strings.Contains(c.HTML(), "<table") {
		t.Error("text/HTML rendering lacks the table")
	}
	if _, err := Compare(context.Background(), base, tuned, qs, gold[:1], nil); err == nil {
		t.Error("gold of the wrong length: want an error")
	}

	// Over a whole held-out set the summary counts every question and the table shows the first ShownRows.
	var many, manyGold []string
	for i := range ShownRows + 5 {
		many, manyGold = append(many, qs[i%3]), append(manyGold, gold[i%3])
	}
	c, err = Compare(context.Background(), base, tuned, many, manyGold, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := c.Text()
	last := ""
	for _, m := range regexp.MustCompile(`(?m)^ *(\d+)  `).FindAllStringSubmatch(text, -1) {
		last = m[1]
	}
	n := ShownRows + 5
	if !strings.Contains(text, fmt.Sprintf("gold in sources %d/%d", n-n/3, n)) || last != fmt.Sprint(ShownRows-1) {
		t.Errorf("a %d-question comparison (last row shown %q) renders as:\n%s", n, last, text)
	}
}

func TestAnswerJSON(t *testing.T) {
	a := Answer{Question: "q", Text: "t [1]", Sources: []Source{{Rank: 1, DocID: "d", Text: "x", RetrieveRank: 2, RetrieveScore: 0.5, RerankScore: 3}},
		Cited: []int{1}, Timings: Timings{Embed: 1500 * time.Microsecond, Total: 2 * time.Second}}
	b, _ := json.Marshal(a)
	var back Answer
	if err := json.Unmarshal(b, &back); err != nil || back.Timings != a.Timings || back.Sources[0] != a.Sources[0] {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
	for _, want := range []string{`"answer":"t [1]"`, `"doc_id":"d"`, `"retrieve_rank":2`, `"rerank_score":3`,
		`"embed_ms":1.500`, `"total_ms":2000.000`, `"cited":[1]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}
