// Package pipeline answers questions over a corpus: retrieve the top k passages (a vector index, or BM25),
// rerank them with a cross-encoder (any relevance.Scorer) and keep the top n, put exactly those n passages
// into an editable prompt that cites them as [1], [2]…, and ask a chat model (package llm, any
// OpenAI-compatible endpoint), streaming its answer when asked to. Every answer carries its sources, the
// prompt and per-stage timings. Without a reranker the retrieval order stands; without an LLM the answer is
// the ranked passages. When a stage fails, what the earlier stages produced is returned with an error
// naming the stage.
//
// It owns the stages' composition, the prompt template, the Answer shape (also the JSON of `ragnb serve`)
// and base-versus-tuned comparisons. It does not own indexes (package index), models (package encoder),
// the chat client (package llm) or HTTP (package server).
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/ragnb/ragnb/internal/redact"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// DefaultSystem is the system prompt unless Config.System replaces it.
const DefaultSystem = "You answer questions using only the numbered passages you are given. Cite every " +
	"passage you use by its number in square brackets, like [1] or [2][3]. If the passages do not contain " +
	"the answer, say that you cannot answer from them."

// DefaultTemplate is the user prompt unless Config.Template replaces it: a Go text/template over PromptData.
// Each passage is numbered by its rank and names its document id.
const DefaultTemplate = `Passages:
{{range .Passages}}
[{{.Rank}}] (document {{.DocID}}){{if .Title}} {{.Title}}:{{end}} {{.Text}}
{{end}}
Question: {{.Question}}
Answer, citing passages as [n]:`

// PromptData is what a prompt template sees.
type PromptData struct {
	Question string
	Passages []Source
}

// Config assembles a pipeline. Only Retriever is required.
type Config struct {
	// Name labels the pipeline in comparisons ("base", "fine-tuned").
	Name string
	// Retriever finds candidates (Dense over an index, Lexical for BM25).
	Retriever Retriever
	// TopK candidates are retrieved (default 20).
	TopK int
	// Reranker rescores the candidates (a cross-encoder; any relevance.Scorer); nil keeps retrieval order.
	Reranker ir.Scorer
	// TopN passages are kept after reranking and go into the prompt (default 5; at most TopK).
	TopN int
	// Template is the user prompt (text/template over PromptData); empty: DefaultTemplate.
	Template string
	// System is the system prompt; empty: DefaultSystem; "-": none.
	System string
	// MaxPassageChars clips each passage in the prompt to this many characters (0: whole passages).
	MaxPassageChars int
	// LLM answers; nil returns the ranked passages without an answer.
	LLM *llm.Client
}

// Pipeline answers questions; it is safe for concurrent use.
type Pipeline struct {
	cfg  Config
	tmpl *template.Template
}

// Build checks cfg, fills defaults and parses the template.
func Build(cfg Config) (*Pipeline, error) {
	if cfg.Retriever == nil {
		return nil, errors.New("pipeline: no retriever")
	}
	if cfg.TopK <= 0 {
		cfg.TopK = 20
	}
	if cfg.TopN <= 0 {
		cfg.TopN = 5
	}
	if cfg.TopN > cfg.TopK {
		return nil, fmt.Errorf("pipeline: top n %d exceeds top k %d", cfg.TopN, cfg.TopK)
	}
	if cfg.Template == "" {
		cfg.Template = DefaultTemplate
	}
	if cfg.System == "" {
		cfg.System = DefaultSystem
	}
	if cfg.MaxPassageChars < 0 {
		return nil, fmt.Errorf("pipeline: negative MaxPassageChars")
	}
	t, err := template.New("prompt").Option("missingkey=error").Parse(cfg.Template)
	if err != nil {
		return nil, fmt.Errorf("pipeline: prompt template: %w", err)
	}
	return &Pipeline{cfg: cfg, tmpl: t}, nil
}

// Config returns the pipeline's configuration with defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Name is Config.Name, or a description of the stages.
func (p *Pipeline) Name() string {
	if p.cfg.Name != "" {
		return p.cfg.Name
	}
	s := "retrieve"
	if p.cfg.Reranker != nil {
		s += "+rerank"
	}
	if p.cfg.LLM != nil {
		s += "+" + p.cfg.LLM.Model()
	}
	return s
}

// Source is one passage of an answer.
type Source struct {
	// Rank is the passage's number in the prompt (1-based), after reranking.
	Rank  int    `json:"rank"`
	DocID string `json:"doc_id"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text"`
	// RetrieveRank and RetrieveScore are the first stage's (1-based rank).
	RetrieveRank  int     `json:"retrieve_rank"`
	RetrieveScore float64 `json:"retrieve_score"`
	// RerankScore is the reranker's score (when Answer.Reranked).
	RerankScore float64 `json:"rerank_score"`
}

// Timings are the time each stage took. Embed and Search may be shared with other questions answered in
// the same batch (AskMany, a Batched retriever).
type Timings struct {
	Embed, Search, Rerank, Generate, Total time.Duration
}

// MarshalJSON writes milliseconds: {"embed_ms":…, "search_ms":…, "rerank_ms":…, "generate_ms":…, "total_ms":…}.
func (t Timings) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }
	return []byte(`{"embed_ms":` + ms(t.Embed) + `,"search_ms":` + ms(t.Search) + `,"rerank_ms":` + ms(t.Rerank) +
		`,"generate_ms":` + ms(t.Generate) + `,"total_ms":` + ms(t.Total) + `}`), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Timings) UnmarshalJSON(b []byte) error {
	var ms struct {
		Embed    float64 `json:"embed_ms"`
		Search   float64 `json:"search_ms"`
		Rerank   float64 `json:"rerank_ms"`
		Generate float64 `json:"generate_ms"`
		Total    float64 `json:"total_ms"`
	}
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	d := func(x float64) time.Duration { return time.Duration(math.Round(x * 1e6)) }
	*t = Timings{Embed: d(ms.Embed), Search: d(ms.Search), Rerank: d(ms.Rerank), Generate: d(ms.Generate), Total: d(ms.Total)}
	return nil
}

// Answer is the result of one question.
type Answer struct {
	Question string `json:"question"`
	// Text is the model's answer; empty without an LLM or when generation failed.
	Text string `json:"answer"`
	// Sources are the passages given to the model, in prompt order.
	Sources []Source `json:"sources"`
	// Cited are the source ranks the answer cites as [n], in order of first citation.
	Cited []int `json:"cited,omitempty"`
	// Retrieved is the number of first-stage candidates; Reranked says whether a reranker ordered them.
	Retrieved int  `json:"retrieved"`
	Reranked  bool `json:"reranked"`
	// Prompt is the user message sent (or that would be sent, without an LLM).
	Prompt string `json:"prompt,omitempty"`
	// Model is the chat model that answered.
	Model   string  `json:"model,omitempty"`
	Timings Timings `json:"timings"`
	// Error is the failure's message (AskMany, the server); the Go error is returned beside the Answer.
	Error string `json:"error,omitempty"`
}

// StageError is a failure in one stage: retrieve, rerank, prompt or generate.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return "pipeline: " + e.Stage + ": " + e.Err.Error() }
func (e *StageError) Unwrap() error { return e.Err }

// Request is a question with per-call settings; zero values take the pipeline's.
type Request struct {
	Question   string
	TopK, TopN int
	// NoLLM returns the ranked passages without asking the model.
	NoLLM bool
}

// Ask answers a question.
func (p *Pipeline) Ask(ctx context.Context, question string) (Answer, error) {
	return p.Do(ctx, Request{Question: question}, nil)
}

// AskStream answers a question, calling onDelta with each piece of the answer as the model produces it.
func (p *Pipeline) AskStream(ctx context.Context, question string, onDelta func(string)) (Answer, error) {
	return p.Do(ctx, Request{Question: question}, onDelta)
}

// Do answers req; onDelta (may be nil) receives the answer as it streams. On a failure the Answer holds
// everything produced before the failing stage (the sources, when retrieval worked) and the error is a
// *StageError.
func (p *Pipeline) Do(ctx context.Context, req Request, onDelta func(string)) (Answer, error) {
	start := time.Now()
	k, n, err := p.limits(req)
	if err != nil {
		return Answer{Question: req.Question, Error: err.Error()}, err
	}
	cands, rt, err := p.cfg.Retriever.Retrieve(ctx, []string{req.Question}, k)
	if err == nil && len(cands) != 1 {
		err = fmt.Errorf("retriever returned %d result lists for 1 question", len(cands))
	}
	if err != nil {
		a := Answer{Question: req.Question, Timings: Timings{Embed: rt.Embed, Search: rt.Search}}
		return p.fail(a, start, "retrieve", err)
	}
	return p.finish(ctx, req, cands[0], rt, n, start, onDelta)
}

func (p *Pipeline) limits(req Request) (k, n int, err error) {
	if strings.TrimSpace(req.Question) == "" {
		return 0, 0, errors.New("pipeline: empty question")
	}
	k, n = p.cfg.TopK, p.cfg.TopN
	if req.TopK > 0 {
		k = req.TopK
	}
	if req.TopN > 0 {
		n = req.TopN
	}
	if req.TopK < 0 || req.TopN < 0 {
		return 0, 0, errors.New("pipeline: negative top k or top n")
	}
	if n > k {
		switch {
		case req.TopN == 0:
			n = k // a smaller k alone lowers the default n: {"top_k": 1} keeps the one passage it asked for
		case req.TopK > 0:
			return 0, 0, fmt.Errorf("pipeline: top n %d exceeds top k %d", n, k)
		default:
			k = n // a larger n widens the default k
		}
	}
	return k, n, nil
}

func (p *Pipeline) fail(a Answer, start time.Time, stage string, err error) (Answer, error) {
	se := &StageError{Stage: stage, Err: err}
	a.Error = redact.Secrets(se.Error()) // upstream text may echo credentials; the Answer is shown and served
	a.Timings.Total = time.Since(start)
	return a, se
}

// finish runs the stages after retrieval for one question.
func (p *Pipeline) finish(ctx context.Context, req Request, cands []Candidate, rt RetrieveTimings, n int, start time.Time, onDelta func(string)) (Answer, error) {
	a := Answer{Question: req.Question, Retrieved: len(cands), Timings: Timings{Embed: rt.Embed, Search: rt.Search}}
	sources := make([]Source, len(cands))
	for i, c := range cands {
		sources[i] = Source{DocID: c.DocID, Title: c.Title, Text: c.Text, RetrieveRank: i + 1, RetrieveScore: c.Score}
	}
	var rerankErr error
	if p.cfg.Reranker != nil && len(sources) > 0 {
		t0 := time.Now()
		rerankErr = rerank(ctx, p.cfg.Reranker, req.Question, sources)
		a.Timings.Rerank = time.Since(t0)
		a.Reranked = rerankErr == nil
	}
	sources = sources[:min(n, len(sources))]
	for i := range sources {
		sources[i].Rank = i + 1
	}
	a.Sources = sources
	if rerankErr != nil {
		return p.fail(a, start, "rerank", rerankErr) // the sources in retrieval order
	}
	prompt, err := p.Prompt(req.Question, sources)
	if err != nil {
		return p.fail(a, start, "prompt", err)
	}
	a.Prompt = prompt
	if p.cfg.LLM == nil || req.NoLLM {
		a.Timings.Total = time.Since(start)
		return a, nil
	}
	a.Model = p.cfg.LLM.Model()
	msgs := p.messages(prompt)
	t0 := time.Now()
	var text string
	if onDelta != nil {
		text, err = p.cfg.LLM.ChatStream(ctx, msgs, onDelta)
	} else {
		text, err = p.cfg.LLM.Chat(ctx, msgs)
	}
	a.Timings.Generate = time.Since(t0)
	if err == nil && strings.TrimSpace(text) == "" {
		err = errors.New("the model returned an empty answer")
	}
	if err != nil {
		a.Text = text // a stream that broke keeps what arrived
		return p.fail(a, start, "generate", err)
	}
	a.Text = text
	a.Cited = Citations(text, len(sources))
	a.Timings.Total = time.Since(start)
	return a, nil
}

// rerank scores every candidate and sorts sources by the new score (stable: ties keep retrieval order).
func rerank(ctx context.Context, s ir.Scorer, question string, sources []Source) error {
	pairs := make([]ir.Pair, len(sources))
	for i, src := range sources {
		pairs[i] = ir.Pair{Query: question, Passage: content(src)}
	}
	scores, err := s.ScorePairs(ctx, pairs, nil)
	if err != nil {
		return err
	}
	if len(scores) != len(pairs) {
		return fmt.Errorf("the reranker returned %d scores for %d passages", len(scores), len(pairs))
	}
	for i, sc := range scores {
		if math.IsNaN(sc) {
			return fmt.Errorf("the reranker scored passage %s NaN", sources[i].DocID)
		}
		sources[i].RerankScore = sc
	}
	sort.SliceStable(sources, func(i, j int) bool { return sources[i].RerankScore > sources[j].RerankScore })
	return nil
}

// content is what the reranker sees: title and text, as the retriever saw them (ir.Document.Content).
func content(s Source) string {
	if s.Title == "" {
		return s.Text
	}
	return s.Title + " " + s.Text
}

// Prompt renders the user prompt for a question and its passages (clipped to MaxPassageChars).
func (p *Pipeline) Prompt(question string, sources []Source) (string, error) {
	data := PromptData{Question: question, Passages: sources}
	if limit := p.cfg.MaxPassageChars; limit > 0 {
		data.Passages = make([]Source, len(sources))
		for i, s := range sources {
			if r := []rune(s.Text); len(r) > limit {
				s.Text = string(r[:limit]) + "…"
			}
			data.Passages[i] = s
		}
	}
	var b strings.Builder
	if err := p.tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (p *Pipeline) messages(prompt string) []llm.Message {
	if p.cfg.System == "-" {
		return []llm.Message{llm.User(prompt)}
	}
	return []llm.Message{llm.System(p.cfg.System), llm.User(prompt)}
}

var citation = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

// Citations returns the passage numbers 1..n cited in text as [i] or [i, j], in order of first citation.
func Citations(text string, n int) []int {
	var out []int
	seen := map[int]bool{}
	for _, m := range citation.FindAllStringSubmatch(text, -1) {
		for _, f := range strings.Split(m[1], ",") {
			i, err := strconv.Atoi(strings.TrimSpace(f))
			if err == nil && i >= 1 && i <= n && !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	return out
}

// AskMany answers questions with up to concurrency in flight (0: the LLM client's concurrency, else 4).
// Retrieval runs in batches of 64 questions (one embedding call each; the batch's embed and search time is
// split evenly over its answers). Every question gets an Answer, in order; failures are in Answer.Error
// and joined into the returned error. report counts answered questions.
func (p *Pipeline) AskMany(ctx context.Context, questions []string, concurrency int, report progress.Func) ([]Answer, error) {
	if concurrency <= 0 {
		concurrency = 4
		if p.cfg.LLM != nil {
			concurrency = p.cfg.LLM.Concurrency()
		}
	}
	answers := make([]Answer, len(questions))
	errs := make([]error, len(questions))
	tracker := progress.Start(report, "ask", len(questions), "questions")
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	const batchSize = 64
	for bs := 0; bs < len(questions); bs += batchSize {
		be := min(bs+batchSize, len(questions))
		start := time.Now()
		var valid []int
		var qs []string
		for i := bs; i < be; i++ {
			if strings.TrimSpace(questions[i]) == "" {
				answers[i], errs[i] = p.fail(Answer{Question: questions[i]}, start, "retrieve", errors.New("empty question"))
				continue
			}
			valid = append(valid, i)
			qs = append(qs, questions[i])
		}
		if len(qs) == 0 {
			continue
		}
		k, n, _ := p.limits(Request{Question: qs[0]})
		cands, rt, err := p.cfg.Retriever.Retrieve(ctx, qs, k)
		if err == nil && len(cands) != len(qs) {
			err = fmt.Errorf("retriever returned %d result lists for %d questions", len(cands), len(qs))
		}
		share := RetrieveTimings{Embed: rt.Embed / time.Duration(len(qs)), Search: rt.Search / time.Duration(len(qs))}
		if err != nil {
			for _, i := range valid {
				answers[i], errs[i] = p.fail(Answer{Question: questions[i], Timings: Timings{Embed: share.Embed, Search: share.Search}}, start, "retrieve", err)
			}
			continue
		}
		for j, i := range valid {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				t0 := time.Now().Add(-(share.Embed + share.Search))
				answers[i], errs[i] = p.finish(ctx, Request{Question: questions[i]}, cands[j], share, n, t0, nil)
				mu.Lock()
				done++
				tracker.Set(done, nil)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	tracker.End(ctx.Err())
	var joined []error
	for i, err := range errs {
		if err != nil {
			joined = append(joined, fmt.Errorf("question %d: %w", i+1, err))
		}
	}
	return answers, errors.Join(joined...)
}
