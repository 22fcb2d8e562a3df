package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/toymodel"
	"github.com/ragnb/ragnb/vector"
)

func apiFixture() (http.Handler, *toymodel.Embedder) {
	emb := &toymodel.Embedder{Dim: 64, Seed: 5, QueryPrefix: "query: "}
	h := NewAPI(APIOptions{
		Embedding: &EmbeddingModel{Name: "fin-bge", Embedder: emb},
		Rerank:    &RerankModel{Name: "fin-ce", Scorer: &toymodel.OverlapScorer{}},
	})
	return h, emb
}

func apiPost(t *testing.T, h http.Handler, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b)))
	return rec.Code, rec.Body.Bytes()
}

func want(t *testing.T, emb *toymodel.Embedder, texts []string, query bool, dim int) *vector.Matrix {
	t.Helper()
	var m *vector.Matrix
	var err error
	if query {
		m, err = emb.EmbedQueries(context.Background(), texts, nil)
	} else {
		m, err = emb.EmbedDocuments(context.Background(), texts, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if dim > 0 {
		if m, err = m.Truncate(dim); err != nil {
			t.Fatal(err)
		}
		m.Normalize()
	}
	return m
}

func close32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6 {
			return false
		}
	}
	return true
}

func TestEmbeddingsAnswersOpenAIShapesInBothEncodings(t *testing.T) {
	h, emb := apiFixture()
	texts := []string{"net revenue rose", "the board approved a dividend"}
	cases := []struct {
		name string
		body map[string]any
		want *vector.Matrix
	}{
		{"array, float", map[string]any{"model": "fin-bge", "input": texts, "encoding_format": "float"}, want(t, emb, texts, false, 0)},
		{"string, any model name", map[string]any{"model": "text-embedding-3-small", "input": texts[1]}, want(t, emb, texts[1:], false, 0)},
		{"base64, 16 dims", map[string]any{"input": texts, "encoding_format": "base64", "dimensions": 16}, want(t, emb, texts, false, 16)},
		{"query prompt", map[string]any{"input": texts, "input_type": "query"}, want(t, emb, texts, true, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := apiPost(t, h, "/v1/embeddings", c.body)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", code, body)
			}
			var res struct {
				Object string `json:"object"`
				Model  string `json:"model"`
				Data   []struct {
					Object    string          `json:"object"`
					Index     int             `json:"index"`
					Embedding json.RawMessage `json:"embedding"`
				} `json:"data"`
				Usage struct {
					PromptTokens int `json:"prompt_tokens"`
					TotalTokens  int `json:"total_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			if res.Object != "list" || res.Model != "fin-bge" || len(res.Data) != c.want.Rows {
				t.Fatalf("answer %s", body)
			}
			if res.Usage.PromptTokens <= 0 || res.Usage.TotalTokens != res.Usage.PromptTokens {
				t.Errorf("usage %+v", res.Usage)
			}
			for i, d := range res.Data {
				var got []float32
				if c.body["encoding_format"] == "base64" {
					var s string
					if err := json.Unmarshal(d.Embedding, &s); err != nil {
						t.Fatalf("base64 embedding is not a string: %s", d.Embedding)
					}
					raw, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						t.Fatal(err)
					}
					got = make([]float32, len(raw)/4)
					for j := range got {
						got[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
					}
				} else if err := json.Unmarshal(d.Embedding, &got); err != nil {
					t.Fatal(err)
				}
				if d.Object != "embedding" || d.Index != i || !close32(got, c.want.Row(i)) {
					t.Errorf("data[%d] = %s %d %v…, want %v…", i, d.Object, d.Index, got[:min(3, len(got))], c.want.Row(i)[:3])
				}
			}
		})
	}
}

func TestEmbeddingsRefusesBadRequestsWithOpenAIErrors(t *testing.T) {
	h, _ := apiFixture()
	for name, body := range map[string]map[string]any{
		"no input":        {"model": "m"},
		"token ids":       {"input": []int{1, 2, 3}},
		"bad encoding":    {"input": "x", "encoding_format": "int8"},
		"too many dims":   {"input": "x", "dimensions": 65},
		"negative dims":   {"input": "x", "dimensions": -1},
		"bad input type":  {"input": "x", "input_type": "image"},
		"empty input set": {"input": []string{}},
	} {
		code, b := apiPost(t, h, "/v1/embeddings", body)
		var e apiErrorBody
		if code != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Error.Message == "" || e.Error.Type != "invalid_request_error" {
			t.Errorf("%s: HTTP %d %s, want 400 with an OpenAI error", name, code, b)
		}
	}
}

func TestRerankOrdersBySigmoidOfTheCrossEncoder(t *testing.T) {
	h, _ := apiFixture()
	docs := []string{"weather report", "dividend approved by the board", "revenue rose on net sales"}
	query := "did the board approve a dividend"
	logit := func(i int) float64 { return 1 / (1 + math.Exp(-toymodel.Overlap(query, docs[i]))) }

	code, b := apiPost(t, h, "/v1/rerank", map[string]any{"model": "x", "query": query, "documents": []any{docs[0], map[string]string{"text": docs[1]}, docs[2]},
		"top_n": 2, "return_documents": true})
	var v1 struct {
		ID      string `json:"id"`
		Results []struct {
			Index          int     `json:"index"`
			RelevanceScore float64 `json:"relevance_score"`
			Document       struct {
				Text string `json:"text"`
			} `json:"document"`
		} `json:"results"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &v1) != nil || len(v1.Results) != 2 || v1.ID == "" {
		t.Fatalf("cohere v1: HTTP %d %s", code, b)
	}
	if v1.Results[0].Index != 1 || v1.Results[0].Document.Text != docs[1] || math.Abs(v1.Results[0].RelevanceScore-logit(1)) > 1e-9 {
		t.Errorf("cohere v1 top result %+v, want document 1 scored %g", v1.Results[0], logit(1))
	}
	if v1.Results[1].RelevanceScore > v1.Results[0].RelevanceScore {
		t.Errorf("cohere v1 results not best first: %s", b)
	}

	code, b = apiPost(t, h, "/rerank", map[string]any{"query": query, "texts": docs, "raw_scores": true, "return_text": true})
	var teiRes []struct {
		Index int     `json:"index"`
		Score float64 `json:"score"`
		Text  string  `json:"text"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &teiRes) != nil || len(teiRes) != 3 {
		t.Fatalf("tei: HTTP %d %s", code, b)
	}
	if teiRes[0].Index != 1 || teiRes[0].Score != toymodel.Overlap(query, docs[1]) || teiRes[0].Text != docs[1] {
		t.Errorf("tei top %+v, want document 1 with its raw score", teiRes[0])
	}
	if code, b := apiPost(t, h, "/v2/rerank", map[string]any{"query": query, "documents": docs, "top_n": 0}); code != http.StatusBadRequest {
		t.Errorf("top_n 0: HTTP %d %s, want 400", code, b)
	}
}

// TestEmbeddingsAndRerankThroughTheOfficialSDKs runs the official npm openai and cohere-ai SDKs (tools/apiclients) against the
// API on a loopback listener and compares what they decode with the models' own outputs.
func TestEmbeddingsAndRerankThroughTheOfficialSDKs(t *testing.T) {
	dir, _ := filepath.Abs("../../tools/apiclients")
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are needed for the SDK test (node: %v, npm: %v)", errNode, errNpm)
		}
		t.Skip("node or npm not found: the official SDKs cannot run")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai")); err != nil {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	h, emb := apiFixture()
	srv := httptest.NewServer(h)
	defer srv.Close()
	cmd := exec.Command(node, "check.mjs", srv.URL)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.mjs: %v\n%s", err, stderr.String())
	}
	var got struct {
		Default [][]float32 `json:"openai_default"`
		Model   string      `json:"openai_model"`
		Usage   struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"openai_usage"`
		FloatOne [][]float32 `json:"openai_float_one"`
		Dim16    [][]float32 `json:"openai_dim16"`
		Error    *struct {
			Status int `json:"status"`
		} `json:"openai_error"`
		CohereV1 []struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
			Text  string  `json:"text"`
		} `json:"cohere_v1"`
		CohereV2 []struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
		} `json:"cohere_v2"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("SDK output %s: %v", out, err)
	}
	texts := []string{"net revenue rose", "the board approved a dividend", "supply chain risk"}
	full, d16 := want(t, emb, texts, false, 0), want(t, emb, texts, false, 16)
	for i := range texts {
		if i >= len(got.Default) || !close32(got.Default[i], full.Row(i)) {
			t.Errorf("openai (base64 by default) vector %d differs", i)
		}
		if i >= len(got.Dim16) || !close32(got.Dim16[i], d16.Row(i)) {
			t.Errorf("openai dimensions=16 vector %d differs", i)
		}
	}
	if len(got.FloatOne) != 1 || !close32(got.FloatOne[0], full.Row(0)) {
		t.Errorf("openai float, one string: %v", got.FloatOne)
	}
	if got.Model != "fin-bge" || got.Usage.PromptTokens <= 0 {
		t.Errorf("openai model %q usage %+v", got.Model, got.Usage)
	}
	if got.Error == nil || got.Error.Status != http.StatusBadRequest {
		t.Errorf("openai error for dimensions -1: %+v, want status 400", got.Error)
	}
	if len(got.CohereV1) != 2 || got.CohereV1[0].Index != 0 || got.CohereV1[0].Text != "dividend approved by the board" {
		t.Errorf("cohere v1 rerank: %+v", got.CohereV1)
	}
	if len(got.CohereV2) != 3 || got.CohereV2[0].Index != 0 || got.CohereV2[0].Score < got.CohereV2[1].Score {
		t.Errorf("cohere v2 rerank: %+v", got.CohereV2)
	}
}
