package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/retrieval/hybrid"
)

// Teacher kinds.
const (
	TeacherLLM          = "llm"           // a chat model judges relevance 0–1
	TeacherRerankAPI    = "rerank-api"    // a Cohere / Jina / TEI /rerank endpoint
	TeacherEmbedder     = "embedder"      // the cosine of a bi-encoder's query and passage embeddings
	TeacherCrossEncoder = "cross-encoder" // a cross-encoder's logit
	TeacherHybrid       = "hybrid"        // hybrid retrieval's fused score: BM25 over a corpus fused with a bi-encoder
)

// Teacher is the model that scores (query, passage) pairs for Score. Its identity (the model's content, the
// endpoint and model name — never a key) is part of the scores' cache key.
type Teacher struct {
	// Kind is TeacherLLM, TeacherRerankAPI, TeacherEmbedder, TeacherCrossEncoder or TeacherHybrid.
	Kind string
	// Model is the embedder's, the hybrid's or the cross-encoder's model.
	Model *Model
	// Corpus is the hybrid's collection (BM25's statistics and each query's candidates: hybrid.Teacher) and
	// Fusion its convex combination (Alpha: the dense weight, e.g. the one EvaluateHybrid chose on dev; Depth:
	// each run's candidates per query). CorpusID is the corpus's content identity for the key ("": hashed
	// from Corpus).
	Corpus   []string
	CorpusID string
	Fusion   hybrid.Options
	// LLM is the judge's chat model (TeacherLLM). For TeacherRerankAPI its Model names the rerank model, its
	// APIKey is sent and its Concurrency, Retries, Timeout, CacheDir and NoCache pace the requests.
	LLM LLMOptions
	// JudgeTemplate replaces teacher.DefaultJudgeTemplate (TeacherLLM).
	JudgeTemplate string
	// URL is the rerank endpoint; Style its shape (cohere, jina, tei); RawScores asks TEI for logits;
	// BatchSize is the documents per request (TeacherRerankAPI).
	URL, Style string
	RawScores  bool
	BatchSize  int
}

// DefaultTeacher is a teacher of kind with the defaults of `ragnb score` and the prelude's teachers: the
// judge greedy (DefaultLLMOptions), rerank requests in Cohere's shape, 32 documents each (TEI's default client
// batch limit), the hybrid's fusion hybrid.DefaultOptions (α 0.5 over each run's top 100).
func DefaultTeacher(kind string) Teacher {
	return Teacher{Kind: kind, LLM: DefaultLLMOptions(), Style: teacher.StyleCohere, BatchSize: 32, Fusion: hybrid.DefaultOptions()}
}

// scorer makes the teacher's scorer and a function describing its work so far.
func (t Teacher) scorer() (ir.Scorer, func() string, error) {
	requests := func(requests, hits, retries, failed int) string {
		return fmt.Sprintf("%d requests, %d cache hits, %d retries, %d failed", requests, hits, retries, failed)
	}
	switch t.Kind {
	case TeacherLLM:
		client, err := t.LLM.Client()
		if err != nil {
			return nil, nil, err
		}
		return &teacher.LLMJudge{Client: client, Template: t.JudgeTemplate}, func() string {
			s := client.Stats()
			return requests(s.Requests, s.CacheHits, s.Retries, s.Failures)
		}, nil
	case TeacherRerankAPI:
		retries := t.LLM.Retries
		if retries == 0 {
			retries = -1 // teacher: 0 is its default, negative none
		}
		api, err := teacher.NewRerankAPI(teacher.RerankConfig{URL: t.URL, Style: t.Style, Model: t.LLM.Model,
			APIKey: t.LLM.APIKey, RawScores: t.RawScores, BatchSize: t.BatchSize, Concurrency: t.LLM.Concurrency,
			MaxRetries: retries, Timeout: t.LLM.Timeout, CacheDir: t.LLM.CacheDir, NoCache: t.LLM.NoCache})
		if err != nil {
			return nil, nil, err
		}
		return api, func() string {
			s := api.Stats()
			return requests(s.Requests, s.CacheHits, s.Retries, s.Failures)
		}, nil
	case TeacherEmbedder, TeacherCrossEncoder, TeacherHybrid:
		if t.Model == nil {
			return nil, nil, fmt.Errorf("teacher %s: no model", t.Kind)
		}
		describe := func() string { return "local model " + t.Model.Dir }
		if t.Kind == TeacherHybrid {
			if len(t.Corpus) == 0 {
				return nil, nil, fmt.Errorf("teacher hybrid: no corpus (BM25 and the candidates come from it)")
			}
			bi, err := t.Model.BiEncoder()
			if err != nil {
				return nil, nil, err
			}
			return &hybrid.Teacher{Embedder: bi, Corpus: t.Corpus, Fusion: t.Fusion}, func() string {
				return fmt.Sprintf("hybrid of BM25 and local model %s over %d passages, %s", t.Model.Dir, len(t.Corpus), t.Fusion)
			}, nil
		}
		if t.Kind == TeacherEmbedder {
			e, err := t.Model.Embedder()
			if err != nil {
				return nil, nil, err
			}
			return teacher.EmbedderTeacher{Embedder: e}, describe, nil
		}
		ce, err := t.Model.CrossEncoder()
		if err != nil {
			return nil, nil, err
		}
		return ce, describe, nil // raw logits; Normalize "sigmoid" maps them to probabilities
	}
	return nil, nil, fmt.Errorf("unknown teacher %q (want llm, rerank-api, embedder, cross-encoder or hybrid)", t.Kind)
}

// identity is the teacher in the prelude's cache keys.
func (t Teacher) identity() map[string]any {
	switch t.Kind {
	case TeacherLLM:
		id := map[string]any{"llm-judge": t.LLM.identity()}
		if t.JudgeTemplate != "" {
			id["template"] = t.JudgeTemplate
		}
		return id
	case TeacherRerankAPI:
		id := map[string]any{"rerank": t.URL, "model": t.LLM.Model, "style": t.Style}
		if t.RawScores {
			id["raw_scores"] = true
		}
		return id
	case TeacherEmbedder:
		// EmbedID: the directory's ID unless a query instruction, truncation or adapter changes the vectors
		// (then those are part of the teacher), so the keys of plain teachers are unchanged.
		if t.Model != nil {
			return map[string]any{t.Kind: t.Model.EmbedID()}
		}
	case TeacherCrossEncoder:
		if t.Model != nil {
			return map[string]any{t.Kind: t.Model.ID}
		}
	case TeacherHybrid:
		if t.Model != nil {
			corpus := t.CorpusID
			if corpus == "" {
				corpus = cache.HashStrings(t.Corpus...)
			}
			return map[string]any{"hybrid": t.Model.EmbedID(), "corpus": corpus, "fusion": t.Fusion}
		}
	}
	return map[string]any{"kind": t.Kind}
}

// ScoreOptions configure Score: the columns read and written and the normalisation.
type ScoreOptions struct {
	// Query is the query column; Passages the passage columns scored against it.
	Query    string   `json:"query"`
	Passages []string `json:"passages"`
	// Column names the score column (one passage column; with several each gets "<column>_score").
	Column string `json:"column"`
	// Normalize is none, minmax (over all scores) or sigmoid (logits to probabilities).
	Normalize string `json:"normalize"`
}

// DefaultScoreOptions are the scoring defaults of `ragnb score` and the prelude's ScoreWithTeacher: the
// anchor scored against the positive into "score", raw scores.
func DefaultScoreOptions() ScoreOptions {
	return ScoreOptions{Query: "anchor", Passages: []string{"positive"}, Column: "score", Normalize: teacher.NormNone}
}

// ScoreInput is the table Score adds a score column to, and the teacher.
type ScoreInput struct {
	Frame dataframe.DataFrame
	// DataID is the table's content identity (datasets.Hash) for the cache key; "" does not memoise.
	DataID  string
	Teacher Teacher
}

// Scored is Score's outcome.
type Scored struct {
	// Frame is the input with the score column(s) added; pairs not scored are NaN.
	Frame dataframe.DataFrame
	// Cached says the table came from the step cache.
	Cached bool
	// TeacherStats describes the teacher's work (requests, cache hits, retries, failures).
	TeacherStats string
}

// Score adds the teacher's relevance score of each (query, passage) as a column. With a DataID and a cache the
// scored table is memoised (step "score-teacher", the prelude's key). Pairs the teacher could not score (or
// that an interrupt left) are NaN: the result comes back with an error wrapping a *teacher.UnscoredError that
// counts them, and such a table is not memoised, so the next run asks again for those. Any other error
// returns no result.
func Score(ctx context.Context, env Env, in ScoreInput, o ScoreOptions) (*Scored, error) {
	scorer, stats, err := in.Teacher.scorer()
	if err != nil {
		return nil, err
	}
	topts := teacher.ScoreOptions{QueryColumn: o.Query, PassageColumns: o.Passages, ScoreColumn: o.Column, Normalize: o.Normalize}
	var unscored error
	compute := func(ctx context.Context) (dataframe.DataFrame, bool, error) {
		out, err := teacher.ScoreWithTeacher(ctx, in.Frame, scorer, topts, env.Progress)
		var u *teacher.UnscoredError
		if errors.As(err, &u) {
			unscored = err
			return out, false, nil
		}
		return out, err == nil, err
	}
	res := &Scored{}
	if in.DataID == "" || env.Cache == nil {
		res.Frame, _, err = compute(ctx)
	} else {
		key := cache.Key{Step: "score-teacher", Version: 1, Inputs: []string{in.DataID},
			Params: map[string]any{"teacher": in.Teacher.identity(), "options": o.keyParams()}}
		res.Frame, res.Cached, err = env.memoTable(ctx, key, compute)
	}
	if err != nil {
		return nil, err
	}
	res.TeacherStats = stats()
	return res, unscored
}

// keyParams are the options as the prelude's keys held them: teacher.ScoreOptions with "" for each default.
func (o ScoreOptions) keyParams() teacher.ScoreOptions {
	def := DefaultScoreOptions()
	k := teacher.ScoreOptions{QueryColumn: o.Query, PassageColumns: o.Passages, ScoreColumn: o.Column, Normalize: o.Normalize}
	if k.QueryColumn == def.Query {
		k.QueryColumn = ""
	}
	if len(k.PassageColumns) == 1 && k.PassageColumns[0] == def.Passages[0] {
		k.PassageColumns = nil
	}
	if k.ScoreColumn == def.Column {
		k.ScoreColumn = ""
	}
	if k.Normalize == def.Normalize {
		k.Normalize = ""
	}
	return k
}
