// Package synth generates synthetic training data from document chunks with a chat model: N questions per
// chunk (and optionally the extra columns of the synthetic-data-generator: negative queries, positive and
// negative passages), parsed tolerantly, validated (non-empty, answerable from the chunk, not duplicated) and
// accounted for in a Summary in which every requested question is generated, filtered (by reason) or
// missing, and every failed chunk is listed with its error. It does not chunk (docs), talk HTTP (llm) or score
// pairs (teacher).
package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/feed"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// DefaultSystem is the system prompt sent with every generation request.
const DefaultSystem = "You write questions for training and evaluating search engines. You answer with JSON only, no prose."

// DefaultTemplate is the user prompt (a text/template over TemplateData). It asks for JSON.
const DefaultTemplate = `Write {{.N}} different questions that the passage below answers, as a user of a search engine would ask them.
Each question must be answerable from the passage alone, must make sense without seeing the passage (name its subject; never say "the passage" or "the text") and must not copy a sentence of the passage word for word. Give each question's answer, taken from the passage.

Passage:
"""
{{.Passage}}
"""

Answer with JSON only, in exactly this shape:
{"questions": [{"question": "...", "answer": "..."}]}`

// DefaultExtraTemplate is DefaultTemplate with the synthetic-data-generator's extra columns.
const DefaultExtraTemplate = `Write {{.N}} different questions that the passage below answers, as a user of a search engine would ask them.
Each question must be answerable from the passage alone, must make sense without seeing the passage (name its subject; never say "the passage" or "the text") and must not copy a sentence of the passage word for word. Give each question's answer, taken from the passage. For each question also write:
- "negative_query": a query that looks like the question but that the passage does NOT answer;
- "positive_passage": a short passage, worded differently from the original, that answers the question;
- "negative_passage": a short passage on a similar topic that does NOT answer the question.

Passage:
"""
{{.Passage}}
"""

Answer with JSON only, in exactly this shape:
{"questions": [{"question": "...", "answer": "...", "negative_query": "...", "positive_passage": "...", "negative_passage": "..."}]}`

// TemplateData is what a prompt template sees.
type TemplateData struct {
	N       int    // questions wanted
	Passage string // the chunk text
	Source  string // the document path
	ChunkID string
	Index   int // the chunk's index within its document
}

// Config says what to generate.
type Config struct {
	// QuestionsPerChunk is N (default 3). Answers with more questions are cut to N (counted as Surplus).
	QuestionsPerChunk int
	// System is the system prompt (default DefaultSystem; "-" sends none).
	System string
	// Template is the user prompt, a text/template over TemplateData (default DefaultTemplate, or
	// DefaultExtraTemplate with ExtraColumns).
	Template string
	// ExtraColumns asks for, and fills, the negative_retrieval, positive_reranking and negative_reranking
	// columns (positive_retrieval is the question itself).
	ExtraColumns bool
	// MinOverlap is the answerability threshold: the fraction of a question's content words that must occur
	// in the chunk (see Overlap). Default 0.25: on the shared financial QA set 97.3% of the true (question,
	// context) pairs pass and 5.9% of mismatched ones. Negative turns the check off.
	MinOverlap float64
	// AnswerCheck, when set, scores every (question, chunk) pair that passed the lexical check (an LLM judge
	// from package teacher, a cross-encoder...); pairs below AnswerCheckMin are filtered.
	AnswerCheck ir.Scorer
	// AnswerCheckMin is the AnswerCheck threshold (default 0.5).
	AnswerCheckMin float64
	// ParseRetries is how often a chunk is asked again (a new cache entry, see llm.Request.Attempt) when its
	// answer holds no parsable question (default 1; negative: never).
	ParseRetries int
	// Workers is the number of chunks in progress at once (default: the client's Concurrency).
	Workers int
}

// Row is one generated training pair, in the pairs format (anchor, positive) plus its provenance.
type Row struct {
	Question   string `json:"anchor"`
	Passage    string `json:"positive"`
	Answer     string `json:"answer,omitempty"`
	Source     string `json:"source"`
	ChunkID    string `json:"chunk_id"`
	ChunkIndex int    `json:"chunk_index"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	// Extra columns (Config.ExtraColumns), named as in the synthetic-data-generator.
	PositiveRetrieval string `json:"positive_retrieval,omitempty"`
	NegativeRetrieval string `json:"negative_retrieval,omitempty"`
	PositiveReranking string `json:"positive_reranking,omitempty"`
	NegativeReranking string `json:"negative_reranking,omitempty"`
}

// ChunkError is a chunk that produced nothing, and why.
type ChunkError struct {
	ChunkID string `json:"chunk_id"`
	Source  string `json:"source"`
	Index   int    `json:"chunk_index"`
	Err     string `json:"error"`
}

// Summary accounts for every requested question:
//
//	Requested = Generated + FilteredTotal() + Missing, and Returned = Generated + FilteredTotal().
//
// Chunks = chunks answered + len(Failed) + Skipped.
type Summary struct {
	Chunks    int `json:"chunks"`
	Requested int `json:"requested"` // Chunks × QuestionsPerChunk
	Returned  int `json:"returned"`  // questions parsed from answers (at most N per chunk)
	Generated int `json:"generated"` // rows kept
	// Filtered counts questions dropped, by reason (FilterEmpty, FilterNotAnswerable, FilterJudged,
	// FilterDuplicate).
	Filtered map[string]int `json:"filtered"`
	// Missing = Requested − Returned: the share of failed or skipped chunks, and answers with fewer than N.
	Missing int `json:"missing"`
	// Surplus counts questions beyond N that answers held and that were not used.
	Surplus int `json:"surplus"`
	// ExtrasIncomplete counts kept rows lacking some extra column (with ExtraColumns).
	ExtrasIncomplete int `json:"extras_incomplete,omitempty"`
	// Failed lists every chunk whose request failed or whose answers held no question, with the error.
	Failed []ChunkError `json:"failed"`
	// Skipped counts chunks never asked because the context was cancelled.
	Skipped int `json:"skipped"`
	// Reasked counts chunks asked again after an answer without parsable questions.
	Reasked int `json:"reasked"`
	// CheckErrors are AnswerCheck failures; the pairs it could not score were kept.
	CheckErrors []string `json:"check_errors,omitempty"`
	// LLM is the client's work during this run: requests, cache hits, retries, failures.
	LLM     llm.Stats     `json:"llm"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// FilteredTotal sums Filtered.
func (s Summary) FilteredTotal() int {
	n := 0
	for _, v := range s.Filtered {
		n += v
	}
	return n
}

// String is a short human-readable account.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d chunks: %d questions requested, %d returned, %d generated, %d filtered, %d missing",
		s.Chunks, s.Requested, s.Returned, s.Generated, s.FilteredTotal(), s.Missing)
	if s.FilteredTotal() > 0 {
		keys := make([]string, 0, len(s.Filtered))
		for k := range s.Filtered {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Filtered[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "\n%d chunks failed, %d skipped, %d asked again; %d requests, %d cache hits, %d retries (%d rate-limited, %d server errors, %d timeouts) in %v",
		len(s.Failed), s.Skipped, s.Reasked, s.LLM.Requests, s.LLM.CacheHits, s.LLM.Retries, s.LLM.RateLimited,
		s.LLM.ServerErrors, s.LLM.Timeouts, s.Elapsed.Round(time.Millisecond))
	for _, f := range s.Failed {
		fmt.Fprintf(&b, "\n  failed %s: %s", f.ChunkID, f.Err)
	}
	for _, e := range s.CheckErrors {
		fmt.Fprintf(&b, "\n  answer check: %s", e)
	}
	return b.String()
}

// Prompt renders the messages sent for one chunk (exported so notebooks can preview a template).
func (c Config) Prompt(ch documents.Chunk) ([]llm.Message, error) {
	tpl, err := c.template()
	if err != nil {
		return nil, err
	}
	return c.render(tpl, ch)
}

func (c Config) withDefaults() Config {
	if c.QuestionsPerChunk <= 0 {
		c.QuestionsPerChunk = 3
	}
	if c.System == "" {
		c.System = DefaultSystem
	}
	if c.Template == "" {
		c.Template = DefaultTemplate
		if c.ExtraColumns {
			c.Template = DefaultExtraTemplate
		}
	}
	if c.MinOverlap == 0 {
		c.MinOverlap = 0.25
	}
	if c.AnswerCheckMin == 0 {
		c.AnswerCheckMin = 0.5
	}
	if c.ParseRetries == 0 {
		c.ParseRetries = 1
	}
	if c.ParseRetries < 0 {
		c.ParseRetries = 0
	}
	return c
}

func (c Config) template() (*template.Template, error) {
	c = c.withDefaults()
	tpl, err := template.New("prompt").Option("missingkey=error").Parse(c.Template)
	if err != nil {
		return nil, fmt.Errorf("prompt template: %w", err)
	}
	// Fail now, not on chunk 1,000, when the template names a field that does not exist.
	if err := tpl.Execute(&bytes.Buffer{}, TemplateData{N: 1, Passage: "p"}); err != nil {
		return nil, fmt.Errorf("prompt template: %w", err)
	}
	return tpl, nil
}

func (c Config) render(tpl *template.Template, ch documents.Chunk) ([]llm.Message, error) {
	c = c.withDefaults()
	var b bytes.Buffer
	if err := tpl.Execute(&b, TemplateData{N: c.QuestionsPerChunk, Passage: ch.Text, Source: ch.Source,
		ChunkID: ch.ID, Index: ch.Index}); err != nil {
		return nil, fmt.Errorf("prompt for %s: %w", ch.ID, err)
	}
	var msgs []llm.Message
	if c.System != "-" {
		msgs = append(msgs, llm.System(c.System))
	}
	return append(msgs, llm.User(b.String())), nil
}

// chunkResult is what one chunk gave.
type chunkResult struct {
	items   []Item
	err     error
	done    bool // asked (answered or failed), not skipped
	reasked bool
}

// GenerateQA asks the model for QuestionsPerChunk questions per chunk, with at most Workers chunks in flight,
// and returns the kept rows in chunk order with a Summary. Every answer is cached by the client, so running
// it again (after a crash, or to change validation settings) makes no request for chunks already answered. A
// chunk that fails is listed in Summary.Failed and the others go on. The error is non-nil only when the
// context was cancelled or every chunk failed; the rows produced so far are returned with it.
func GenerateQA(ctx context.Context, client *llm.Client, chunks []documents.Chunk, cfg Config, report progress.Func) ([]Row, Summary, error) {
	start := time.Now()
	cfg = cfg.withDefaults()
	sum := Summary{Chunks: len(chunks), Requested: len(chunks) * cfg.QuestionsPerChunk, Filtered: map[string]int{}}
	if client == nil {
		return nil, sum, fmt.Errorf("generate: no llm client")
	}
	tpl, err := cfg.template()
	if err != nil {
		return nil, sum, err
	}
	before := client.Stats()
	workers := cfg.Workers
	if workers <= 0 {
		workers = client.Concurrency()
	}

	results := make([]chunkResult, len(chunks))
	tr := progress.Start(report, "generate", len(chunks), "chunks")
	var mu sync.Mutex
	done, failed := 0, 0
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, max(len(chunks), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := askChunk(ctx, client, cfg, tpl, chunks[i])
				results[i] = r
				mu.Lock()
				done++
				if r.err != nil {
					failed++
				}
				st := client.Stats().Sub(before)
				tr.Set(done, map[string]float64{"failed": float64(failed), "requests": float64(st.Requests),
					"cache hits": float64(st.CacheHits), "retries": float64(st.Retries)})
				mu.Unlock()
			}
		}()
	}
	feed.Indices(ctx, next, len(chunks))
	wg.Wait()
	tr.End(ctx.Err()) // an interrupt ends the bar at the chunks done

	rows := assemble(ctx, chunks, results, cfg, &sum)
	sum.LLM = client.Stats().Sub(before)
	sum.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		return rows, sum, fmt.Errorf("generate: stopped after %d of %d chunks: %w", len(chunks)-sum.Skipped, len(chunks), ctx.Err())
	}
	if len(chunks) > 0 && len(sum.Failed) == len(chunks) {
		return rows, sum, fmt.Errorf("generate: all %d chunks failed; first: %s: %s", len(chunks), sum.Failed[0].ChunkID, sum.Failed[0].Err)
	}
	return rows, sum, nil
}

// askChunk asks for one chunk's questions, asking again (Attempt+1) when the answer has none parsable.
func askChunk(ctx context.Context, client *llm.Client, cfg Config, tpl *template.Template, ch documents.Chunk) chunkResult {
	msgs, err := cfg.render(tpl, ch)
	if err != nil {
		return chunkResult{err: err, done: true}
	}
	var lastErr error
	res := chunkResult{done: true}
	for attempt := 0; attempt <= cfg.ParseRetries; attempt++ {
		if attempt > 0 {
			res.reasked = true
		}
		var items []Item
		accept := func(content string) (err error) {
			items, err = ParseQuestions(content)
			return err
		}
		_, err := client.Complete(ctx, llm.Request{Messages: msgs, Attempt: attempt, Accept: accept})
		var rejected *llm.RejectedError
		if errors.As(err, &rejected) {
			lastErr = rejected.Err // not cached: a re-run asks again
			continue
		}
		if err != nil {
			res.err = err
			return res
		}
		res.items = items
		return res
	}
	res.err = fmt.Errorf("unusable answer after %d attempts: %w", cfg.ParseRetries+1, lastErr)
	return res
}

// assemble validates every chunk's items in chunk order (so filtering and dedupe do not depend on timing).
func assemble(ctx context.Context, chunks []documents.Chunk, results []chunkResult, cfg Config, sum *Summary) []Row {
	type cand struct {
		row  Row
		item Item
	}
	var cands []cand
	for i, r := range results {
		ch := chunks[i]
		if r.reasked {
			sum.Reasked++
		}
		switch {
		case !r.done:
			sum.Skipped++
			continue
		case r.err != nil:
			sum.Failed = append(sum.Failed, ChunkError{ChunkID: ch.ID, Source: ch.Source, Index: ch.Index, Err: r.err.Error()})
			continue
		}
		items := r.items
		if len(items) > cfg.QuestionsPerChunk {
			sum.Surplus += len(items) - cfg.QuestionsPerChunk
			items = items[:cfg.QuestionsPerChunk]
		}
		sum.Returned += len(items)
		for _, it := range items {
			it.Question = strings.TrimSpace(it.Question)
			if it.Question == "" {
				sum.Filtered[FilterEmpty]++
				continue
			}
			if cfg.MinOverlap >= 0 && Overlap(it.Question, ch.Text) < cfg.MinOverlap {
				sum.Filtered[FilterNotAnswerable]++
				continue
			}
			cands = append(cands, cand{item: it, row: Row{Question: it.Question, Passage: ch.Text, Answer: it.Answer,
				Source: ch.Source, ChunkID: ch.ID, ChunkIndex: ch.Index, Start: ch.Start, End: ch.End}})
		}
	}
	keep := make([]bool, len(cands))
	for i := range keep {
		keep[i] = true
	}
	if cfg.AnswerCheck != nil && len(cands) > 0 && ctx.Err() == nil {
		pairs := make([]ir.Pair, len(cands))
		for i, c := range cands {
			pairs[i] = ir.Pair{Query: c.row.Question, Passage: c.row.Passage}
		}
		scores, err := cfg.AnswerCheck.ScorePairs(ctx, pairs, nil)
		if err != nil {
			sum.CheckErrors = append(sum.CheckErrors, err.Error())
		}
		for i := range cands {
			if i < len(scores) && !math.IsNaN(scores[i]) && scores[i] < cfg.AnswerCheckMin {
				keep[i] = false
				sum.Filtered[FilterJudged]++
			}
		}
	}
	seen := map[string]bool{}
	var rows []Row
	for i, c := range cands {
		if !keep[i] {
			continue
		}
		k := NormalizeQuestion(c.row.Question)
		if seen[k] {
			sum.Filtered[FilterDuplicate]++
			continue
		}
		seen[k] = true
		if cfg.ExtraColumns {
			c.row.PositiveRetrieval = c.row.Question
			c.row.NegativeRetrieval = c.item.NegativeQuery
			c.row.PositiveReranking = c.item.PositivePassage
			c.row.NegativeReranking = c.item.NegativePassage
			if c.item.NegativeQuery == "" || c.item.PositivePassage == "" || c.item.NegativePassage == "" {
				sum.ExtrasIncomplete++
			}
		}
		rows = append(rows, c.row)
	}
	sum.Generated = len(rows)
	sum.Missing = sum.Requested - sum.Returned
	return rows
}

// Frame turns rows into a table (gota DataFrame) with the columns anchor, positive, answer, source, chunk_id,
// chunk_index, start, end, and with extra the four synthetic-data-generator columns.
func Frame(rows []Row, extra bool) dataframe.DataFrame {
	n := len(rows)
	str := func(name string, get func(Row) string) series.Series {
		v := make([]string, n)
		for i, r := range rows {
			v[i] = get(r)
		}
		return series.New(v, series.String, name)
	}
	num := func(name string, get func(Row) int) series.Series {
		v := make([]float64, n)
		for i, r := range rows {
			v[i] = float64(get(r))
		}
		return series.New(v, series.Float, name)
	}
	cols := []series.Series{
		str("anchor", func(r Row) string { return r.Question }),
		str("positive", func(r Row) string { return r.Passage }),
		str("answer", func(r Row) string { return r.Answer }),
		str("source", func(r Row) string { return r.Source }),
		str("chunk_id", func(r Row) string { return r.ChunkID }),
		num("chunk_index", func(r Row) int { return r.ChunkIndex }),
		num("start", func(r Row) int { return r.Start }),
		num("end", func(r Row) int { return r.End }),
	}
	if extra {
		cols = append(cols,
			str("positive_retrieval", func(r Row) string { return r.PositiveRetrieval }),
			str("negative_retrieval", func(r Row) string { return r.NegativeRetrieval }),
			str("positive_reranking", func(r Row) string { return r.PositiveReranking }),
			str("negative_reranking", func(r Row) string { return r.NegativeReranking }))
	}
	return dataframe.New(cols...)
}
