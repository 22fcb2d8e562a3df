package teacher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragnb/ragnb/internal/redact"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/diskkv"
	"github.com/ragnb/ragnb/internal/retry"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
)

// Rerank API request/response shapes.
const (
	// StyleCohere: POST {model, query, documents, top_n, return_documents:false} → {results:[{index,
	// relevance_score}]}. Cohere's /v1/rerank and /v2/rerank, Jina's /v1/rerank, vLLM's and Infinity's
	// /rerank all speak it.
	StyleCohere = "cohere"
	// StyleJina is StyleCohere (Jina's API has the same shape); kept as a name for clarity.
	StyleJina = "jina"
	// StyleTEI: Hugging Face text-embeddings-inference, POST /rerank {query, texts, truncate, raw_scores} →
	// [{index, score}].
	StyleTEI = "tei"
	// StyleCohereV2 is Cohere's /v2/rerank exactly: POST {model (required), query, documents (strings),
	// top_n[, max_tokens_per_doc]} — no return_documents, which v2 dropped — → {id, results: [{index,
	// relevance_score}], meta}.
	StyleCohereV2 = "cohere-v2"
	// StyleVoyage is Voyage AI's /v1/rerank: POST {query, documents, model (required), top_k,
	// return_documents: false, truncation: true} → {object: "list", data: [{index, relevance_score}], model,
	// usage}.
	StyleVoyage = "voyage"
)

// RerankConfig describes a rerank endpoint.
type RerankConfig struct {
	// URL is the full endpoint, e.g. https://api.cohere.com/v2/rerank, https://api.jina.ai/v1/rerank,
	// http://localhost:8080/rerank (TEI).
	URL string
	// Style is StyleCohere (default), StyleJina, StyleTEI, StyleCohereV2 or StyleVoyage.
	Style string
	// MaxTokensPerDoc is Cohere v2's max_tokens_per_doc (0: not sent; the API's default is 4096).
	MaxTokensPerDoc int
	// Model is sent with Cohere/Jina requests (TEI serves one model and ignores it).
	Model string
	// APIKey is sent as a bearer token when set; never cached or logged.
	APIKey llm.Secret
	// RawScores asks TEI for logits instead of sigmoid probabilities.
	RawScores bool
	// BatchSize is the number of documents per request (default 32, TEI's default client batch limit).
	// Pairs are grouped by query: one request per query and batch.
	BatchSize int
	// Concurrency is the number of requests in flight (default 4).
	Concurrency int
	// MaxRetries, MinBackoff, MaxBackoff and Timeout work as in llm.Config (retries on 408/409/429/5xx,
	// timeouts and dropped connections; Retry-After honoured).
	MaxRetries             int
	MinBackoff, MaxBackoff time.Duration
	Timeout                time.Duration
	// CacheDir holds answers (default cache.DefaultDir()/rerank); NoCache turns the cache off. The key is
	// (style, model, query, documents, raw scores) — plus the URL when Model is empty, since a TEI URL names
	// its model.
	CacheDir string
	NoCache  bool
	// HTTPClient replaces http.DefaultClient; Sleep replaces the real wait between retries (tests).
	HTTPClient *http.Client
	Sleep      func(ctx context.Context, d time.Duration) error
}

// RerankAPI is a teacher backed by an HTTP rerank endpoint. It implements relevance.Scorer.
type RerankAPI struct {
	cfg    RerankConfig
	store  *diskkv.Store
	policy retry.Policy
	http   *http.Client
	n      struct{ requests, cacheHits, retries, failures atomic.Int64 }
}

// RerankStats counts what a RerankAPI did; Requests counts HTTP attempts.
type RerankStats struct {
	Requests, CacheHits, Retries, Failures int
}

// NewRerankAPI checks cfg and fills its defaults.
func NewRerankAPI(cfg RerankConfig) (*RerankAPI, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("rerank api: no URL")
	}
	switch cfg.Style {
	case "":
		cfg.Style = StyleCohere
	case StyleCohere, StyleJina, StyleTEI:
	case StyleCohereV2, StyleVoyage:
		if cfg.Model == "" {
			return nil, fmt.Errorf("rerank api: style %s needs a model (the API requires one)", cfg.Style)
		}
	default:
		return nil, fmt.Errorf("rerank api: unknown style %q (want cohere, cohere-v2, jina, tei or voyage)", cfg.Style)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(cache.DefaultDir(), cache.RerankAnswers)
	}
	r := &RerankAPI{cfg: cfg, http: cfg.HTTPClient,
		policy: retry.Policy{MaxRetries: cfg.MaxRetries, MinBackoff: cfg.MinBackoff, MaxBackoff: cfg.MaxBackoff, Sleep: cfg.Sleep}}
	if r.http == nil {
		r.http = http.DefaultClient
	}
	if !cfg.NoCache {
		r.store = &diskkv.Store{Dir: cfg.CacheDir}
	}
	return r, nil
}

// Stats is a snapshot of the counters.
func (r *RerankAPI) Stats() RerankStats {
	return RerankStats{int(r.n.requests.Load()), int(r.n.cacheHits.Load()), int(r.n.retries.Load()), int(r.n.failures.Load())}
}

type rerankJob struct {
	query string
	docs  []string
	slots []int // unique-pair index of each doc
}

// ScorePairs implements relevance.Scorer: pairs are grouped by query (first-appearance order), identical
// pairs sent once, and each query's documents sent in batches of BatchSize. A batch that fails leaves its
// pairs NaN; the error counts them and names the first.
func (r *RerankAPI) ScorePairs(ctx context.Context, pairs []ir.Pair, report progress.Func) ([]float64, error) {
	uniq, index := uniquePairs(pairs)
	var jobs []rerankJob
	byQuery := map[string][]int{}
	var order []string
	for u, p := range uniq {
		if _, ok := byQuery[p.Query]; !ok {
			order = append(order, p.Query)
		}
		byQuery[p.Query] = append(byQuery[p.Query], u)
	}
	for _, q := range order {
		us := byQuery[q]
		for s := 0; s < len(us); s += r.cfg.BatchSize {
			j := rerankJob{query: q, slots: us[s:min(s+r.cfg.BatchSize, len(us))]}
			for _, u := range j.slots {
				j.docs = append(j.docs, uniq[u].Passage)
			}
			jobs = append(jobs, j)
		}
	}
	scores, errs := notScored(len(uniq))
	tr := progress.Start(report, "rerank api", len(uniq), "pairs")
	var mu sync.Mutex
	forEach(ctx, len(jobs), r.cfg.Concurrency, func(i int) {
		j := jobs[i]
		got, err := r.rerank(ctx, j.query, j.docs)
		mu.Lock()
		defer mu.Unlock()
		for k, u := range j.slots {
			if err != nil {
				errs[u] = err
			} else {
				scores[u], errs[u] = got[k], nil
			}
		}
		tr.Add(len(j.slots))
	})
	tr.End(ctx.Err())
	out := make([]float64, len(pairs))
	for i, u := range index {
		out[i] = scores[u]
	}
	return out, collect(ctx, "rerank api", index, errs)
}

type rerankKey struct {
	Version   int      `json:"v"`
	Style     string   `json:"style"`
	Model     string   `json:"model"`
	URL       string   `json:"url,omitempty"`
	Query     string   `json:"query"`
	Documents []string `json:"documents"`
	RawScores bool     `json:"raw_scores,omitempty"`
	// MaxTokensPerDoc truncates documents (Cohere v2), so it changes the scores.
	MaxTokensPerDoc int `json:"max_tokens_per_doc,omitempty"`
}

type rerankEntry struct {
	Key    rerankKey `json:"key"`
	Scores []float64 `json:"scores"`
}

// rerank scores docs against query with one request (or from the cache), in the order of docs.
func (r *RerankAPI) rerank(ctx context.Context, query string, docs []string) ([]float64, error) {
	style := r.cfg.Style
	if style == StyleJina {
		style = StyleCohere
	}
	key := rerankKey{Version: 1, Style: style, Model: r.cfg.Model, Query: query, Documents: docs, RawScores: r.cfg.RawScores && style == StyleTEI,
		MaxTokensPerDoc: r.cfg.MaxTokensPerDoc}
	if r.cfg.Model == "" {
		key.URL = r.cfg.URL
	}
	var hash string
	if r.store != nil {
		h, err := diskkv.Hash(key)
		if err != nil {
			return nil, err
		}
		hash = h
		var e rerankEntry
		if ok, err := r.store.Get(hash, &e); err != nil {
			return nil, err
		} else if ok && len(e.Scores) == len(docs) {
			r.n.cacheHits.Add(1)
			return e.Scores, nil
		}
	}
	var body any
	switch style {
	case StyleTEI:
		body = map[string]any{"query": query, "texts": docs, "truncate": true, "raw_scores": r.cfg.RawScores}
	case StyleCohereV2:
		b := map[string]any{"model": r.cfg.Model, "query": query, "documents": docs, "top_n": len(docs)}
		if r.cfg.MaxTokensPerDoc > 0 {
			b["max_tokens_per_doc"] = r.cfg.MaxTokensPerDoc
		}
		body = b
	case StyleVoyage:
		body = map[string]any{"model": r.cfg.Model, "query": query, "documents": docs, "top_k": len(docs),
			"return_documents": false, "truncation": true}
	default:
		b := map[string]any{"query": query, "documents": docs, "top_n": len(docs), "return_documents": false}
		if r.cfg.Model != "" {
			b["model"] = r.cfg.Model
		}
		body = b
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var scores []float64
	err = r.policy.Do(ctx, func(attempt int) error {
		actx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(actx, http.MethodPost, r.cfg.URL, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if r.cfg.APIKey != "" {
			req.Header.Set("Authorization", "Bearer "+string(r.cfg.APIKey))
		}
		r.n.requests.Add(1)
		resp, err := r.http.Do(req)
		if err != nil {
			return r.classify(ctx, err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return r.classify(ctx, err)
		}
		if resp.StatusCode != http.StatusOK {
			// Servers echo the request's credentials in their errors: redact before the text goes anywhere.
			e := fmt.Errorf("HTTP %d: %s", resp.StatusCode, redact.Secrets(snippet(string(data), 200)))
			if !retry.StatusTransient(resp.StatusCode) {
				return e
			}
			if d, ok := retry.After(resp.Header, time.Now()); ok {
				return retry.TransientAfter(e, d)
			}
			return retry.Transient(e)
		}
		scores, err = parseRerank(style, data, len(docs))
		return err
	}, func(int, error, time.Duration) { r.n.retries.Add(1) })
	if err != nil {
		r.n.failures.Add(1)
		return nil, fmt.Errorf("rerank %q (%d documents) at %s: %w", snippet(query, 60), len(docs), redact.Secrets(r.cfg.URL), err)
	}
	if r.store != nil {
		if err := r.store.Put(hash, rerankEntry{Key: key, Scores: scores}); err != nil {
			return scores, err
		}
	}
	return scores, nil
}

func (r *RerankAPI) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return retry.Transient(fmt.Errorf("no answer within %v", r.cfg.Timeout))
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return retry.Transient(err)
	}
	return err
}

// parseRerank reads n scores, by index, from a Cohere/Jina or TEI answer.
func parseRerank(style string, data []byte, n int) ([]float64, error) {
	type result struct {
		Index          *int     `json:"index"`
		RelevanceScore *float64 `json:"relevance_score"`
		Score          *float64 `json:"score"`
	}
	var results []result
	if style == StyleTEI {
		if err := json.Unmarshal(data, &results); err != nil {
			return nil, fmt.Errorf("TEI rerank answer is not [{index, score}]: %w", err)
		}
	} else {
		var body struct {
			Results []result `json:"results"`
			Data    []result `json:"data"` // Voyage's name
		}
		field := "results"
		if style == StyleVoyage {
			field = "data"
		}
		if err := json.Unmarshal(data, &body); err != nil || (style == StyleVoyage) != (body.Data != nil) || (style != StyleVoyage) != (body.Results != nil) {
			return nil, fmt.Errorf("rerank answer is not {%s: [{index, relevance_score}]}: %q", field, redact.Secrets(snippet(string(data), 200)))
		}
		results = append(body.Results, body.Data...)
	}
	scores := make([]float64, n)
	seen := make([]bool, n)
	for k, res := range results {
		s := res.RelevanceScore
		if style == StyleTEI || s == nil {
			s = res.Score
		}
		if res.Index == nil || s == nil {
			return nil, fmt.Errorf("rerank result %d lacks index or score", k)
		}
		i := *res.Index
		if i < 0 || i >= n || seen[i] {
			return nil, fmt.Errorf("rerank result %d: index %d out of range or repeated (%d documents sent)", k, i, n)
		}
		if math.IsNaN(*s) || math.IsInf(*s, 0) {
			return nil, fmt.Errorf("rerank result %d: score %v", k, *s)
		}
		seen[i], scores[i] = true, *s
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("rerank answer has no score for document %d of %d", i, n)
		}
	}
	return scores, nil
}
