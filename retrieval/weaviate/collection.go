package weaviate

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ragnb/ragnb/ir"
)

// RecordPrefix starts the class description that holds a Record; the JSON follows it.
const RecordPrefix = "ragnb collection "

// RecordFormat is the Record format this package writes and reads.
const RecordFormat = 1

// Record is what ragnb writes on a collection about the vectors in it, kept as JSON in the class description
// (after RecordPrefix): the class description is the one free-text field of a class that Weaviate returns
// with the schema, so a reader needs no extra object or property to find it, and it cannot be confused with
// a document.
type Record struct {
	Format int `json:"format"`
	// ModelHash is the content hash of the bi-encoder's directory (cache.HashDir); a searcher with another
	// model is refused.
	ModelHash string `json:"model_hash"`
	ModelName string `json:"model_name,omitempty"`
	// Similarity is cosine or dot; the class's vector index distance follows it.
	Similarity string `json:"similarity"`
	// EmbeddingDim is what the model returns; Dim what is stored (a Matryoshka prefix, renormalised, when
	// smaller).
	EmbeddingDim int `json:"embedding_dim"`
	Dim          int `json:"dim"`
	// QueryPrompt and DocumentPrompt are the prompts the model puts before queries and documents.
	QueryPrompt    string `json:"query_prompt,omitempty"`
	DocumentPrompt string `json:"document_prompt,omitempty"`
}

// Distance is the Weaviate vector index distance for the record's similarity.
func (r Record) Distance() (string, error) {
	switch r.Similarity {
	case "cosine", "":
		return "cosine", nil
	case "dot":
		return "dot", nil
	}
	return "", fmt.Errorf("weaviate: similarity %q has no Weaviate distance (want cosine or dot)", r.Similarity)
}

// HNSW are the vector index parameters a collection is created with; zero values leave Weaviate's defaults
// (efConstruction 128, maxConnections 32, ef dynamic).
type HNSW struct {
	EfConstruction int `json:"efConstruction,omitempty"`
	MaxConnections int `json:"maxConnections,omitempty"`
	Ef             int `json:"ef,omitempty"`
}

// Property names of a document object. "id" is reserved by Weaviate, hence doc_id.
const (
	PropDocID = "doc_id"
	PropTitle = "title"
	PropText  = "text"
)

type property struct {
	Name            string   `json:"name"`
	DataType        []string `json:"dataType"`
	Tokenization    string   `json:"tokenization,omitempty"`
	IndexSearchable *bool    `json:"indexSearchable,omitempty"`
	Description     string   `json:"description,omitempty"`
}

type classSchema struct {
	Class             string         `json:"class"`
	Description       string         `json:"description"`
	Vectorizer        string         `json:"vectorizer"`
	VectorIndexType   string         `json:"vectorIndexType,omitempty"`
	VectorIndexConfig map[string]any `json:"vectorIndexConfig,omitempty"`
	Properties        []property     `json:"properties"`
}

// Collection is a class as this package sees it.
type Collection struct {
	Name string
	// Record is nil when the class was not written by ragnb.
	Record *Record
	// Distance is the class's vector index distance.
	Distance string
}

// GetCollection reads the class name from the schema; found is false when there is none.
func (c *Client) GetCollection(ctx context.Context, name string) (col Collection, found bool, err error) {
	var raw struct {
		Class             string         `json:"class"`
		Description       string         `json:"description"`
		VectorIndexConfig map[string]any `json:"vectorIndexConfig"`
	}
	err = c.do(ctx, http.MethodGet, "/v1/schema/"+url.PathEscape(name), nil, &raw, http.StatusOK)
	if IsNotFound(err) {
		return col, false, nil
	}
	if err != nil {
		return col, false, err
	}
	col.Name = raw.Class
	if d, ok := raw.VectorIndexConfig["distance"].(string); ok {
		col.Distance = d
	}
	if rest, ok := strings.CutPrefix(raw.Description, RecordPrefix); ok {
		var r Record
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return col, true, fmt.Errorf("weaviate: collection %s: its ragnb record is not valid JSON: %w", name, err)
		}
		if r.Format != RecordFormat {
			return col, true, fmt.Errorf("weaviate: collection %s has record format %d, this build reads %d", name, r.Format, RecordFormat)
		}
		col.Record = &r
	}
	return col, true, nil
}

// CreateCollection creates class name for rec's vectors: no vectorizer (ragnb sends the vectors), an HNSW
// index with the record's distance, doc_id (exact-match tokenization, filterable, not in BM25), title and
// text (word tokenization, in BM25 for hybrid search).
func (c *Client) CreateCollection(ctx context.Context, name string, rec Record, h HNSW) error {
	if err := CheckCollectionName(name); err != nil {
		return err
	}
	dist, err := rec.Distance()
	if err != nil {
		return err
	}
	rec.Format = RecordFormat
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	cfg := map[string]any{"distance": dist}
	if h.EfConstruction > 0 {
		cfg["efConstruction"] = h.EfConstruction
	}
	if h.MaxConnections > 0 {
		cfg["maxConnections"] = h.MaxConnections
	}
	if h.Ef > 0 {
		cfg["ef"] = h.Ef
	}
	no := false
	s := classSchema{Class: name, Description: RecordPrefix + string(b), Vectorizer: "none", VectorIndexType: "hnsw",
		VectorIndexConfig: cfg, Properties: []property{
			{Name: PropDocID, DataType: []string{"text"}, Tokenization: "field", IndexSearchable: &no, Description: "ragnb document id"},
			{Name: PropTitle, DataType: []string{"text"}, Tokenization: "word"},
			{Name: PropText, DataType: []string{"text"}, Tokenization: "word"},
		}}
	return c.do(ctx, http.MethodPost, "/v1/schema", s, nil, http.StatusOK)
}

// DeleteCollection drops class name and its objects (absent is not an error).
func (c *Client) DeleteCollection(ctx context.Context, name string) error {
	err := c.do(ctx, http.MethodDelete, "/v1/schema/"+url.PathEscape(name), nil, nil, http.StatusOK, http.StatusNoContent)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// namespace is the fixed UUIDv5 namespace of ragnb document ids (a random v4 UUID drawn once; changing it
// would duplicate every pushed collection on the next push).
var namespace = [16]byte{0x6b, 0x1f, 0x3c, 0x52, 0x9a, 0x07, 0x4e, 0x8d, 0xb2, 0x61, 0x0c, 0xd4, 0x55, 0xe3, 0x7a, 0x19}

// UUID is the object id of document docID: UUIDv5 (RFC 9562, SHA-1) of the id under a fixed namespace, so a
// re-push replaces the object instead of adding another.
func UUID(docID string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(docID))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Object is one document with its vector.
type Object struct {
	DocID, Title, Text string
	Vector             []float32
}

// Content is the object's text as its index embedded it: ir.Document.Content of its title and text.
func (o Object) Content() string { return ir.Document{Title: o.Title, Text: o.Text}.Content() }

type batchObject struct {
	Class      string            `json:"class"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	Vector     []float32         `json:"vector"`
}

type batchResult struct {
	ID     string `json:"id"`
	Result struct {
		Status string `json:"status"`
		Errors *struct {
			Error []struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"errors"`
	} `json:"result"`
}

// Upsert writes objects into class in one batch request: each replaces the object with its UUID, if any.
// Weaviate answers 200 even when objects fail, so every object's result is checked; the first failure is
// the error.
func (c *Client) Upsert(ctx context.Context, class string, objs []Object) error {
	if len(objs) == 0 {
		return nil
	}
	body := struct {
		Objects []batchObject `json:"objects"`
	}{make([]batchObject, len(objs))}
	for i, o := range objs {
		body.Objects[i] = batchObject{Class: class, ID: UUID(o.DocID), Vector: o.Vector,
			Properties: map[string]string{PropDocID: o.DocID, PropTitle: o.Title, PropText: o.Text}}
	}
	var res []batchResult
	if err := c.do(ctx, http.MethodPost, "/v1/batch/objects", body, &res, http.StatusOK); err != nil {
		return err
	}
	failed := 0
	var first string
	for i, r := range res {
		if r.Result.Errors == nil || len(r.Result.Errors.Error) == 0 {
			continue
		}
		if failed == 0 {
			id := r.ID
			if i < len(objs) {
				id = objs[i].DocID
			}
			first = fmt.Sprintf("document %q: %s", id, r.Result.Errors.Error[0].Message)
		}
		failed++
	}
	if failed > 0 {
		return fmt.Errorf("weaviate: batch into %s: %d of %d objects failed, first %s", class, failed, len(objs), first)
	}
	return nil
}

// graphQL runs a GraphQL query and decodes its data into out; GraphQL errors are errors.
func (c *Client) graphQL(ctx context.Context, query string, out any) error {
	var res struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/graphql", map[string]string{"query": query}, &res, http.StatusOK); err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		msgs := make([]string, len(res.Errors))
		for i, e := range res.Errors {
			msgs[i] = clip(e.Message, 300) // a message can quote the whole query back
		}
		return fmt.Errorf("weaviate: graphql: %s", strings.Join(msgs, "; "))
	}
	return json.Unmarshal(res.Data, out)
}

// Count is the number of objects in class.
func (c *Client) Count(ctx context.Context, class string) (int, error) {
	var d struct {
		Aggregate map[string][]struct {
			Meta struct {
				Count int `json:"count"`
			} `json:"meta"`
		} `json:"Aggregate"`
	}
	if err := c.graphQL(ctx, fmt.Sprintf("{Aggregate{%s{meta{count}}}}", class), &d); err != nil {
		return 0, err
	}
	rows := d.Aggregate[class]
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].Meta.Count, nil
}

// DocIDs lists the doc_id of every object in class, walking the cursor API (after an object UUID) pages of
// pageSize, so no query result limit applies.
func (c *Client) DocIDs(ctx context.Context, class string, pageSize int) ([]string, error) {
	if pageSize <= 0 {
		pageSize = 1000
	}
	var ids []string
	after := ""
	for {
		arg := fmt.Sprintf("limit:%d", pageSize)
		if after != "" {
			arg += fmt.Sprintf(", after:%q", after)
		}
		var d struct {
			Get map[string][]struct {
				DocID      string `json:"doc_id"`
				Additional struct {
					ID string `json:"id"`
				} `json:"_additional"`
			} `json:"Get"`
		}
		if err := c.graphQL(ctx, fmt.Sprintf("{Get{%s(%s){doc_id _additional{id}}}}", class, arg), &d); err != nil {
			return ids, err
		}
		page := d.Get[class]
		for _, o := range page {
			ids = append(ids, o.DocID)
		}
		if len(page) < pageSize {
			return ids, nil
		}
		after = page[len(page)-1].Additional.ID
	}
}

// DeleteDocs deletes the objects of the given document ids from class and returns how many Weaviate
// deleted. Ids go in chunks that stay under the server's per-request match limit (QUERY_MAXIMUM_RESULTS,
// 10,000 by default).
func (c *Client) DeleteDocs(ctx context.Context, class string, docIDs []string) (int, error) {
	deleted := 0
	for start := 0; start < len(docIDs); start += 1000 {
		chunk := docIDs[start:min(start+1000, len(docIDs))]
		body := map[string]any{"match": map[string]any{"class": class, "where": map[string]any{
			"path": []string{PropDocID}, "operator": "ContainsAny", "valueTextArray": chunk}}, "output": "minimal"}
		var res struct {
			Results struct {
				Successful int `json:"successful"`
				Failed     int `json:"failed"`
			} `json:"results"`
		}
		if err := c.do(ctx, http.MethodDelete, "/v1/batch/objects", body, &res, http.StatusOK); err != nil {
			return deleted, err
		}
		deleted += res.Results.Successful
		if res.Results.Failed > 0 {
			return deleted, fmt.Errorf("weaviate: delete from %s: %d objects failed", class, res.Results.Failed)
		}
	}
	return deleted, nil
}
