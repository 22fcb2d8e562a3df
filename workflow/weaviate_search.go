package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/retrieval/weaviate"
	"github.com/ragnb/ragnb/vector"
)

// WeaviateSource names the collection that Mine and EvaluateWeaviate search instead of the in-process exact
// search: a corpus too large for one machine's memory is mined and evaluated where it is served. The json tags
// name it in logs and results; the key never appears.
type WeaviateSource struct {
	URL        string `json:"url"`
	Collection string `json:"collection"`
	APIKey     string `json:"-"`
	// Concurrency (requests in flight) and PerRequest (queries per GraphQL request) tune the bulk search;
	// 0 takes weaviate.DefaultConcurrency and weaviate.DefaultPerRequest.
	Concurrency int `json:"concurrency"`
	PerRequest  int `json:"per_request"`
}

func (s WeaviateSource) many() weaviate.ManyOptions {
	return weaviate.ManyOptions{Concurrency: s.Concurrency, PerRequest: s.PerRequest}
}

// open connects to the collection and checks it was written with m (weaviate.OpenCollection: a collection
// of another model is a *weaviate.MismatchError).
func (s WeaviateSource) open(ctx context.Context, m *Model) (*weaviate.Client, weaviate.Collection, error) {
	if s.URL == "" || s.Collection == "" {
		return nil, weaviate.Collection{}, fmt.Errorf("weaviate: a source needs a server URL and a collection")
	}
	c, err := weaviate.New(s.URL, weaviate.Options{APIKey: s.APIKey})
	if err != nil {
		return nil, weaviate.Collection{}, err
	}
	col, err := weaviate.OpenCollection(ctx, c, s.Collection, m.ID, m.Dir)
	return c, col, err
}

// prepareRows is each row of m in the collection's stored form (weaviate.Prepare: the record's dimension,
// renormalised for cosine).
func prepareRows(m *vector.Matrix, rec weaviate.Record) ([][]float32, error) {
	out := make([][]float32, m.Rows)
	for i := range out {
		v, err := weaviate.Prepare(m.Row(i), rec)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// WeaviateMined says how mining through a collection went.
type WeaviateMined struct {
	Collection string
	// Dim is the stored dimension the candidates were compared at.
	Dim int
	// Pool is the number of distinct passages the searches returned (the candidates held in memory, with
	// the positives); Positives how many distinct positives the pairs have.
	Pool, Positives int
	// Search is the nearVector searches' throughput; Fetch how long reading the pool's texts and vectors
	// took.
	Search weaviate.Throughput
	Fetch  time.Duration
	// TopK is the hits kept per query: the asked top-k, or fewer when the collection holds fewer passages.
	TopK int
}

// String describes the run in one line.
func (w *WeaviateMined) String() string {
	return fmt.Sprintf("weaviate %s (dim %d): %d queries × top %d in %.1fs (%.0f queries/s, %d requests), pool of %d passages fetched in %.1fs",
		w.Collection, w.Dim, w.Search.Queries, w.TopK, w.Search.Elapsed.Seconds(), w.Search.PerSecond(), w.Search.Requests,
		w.Pool, w.Fetch.Seconds())
}

// prepareWeaviate is PrepareMine's Weaviate side: the anchors (embedded here, with the query prompt) are
// searched in the collection, and the mining set is built over what came back plus the positives (embedded
// here), so memory grows with anchors × top-k, not with the collection. The pool's vectors are the stored
// ones; queries and positives are brought to the stored form (dimension, normalisation) by the collection's
// record. A passage's text is its title and text as the index embedded it (ir.Document.Content), so a
// collection pushed from the pairs' own passages dedups against the positives by exact text, as local mining
// does.
func prepareWeaviate(ctx context.Context, env Env, in MineInput, topK int) (*mining.Prepared, *WeaviateMined, error) {
	src := in.Weaviate
	if len(in.Corpus) > 0 {
		return nil, nil, fmt.Errorf("mine: a corpus table and a Weaviate collection: the collection is the corpus, give one or the other")
	}
	c, col, err := src.open(ctx, in.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: %w", err)
	}
	rec := *col.Record
	set, err := mining.NewSet(in.Anchors, in.Positives, nil)
	if err != nil {
		return nil, nil, err
	}
	info := &WeaviateMined{Collection: col.Name, Dim: rec.Dim, Positives: len(set.Corpus)}
	qm, err := in.Model.Embed(ctx, env, set.Queries, true)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: embed %d queries: %w", len(set.Queries), err)
	}
	pm, err := in.Model.Embed(ctx, env, set.Corpus, false)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: embed %d positives: %w", len(set.Corpus), err)
	}
	qv, err := prepareRows(qm, rec)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: %w", err)
	}
	pv, err := prepareRows(pm, rec)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: %w", err)
	}
	hits, tp, err := weaviate.SearchMany(ctx, c, col.Name, qv, topK, src.many(), env.Progress)
	info.Search = tp
	if err != nil {
		return nil, nil, fmt.Errorf("mine: search %s: %w", col.Name, err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, hs := range hits {
		for _, h := range hs {
			if !seen[h.DocID] {
				seen[h.DocID] = true
				ids = append(ids, h.DocID)
			}
		}
	}
	start := time.Now()
	docs, err := weaviate.FetchDocs(ctx, c, col.Name, ids, true, src.many(), env.Progress)
	info.Fetch = time.Since(start)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: read the retrieved passages from %s: %w", col.Name, err)
	}
	// The corpus: the positives (their local embeddings), then each retrieved passage not already there.
	index := make(map[string]int, len(set.Corpus)+len(ids))
	for i, t := range set.Corpus {
		index[t] = i
	}
	vecs := pv
	byID := make(map[string]int, len(ids))
	for _, id := range ids {
		o, ok := docs[id]
		if !ok {
			return nil, nil, fmt.Errorf("mine: document %q was retrieved from %s but could not be read back (deleted meanwhile?)", id, col.Name)
		}
		if len(o.Vector) != rec.Dim {
			return nil, nil, fmt.Errorf("mine: document %q of %s has a %d-d vector, the record says %d", id, col.Name, len(o.Vector), rec.Dim)
		}
		text := o.Content()
		i, ok := index[text]
		if !ok {
			i = len(set.Corpus)
			index[text] = i
			set.Corpus = append(set.Corpus, text)
			vecs = append(vecs, o.Vector)
		}
		byID[id] = i
	}
	info.Pool = len(ids)
	queries, err := vector.FromRows(qv)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: %w", err)
	}
	pool, err := vector.FromRows(vecs)
	if err != nil {
		return nil, nil, fmt.Errorf("mine: %w", err)
	}
	p := &mining.Prepared{Set: set, Queries: queries, Corpus: pool, Hits: make([][]int32, len(hits))}
	// Rows of different lengths (two objects with the same text, or a collection smaller than top-k) are
	// cut to the shortest: the selection reads the same top-k for every query.
	k := topK
	for q, hs := range hits {
		row := make([]int32, 0, len(hs))
		dup := map[int]bool{}
		for _, h := range hs {
			if i := byID[h.DocID]; !dup[i] {
				dup[i] = true
				row = append(row, int32(i))
			}
		}
		p.Hits[q] = row
		k = min(k, len(row))
	}
	for q := range p.Hits {
		p.Hits[q] = p.Hits[q][:k]
	}
	info.TopK = k
	if k == 0 {
		return nil, nil, fmt.Errorf("mine: collection %s returned no passages", col.Name)
	}
	return p, info, nil
}

// WeaviateEvaluated is EvaluateWeaviate's outcome.
type WeaviateEvaluated struct {
	// Report holds the collection's metrics (keys weaviate_<similarity>_<metric>@k) and the agreement with
	// the exact in-process search at the stored dimension (weaviate_agreement@k: the mean share of a query's
	// top k that both searches return).
	Report *evaluate.Report
	// Run is the collection's run, in the evaluation set's document ids; Exact the in-process one.
	Run, Exact ir.Run
	Collection string
	Dim        int
	Search     weaviate.Throughput
	// Outside counts the hits on documents the evaluation corpus does not hold (a collection larger than
	// it): they count as not relevant, as in serving.
	Outside int
}

// Flat is the metrics by key.
func (e *WeaviateEvaluated) Flat() map[string]float64 { return e.Report.Flat() }

// Describe says what was searched, how fast, and how many hits fell outside the evaluation corpus.
func (e *WeaviateEvaluated) Describe() string {
	s := fmt.Sprintf("collection %s (dim %d): %d queries in %.2fs (%.0f queries/s)", e.Collection, e.Dim,
		e.Search.Queries, e.Search.Elapsed.Seconds(), e.Search.PerSecond())
	if e.Outside > 0 {
		s += fmt.Sprintf(", %d hits on documents outside the evaluation corpus (not relevant)", e.Outside)
	}
	return s
}

// agreementAt are the cut-offs of weaviate_agreement@k: the top 10 a RAG prompt draws from, and the deepest
// cut-off the metrics read (MAP@100's 100 by default).
func agreementAt(c ir.Config) []int {
	if k := c.MaxK(); k > 10 {
		return []int{10, k}
	}
	return []int{c.MaxK()}
}

// EvaluateWeaviate scores retrieval through a Weaviate collection written with m: the evaluation queries
// (embedded here with the query prompt, brought to the stored form) are searched with nearVector, the hits
// mapped to the evaluation set's document ids, and the run scored with the same metrics as EvaluateModel
// (keys weaviate_cosine_<metric>@k, or weaviate_dot_… for a dot-product collection). It also runs the exact
// in-process search at the collection's dimension and reports how far the two agree (weaviate_agreement@k),
// the HNSW recall as the evaluation sees it.
//
// A document of the evaluation set is found in the collection under its own id, under the content id a pushed
// corpus gives it (index.ContentID of its title and text), or by its text (locateCorpus); a set the collection
// does not wholly hold is an error naming the missing documents. Nothing is cached: a
// collection changes in place.
func EvaluateWeaviate(ctx context.Context, env Env, set *EvalSet, m *Model, o EvalOptions, src WeaviateSource) (*WeaviateEvaluated, error) {
	c, col, err := src.open(ctx, m)
	if err != nil {
		return nil, err
	}
	rec := *col.Record
	e, err := o.evaluator(set, nil)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	corpus := e.Corpus()
	toEval, missing, err := locateCorpus(ctx, env, c, col.Name, corpus, src.many())
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		show := missing[:min(len(missing), 10)]
		more := ""
		if len(missing) > len(show) {
			more = fmt.Sprintf(" and %d more", len(missing)-len(show))
		}
		return nil, fmt.Errorf("weaviate: collection %s lacks %d of the %d evaluation documents (%s%s) under their ids or content ids: "+
			"push an index of the evaluation corpus (ragnb index build, then ragnb index push)", col.Name, len(missing), len(corpus),
			strings.Join(show, ", "), more)
	}
	qm, err := m.Embed(ctx, env, e.QueryTexts(), true)
	if err != nil {
		return nil, fmt.Errorf("embed %d queries: %w", len(e.Queries()), err)
	}
	qv, err := prepareRows(qm, rec)
	if err != nil {
		return nil, err
	}
	k := e.Config().MaxK()
	hits, tp, err := weaviate.SearchMany(ctx, c, col.Name, qv, k, src.many(), env.Progress)
	if err != nil {
		return nil, fmt.Errorf("weaviate: search %s: %w", col.Name, err)
	}
	out := &WeaviateEvaluated{Collection: col.Name, Dim: rec.Dim, Search: tp, Run: ir.Run{}}
	dot := rec.Similarity == "dot"
	for i, q := range e.Queries() {
		row := make([]ir.Hit, len(hits[i]))
		for j, h := range hits[i] {
			id, ok := toEval[h.DocID]
			if !ok {
				id = h.DocID
				out.Outside++
			}
			row[j] = ir.Hit{DocID: id, Score: weaviate.ScoreOf(h.Distance, dot)}
		}
		out.Run[q.ID] = row
	}
	sim := search.Cosine
	if dot {
		sim = search.Dot
	}
	r, err := e.EvaluateRun(out.Run, "weaviate_"+string(sim))
	if err != nil {
		return nil, err
	}
	// The exact search the collection stands in for: the same model, dimension and similarity, in process.
	cm, err := m.Embed(ctx, env, e.CorpusTexts(), false)
	if err != nil {
		return nil, fmt.Errorf("embed %d documents: %w", len(corpus), err)
	}
	if rec.Dim > cm.Dim {
		return nil, fmt.Errorf("weaviate: collection %s stores dimension %d, the model embeds %d", col.Name, rec.Dim, cm.Dim)
	}
	if out.Exact, err = e.DenseRun(ctx, qm, cm, rec.Dim, sim, env.Progress); err != nil {
		return nil, err
	}
	agree := ir.Metrics{Queries: len(e.Queries()), Values: map[string]float64{}}
	for _, at := range agreementAt(e.Config()) {
		name := fmt.Sprintf("agreement@%d", at)
		agree.Names = append(agree.Names, name)
		agree.Values[name] = Agreement(out.Run, out.Exact, at)
	}
	r.Columns = append(r.Columns, evaluate.Column{Label: "weaviate", Metrics: agree})
	out.Report = r
	return out, nil
}

// locateCorpus finds each evaluation document in the collection and returns the map from the collection's
// doc_id to the evaluation id, and the evaluation ids not found. A document is looked for under its own id and
// its content id (index.ContentID: what `ragnb index build` gives a passage without an id), then, failing
// both, by its text (the prelude's push and a pairs set number the same passages differently); a candidate
// counts only when its title and text are the document's exactly.
func locateCorpus(ctx context.Context, env Env, c *weaviate.Client, class string, corpus []ir.Document, o weaviate.ManyOptions) (map[string]string, []string, error) {
	var candidates []string
	for _, d := range corpus {
		candidates = append(candidates, d.ID, index.ContentID(d.Content()))
	}
	byID, err := weaviate.FetchDocs(ctx, c, class, candidates, false, o, env.Progress)
	if err != nil {
		return nil, nil, fmt.Errorf("weaviate: look up the evaluation corpus in %s: %w", class, err)
	}
	toEval := make(map[string]string, len(corpus))
	var rest []int
	for i, d := range corpus {
		found := false
		for _, id := range candidates[2*i : 2*i+2] {
			if ob, ok := byID[id]; ok && ob.Content() == d.Content() {
				toEval[id], found = d.ID, true
				break
			}
		}
		if !found {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return toEval, nil, nil
	}
	texts := make([]string, len(rest))
	for j, i := range rest {
		texts[j] = corpus[i].Text
	}
	matches, err := weaviate.FindTexts(ctx, c, class, texts, o, env.Progress)
	if err != nil {
		return nil, nil, fmt.Errorf("weaviate: look up the evaluation corpus in %s by text: %w", class, err)
	}
	var missing []string
	for j, i := range rest {
		d, found := corpus[i], false
		for _, ob := range matches[j] {
			if ob.Content() == d.Content() {
				toEval[ob.DocID], found = d.ID, true
				break
			}
		}
		if !found {
			missing = append(missing, d.ID)
		}
	}
	return toEval, missing, nil
}

// Agreement is the mean, over the queries of b, of the share of b's top k (ir.Run.Sorted) that a's top k
// holds too: 1 when two searches return the same k documents for every query. A query with fewer than k hits
// in b is compared on what it has.
func Agreement(a, b ir.Run, k int) float64 {
	if len(b) == 0 {
		return 0
	}
	sum := 0.0
	for q := range b {
		want := b.Sorted(q)
		want = want[:min(k, len(want))]
		if len(want) == 0 {
			continue
		}
		got := map[string]bool{}
		for i, h := range a.Sorted(q) {
			if i == k {
				break
			}
			got[h.DocID] = true
		}
		n := 0
		for _, h := range want {
			if got[h.DocID] {
				n++
			}
		}
		sum += float64(n) / float64(len(want))
	}
	return sum / float64(len(b))
}
