package teacher

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ragnb/ragnb/ir"
)

// The official cohere-ai npm SDK's rerank call (tools/cohere-sdk/rerank.mjs), pointed at an in-process server,
// is served by cohereV2Handler — the handler ragnb's cohere-v2 client is tested against — and both read the
// same scores: ragnb's requests are the SDK's. Needs node and npm (npm ci installs the pinned SDK when
// node_modules is missing); under CI=true their absence fails the test.
func TestCohereSDKRerankIsServedByTheTestHandler(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "tools", "cohere-sdk"))
	if err != nil {
		t.Fatal(err)
	}
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: node (%v) and npm (%v) are needed for the cohere-ai SDK check", errNode, errNpm)
		}
		t.Skipf("node or npm not installed (%v, %v): the cohere-ai SDK check needs them", errNode, errNpm)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "cohere-ai")); err != nil {
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	var seen []map[string]any
	srv := httptest.NewServer(cohereV2Handler(t, &seen))
	defer srv.Close()
	docs := []string{"revenue was 10 million", "the auditor is KPMG", "offices in Oslo"}
	arg, _ := json.Marshal(docs)
	cmd := exec.CommandContext(ctx, node, "rerank.mjs", string(arg))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COHERE_BASE_URL="+srv.URL)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("the SDK's rerank: %v\n%s%s", err, out, stderr)
	}
	var sdk []struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevanceScore"`
	}
	if err := json.Unmarshal(out, &sdk); err != nil || len(sdk) != len(docs) {
		t.Fatalf("SDK results %s (%v)", out, err)
	}
	api, err := NewRerankAPI(RerankConfig{URL: srv.URL + "/v2/rerank", Style: StyleCohereV2, Model: "rerank-v3.5", MaxTokensPerDoc: 512, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]ir.Pair, len(docs))
	for i, d := range docs {
		pairs[i] = ir.Pair{Query: "what was revenue", Passage: d}
	}
	ours, err := api.ScorePairs(ctx, pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sdk {
		if ours[r.Index] != r.RelevanceScore {
			t.Errorf("document %d: ragnb %v, SDK %v", r.Index, ours[r.Index], r.RelevanceScore)
		}
	}
	if len(seen) != 2 {
		t.Fatalf("%d requests served, want the SDK's and ragnb's", len(seen))
	}
	sdkReq, ourReq := seen[0], seen[1]
	for k, v := range sdkReq {
		if b1, b2 := mustJSON(v), mustJSON(ourReq[k]); b1 != b2 {
			t.Errorf("field %s: SDK sends %s, ragnb %s", k, b1, b2)
		}
	}
	for k := range ourReq {
		if _, ok := sdkReq[k]; !ok {
			t.Errorf("ragnb sends %s, which the SDK does not", k)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
