package weaviate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ragnb/ragnb/internal/feed"
	"github.com/ragnb/ragnb/progress"
)

// Neighbor is one nearVector answer reduced to what a bulk search needs: the document id and Weaviate's
// vector distance (cosine distance 1 − cos, or the negated dot product).
type Neighbor struct {
	DocID    string
	Distance float64
}

// ManyOptions configure SearchMany and FetchDocs.
type ManyOptions struct {
	// Concurrency is the number of requests in flight (default DefaultConcurrency).
	Concurrency int
	// PerRequest is the number of queries sent in one GraphQL request, as aliased Get fields (default
	// DefaultPerRequest); FetchDocs sends FetchChunk ids per request instead.
	PerRequest int
}

// DefaultConcurrency and DefaultPerRequest: four requests of eight aliased queries each keep a single-node
// server's search threads busy without queueing a long tail behind one slow request, and one request's JSON
// stays small (eight 768-d vectors are ~70 KB). On the loaded 2-core machine of docs/weaviate.md no setting
// from 1×1 to 8×8 beat it beyond the noise; a larger server wants more in flight.
const (
	DefaultConcurrency = 4
	DefaultPerRequest  = 8
	// FetchChunk is the number of documents FetchDocs asks for per request, under the server's
	// per-query result limit (QUERY_MAXIMUM_RESULTS, 10,000 by default) and a JSON answer of a few MB at
	// 768 dimensions.
	FetchChunk = 500
)

func (o ManyOptions) withDefaults() ManyOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerRequest <= 0 {
		o.PerRequest = DefaultPerRequest
	}
	return o
}

// NearVectors runs one nearVector search of limit k per vector in a single GraphQL request (aliased Get
// fields q0, q1, …) and returns each one's neighbours, nearest first. Only doc_id and the distance come back:
// a bulk search fetches each distinct document once afterwards (FetchDocs) instead of once per query.
func (c *Client) NearVectors(ctx context.Context, class string, vecs [][]float32, k int) ([][]Neighbor, error) {
	if len(vecs) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("{Get{")
	for i, v := range vecs {
		fmt.Fprintf(&b, "q%d:%s(nearVector:{vector:%s}, limit:%d){%s _additional{distance}} ", i, class, gqlVector(v), k, PropDocID)
	}
	b.WriteString("}}")
	var d struct {
		Get map[string][]struct {
			DocID      string `json:"doc_id"`
			Additional struct {
				Distance *float64 `json:"distance"`
			} `json:"_additional"`
		} `json:"Get"`
	}
	if err := c.graphQL(ctx, b.String(), &d); err != nil {
		return nil, err
	}
	out := make([][]Neighbor, len(vecs))
	for i := range vecs {
		rows, ok := d.Get[fmt.Sprintf("q%d", i)]
		if !ok {
			return nil, fmt.Errorf("weaviate: nearVector answer lacks query %d of %d", i, len(vecs))
		}
		out[i] = make([]Neighbor, len(rows))
		for j, r := range rows {
			if r.Additional.Distance == nil {
				return nil, fmt.Errorf("weaviate: nearVector answer of query %d has no distance", i)
			}
			out[i][j] = Neighbor{DocID: r.DocID, Distance: *r.Additional.Distance}
		}
	}
	return out, nil
}

// Throughput is how long a bulk search took and its rate.
type Throughput struct {
	Queries  int
	Requests int
	Elapsed  time.Duration
}

// PerSecond is the queries answered per second.
func (t Throughput) PerSecond() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Queries) / t.Elapsed.Seconds()
}

// SearchMany runs a nearVector search of limit k for every vector: PerRequest queries per GraphQL request,
// Concurrency requests in flight, each retried on transient failures by the client's policy (internal/retry),
// progress reported per request. Row i of the answer is vecs[i]'s neighbours, nearest first.
func SearchMany(ctx context.Context, c *Client, class string, vecs [][]float32, k int, o ManyOptions, report progress.Func) ([][]Neighbor, Throughput, error) {
	o = o.withDefaults()
	out := make([][]Neighbor, len(vecs))
	start := time.Now()
	tracker := startTracker(report, "weaviate search", len(vecs), "queries")
	var chunks [][2]int
	for lo := 0; lo < len(vecs); lo += o.PerRequest {
		chunks = append(chunks, [2]int{lo, min(lo+o.PerRequest, len(vecs))})
	}
	err := forEach(ctx, len(chunks), o.Concurrency, func(ctx context.Context, i int) error {
		lo, hi := chunks[i][0], chunks[i][1]
		res, err := c.NearVectors(ctx, class, vecs[lo:hi], k)
		if err != nil {
			return fmt.Errorf("queries %d–%d: %w", lo+1, hi, err)
		}
		copy(out[lo:hi], res)
		tracker.Add(hi - lo)
		return nil
	})
	tracker.End(err)
	t := Throughput{Queries: len(vecs), Requests: len(chunks), Elapsed: time.Since(start)}
	if err != nil {
		return nil, t, err
	}
	return out, t, nil
}

// FetchDocs reads the documents with the given ids from class, with their stored vectors: FetchChunk ids per
// request (a doc_id ContainsAny filter), Concurrency requests in flight. Ids the collection does not hold are
// simply absent from the answer; an id held twice (two objects with one doc_id, which a ragnb push never
// writes) keeps the first object read.
func FetchDocs(ctx context.Context, c *Client, class string, docIDs []string, withVectors bool, o ManyOptions, report progress.Func) (map[string]Object, error) {
	o = o.withDefaults()
	out := make(map[string]Object, len(docIDs))
	var mu sync.Mutex
	tracker := startTracker(report, "weaviate fetch", len(docIDs), "documents")
	n := (len(docIDs) + FetchChunk - 1) / FetchChunk
	err := forEach(ctx, n, o.Concurrency, func(ctx context.Context, i int) error {
		chunk := docIDs[i*FetchChunk : min((i+1)*FetchChunk, len(docIDs))]
		objs, err := c.Docs(ctx, class, chunk, withVectors)
		if err != nil {
			return err
		}
		mu.Lock()
		for _, ob := range objs {
			if _, dup := out[ob.DocID]; !dup {
				out[ob.DocID] = ob
			}
		}
		mu.Unlock()
		tracker.Add(len(chunk))
		return nil
	})
	tracker.End(err)
	return out, err
}

// Docs reads the objects of class whose doc_id is one of docIDs (at most QUERY_MAXIMUM_RESULTS of them), with
// their stored vectors when withVectors.
func (c *Client) Docs(ctx context.Context, class string, docIDs []string, withVectors bool) ([]Object, error) {
	if len(docIDs) == 0 {
		return nil, nil
	}
	quoted := make([]string, len(docIDs))
	for i, id := range docIDs {
		quoted[i] = gqlString(id)
	}
	additional := "id"
	if withVectors {
		additional = "vector"
	}
	// A cap above len(docIDs) would only matter for duplicated doc ids; the cap keeps the answer bounded.
	args := fmt.Sprintf("where:{path:[%q], operator:ContainsAny, valueText:[%s]}, limit:%d", PropDocID,
		strings.Join(quoted, ","), 2*len(docIDs))
	q := fmt.Sprintf("{Get{%s(%s){%s %s %s _additional{%s}}}}", class, args, PropDocID, PropTitle, PropText, additional)
	var d struct {
		Get map[string][]struct {
			DocID      string `json:"doc_id"`
			Title      string `json:"title"`
			Text       string `json:"text"`
			Additional struct {
				Vector []float32 `json:"vector"`
			} `json:"_additional"`
		} `json:"Get"`
	}
	if err := c.graphQL(ctx, q, &d); err != nil {
		return nil, err
	}
	rows := d.Get[class]
	out := make([]Object, len(rows))
	for i, r := range rows {
		out[i] = Object{DocID: r.DocID, Title: r.Title, Text: r.Text, Vector: r.Additional.Vector}
		if withVectors && len(r.Additional.Vector) == 0 {
			return nil, fmt.Errorf("weaviate: document %q of %s came back without its vector", r.DocID, class)
		}
	}
	return out, nil
}

// TextMatches is how many objects DocsWithText reads per text: the filter matches by tokens, so a passage
// whose words another passage holds too comes back beside it, and the caller compares the texts exactly.
const TextMatches = 8

// DocsWithText finds, for each text, the objects of class whose text property holds its words (a text Equal
// filter, one aliased Get per text in a request), up to TextMatches each, without vectors. Comparing the
// texts exactly is the caller's: Weaviate's filter on a word-tokenized property matches tokens, not strings.
func (c *Client) DocsWithText(ctx context.Context, class string, texts []string) ([][]Object, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("{Get{")
	for i, t := range texts {
		fmt.Fprintf(&b, "q%d:%s(where:{path:[%q], operator:Equal, valueText:%s}, limit:%d){%s %s %s} ", i, class, PropText,
			gqlString(t), TextMatches, PropDocID, PropTitle, PropText)
	}
	b.WriteString("}}")
	var d struct {
		Get map[string][]struct {
			DocID string `json:"doc_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"Get"`
	}
	if err := c.graphQL(ctx, b.String(), &d); err != nil {
		return nil, err
	}
	out := make([][]Object, len(texts))
	for i := range texts {
		for _, r := range d.Get[fmt.Sprintf("q%d", i)] {
			out[i] = append(out[i], Object{DocID: r.DocID, Title: r.Title, Text: r.Text})
		}
	}
	return out, nil
}

// FindTexts is DocsWithText for many texts: PerRequest per request, Concurrency requests in flight.
func FindTexts(ctx context.Context, c *Client, class string, texts []string, o ManyOptions, report progress.Func) ([][]Object, error) {
	o = o.withDefaults()
	out := make([][]Object, len(texts))
	tracker := startTracker(report, "weaviate find texts", len(texts), "documents")
	n := (len(texts) + o.PerRequest - 1) / o.PerRequest
	err := forEach(ctx, n, o.Concurrency, func(ctx context.Context, i int) error {
		lo, hi := i*o.PerRequest, min((i+1)*o.PerRequest, len(texts))
		res, err := c.DocsWithText(ctx, class, texts[lo:hi])
		if err != nil {
			return err
		}
		copy(out[lo:hi], res)
		tracker.Add(hi - lo)
		return nil
	})
	tracker.End(err)
	return out, err
}

// forEach runs fn(0..n-1) with at most workers calls at once and returns the first error (which cancels the
// calls still to start and those running).
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
	feed.Indices(ctx, next, n)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return ctx.Err()
}

// lockedTracker is a progress.Tracker that concurrent requests may advance.
type lockedTracker struct {
	mu sync.Mutex
	t  *progress.Tracker
}

func startTracker(report progress.Func, stage string, total int, unit string) *lockedTracker {
	return &lockedTracker{t: progress.Start(report, stage, total, unit)}
}

func (l *lockedTracker) Add(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Add(n)
}

func (l *lockedTracker) End(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.End(err)
}
