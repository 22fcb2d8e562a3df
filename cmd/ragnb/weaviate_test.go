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
