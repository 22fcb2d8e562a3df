package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/pipeline"
)

const sampleQA = "../../testdata/financial-sample/pairs.csv"

func TestAskBM25WithStreamingLLM(t *testing.T) {
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Tacoma, ", "Washington [1]."}}
	})
	defer srv.Close()
	code, out, errOut := runCLI(t, "ask", "--bm25", "--corpus", sampleQA, "--top-n", "2",
		"--llm-model", "fake", "--base-url", srv.BaseURL(), "--no-cache", "Where is Halvorsen Marine headquartered?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Q: Where is Halvorsen Marine headquartered?\nTacoma, Washington [1].\n",
		"sources (2 of 20 retrieved):\n *[1] ", "Halvorsen Marine Systems, Inc.", "timings: search "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if reqs := srv.Requests(); len(reqs) != 1 || !reqs[0].Stream || !strings.Contains(reqs[0].Last(), "[2] (document ") {
		t.Errorf("chat requests: %+v", reqs)
	}
}

func TestAskQuestionsFileAsJSON(t *testing.T) {
	srv := llmtest.New(func(req llmtest.Request, n int) llmtest.Reply {
		if strings.Contains(req.Last(), "Question: fail me") {
			return llmtest.Reply{Status: 500}
		}
		return llmtest.Reply{Content: "answer [1]"}
	})
	defer srv.Close()
	qfile := filepath.Join(t.TempDir(), "q.txt")
	os.WriteFile(qfile, []byte("What does Brightwater Analytics sell?\n\nfail me: revenue growth\nWho founded Larkspur Foods?\n"), 0o644)
	code, out, errOut := runCLI(t, "ask", "--bm25", "--corpus", sampleQA, "--questions", qfile, "--json",
		"--llm-model", "fake", "--base-url", srv.BaseURL(), "--no-cache", "--retries", "0")
	if code != 1 || !strings.Contains(errOut, "1 of 3 questions failed") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var a pipeline.Answer
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(a.Sources) == 0 {
			t.Errorf("line %d has no sources", i)
		}
		if i == 1 && (a.Error == "" || a.Text != "") || i != 1 && (a.Text != "answer [1]" || a.Error != "") {
			t.Errorf("line %d: %+v", i, a)
		}
	}
}

func TestAskWithoutLLMAndBadUsage(t *testing.T) {
	code, out, _ := runCLI(t, "ask", "--bm25", "--corpus", sampleQA, "--top-k", "3", "--top-n", "3", "--json", "revenue")
	var a pipeline.Answer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || len(a.Sources) != 3 || a.Text != "" || a.Prompt == "" {
		t.Errorf("no LLM: exit %d, %q", code, out)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"ask", "q"}, "give --index DIR"},
		{[]string{"ask", "--bm25", "--corpus", sampleQA}, "no question"},
		{[]string{"ask", "--bm25", "--corpus", sampleQA, "--top-k", "2", "--top-n", "3", "q"}, "exceeds"},
		{[]string{"ask", "--bm25", "--model", "m", "--corpus", sampleQA, "q"}, "--bm25 retrieves without"},
		{[]string{"ask", "--model", t.TempDir(), "--corpus", sampleQA, "q"}, "--model"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, errOut, c.msg)
		}
	}
}

func TestServeAnswersAndShutsDown(t *testing.T) {
	srv := llmtest.New(func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "ok [1]"} })
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--bm25", "--corpus", sampleQA, "--addr", addr, "--log-format", "json",
			"--llm-model", "fake", "--base-url", srv.BaseURL(), "--no-cache", "--max-body", "512"}, &out, &errb)
	}()
	url := "http://" + addr
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if resp, err = http.Get(url + "/healthz"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v\n%s", err, errb.String())
	}
	resp.Body.Close()
	resp, err = http.Post(url+"/ask", "application/json", strings.NewReader(`{"question":"Where is Halvorsen Marine headquartered?","top_n":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var a pipeline.Answer
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != 200 || a.Text != "ok [1]" || len(a.Sources) != 2 {
		t.Errorf("/ask: %d %+v", resp.StatusCode, a)
	}
	resp, _ = http.Post(url+"/ask", "application/json", strings.NewReader(fmt.Sprintf(`{"question":%q}`, strings.Repeat("x", 600))))
	if resp.StatusCode != 413 {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	logs := errb.String()
	if !strings.Contains(logs, `"msg":"serving"`) || !strings.Contains(logs, `"status":413`) || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestIndexCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"index"}, "missing subcommand"},
		{[]string{"index", "frob"}, "unknown subcommand"},
		{[]string{"index", "build", "--corpus", sampleQA}, "build needs --model"},
		{[]string{"index", "info", "--index", t.TempDir()}, "not an index directory"},
		{[]string{"index", "build", "--model", t.TempDir(), "--corpus", sampleQA, "--out", t.TempDir() + "/ix"}, "--model"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, stderr %q (want %q)", c.args, code, errOut, c.msg)
		}
	}
}

// tinyModel writes a random 1-layer BERT model with `ragnb init-model` and returns its directory.
func tinyModel(t *testing.T, arch string, seed int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), arch)
	args := []string{"init-model", "--arch", arch, "--tokenizer", sharedtest.BertTokenizer(t), "--layers", "1",
		"--hidden", "32", "--heads", "2", "--intermediate", "64", "--max-len", "128", "--seed", fmt.Sprint(seed), "--out", dir}
	if arch == "bert" {
		args = append(args, "--query-prompt", "query: ")
	}
	if code, _, errOut := runCLI(t, args...); code != 0 {
		t.Fatalf("init-model: %s", errOut)
	}
	return dir
}

// The index → ask path over real model directories made by init-model.
func TestIndexAndAskWithModels(t *testing.T) {
	bi, ce := tinyModel(t, "bert", 1), tinyModel(t, "cross-encoder", 2)
	dir := t.TempDir()
	ix := filepath.Join(dir, "financial.index")
	// Build from the first 100 rows, then add the whole file: only the new passages are embedded.
	df := writeFile(t, filepath.Join(dir, "head.csv"), headLines(t, sampleQA, 101))
	code, out, errOut := runCLI(t, "index", "build", "--model", bi, "--corpus", df, "--out", ix, "--hnsw")
	if code != 0 || !strings.Contains(out, "hnsw index") || !strings.Contains(out, "dim 32") {
		t.Fatalf("index build: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "index", "add", "--index", ix, "--corpus", sampleQA)
	if code != 0 || !strings.Contains(out, "documents (") || !strings.Contains(out, "223 documents") {
		t.Fatalf("index add: %d %q %q", code, out, errOut)
	}
	var added, total int
	fmt.Sscanf(out, "added %d of %d", &added, &total)
	if total != 223 || added <= 0 || added >= 223 {
		t.Errorf("added %d of %d: the first rows' passages should have been skipped", added, total)
	}
	code, out, _ = runCLI(t, "index", "info", "--index", ix, "--json")
	var man map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &man) != nil || man["count"] != 223.0 || man["kind"] != "hnsw" || man["model_name"] != bi {
		t.Errorf("index info: %d %s", code, out)
	}

	srv := llmtest.New(func(llmtest.Request, int) llmtest.Reply { return llmtest.Reply{Content: "In Tacoma [1]."} })
	defer srv.Close()
	// --model defaults to the one the index was built with.
	code, out, errOut = runCLI(t, "ask", "--index", ix, "--reranker", ce, "--top-k", "10", "--top-n", "3", "--json",
		"--llm-model", "fake", "--base-url", srv.BaseURL(), "--no-cache", "Where is Halvorsen Marine headquartered?")
	var a pipeline.Answer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
		t.Fatalf("ask: %d %q %q", code, out, errOut)
	}
	if a.Text != "In Tacoma [1]." || len(a.Sources) != 3 || !a.Reranked || a.Retrieved != 10 || a.Timings.Embed <= 0 {
		t.Errorf("answer %q, %d sources, reranked %v, retrieved %d, timings %+v", a.Text, len(a.Sources), a.Reranked, a.Retrieved, a.Timings)
	}

	// Another model: stale, unless asked to rebuild.
	other := tinyModel(t, "bert", 3)
	code, _, errOut = runCLI(t, "ask", "--index", ix, "--model", other, "--no-llm", "q")
	if code != 1 || !strings.Contains(errOut, "stale index") || !strings.Contains(errOut, bi) || !strings.Contains(errOut, other) {
		t.Errorf("stale: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "ask", "--index", ix, "--model", other, "--rebuild-stale", "--no-llm", "q")
	if code != 0 {
		t.Errorf("rebuild-stale: %d %q", code, errOut)
	}
	if code, out, _ = runCLI(t, "index", "info", "--index", ix); !strings.Contains(out, other) || !strings.Contains(out, "files verified") {
		t.Errorf("after the rebuild the index names %q", out)
	}
	// A truncated vectors.npy is not healthy: info fails naming the file.
	vecs := filepath.Join(ix, "vectors.npy")
	st, _ := os.Stat(vecs)
	os.Truncate(vecs, st.Size()-4)
	if code, _, errOut = runCLI(t, "index", "info", "--index", ix); code == 0 || !strings.Contains(errOut, "vectors.npy") {
		t.Errorf("info on a truncated index: %d %q", code, errOut)
	}
}

func headLines(t *testing.T, path string, n int) string {
	t.Helper()
	df, err := datasets.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := datasets.Write(&b, df.Subset(seq(n-1)), datasets.CSV); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestAskHybridOverAnIndex: --hybrid fuses the index's dense retrieval with BM25 over the index's own
// documents; at --hybrid-alpha 0 it ranks exactly as BM25 over the same corpus, and --bm25 refuses --hybrid.
func TestAskHybridOverAnIndex(t *testing.T) {
	bi := tinyModel(t, "bert", 1)
	ix := filepath.Join(t.TempDir(), "financial.index")
	if code, out, errOut := runCLI(t, "index", "build", "--model", bi, "--corpus", sampleQA, "--out", ix); code != 0 {
		t.Fatalf("index build: %d %q %q", code, out, errOut)
	}
	ids := func(args ...string) []string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"ask", "--no-llm", "--json", "--top-k", "5", "--top-n", "5"}, args...)...)
		var a pipeline.Answer
		if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
			t.Fatalf("ask %v: %d %q %q", args, code, out, errOut)
		}
		var s []string
		for _, src := range a.Sources {
			s = append(s, src.DocID)
		}
		return s
	}
	q := "Where is Halvorsen Marine headquartered?"
	lexical := ids("--bm25", "--corpus", sampleQA, q)
	if got := ids("--index", ix, "--hybrid", "--hybrid-alpha", "0", q); strings.Join(got, " ") != strings.Join(lexical, " ") {
		t.Errorf("hybrid at α = 0 %v, BM25 %v", got, lexical)
	}
	if got := ids("--index", ix, "--hybrid", q); len(got) != 5 {
		t.Errorf("hybrid at the default α gave %d sources", len(got))
	}
	if code, _, errOut := runCLI(t, "ask", "--bm25", "--hybrid", "--corpus", sampleQA, q); code != 2 || !strings.Contains(errOut, "--hybrid") {
		t.Errorf("--bm25 --hybrid: %d %q", code, errOut)
	}
}
