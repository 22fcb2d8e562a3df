package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/vector"
)

// EmbeddingModel is a bi-encoder served at POST /v1/embeddings.
type EmbeddingModel struct {
	// Name is the model id clients send and get back (e.g. the model directory's base name).
	Name string
	// Embedder embeds inputs: as documents, or as queries (its query prompt) when a request says
	// input_type "query" (or TEI's prompt_name "query").
	Embedder vector.Embedder
	// CountTokens counts each text's tokens as the model sees them, for usage; nil counts words.
	CountTokens func(texts []string) int
}

// RerankModel is a cross-encoder served at POST /v1/rerank, /v2/rerank (Cohere) and /rerank (TEI).
type RerankModel struct {
	Name string
	// Scorer returns a raw logit per (query, passage) pair; relevance scores are its sigmoid.
	Scorer ir.Scorer
	// CountTokens as for EmbeddingModel.
	CountTokens func(texts []string) int
}

// APIOptions configure the model API (NewAPI). Zero values take the defaults.
type APIOptions struct {
	// Embedding and Rerank are the served models; nil answers 404 on their routes.
	Embedding *EmbeddingModel
	Rerank    *RerankModel
	// MaxInputs bounds the texts of one request (default 2048, OpenAI's limit).
	MaxInputs int
	// MaxBodyBytes bounds a request body (default 16 MiB).
	MaxBodyBytes int64
	// MaxConcurrent is the number of requests computed at once (default 2 × GOMAXPROCS); more wait, within
	// Timeout.
	MaxConcurrent int
	// Timeout bounds one request, waiting included (default 60 s).
	Timeout time.Duration
}

// NewAPI serves the models where client libraries expect them: OpenAI's POST /v1/embeddings and GET
// /v1/models, Cohere's POST /v1/rerank and /v2/rerank, and Hugging Face TEI's POST /rerank and /embed, so
// LangChain, LlamaIndex or Haystack use a fine-tuned model unchanged. Mount it beside the answer routes
// (Options.API). Each route serves one model, so a request's "model" may name it or anything else (as TEI
// accepts); answers name the served model. Errors are OpenAI-shaped: {"error": {"message", "type", "param",
// "code"}}.
func NewAPI(o APIOptions) http.Handler {
	if o.MaxInputs <= 0 {
		o.MaxInputs = 2048
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	a := &api{o: o, slots: make(chan struct{}, o.MaxConcurrent)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", a.embeddings)
	mux.HandleFunc("POST /embed", a.teiEmbed)
	mux.HandleFunc("GET /v1/models", a.models)
	mux.HandleFunc("POST /v1/rerank", a.rerank(cohereV1))
	mux.HandleFunc("POST /v2/rerank", a.rerank(cohereV2))
	mux.HandleFunc("POST /rerank", a.rerank(tei))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "not_found", "", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

type api struct {
	o     APIOptions
	slots chan struct{}
}

type apiErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func apiError(w http.ResponseWriter, status int, typ, param, msg string) {
	var b apiErrorBody
	b.Error.Message, b.Error.Type = msg, typ
	if param != "" {
		b.Error.Param = &param
	}
	writeJSON(w, status, b)
}

func badRequest(w http.ResponseWriter, param, format string, args ...any) {
	apiError(w, http.StatusBadRequest, "invalid_request_error", param, fmt.Sprintf(format, args...))
}

// decode reads a JSON body into v; on failure it has answered.
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.o.MaxBodyBytes)).Decode(v)
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		apiError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", fmt.Sprintf("request body over %d bytes", tooBig.Limit))
		return false
	}
	badRequest(w, "", "bad JSON: %v", err)
	return false
}

// run computes under the concurrency bound and the timeout; on failure it has answered.
func (a *api) run(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) error) bool {
	ctx, cancel := context.WithTimeout(r.Context(), a.o.Timeout)
	defer cancel()
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		apiError(w, http.StatusServiceUnavailable, "server_error", "", "timed out waiting for a free slot; retry shortly")
		return false
	}
	defer func() { <-a.slots }()
	if err := fn(ctx); err != nil {
		if ctx.Err() != nil {
			apiError(w, http.StatusGatewayTimeout, "server_error", "", fmt.Sprintf("timed out after %v", a.o.Timeout))
			return false
		}
		apiError(w, http.StatusInternalServerError, "server_error", "", err.Error())
		return false
	}
	return true
}

// stringList decodes OpenAI's input: a string or an array of strings (token-id arrays are refused: the
// server tokenizes itself).
func stringList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("input is required")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("input must be a string or an array of strings (token ids are not accepted)")
	}
	return many, nil
}

func countTokens(count func([]string) int, texts []string) int {
	if count != nil {
		return count(texts)
	}
	n := 0
	for _, t := range texts {
		n += len(strings.Fields(t))
	}
	return n
}

type embeddingsRequest struct {
	Input          json.RawMessage `json:"input"`
	Model          string          `json:"model"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
	User           string          `json:"user"`
	// InputType "query" embeds with the model's query prompt (Cohere/Voyage/NIM spelling; "search_query"
	// and "passage"/"document"/"search_document" are accepted too). OpenAI has no such field: the default
	// embeds documents.
	InputType  string `json:"input_type"`
	PromptName string `json:"prompt_name"`
}

type embeddingItem struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

type usage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

type embeddingsResponse struct {
	Object string          `json:"object"`
	Data   []embeddingItem `json:"data"`
	Model  string          `json:"model"`
	Usage  usage           `json:"usage"`
}

// embedTexts embeds texts as queries or documents and truncates them to dim (renormalised; 0 keeps all).
func (a *api) embedTexts(ctx context.Context, texts []string, query bool, dim int) (*vector.Matrix, error) {
	emb := a.o.Embedding.Embedder
	var m *vector.Matrix
	var err error
	if query {
		m, err = emb.EmbedQueries(ctx, texts, nil)
	} else {
		m, err = emb.EmbedDocuments(ctx, texts, nil)
	}
	if err != nil {
		return nil, err
	}
	if m.Rows != len(texts) {
		return nil, fmt.Errorf("the model returned %d vectors for %d inputs", m.Rows, len(texts))
	}
	if dim > 0 && dim < m.Dim {
		t, err := m.Truncate(dim)
		if err != nil {
			return nil, err
		}
		t.Normalize()
		m = t
	}
	return m, nil
}

func isQuery(inputType, promptName string) (bool, error) {
	switch strings.ToLower(inputType) {
	case "query", "search_query":
		return true, nil
	case "", "document", "passage", "search_document":
	default:
		return false, fmt.Errorf("input_type %q: want query or document", inputType)
	}
	return promptName == "query", nil
}

func (a *api) embeddings(w http.ResponseWriter, r *http.Request) {
	if a.o.Embedding == nil {
		apiError(w, http.StatusNotFound, "not_found", "model", "no embedding model is served (ragnb serve --model DIR)")
		return
	}
	var req embeddingsRequest
	if !a.decode(w, r, &req) {
		return
	}
	texts, err := stringList(req.Input)
	if err != nil {
		badRequest(w, "input", "%v", err)
		return
	}
	if len(texts) == 0 || len(texts) > a.o.MaxInputs {
		badRequest(w, "input", "input holds %d texts, want 1 to %d", len(texts), a.o.MaxInputs)
		return
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		badRequest(w, "encoding_format", "encoding_format %q: want float or base64", req.EncodingFormat)
		return
	}
	if req.Dimensions < 0 {
		badRequest(w, "dimensions", "dimensions must be positive")
		return
	}
	query, err := isQuery(req.InputType, req.PromptName)
	if err != nil {
		badRequest(w, "input_type", "%v", err)
		return
	}
	var m *vector.Matrix
	if !a.run(w, r, func(ctx context.Context) error {
		var err error
		m, err = a.embedTexts(ctx, texts, query, req.Dimensions)
		return err
	}) {
		return
	}
	if req.Dimensions > m.Dim {
		badRequest(w, "dimensions", "dimensions %d is more than the model's %d", req.Dimensions, m.Dim)
		return
	}
	res := embeddingsResponse{Object: "list", Model: a.o.Embedding.Name, Data: make([]embeddingItem, m.Rows)}
	for i := range m.Rows {
		var e any = m.Row(i)
		if req.EncodingFormat == "base64" {
			e = base64Floats(m.Row(i))
		}
		res.Data[i] = embeddingItem{Object: "embedding", Index: i, Embedding: e}
	}
	n := countTokens(a.o.Embedding.CountTokens, texts)
	res.Usage = usage{PromptTokens: n, TotalTokens: n}
	writeJSON(w, http.StatusOK, res)
}

// base64Floats is OpenAI's base64 encoding: the little-endian float32 bytes.
func base64Floats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// teiEmbed is TEI's POST /embed: {"inputs": string|[string], "prompt_name"?, "dimensions"?} → [[float]].
func (a *api) teiEmbed(w http.ResponseWriter, r *http.Request) {
	if a.o.Embedding == nil {
		apiError(w, http.StatusNotFound, "not_found", "", "no embedding model is served")
		return
	}
	var req struct {
		Inputs     json.RawMessage `json:"inputs"`
		PromptName string          `json:"prompt_name"`
		Dimensions int             `json:"dimensions"`
	}
	if !a.decode(w, r, &req) {
		return
	}
	texts, err := stringList(req.Inputs)
	if err != nil || len(texts) == 0 || len(texts) > a.o.MaxInputs {
		badRequest(w, "inputs", "inputs: want 1 to %d strings", a.o.MaxInputs)
		return
	}
	var m *vector.Matrix
	if !a.run(w, r, func(ctx context.Context) error {
		var err error
		m, err = a.embedTexts(ctx, texts, req.PromptName == "query", req.Dimensions)
		return err
	}) {
		return
	}
	out := make([][]float32, m.Rows)
	for i := range out {
		out[i] = m.Row(i)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) models(w http.ResponseWriter, r *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	if a.o.Embedding != nil {
		list.Data = append(list.Data, model{ID: a.o.Embedding.Name, Object: "model", OwnedBy: "ragnb"})
	}
	if a.o.Rerank != nil {
		list.Data = append(list.Data, model{ID: a.o.Rerank.Name, Object: "model", OwnedBy: "ragnb"})
	}
	writeJSON(w, http.StatusOK, list)
}

type rerankFlavour int

const (
	cohereV1 rerankFlavour = iota
	cohereV2
	tei
)

// rerankRequest holds the fields of Cohere's and TEI's rerank bodies.
type rerankRequest struct {
	Model     string            `json:"model"`
	Query     string            `json:"query"`
	Documents []json.RawMessage `json:"documents"` // Cohere: strings or {"text": ...}
	TopN      *int              `json:"top_n"`
	// ReturnDocuments (Cohere v1) and ReturnText (TEI) echo the texts in the results.
	ReturnDocuments bool     `json:"return_documents"`
	Texts           []string `json:"texts"` // TEI
	ReturnText      bool     `json:"return_text"`
	RawScores       bool     `json:"raw_scores"`
}

func documentText(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var d struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &d); err != nil || d.Text == nil {
		return "", fmt.Errorf("want a string or {\"text\": string}")
	}
	return *d.Text, nil
}

func (a *api) rerank(flavour rerankFlavour) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.o.Rerank == nil {
			apiError(w, http.StatusNotFound, "not_found", "model", "no reranker is served (ragnb serve --reranker DIR)")
			return
		}
		var req rerankRequest
		if !a.decode(w, r, &req) {
			return
		}
		docs := req.Texts
		if flavour != tei {
			docs = make([]string, len(req.Documents))
			for i, raw := range req.Documents {
				t, err := documentText(raw)
				if err != nil {
					badRequest(w, "documents", "documents[%d]: %v", i, err)
					return
				}
				docs[i] = t
			}
		}
		if req.Query == "" {
			badRequest(w, "query", "query is required")
			return
		}
		if len(docs) == 0 || len(docs) > a.o.MaxInputs {
			badRequest(w, "documents", "%d documents, want 1 to %d", len(docs), a.o.MaxInputs)
			return
		}
		topN := len(docs)
		if req.TopN != nil {
			if *req.TopN < 1 {
				badRequest(w, "top_n", "top_n must be at least 1")
				return
			}
			topN = min(*req.TopN, len(docs))
		}
		var logits []float64
		if !a.run(w, r, func(ctx context.Context) error {
			pairs := make([]ir.Pair, len(docs))
			for i, d := range docs {
				pairs[i] = ir.Pair{Query: req.Query, Passage: d}
			}
			var err error
			logits, err = a.o.Rerank.Scorer.ScorePairs(ctx, pairs, nil)
			if err == nil && len(logits) != len(docs) {
				err = fmt.Errorf("the reranker returned %d scores for %d documents", len(logits), len(docs))
			}
			return err
		}) {
			return
		}
		order := make([]int, len(docs))
		for i := range order {
			order[i] = i
		}
		// Best first; equal scores keep the documents' order.
		slices.SortStableFunc(order, func(x, y int) int {
			switch {
			case logits[x] > logits[y]:
				return -1
			case logits[x] < logits[y]:
				return 1
			}
			return 0
		})
		order = order[:topN]
		writeJSON(w, http.StatusOK, a.rerankBody(flavour, req, docs, logits, order))
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (a *api) rerankBody(flavour rerankFlavour, req rerankRequest, docs []string, logits []float64, order []int) any {
	if flavour == tei {
		type item struct {
			Index int     `json:"index"`
			Score float64 `json:"score"`
			Text  *string `json:"text,omitempty"`
		}
		out := make([]item, len(order))
		for j, i := range order {
			out[j] = item{Index: i, Score: sigmoid(logits[i])}
			if req.RawScores {
				out[j].Score = logits[i]
			}
			if req.ReturnText {
				out[j].Text = &docs[i]
			}
		}
		return out
	}
	type document struct {
		Text string `json:"text"`
	}
	type result struct {
		Index          int       `json:"index"`
		RelevanceScore float64   `json:"relevance_score"`
		Document       *document `json:"document,omitempty"`
	}
	res := make([]result, len(order))
	for j, i := range order {
		res[j] = result{Index: i, RelevanceScore: sigmoid(logits[i])}
		if flavour == cohereV1 && req.ReturnDocuments {
			res[j].Document = &document{Text: docs[i]}
		}
	}
	version := "1"
	if flavour == cohereV2 {
		version = "2"
	}
	tokens := countTokens(a.o.Rerank.CountTokens, append([]string{req.Query}, docs...))
	return map[string]any{"id": fmt.Sprintf("rerank-%d", time.Now().UnixNano()), "results": res,
		"meta": map[string]any{"api_version": map[string]string{"version": version},
			"billed_units": map[string]int{"search_units": 1}, "tokens": map[string]int{"input_tokens": tokens}}}
}
