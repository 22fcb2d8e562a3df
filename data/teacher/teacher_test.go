package teacher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

func TestParseScore(t *testing.T) {
	for in, want := range map[string]float64{
		`{"score": 0.83}`:                      0.83,
		"```json\n{\"score\": \"0.3\"}\n```":   0.3,
		`Sure. {"relevance": 1} Hope it helps`: 1,
		`{"Score": 7}`:                         0.7,
		"Score: 0.25":                          0.25,
		"relevance_score = 45":                 0.45,
		"I would rate this 8/10.":              0.8,
		"4/5":                                  0.8,
		"0.7.":                                 0.7,
		"0":                                    0,
		"<think>maybe 0.9? no</think>\n0.1":    0.1,
		"Yes.":                                 1,
		"no":                                   0,
		`{"reason": "mentions 2023", "score": 0.6}`: 0.6,
	} {
		got, err := ParseScore(in)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseScore(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "I cannot judge this.", `{"score": 250}`, "-3", `{"score": "high"} and nothing else`,
		// A refusal is not its first number, and a JSON answer without a score key is not 0.
		"I cannot evaluate this pair: the passage is cut off after 3 sentences.",
		`{"verdict": "unsure", "confidence": 0}`,
		"```json\n{\"relevant\": false, \"passages\": 2}\n```",
		"Passage 2 of 7 mentions revenue; I cannot tell.",
	} {
		if got, err := ParseScore(bad); err == nil {
			t.Errorf("ParseScore(%q) = %v, want an error", bad, got)
		}
	}
}

func newLLM(t *testing.T, srv *llmtest.Server, dir string) *llm.Client {
	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), Model: "judge", APIKey: "sk-judge", CacheDir: dir, Temperature: 0,
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLLMJudge(t *testing.T) {
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		p := r.Last()
		switch {
		case strings.Contains(p, "Query: down"):
			return llmtest.Reply{Status: 400}
		case strings.Contains(p, "fully relevant"):
			return llmtest.Reply{Content: `{"score": 0.9}`}
		case strings.Contains(p, "partly"):
			return llmtest.Reply{Content: "```json\n{\"score\": \"0.4\"}\n```"}
		case strings.Contains(p, "ten scale"):
			return llmtest.Reply{Content: "I'd say 7/10."}
		case strings.Contains(p, "no key"):
			return llmtest.Reply{Content: `{"verdict": "unclear", "confidence": 0}`}
		}
		return llmtest.Reply{Content: "I cannot evaluate this pair: the passage is cut off after 3 sentences."}
	})
	defer srv.Close()
	dir := t.TempDir()
	j := &LLMJudge{Client: newLLM(t, srv, dir)}
	pairs := []ir.Pair{
		{Query: "q1", Passage: "fully relevant"}, {Query: "q1", Passage: "partly"}, {Query: "q2", Passage: "ten scale"},
		{Query: "q1", Passage: "fully relevant"}, // a duplicate: asked once
		{Query: "q3", Passage: "gibberish"},      // a refusal twice: NaN, not 0.3
		{Query: "down", Passage: "fully relevant"},
		{Query: "q4", Passage: "no key"}, // JSON without a score key twice: NaN, not 0
	}
	var last progress.Report
	scores, err := j.ScorePairs(context.Background(), pairs, func(r progress.Report) { last = r })
	want := []float64{0.9, 0.4, 0.7, 0.9}
	for i, w := range want {
		if scores[i] != w {
			t.Errorf("pair %d: %v, want %v", i, scores[i], w)
		}
	}
	var ue *UnscoredError
	if !math.IsNaN(scores[4]) || !math.IsNaN(scores[5]) || !math.IsNaN(scores[6]) || !errors.As(err, &ue) || ue.Unscored != 3 ||
		!strings.Contains(err.Error(), "3 of 7 pairs") {
		t.Errorf("unscorable pairs: %v, %v", scores[4:], err)
	}
	// 6 distinct pairs: 3 scored with one request each, the refusal and the keyless JSON twice each (a
	// re-ask), the 400 once = 8.
	if srv.Count() != 8 || last.Done != 6 || last.Total != 6 {
		t.Errorf("%d requests, progress %+v", srv.Count(), last)
	}
	// A new judge on the same cache asks nothing again for scored pairs; unusable answers were not cached,
	// so those pairs are asked again (twice each), as is the failed request.
	j2 := &LLMJudge{Client: newLLM(t, srv, dir)}
	scores2, _ := j2.ScorePairs(context.Background(), pairs, nil)
	if srv.Count() != 13 || fmt.Sprint(scores2) != fmt.Sprint(scores) {
		t.Errorf("cached re-run: %d requests, %v", srv.Count()-8, scores2)
	}
	var _ ir.Scorer = j
}

// rerankServer answers in the given style with score = len(document)/100, results sorted by score as real
// APIs return them, and records every request body.
type rerankServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	auth   []string
	// fail decides a non-200 answer for a query and its attempt number (0 = first).
	fail func(query string, attempt int) (int, map[string]string)
	seen map[string]int
}

func newRerankServer(style string) *rerankServer {
	s := &rerankServer{seen: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(b, &body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		q, _ := body["query"].(string)
		attempt := s.seen[q]
		s.seen[q]++
		s.mu.Unlock()
		if s.fail != nil {
			if code, h := s.fail(q, attempt); code != 0 {
				for k, v := range h {
					w.Header().Set(k, v)
				}
				w.WriteHeader(code)
				io.WriteString(w, `{"message":"nope"}`)
				return
			}
		}
		key := "documents"
		if style == StyleTEI {
			key = "texts"
		}
		docs, _ := body[key].([]any)
		type res struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
		}
		var out []res
		for i, d := range docs {
			out = append(out, res{i, float64(len(d.(string))) / 100})
		}
		sort.Slice(out, func(a, b int) bool { return out[a].Score > out[b].Score })
		if style == StyleTEI {
			json.NewEncoder(w).Encode(out)
			return
		}
		var results []map[string]any
		for _, o := range out {
			results = append(results, map[string]any{"index": o.Index, "relevance_score": o.Score})
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "x", "results": results, "meta": map[string]any{}})
	}))
	return s
}

func TestRerankAPIStyles(t *testing.T) {
	for _, style := range []string{StyleCohere, StyleJina, StyleTEI} {
		t.Run(style, func(t *testing.T) {
			srv := newRerankServer(style)
			defer srv.Close()
			var sleeps []time.Duration
			var smu sync.Mutex
			srv.fail = func(q string, attempt int) (int, map[string]string) {
				if q == "busy" && attempt == 0 {
					return 429, map[string]string{"Retry-After": "4"}
				}
				if q == "broken" {
					return 503, nil
				}
				return 0, nil
			}
			dir := t.TempDir()
			cfg := RerankConfig{URL: srv.URL + "/v1/rerank", Style: style, Model: "rerank-model", APIKey: "sk-rr", BatchSize: 3,
				CacheDir: dir, MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				Sleep: func(ctx context.Context, d time.Duration) error {
					smu.Lock()
					sleeps = append(sleeps, d)
					smu.Unlock()
					return nil
				}}
			api, err := NewRerankAPI(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var pairs []ir.Pair
			for _, q := range []string{"alpha", "busy", "broken"} {
				for k := 1; k <= 5; k++ {
					pairs = append(pairs, ir.Pair{Query: q, Passage: strings.Repeat("x", 10*k+len(q))})
				}
			}
			pairs = append(pairs, pairs[0]) // duplicate pair: sent once
			scores, err := api.ScorePairs(context.Background(), pairs, nil)
			if err == nil || !strings.Contains(err.Error(), "5 of 16 pairs") || !strings.Contains(err.Error(), "HTTP 503") {
				t.Errorf("error %v", err)
			}
			for i, p := range pairs {
				want := float64(len(p.Passage)) / 100
				if p.Query == "broken" {
					if !math.IsNaN(scores[i]) {
						t.Errorf("pair %d of the failing query: %v, want NaN", i, scores[i])
					}
				} else if scores[i] != want {
					t.Errorf("pair %d: %v, want %v (mapped back by index)", i, scores[i], want)
				}
			}
			// alpha: 2 batches (3 + 2); busy: 429 then 2 batches; broken: 2 batches × 3 attempts.
			st := api.Stats()
			if st.Requests != 2+3+6 || st.Retries != 1+4 || st.Failures != 2 || st.CacheHits != 0 {
				t.Errorf("stats %+v", st)
			}
			honoured := false
			for _, d := range sleeps {
				honoured = honoured || d == 4*time.Second
			}
			if !honoured {
				t.Errorf("Retry-After 4 not honoured: %v", sleeps)
			}
			var b map[string]any
			for _, body := range srv.bodies {
				docs, _ := body["documents"].([]any)
				if texts, ok := body["texts"].([]any); ok {
					docs = texts
				}
				if body["query"] == "alpha" && len(docs) == 3 {
					b = body // the first batch of alpha
				}
			}
			if style == StyleTEI {
				if _, ok := b["texts"]; !ok || b["truncate"] != true || b["raw_scores"] != false {
					t.Errorf("TEI body %v", b)
				}
			} else if b["model"] != "rerank-model" || b["top_n"] != float64(3) || b["return_documents"] != false || len(b["documents"].([]any)) != 3 {
				t.Errorf("%s body %v", style, b)
			}
			if srv.auth[0] != "Bearer sk-rr" {
				t.Errorf("auth %q", srv.auth[0])
			}
			// The cache answers everything that succeeded; the failing query is asked again.
			api2, _ := NewRerankAPI(cfg)
			n := len(srv.bodies)
			scores2, _ := api2.ScorePairs(context.Background(), pairs[:10], nil)
			if len(srv.bodies) != n || api2.Stats().CacheHits != 4 || fmt.Sprint(scores2) != fmt.Sprint(scores[:10]) {
				t.Errorf("re-run: %d requests, stats %+v", len(srv.bodies)-n, api2.Stats())
			}
			filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), "sk-rr") {
					t.Errorf("key in cache file %s", p)
				}
				return nil
			})
		})
	}
}

func TestRerankAPIRejectsBadAnswers(t *testing.T) {
	for body, want := range map[string]string{
		`{"results": [{"index": 0, "relevance_score": 0.5}]}`:                                       "no score for document 1",
		`{"results": [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.1}]}`: "repeated",
		`{"results": [{"index": 0, "relevance_score": 0.5}, {"index": 5, "relevance_score": 0.1}]}`: "out of range",
		`{"results": [{"relevance_score": 0.5}, {"index": 1, "relevance_score": 0.1}]}`:             "lacks index",
		`[{"index": 0, "score": 0.5}]`: "not {results",
	} {
		if _, err := parseRerank(StyleCohere, []byte(body), 2); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	if s, err := parseRerank(StyleTEI, []byte(`[{"index": 1, "score": 0.25}, {"index": 0, "score": 0.75}]`), 2); err != nil || s[0] != 0.75 || s[1] != 0.25 {
		t.Errorf("TEI: %v %v", s, err)
	}
	if _, err := NewRerankAPI(RerankConfig{URL: "http://x", Style: "mystery"}); err == nil {
		t.Error("unknown style accepted")
	}
}

// fakeEmbedder maps texts to fixed vectors and counts what it embeds.
type fakeEmbedder struct {
	vecs           map[string][]float32
	queries, docs  int
	queryTextsSeen []string
}

func (f *fakeEmbedder) embed(texts []string) (*vector.Matrix, error) {
	rows := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := f.vecs[t]
		if !ok {
			return nil, fmt.Errorf("unknown text %q", t)
		}
		rows[i] = v
	}
	return vector.FromRows(rows)
}
func (f *fakeEmbedder) EmbedQueries(ctx context.Context, texts []string, r progress.Func) (*vector.Matrix, error) {
	f.queries += len(texts)
	return f.embed(texts)
}
func (f *fakeEmbedder) EmbedDocuments(ctx context.Context, texts []string, r progress.Func) (*vector.Matrix, error) {
	f.docs += len(texts)
	return f.embed(texts)
}

func TestEmbedderTeacher(t *testing.T) {
	f := &fakeEmbedder{vecs: map[string][]float32{"q": {1, 0}, "a": {3, 4}, "b": {0, 2}, "c": {-1, 0}}}
	scores, err := EmbedderTeacher{f}.ScorePairs(context.Background(),
		[]ir.Pair{{Query: "q", Passage: "a"}, {Query: "q", Passage: "b"}, {Query: "q", Passage: "c"}, {Query: "q", Passage: "a"}}, nil)
	if err != nil || fmt.Sprint(scores) != "[0.6 0 -1 0.6]" || f.queries != 1 || f.docs != 3 {
		t.Errorf("scores %v err %v, embedded %d queries %d docs", scores, err, f.queries, f.docs)
	}
	if _, err := (EmbedderTeacher{f}).ScorePairs(context.Background(), []ir.Pair{{Query: "q", Passage: "zzz"}}, nil); err == nil {
		t.Error("an embedder error must surface")
	}
}

func TestNormalize(t *testing.T) {
	nan := math.NaN()
	mm, _ := Normalize([]float64{2, 4, nan, 6}, NormMinMax)
	if mm[0] != 0 || mm[1] != 0.5 || !math.IsNaN(mm[2]) || mm[3] != 1 {
		t.Errorf("minmax %v", mm)
	}
	if eq, _ := Normalize([]float64{3, 3}, NormMinMax); eq[0] != 0.5 || eq[1] != 0.5 {
		t.Errorf("minmax of equal scores %v", eq)
	}
	sg, _ := Normalize([]float64{0, math.Log(3)}, NormSigmoid)
	if sg[0] != 0.5 || math.Abs(sg[1]-0.75) > 1e-12 {
		t.Errorf("sigmoid %v", sg)
	}
	if same, _ := Normalize([]float64{7}, ""); same[0] != 7 {
		t.Errorf("none %v", same)
	}
	if _, err := Normalize(nil, "zscore"); err == nil {
		t.Error("unknown normalisation accepted")
	}
}

// tableScorer scores by a fixed table and fails (NaN) on passages containing "fail".
type tableScorer map[ir.Pair]float64

func (s tableScorer) ScorePairs(ctx context.Context, pairs []ir.Pair, r progress.Func) ([]float64, error) {
	out := make([]float64, len(pairs))
	var err error
	for i, p := range pairs {
		v, ok := s[p]
		if !ok {
			v, err = math.NaN(), fmt.Errorf("cannot score %v", p)
		}
		out[i] = v
	}
	return out, err
}

func TestScoreWithTeacher(t *testing.T) {
	df := dataframe.New(
		series.New([]string{"q1", "q2", "q3"}, series.String, "anchor"),
		series.New([]string{"p1", "p2", "p3"}, series.String, "positive"),
		series.New([]string{"n1", "", "n3"}, series.String, "negative_1"),
	)
	sc := tableScorer{{Query: "q1", Passage: "p1"}: 4, {Query: "q2", Passage: "p2"}: 2, {Query: "q3", Passage: "p3"}: 6, {Query: "q1", Passage: "n1"}: 0, {Query: "q3", Passage: "n3"}: 1}
	out, err := ScoreWithTeacher(context.Background(), df, sc, ScoreOptions{}, nil)
	if err != nil || fmt.Sprint(out.Col("score").Float()) != "[4 2 6]" || out.Ncol() != 4 {
		t.Fatalf("single column: %v %v", out, err)
	}
	out, err = ScoreWithTeacher(context.Background(), df, sc, ScoreOptions{PassageColumns: []string{"positive", "negative_1"}, Normalize: NormMinMax}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// min 0, max 6 over all five scored pairs; the empty negative is NaN.
	pos, neg := out.Col("positive_score").Float(), out.Col("negative_1_score").Float()
	if fmt.Sprint(pos) != fmt.Sprint([]float64{4.0 / 6, 2.0 / 6, 1}) || neg[0] != 0 || !math.IsNaN(neg[1]) || neg[2] != 1.0/6 {
		t.Errorf("pos %v neg %v", pos, neg)
	}
	// A teacher failure keeps the table and the other scores.
	delete(sc, ir.Pair{Query: "q2", Passage: "p2"})
	out, err = ScoreWithTeacher(context.Background(), df, sc, ScoreOptions{}, nil)
	if err == nil || out.Nrow() != 3 || out.Col("score").Float()[0] != 4 || !math.IsNaN(out.Col("score").Float()[1]) {
		t.Errorf("partial failure: %v %v", out, err)
	}
	// A column typed as numbers is scored as the numbers' text, not gota's "2023.000000".
	years := dataframe.New(series.New([]float64{2023, 1.5}, series.Float, "anchor"), series.New([]string{"p", "q"}, series.String, "positive"))
	ys := tableScorer{{Query: "2023", Passage: "p"}: 1, {Query: "1.5", Passage: "q"}: 2}
	if out, err := ScoreWithTeacher(context.Background(), years, ys, ScoreOptions{}, nil); err != nil || fmt.Sprint(out.Col("score").Float()) != "[1 2]" {
		t.Errorf("numeric query column: %v %v", out, err)
	}
	if _, err := ScoreWithTeacher(context.Background(), df, sc, ScoreOptions{QueryColumn: "question"}, nil); err == nil || !strings.Contains(err.Error(), `"question"`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestSampleTopN(t *testing.T) {
	items := []Candidates{
		{Query: "q", Passages: []string{"c", "a", "d", "b"}}, // teacher order: a(4) b(3) c(2) d(1)
		{Query: "r", Passages: []string{"x"}},
		{Query: "s", Passages: []string{"fail"}}, // unscorable: left out
	}
	sc := tableScorer{{Query: "q", Passage: "a"}: 4, {Query: "q", Passage: "b"}: 3, {Query: "q", Passage: "c"}: 2, {Query: "q", Passage: "d"}: 1, {Query: "r", Passage: "x"}: 0.5}
	counts := map[string]int{}
	for seed := uint64(0); seed < 200; seed++ {
		got, err := SampleTopN(context.Background(), sc, items, 2, seed, nil)
		if err == nil || len(got) != 2 || got[1].Passage != "x" || got[1].Rank != 1 {
			t.Fatalf("seed %d: %+v %v", seed, got, err)
		}
		s := got[0]
		if (s.Passage == "a") != (s.Rank == 1 && s.Score == 4 && s.Index == 1) || (s.Passage == "b") != (s.Rank == 2 && s.Score == 3 && s.Index == 3) {
			t.Errorf("seed %d: inconsistent sample %+v", seed, s)
		}
		counts[s.Passage]++
		again, _ := SampleTopN(context.Background(), sc, items, 2, seed, nil)
		if again[0] != s {
			t.Errorf("seed %d is not reproducible", seed)
		}
	}
	// Only the top 2 are ever picked, each about half the time.
	if counts["c"]+counts["d"] != 0 || counts["a"] < 70 || counts["b"] < 70 {
		t.Errorf("picks over 200 seeds: %v", counts)
	}
	if _, err := SampleTopN(context.Background(), sc, items, 0, 1, nil); err == nil {
		t.Error("n = 0 accepted")
	}
}

// TestRerankAPIErrorsAreRedacted: a 401 body that echoes the Authorization header never carries the key
// into the error.
func TestRerankAPIErrorsAreRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message": "invalid api key: %s"}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	api, err := NewRerankAPI(RerankConfig{URL: srv.URL + "/v2/rerank?api_key=sk-in-the-url-42", Style: StyleCohere,
		APIKey: "sk-rerank-secret-42", NoCache: true, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.ScorePairs(context.Background(), []ir.Pair{{Query: "q", Passage: "p"}}, nil)
	if err == nil || strings.Contains(err.Error(), "secret-42") || strings.Contains(err.Error(), "url-42") ||
		!strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "Bearer [redacted]") {
		t.Errorf("error %v", err)
	}
}

// cohereV2Handler serves /v2/rerank as Cohere documents it and refuses what v2 does not take: model is
// required, documents are strings, return_documents is gone; max_tokens_per_doc and top_n are optional. The
// official cohere-ai SDK's requests are checked against the same handler (tools/cohere-sdk).
func cohereV2Handler(t *testing.T, seen *[]map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.URL.Path != "/v2/rerank" || r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		*seen = append(*seen, body)
		for k := range body {
			if !slices.Contains([]string{"model", "query", "documents", "top_n", "max_tokens_per_doc"}, k) {
				http.Error(w, fmt.Sprintf(`{"message":"invalid request: unknown field %s"}`, k), http.StatusBadRequest)
				return
			}
		}
		model, _ := body["model"].(string)
		query, _ := body["query"].(string)
		docs, _ := body["documents"].([]any)
		if model == "" || query == "" || len(docs) == 0 {
			http.Error(w, `{"message":"invalid request: model, query and documents are required"}`, http.StatusBadRequest)
			return
		}
		var results []map[string]any
		for i, d := range docs {
			s, ok := d.(string)
			if !ok {
				http.Error(w, `{"message":"invalid request: documents must be strings"}`, http.StatusBadRequest)
				return
			}
			results = append(results, map[string]any{"index": i, "relevance_score": float64(len(s)) / 100})
		}
		sort.Slice(results, func(a, b int) bool {
			return results[a]["relevance_score"].(float64) > results[b]["relevance_score"].(float64)
		})
		if n, ok := body["top_n"].(float64); ok && int(n) < len(results) {
			results = results[:int(n)]
		}
		json.NewEncoder(w).Encode(map[string]any{"id": "r-1", "results": results,
			"meta": map[string]any{"api_version": map[string]any{"version": "2"}, "billed_units": map[string]any{"search_units": 1}}})
	}
}

// ragnb's cohere-v2 requests are exactly v2's (the handler refuses anything else), scores map back by index,
// and a model is required before any request.
func TestRerankAPICohereV2Request(t *testing.T) {
	var seen []map[string]any
	srv := httptest.NewServer(cohereV2Handler(t, &seen))
	defer srv.Close()
	if _, err := NewRerankAPI(RerankConfig{URL: srv.URL + "/v2/rerank", Style: StyleCohereV2}); err == nil {
		t.Error("cohere-v2 without a model accepted")
	}
	api, err := NewRerankAPI(RerankConfig{URL: srv.URL + "/v2/rerank", Style: StyleCohereV2, Model: "rerank-v3.5", MaxTokensPerDoc: 512, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	pairs := []ir.Pair{{Query: "q", Passage: "short"}, {Query: "q", Passage: "a longer passage"}, {Query: "q", Passage: "mid size"}}
	scores, err := api.ScorePairs(context.Background(), pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pairs {
		if want := float64(len(p.Passage)) / 100; scores[i] != want {
			t.Errorf("pair %d: %v, want %v", i, scores[i], want)
		}
	}
	if len(seen) != 1 || seen[0]["model"] != "rerank-v3.5" || seen[0]["top_n"] != float64(3) || seen[0]["max_tokens_per_doc"] != float64(512) {
		t.Errorf("request %v", seen)
	}
}

// Voyage's rerank: top_k, truncation, and the scores under "data"; an answer in Cohere's shape is refused.
func TestRerankAPIVoyage(t *testing.T) {
	var body map[string]any
	answer := func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&body)
		docs := body["documents"].([]any)
		var data []map[string]any
		for i := len(docs) - 1; i >= 0; i-- {
			data = append(data, map[string]any{"index": i, "relevance_score": float64(i) / 10})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": body["model"], "usage": map[string]any{"total_tokens": 9}})
	}
	srv := httptest.NewServer(http.HandlerFunc(answer))
	defer srv.Close()
	api, err := NewRerankAPI(RerankConfig{URL: srv.URL + "/v1/rerank", Style: StyleVoyage, Model: "rerank-2", NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	scores, err := api.ScorePairs(context.Background(), []ir.Pair{{Query: "q", Passage: "a"}, {Query: "q", Passage: "b"}}, nil)
	if err != nil || scores[0] != 0 || scores[1] != 0.1 {
		t.Fatalf("scores %v, %v", scores, err)
	}
	want := map[string]any{"model": "rerank-2", "query": "q", "documents": []any{"a", "b"}, "top_k": float64(2), "return_documents": false, "truncation": true}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("request %v, want %v", body, want)
	}
	if _, err := parseRerank(StyleVoyage, []byte(`{"results":[{"index":0,"relevance_score":1}]}`), 1); err == nil {
		t.Error("a Cohere-shaped answer taken for Voyage's")
	}
}
