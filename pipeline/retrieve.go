package pipeline

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/search"
)

// Candidate is one retrieved passage.
type Candidate struct {
	DocID string
	Title string
	Text  string
	Score float64
}

// RetrieveTimings are the retriever's share of an answer's time.
type RetrieveTimings struct {
	Embed, Search time.Duration
}

// Retriever finds the k best passages for each question, best first. Batching questions lets a model embed
// them in one call.
type Retriever interface {
	Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error)
}

// Dense retrieves from a vector index: the questions are embedded with the model's query prompt
// (index.Index.EmbedQueries), then searched.
func Dense(ix *index.Index) Retriever { return denseRetriever{ix} }

type denseRetriever struct{ ix *index.Index }

func (d denseRetriever) Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error) {
	var t RetrieveTimings
	start := time.Now()
	q, err := d.ix.EmbedQueries(ctx, questions)
	t.Embed = time.Since(start)
	if err != nil {
		return nil, t, err
	}
	start = time.Now()
	hits, err := d.ix.Search(ctx, q, k)
	t.Search = time.Since(start)
	if err != nil {
		return nil, t, err
	}
	return candidates(hits, func(h index.Hit) Candidate {
		return Candidate{DocID: h.Doc.ID, Title: h.Doc.Title, Text: h.Doc.Text, Score: h.Score}
	}), t, nil
}

// candidates converts a retriever's hits, per question, into Candidates.
func candidates[H any](hits [][]H, of func(H) Candidate) [][]Candidate {
	out := make([][]Candidate, len(hits))
	for i, hs := range hits {
		out[i] = make([]Candidate, len(hs))
		for j, h := range hs {
			out[i][j] = of(h)
		}
	}
	return out
}

// Lexical retrieves with BM25 over docs (a document is indexed as ir.Document.Content()).
func Lexical(docs []ir.Document, params bm25.Params) (Retriever, error) {
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Content()
	}
	ix, err := bm25.New(texts, params)
	if err != nil {
		return nil, err
	}
	return lexicalRetriever{ix: ix, docs: docs}, nil
}

type lexicalRetriever struct {
	ix   *bm25.Index
	docs []ir.Document
}

func (l lexicalRetriever) Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error) {
	start := time.Now()
	hits, err := l.ix.SearchMany(ctx, questions, k, nil)
	t := RetrieveTimings{Search: time.Since(start)}
	if err != nil {
		return nil, t, err
	}
	return candidates(hits, func(h search.Hit) Candidate {
		d := l.docs[h.Index]
		return Candidate{DocID: d.ID, Title: d.Title, Text: d.Text, Score: h.Score}
	}), t, nil
}

// Batched gathers concurrent Retrieve calls into one call of r: a call waits at most maxWait for others to
// join, and a batch holds at most maxBatch questions. Under concurrent load (a server) a model embeds many
// questions per call instead of one; alone, a call pays at most maxWait extra. Each caller's timings are
// those of the shared call. Calls with different k are never mixed.
func Batched(r Retriever, maxBatch int, maxWait time.Duration) Retriever {
	if maxBatch < 1 {
		maxBatch = 32
	}
	return &batcher{r: r, maxBatch: maxBatch, maxWait: maxWait, open: map[int]*batch{}}
}

type batcher struct {
	r        Retriever
	maxBatch int
	maxWait  time.Duration

	mu   sync.Mutex
	open map[int]*batch // by k: the batch still taking questions
}

type batch struct {
	questions []string
	ctxs      []context.Context
	full      chan struct{} // closed when the batch stops taking questions early
	done      chan struct{} // closed when results are in
	results   [][]Candidate
	timings   RetrieveTimings
	err       error
}

func (b *batcher) Retrieve(ctx context.Context, questions []string, k int) ([][]Candidate, RetrieveTimings, error) {
	if err := ctx.Err(); err != nil {
		return nil, RetrieveTimings{}, err
	}
	if len(questions) >= b.maxBatch {
		return b.r.Retrieve(ctx, questions, k)
	}
	b.mu.Lock()
	bt := b.open[k]
	if bt != nil && len(bt.questions)+len(questions) > b.maxBatch {
		close(bt.full)
		delete(b.open, k)
		bt = nil
	}
	leader := bt == nil
	if leader {
		bt = &batch{full: make(chan struct{}), done: make(chan struct{})}
		b.open[k] = bt
	}
	first := len(bt.questions)
	bt.questions = append(bt.questions, questions...)
	bt.ctxs = append(bt.ctxs, ctx)
	if len(bt.questions) == b.maxBatch && b.open[k] == bt {
		close(bt.full)
		delete(b.open, k)
	}
	b.mu.Unlock()

	if leader {
		timer := time.NewTimer(b.maxWait)
		select {
		case <-timer.C:
		case <-bt.full:
		case <-ctx.Done():
		}
		timer.Stop()
		b.mu.Lock()
		if b.open[k] == bt {
			delete(b.open, k)
		}
		qs := bt.questions
		b.mu.Unlock()
		// The batch runs until every member has given up, not just the leader.
		runCtx, cancel := allDone(bt.ctxs)
		bt.results, bt.timings, bt.err = b.r.Retrieve(runCtx, qs, k)
		cancel()
		if bt.err == nil && len(bt.results) != len(qs) {
			bt.err = fmt.Errorf("retriever returned %d result lists for %d questions", len(bt.results), len(qs))
		}
		close(bt.done)
	}
	select {
	case <-bt.done:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return nil, RetrieveTimings{}, err
	}
	if bt.err != nil {
		return nil, bt.timings, bt.err
	}
	return bt.results[first : first+len(questions)], bt.timings, nil
}

// allDone returns a context cancelled once every one of ctxs is done (it carries none of their values).
func allDone(ctxs []context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range ctxs {
		wg.Go(func() {
			select {
			case <-c.Done():
			case <-ctx.Done():
			}
		})
	}
	go func() {
		wg.Wait()
		cancel()
	}()
	return ctx, cancel
}
