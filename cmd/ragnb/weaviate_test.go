package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/weaviatetest"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/workflow"
)

// `index push` and `ask|serve --weaviate` with only the required flags ask for the workflow's defaults.
func TestWeaviateFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p indexPushFlags
	p.register(fs)
	if err := fs.Parse([]string{"--weaviate", "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	got, err := p.options(0, workflow.DefaultPushIndexOptions().BatchSize)
	if want := workflow.DefaultPushIndexOptions(); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("push flags give %+v (%v), want %+v", got, err, want)
	}

	for _, c := range []struct {
		args  []string
		alpha float64
		on    bool
	}{
		{nil, workflow.DefaultWeaviateOptions().Alpha, false},
		{[]string{"--hybrid"}, workflow.DefaultWeaviateOptions().Alpha, true},
		{[]string{"--hybrid=0.25"}, 0.25, true},
	} {
		fs := flag.NewFlagSet("ask", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var pf pipelineFlags // --hybrid is the pipeline's flag: Weaviate's hybrid with --weaviate
		pf.register(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if _, err := pf.options(); err != nil {
			t.Fatal(err)
		}
		o, err := pf.weaviate.options()
		want := workflow.DefaultWeaviateOptions()
		want.Hybrid, want.Alpha = c.on, c.alpha
		if err != nil || !reflect.DeepEqual(o, want) {
			t.Errorf("%v: %+v (%v), want %+v", c.args, o, err, want)
		}
	}
	fs = flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var pf pipelineFlags
	pf.register(fs)
	r := &pf.weaviate
	if err := fs.Parse([]string{"--hybrid=1.5"}); err == nil {
		t.Error("--hybrid=1.5 was accepted")
	}
	if err := fs.Parse([]string{"--weaviate-api-key-env", "RAGNB_TEST_UNSET_KEY"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.options(); err == nil || !strings.Contains(err.Error(), "RAGNB_TEST_UNSET_KEY") {
		t.Errorf("an unset key variable: err = %v", err)
	}
}

func askJSON(t *testing.T, args ...string) pipeline.Answer {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"ask", "--no-llm", "--json", "--top-k", "5", "--top-n", "5"}, args...)...)
	var a pipeline.Answer
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
		t.Fatalf("ask %v: exit %d %q %q", args, code, out, errOut)
	}
	return a
}

// The CLI path end to end on a real server: build, push, push again, ask and serve through Weaviate.
func TestWeaviateIndexPushAskAndServe(t *testing.T) {
	srv := weaviatetest.Start(t)
	bi, ce := tinyModel(t, "bert", 1), tinyModel(t, "cross-encoder", 2)
	ix := filepath.Join(t.TempDir(), "fin.index")
	if code, _, errOut := runCLI(t, "index", "build", "--model", bi, "--corpus", sampleQA, "--out", ix); code != 0 {
		t.Fatalf("index build: %s", errOut)
	}
	code, out, errOut := runCLI(t, "index", "push", "--index", ix, "--weaviate", srv.URL, "--collection", "Fin")
	if code != 0 || !strings.Contains(out, "created collection Fin") || !strings.Contains(out, "pushed 223 documents, pruned 0, 223 objects now") {
		t.Fatalf("push: %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "index", "push", "--index", ix, "--weaviate", srv.URL, "--collection", "Fin", "--prune")
	if code != 0 || !strings.Contains(out, "updated collection Fin") || !strings.Contains(out, "223 objects now") {
		t.Fatalf("second push: %d %q %q", code, out, errOut)
	}

	q := "Where is Halvorsen Marine headquartered?"
	local := askJSON(t, "--index", ix, q)
	remote := askJSON(t, "--weaviate", srv.URL, "--collection", "Fin", "--model", bi, q)
	overlap := 0
	for _, r := range remote.Sources {
		for _, l := range local.Sources {
			if r.DocID == l.DocID {
				overlap++
			}
		}
	}
	if len(remote.Sources) != 5 || overlap < 4 || remote.Sources[0].DocID != local.Sources[0].DocID {
		t.Errorf("weaviate sources %+v\nlocal %+v", remote.Sources, local.Sources)
	}
	hybrid := askJSON(t, "--weaviate", srv.URL, "--collection", "Fin", "--model", bi, "--hybrid=0.3", q)
	if len(hybrid.Sources) != 5 || !strings.Contains(hybrid.Sources[0].Text, "Halvorsen") {
		t.Errorf("hybrid top source %+v", hybrid.Sources)
	}

	other := tinyModel(t, "bert", 3)
	code, _, errOut = runCLI(t, "ask", "--weaviate", srv.URL, "--collection", "Fin", "--model", other, "--no-llm", q)
	if code != 1 || !strings.Contains(errOut, "was written with model "+bi) {
		t.Errorf("another model: exit %d %q", code, errOut)
	}

	// Pushed truncated to 16 dimensions: a collection of its own.
	code, out, errOut = runCLI(t, "index", "push", "--index", ix, "--weaviate", srv.URL, "--collection", "Fin16", "--dim", "16")
	if code != 0 || !strings.Contains(out, "created collection Fin16") {
		t.Fatalf("push --dim 16: %d %q %q", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, "index", "push", "--index", ix, "--weaviate", srv.URL, "--collection", "Fin", "--dim", "16"); code != 1 ||
		!strings.Contains(errOut, "dimension 32, this push cosine of dimension 16") {
		t.Errorf("push --dim 16 into the 32-d collection: exit %d %q", code, errOut)
	}

	// serve answers /ask through Weaviate and the model API from the same models.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var sout, serr strings.Builder
	go func() {
		done <- run(ctx, []string{"serve", "--weaviate", srv.URL, "--collection", "Fin16", "--model", bi, "--reranker", ce,
			"--addr", addr, "--no-cache"}, &sout, &serr)
	}()
	base := "http://" + addr
	var resp *http.Response
	var err error
	for range 200 {
		if resp, err = http.Get(base + "/healthz"); err == nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("serve did not come up: %v\n%s", err, serr.String())
	}
	var health map[string]any
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health["collection"] != "Fin16" || health["dim"] != 16.0 {
		t.Errorf("healthz %v", health)
	}
	post := func(path, body string, v any) int {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var a pipeline.Answer
	if code := post("/ask", fmt.Sprintf(`{"question":%q,"top_k":8,"top_n":3,"no_llm":true}`, q), &a); code != 200 || len(a.Sources) != 3 || !a.Reranked {
		t.Errorf("/ask: %d %+v", code, a)
	}
	var emb struct {
		Model string `json:"model"`
		Data  []struct {
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if code := post("/v1/embeddings", `{"model":"anything","input":["net revenue","a dividend"],"dimensions":16}`, &emb); code != 200 ||
		len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 16 || emb.Model != "bert" || emb.Usage.PromptTokens < 4 {
		t.Errorf("/v1/embeddings: %d %+v", code, emb)
	}
	var rr struct {
		Results []struct {
			Index int     `json:"index"`
			Score float64 `json:"relevance_score"`
		} `json:"results"`
	}
	if code := post("/v1/rerank", `{"query":"dividend","documents":["a","b","c"],"top_n":2}`, &rr); code != 200 || len(rr.Results) != 2 ||
		rr.Results[0].Score < rr.Results[1].Score {
		t.Errorf("/v1/rerank: %d %+v", code, rr)
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("serve exit %d: %s", c, serr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// `mine` and `eval` through a collection, on a real server: the same triplets as the exact search (HNSW
// finds the true top-k among 223 passages), the same metrics with weaviate_agreement@k beside them, and a
// collection of another model refused.
func TestWeaviateMineAndEval(t *testing.T) {
	srv := weaviatetest.Start(t)
	bi := tinyModel(t, "bert", 1)
	dir := t.TempDir()
	ix := filepath.Join(dir, "fin.index")
	if code, _, errOut := runCLI(t, "index", "build", "--model", bi, "--corpus", sampleQA, "--out", ix); code != 0 {
		t.Fatalf("index build: %s", errOut)
	}
	if code, _, errOut := runCLI(t, "index", "push", "--index", ix, "--weaviate", srv.URL, "--collection", "Fin"); code != 0 {
		t.Fatalf("push: %s", errOut)
	}
	mine := []string{"mine", "--model", bi, "--data", sampleQA, "--anchor", "question", "--positive", "context",
		"--max-distance", "0", "--num-negatives", "2", "--top-k", "30"}
	local, remote := filepath.Join(dir, "local.jsonl"), filepath.Join(dir, "weaviate.jsonl")
	if code, _, errOut := runCLI(t, append(mine, "--out", local)...); code != 0 {
		t.Fatalf("mine: %s", errOut)
	}
	code, out, errOut := runCLI(t, append(mine, "--out", remote, "--weaviate", srv.URL, "--collection", "Fin")...)
	if code != 0 || !strings.Contains(out, "weaviate Fin (dim 32): 518 queries × top 30") {
		t.Fatalf("mine --weaviate: %d %q %q", code, out, errOut)
	}
	want, got := strings.Split(readFile(t, local), "\n"), strings.Split(readFile(t, remote), "\n")
	same := 0
	for i := range min(len(want), len(got)) {
		if want[i] == got[i] {
			same++
		}
	}
	if len(want) != len(got) || same < len(want)*98/100 {
		t.Errorf("%d of %d triplet lines identical (%d lines through Weaviate)", same, len(want), len(got))
	}
	if code, _, errOut := runCLI(t, append(mine, "--out", remote, "--weaviate", srv.URL, "--collection", "Fin", "--corpus", sampleQA)...); code != 2 ||
		!strings.Contains(errOut, "the collection is the corpus") {
		t.Errorf("--corpus with --weaviate: exit %d %q", code, errOut)
	}

	js := filepath.Join(dir, "eval.json")
	code, out, errOut = runCLI(t, "eval", "--model", bi, "--pairs", sampleQA, "--anchor", "question", "--positive", "context",
		"--test-fraction", "0", "--weaviate", srv.URL, "--collection", "Fin", "--json", js)
	if code != 0 || !strings.Contains(out, "weaviate collection Fin (dim 32): 518 queries") {
		t.Fatalf("eval --weaviate: %d %q %q", code, out, errOut)
	}
	var m map[string]float64
	if err := json.Unmarshal([]byte(readFile(t, js)), &m); err != nil {
		t.Fatal(err)
	}
	if l, r := m["dim_32_cosine_ndcg@10"], m["weaviate_cosine_ndcg@10"]; l == 0 || l-r > 0.01 || r-l > 0.01 || m["weaviate_agreement@10"] < 0.98 {
		t.Errorf("ndcg@10 local %v, weaviate %v, agreement@10 %v", l, r, m["weaviate_agreement@10"])
	}
	other := tinyModel(t, "bert", 3)
	code, _, errOut = runCLI(t, "eval", "--model", other, "--pairs", sampleQA, "--anchor", "question", "--positive", "context",
		"--weaviate", srv.URL, "--collection", "Fin")
	if code != 1 || !strings.Contains(errOut, "was written with model "+bi) {
		t.Errorf("eval with another model: exit %d %q", code, errOut)
	}
	if code, _, errOut = runCLI(t, "eval", "--model", "bm25", "--pairs", sampleQA, "--weaviate", srv.URL, "--collection", "Fin"); code != 2 {
		t.Errorf("eval --model bm25 --weaviate: exit %d %q", code, errOut)
	}
}
