package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ragnb/ragnb/vector"
)

// Hit is one retrieved document.
type Hit struct {
	DocID, Title, Text string
	// Score is the similarity for a vector search (cosine or dot product, as the collection's record says)
	// and Weaviate's fused score for a hybrid one.
	Score float64
}

// gqlString quotes s for a GraphQL query (JSON string escapes are GraphQL's).
func gqlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func gqlVector(v []float32) string {
	var b strings.Builder
	b.Grow(len(v) * 12)
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	b.WriteByte(']')
	return b.String()
}

type gqlHit struct {
	DocID      string `json:"doc_id"`
	Title      string `json:"title"`
	Text       string `json:"text"`
	Additional struct {
		Distance *float64       `json:"distance"`
		Score    flexibleNumber `json:"score"`
	} `json:"_additional"`
}

// flexibleNumber decodes a number that Weaviate's GraphQL sends as a string (hybrid scores) or a number.
type flexibleNumber float64

func (f *flexibleNumber) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("score %s: %w", b, err)
	}
	*f = flexibleNumber(v)
	return nil
}

func (c *Client) get(ctx context.Context, class, args, additional string) ([]gqlHit, error) {
	q := fmt.Sprintf("{Get{%s(%s){%s %s %s _additional{%s}}}}", class, args, PropDocID, PropTitle, PropText, additional)
	var d struct {
		Get map[string][]gqlHit `json:"Get"`
	}
	if err := c.graphQL(ctx, q, &d); err != nil {
		return nil, err
	}
	return d.Get[class], nil
}

// ScoreOf is the similarity behind a nearVector distance: the dot product for a collection whose distance is
// the negated dot product (dot), else the cosine, 1 − the cosine distance.
func ScoreOf(distance float64, dot bool) float64 {
	if dot {
		return -distance
	}
	return 1 - distance
}

// NearVector returns the k objects of class nearest to v, nearest first. dot says the class's distance is the
// negated dot product (the score is then the dot product), else it is cosine distance (score 1 − distance).
func (c *Client) NearVector(ctx context.Context, class string, v []float32, k int, dot bool) ([]Hit, error) {
	rows, err := c.get(ctx, class, fmt.Sprintf("nearVector:{vector:%s}, limit:%d", gqlVector(v), k), "distance")
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(rows))
	for i, r := range rows {
		hits[i] = Hit{DocID: r.DocID, Title: r.Title, Text: r.Text}
		if d := r.Additional.Distance; d != nil {
			hits[i].Score = ScoreOf(*d, dot)
		}
	}
	return hits, nil
}

// Hybrid returns the k best objects of class for Weaviate's hybrid search: BM25 over title and text fused with
// the vector search for v; alpha weighs the vector side (1: vector only, 0: BM25 only).
func (c *Client) Hybrid(ctx context.Context, class, query string, v []float32, alpha float64, k int) ([]Hit, error) {
	args := fmt.Sprintf("hybrid:{query:%s, vector:%s, alpha:%s}, limit:%d", gqlString(query), gqlVector(v),
		strconv.FormatFloat(alpha, 'g', -1, 64), k)
	rows, err := c.get(ctx, class, args, "score")
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, len(rows))
	for i, r := range rows {
		hits[i] = Hit{DocID: r.DocID, Title: r.Title, Text: r.Text, Score: float64(r.Additional.Score)}
	}
	return hits, nil
}

// Timings are a search's share of an answer's time.
type Timings struct {
	Embed, Search time.Duration
}

// SearcherOptions configure a Searcher.
type SearcherOptions struct {
	// Hybrid uses Weaviate's hybrid search (BM25 fused with the vector) instead of nearVector.
	Hybrid bool
	// Alpha weighs the vector side of a hybrid search (0..1).
	Alpha float64
}

// Searcher answers questions from a collection: it embeds them with the model the collection was written
// with (its query prompt applied by the embedder), prepares the vectors as the record says and searches.
type Searcher struct {
	c     *Client
	class string
	rec   Record
	emb   vector.Embedder
	o     SearcherOptions
}

// MismatchError says a collection was written with another model than the one searching it.
type MismatchError struct {
	Collection           string
	BuiltHash, BuiltName string
	NowHash, NowName     string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("weaviate: collection %s was written with model %s (hash %s), not %s (hash %s); push the "+
		"index built with this model (ragnb index push) or search with that model", e.Collection, e.BuiltName,
		short(e.BuiltHash), e.NowName, short(e.NowHash))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// OpenSearcher checks that class exists, carries a ragnb record and was written with the model whose hash is
// modelHash, and returns a searcher embedding questions with emb.
func OpenSearcher(ctx context.Context, c *Client, class string, emb vector.Embedder, modelHash, modelName string, o SearcherOptions) (*Searcher, error) {
	col, err := OpenCollection(ctx, c, class, modelHash, modelName)
	if err != nil {
		return nil, err
	}
	if o.Hybrid && (o.Alpha < 0 || o.Alpha > 1) {
		return nil, fmt.Errorf("weaviate: hybrid alpha %g: want 0..1", o.Alpha)
	}
	return &Searcher{c: c, class: col.Name, rec: *col.Record, emb: emb, o: o}, nil
}

// OpenCollection checks that class exists, carries a ragnb record and was written with the model whose hash is
// modelHash (else a *MismatchError), and returns it.
func OpenCollection(ctx context.Context, c *Client, class, modelHash, modelName string) (Collection, error) {
	col, found, err := c.GetCollection(ctx, class)
	if err != nil {
		return col, err
	}
	if !found {
		return col, fmt.Errorf("weaviate: %s has no collection %s (push one with ragnb index push)", c.URL(), class)
	}
	if col.Record == nil {
		return col, fmt.Errorf("weaviate: collection %s was not written by ragnb (its description holds no record)", class)
	}
	if col.Record.ModelHash != modelHash {
		return col, &MismatchError{Collection: class, BuiltHash: col.Record.ModelHash, BuiltName: col.Record.ModelName,
			NowHash: modelHash, NowName: modelName}
	}
	return col, nil
}

// Record is the collection's record.
func (s *Searcher) Record() Record { return s.rec }

// Collection is the class searched.
func (s *Searcher) Collection() string { return s.class }

// Search returns the k best documents for each question, best first.
func (s *Searcher) Search(ctx context.Context, questions []string, k int) ([][]Hit, Timings, error) {
	var t Timings
	start := time.Now()
	m, err := s.emb.EmbedQueries(ctx, questions, nil)
	t.Embed = time.Since(start)
	if err != nil {
		return nil, t, fmt.Errorf("weaviate: embed questions: %w", err)
	}
	if m.Rows != len(questions) || m.Dim != s.rec.EmbeddingDim {
		return nil, t, fmt.Errorf("weaviate: the model embeds %d questions to %d×%d, collection %s holds dimension %d of %d",
			len(questions), m.Rows, m.Dim, s.class, s.rec.Dim, s.rec.EmbeddingDim)
	}
	start = time.Now()
	out := make([][]Hit, len(questions))
	for i, q := range questions {
		v, err := Prepare(m.Row(i), s.rec)
		if err != nil {
			return nil, t, err
		}
		if s.o.Hybrid {
			out[i], err = s.c.Hybrid(ctx, s.class, q, v, s.o.Alpha, k)
		} else {
			out[i], err = s.c.NearVector(ctx, s.class, v, k, s.rec.Similarity == "dot")
		}
		if err != nil {
			return nil, t, err
		}
	}
	t.Search = time.Since(start)
	return out, t, nil
}

// Prepare turns a model vector into the stored form the record describes: the first rec.Dim values,
// L2-normalised for cosine (a Matryoshka prefix is only meaningful renormalised). It returns a copy.
func Prepare(v []float32, rec Record) ([]float32, error) {
	if rec.Dim <= 0 || rec.Dim > len(v) {
		return nil, fmt.Errorf("weaviate: vector of dimension %d cannot be stored as dimension %d", len(v), rec.Dim)
	}
	out := slices.Clone(v[:rec.Dim])
	if rec.Similarity != "dot" {
		vector.NormalizeInPlace(out)
	} else if rec.Dim != len(v) {
		return nil, fmt.Errorf("weaviate: truncating to dimension %d needs cosine similarity", rec.Dim)
	}
	return out, nil
}
