package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/workflow"
)

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, m)
	}
	return rows
}

// genServer answers every generation prompt with two questions made of the passage's first words, and every
// "down" passage with 500s.
func genServer() *llmtest.Server {
	return llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		p := r.Last()
		if strings.Contains(p, "How relevant is the passage") { // the judge
			return llmtest.Reply{Content: `{"score": 0.8}`}
		}
		parts := strings.Split(p, `"""`)
		if len(parts) < 3 {
			return llmtest.Reply{Status: 400}
		}
		w := strings.Fields(parts[1])
		if strings.Contains(parts[1], "down") {
			return llmtest.Reply{Status: 500}
		}
		return llmtest.Reply{Content: fmt.Sprintf("```json\n{\"questions\": [{\"question\": \"What about %s %s?\", \"answer\": \"x\"}, {\"question\": \"Why %s %s?\"}]}\n```",
			w[0], w[1], w[2], w[3])}
	})
}

func TestGenerateAndScoreCLI(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-cli-secret-42")
	t.Setenv("OPENAI_BASE_URL", "")
	srv := genServer()
	defer srv.Close()
	dir := t.TempDir()
	docsDir := filepath.Join(dir, "docs")
	os.MkdirAll(docsDir, 0o755)
	os.WriteFile(filepath.Join(docsDir, "a.txt"), []byte("Zinc smelters in Norway cut emissions by half. Copper mines in Chile expanded output."), 0o644)
	os.WriteFile(filepath.Join(docsDir, "b.md"), []byte("# Shipping\n\nContainer freight rates fell sharply during the spring quarter."), 0o644)
	out, cache, sum := filepath.Join(dir, "pairs.jsonl"), filepath.Join(dir, "cache"), filepath.Join(dir, "summary.json")
	args := []string{"generate", "--docs", docsDir, "--model", "gen", "--base-url", srv.BaseURL(), "--out", out,
		"--cache", cache, "--questions", "2", "--chunk-tokens", "64", "--summary", sum}
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("generate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rows := readJSONL(t, out)
	if len(rows) != 4 || srv.Count() != 2 || rows[0]["anchor"] != "What about Zinc smelters?" ||
		!strings.HasPrefix(rows[0]["positive"].(string), "Zinc smelters") || rows[0]["chunk_index"] != float64(0) {
		t.Fatalf("%d rows after %d requests: %v\n%s", len(rows), srv.Count(), rows, stdout)
	}
	if !strings.Contains(stdout, "2 chunks: 4 questions requested, 4 returned, 4 generated") {
		t.Errorf("summary line: %s", stdout)
	}
	var s map[string]any
	b, _ := os.ReadFile(sum)
	if json.Unmarshal(b, &s) != nil || s["generated"] != float64(4) {
		t.Errorf("summary file %s", b)
	}
	for _, req := range srv.Requests() {
		if req.Authorization != "Bearer sk-cli-secret-42" {
			t.Errorf("authorization %q", req.Authorization)
		}
	}
	// Re-run: everything from the cache.
	if code, stdout, _ := runCLI(t, args...); code != 0 || srv.Count() != 2 || !strings.Contains(stdout, "0 requests, 2 cache hits") {
		t.Errorf("re-run: exit %d, %d requests\n%s", code, srv.Count()-2, stdout)
	}

	// Score with the LLM judge.
	scored := filepath.Join(dir, "scored.jsonl")
	code, stdout, stderr = runCLI(t, "score", "--in", out, "--out", scored, "--teacher", "llm", "--model", "judge",
		"--base-url", srv.BaseURL(), "--cache", cache)
	if code != 0 {
		t.Fatalf("score llm: exit %d\n%s\n%s", code, stdout, stderr)
	}
	srows := readJSONL(t, scored)
	if len(srows) != 4 || srows[0]["score"] != 0.8 || srows[0]["anchor"] != rows[0]["anchor"] || srows[3]["source"] != rows[3]["source"] {
		t.Errorf("scored rows %v", srows)
	}

	// The key is in no output and no cache file.
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if info != nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "sk-cli-secret") {
				t.Errorf("API key written to %s", p)
			}
		}
		return nil
	})
	if strings.Contains(stdout+stderr, "sk-cli-secret") {
		t.Error("API key printed")
	}

	// A chunk that keeps failing: the others are written, the failure listed, exit 1 (0 with --allow-failures).
	os.WriteFile(filepath.Join(docsDir, "c.txt"), []byte("Service is down tonight for maintenance work."), 0o644)
	args = append(args, "--retries", "0") // no retry: no real backoff wait in the test
	code, stdout, stderr = runCLI(t, args...)
	if code != 1 || len(readJSONL(t, out)) != 4 || !strings.Contains(stdout, "failed") || !strings.Contains(stderr, "1 of 3 chunks failed") {
		t.Errorf("failing chunk: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, append(args, "--allow-failures")...); code != 0 {
		t.Errorf("--allow-failures: exit %d", code)
	}
}

func TestScoreCLIRerankAPIAndErrors(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	tei := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Query string   `json:"query"`
			Texts []string `json:"texts"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		var out []map[string]any
		for i, tx := range body.Texts {
			out = append(out, map[string]any{"index": i, "score": float64(len(tx)) / 10})
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer tei.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "pairs.csv")
	os.WriteFile(in, []byte("anchor,positive,negative_1\nq1,abcd,ab\nq2,abcdefgh,\n"), 0o644)
	out := filepath.Join(dir, "scored.jsonl")
	t.Setenv("OPENAI_API_KEY", "sk-not-for-tei")
	code, stdout, stderr := runCLI(t, "score", "--in", in, "--out", out, "--teacher", "rerank-api", "--style", "tei",
		"--url", tei.URL+"/rerank", "--passage-columns", "positive,negative_1", "--normalize", "minmax", "--cache", filepath.Join(dir, "c"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	rows := readJSONL(t, out)
	// Raw scores 0.4, 0.8 (positives) and 0.2 (negative): min-max over all three gives (0.4−0.2)/(0.8−0.2) = 1/3,
	// 1 and 0; the empty negative is null.
	if len(rows) != 2 || math.Abs(rows[0]["positive_score"].(float64)-1.0/3) > 1e-12 || rows[1]["positive_score"] != 1.0 || rows[0]["negative_1_score"] != 0.0 ||
		rows[1]["negative_1_score"] != nil {
		t.Errorf("rows %v", rows)
	}
	if auth[0] != "" {
		t.Errorf("the OpenAI key was sent to the rerank API: %q", auth[0])
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"score", "--in", in, "--out", out, "--teacher", "embedder", "--model-dir", filepath.Join(dir, "none")}, 1, "model directory"},
		{[]string{"score", "--in", in, "--out", out, "--teacher", "cross-encoder"}, 2, "needs --model-dir"},
		{[]string{"score", "--in", in, "--out", out, "--teacher", "magic"}, 2, "unknown --teacher"},
		{[]string{"score", "--in", in, "--out", out}, 2, "required"},
		{[]string{"score", "--in", in, "--out", out, "--teacher", "rerank-api"}, 2, "needs --url"},
		{[]string{"score", "--in", in, "--out", out, "--teacher", "rerank-api", "--url", tei.URL, "--api-key-env", "RAGNB_NO_SUCH_VAR"}, 1, "not set"},
		{[]string{"score", "--in", in, "--out", out, "--teacher", "rerank-api", "--url", tei.URL, "--query-column", "question"}, 1, `no column "question"`},
		{[]string{"generate", "--docs", dir, "--out", out}, 2, "--model is required"},
		{[]string{"generate", "--docs", filepath.Join(dir, "none"), "--out", out, "--model", "m"}, 1, "no such file"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestScoreRefusalsAreUnscoredAndFailTheRun: a judge that refuses ("… cut off after 3 sentences") or answers
// JSON without a score leaves those pairs null and counted, and score exits 1 unless --allow-failures; the
// failed run's table goes beside --out (scored.partial.jsonl), the accepted one to --out.
func TestScoreRefusalsAreUnscoredAndFailTheRun(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	srv := llmtest.New(func(r llmtest.Request, n int) llmtest.Reply {
		switch p := r.Last(); {
		case strings.Contains(p, "Query: q1"):
			return llmtest.Reply{Content: `{"score": 0.9}`}
		case strings.Contains(p, "Query: q2"):
			return llmtest.Reply{Content: "I cannot evaluate this pair: the passage is cut off after 3 sentences."}
		}
		return llmtest.Reply{Content: `{"verdict": "unclear", "confidence": 0}`}
	})
	defer srv.Close()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "pairs.jsonl"), filepath.Join(dir, "scored.jsonl")
	os.WriteFile(in, []byte(`{"anchor":"q1","positive":"p"}`+"\n"+`{"anchor":"q2","positive":"p"}`+"\n"+`{"anchor":"q3","positive":"p"}`+"\n"), 0o644)
	args := []string{"score", "--in", in, "--out", out, "--teacher", "llm", "--model", "judge", "--base-url", srv.BaseURL(),
		"--no-cache", "--retries", "0"}
	code, stdout, stderr := runCLI(t, args...)
	if code != 1 || !strings.Contains(stdout, "2 pairs not scored") || !strings.Contains(stderr, "2 of 3 pairs not scored") {
		t.Errorf("score: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run wrote --out: %v", err)
	}
	rows := readJSONL(t, workflow.PartialPath(out))
	if len(rows) != 3 || rows[0]["score"] != 0.9 || rows[1]["score"] != nil || rows[2]["score"] != nil {
		t.Errorf("rows %v", rows)
	}
	if code, stdout, stderr = runCLI(t, append(args, "--allow-failures")...); code != 0 {
		t.Errorf("--allow-failures: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if rows := readJSONL(t, out); len(rows) != 3 || rows[1]["score"] != nil {
		t.Errorf("accepted rows %v", rows)
	}
}

// TestServeAuthTokenEnvMustBeSet: --auth-token-env naming an empty variable is a usage error, not an open
// server.
func TestServeAuthTokenEnvMustBeSet(t *testing.T) {
	t.Setenv("RAGNB_TEST_EMPTY_TOKEN", "")
	code, _, stderr := runCLI(t, "serve", "--bm25", "--corpus", "x.jsonl", "--auth-token-env", "RAGNB_TEST_EMPTY_TOKEN")
	if code != 2 || !strings.Contains(stderr, "RAGNB_TEST_EMPTY_TOKEN") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// `ragnb score --teacher hybrid` scores each (question, context) of the financial sample with hybrid
// retrieval's fused score over the sample's contexts: every score in [0, 1], and each question's own context
// scored above another question's context more often than not (a random 32-d static model, so the BM25 side
// carries it).
func TestScoreCLIHybridTeacher(t *testing.T) {
	dir := t.TempDir()
	df, err := datasets.Load("../../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := datasets.Strings(df, "question")
	cs, _ := datasets.Strings(df, "context")
	var b strings.Builder
	for i := range 40 {
		other := cs[(i+7)%len(cs)]
		fmt.Fprintf(&b, "{\"anchor\": %q, \"positive\": %q, \"negative\": %q}\n", qs[i], cs[i], other)
	}
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "score", "--in", in, "--out", out, "--teacher", "hybrid", "--model-dir", "../../testdata/models/tiny-static",
		"--teacher-corpus", "../../testdata/financial-sample/pairs.csv", "--teacher-corpus-field", "context", "--hybrid-alpha", "0.3",
		"--passage-columns", "positive,negative")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	scored, err := datasets.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	pos, neg := scored.Col("positive_score").Float(), scored.Col("negative_score").Float()
	wins := 0
	for i := range pos {
		if pos[i] < 0 || pos[i] > 1 || neg[i] < 0 || neg[i] > 1 {
			t.Fatalf("row %d: scores %v %v outside [0, 1]", i, pos[i], neg[i])
		}
		if pos[i] > neg[i] {
			wins++
		}
	}
	if wins < 30 {
		t.Errorf("the own context scored higher in %d of 40 rows", wins)
	}
	if code, _, stderr := runCLI(t, "score", "--in", in, "--out", out, "--teacher", "hybrid", "--model-dir", "../../testdata/models/tiny-static"); code != 2 ||
		!strings.Contains(stderr, "--teacher-corpus") {
		t.Errorf("no corpus: exit %d %s", code, stderr)
	}
}
