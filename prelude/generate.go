package prelude

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/relevance"
	"github.com/ragnb/ragnb/ui/display"
)

// LoadDocs reads documents — .txt, .md, the text layer of .pdf, .docx — from a file, a folder (recursively) or
// a glob (** for any depth), as a Dataset with columns source, format and text. Files that cannot be read are
// named in the error; the others are not loaded into a half-complete table.
func LoadDocs(pattern string) *Dataset {
	op := fmt.Sprintf("LoadDocs(%q)", pattern)
	d := &Dataset{name: pattern, chain: op}
	ds, err := documents.Load(pattern)
	if err != nil {
		return d.fail(op, err)
	}
	var src, format, text []string
	for _, doc := range ds {
		src, format, text = append(src, doc.Source), append(format, doc.Format), append(text, doc.Text)
	}
	d.df = dataframe.New(series.New(src, series.String, "source"), series.New(format, series.String, "format"),
		series.New(text, series.String, "text"))
	return d
}

// Chunk cuts each document (column text; source from column source, else path) into passages of at most tokens
// tokens with overlap tokens repeated between neighbours, preferring sentence ends. Columns: chunk_id, source,
// chunk_index, start and end (byte offsets into the document), tokens, text. Token counts approximate BERT
// WordPiece without a vocabulary (docs.ApproxCounter: within 0.4% of bert-base-uncased on the financial set).
func (d *Dataset) Chunk(tokens, overlap int) *Dataset {
	op := fmt.Sprintf("Chunk(%d, %d)", tokens, overlap)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	srcCol := "source"
	if !d.has(srcCol) && d.has("path") {
		srcCol = "path"
	}
	if err := d.missing([]string{srcCol, "text"}); err != nil {
		return n.fail(op, err)
	}
	sources, texts := d.Column(srcCol), d.Column("text")
	var in []documents.Document
	for i := range texts {
		in = append(in, documents.Document{Source: sources[i], Text: texts[i]})
	}
	chunks, err := documents.ChunkAll(in, documents.ChunkConfig{Tokens: tokens, Overlap: overlap})
	if err != nil {
		return n.fail(op, err)
	}
	n.df = chunkFrame(chunks)
	n.notes = append(n.notes, fmt.Sprintf("%s: %d documents → %d chunks", op, len(in), len(chunks)))
	return n
}

func chunkFrame(chunks []documents.Chunk) dataframe.DataFrame {
	var id, src, text []string
	var idx, start, end, tok []float64
	for _, c := range chunks {
		id, src, text = append(id, c.ID), append(src, c.Source), append(text, c.Text)
		idx, start, end, tok = append(idx, float64(c.Index)), append(start, float64(c.Start)), append(end, float64(c.End)),
			append(tok, float64(c.Tokens))
	}
	return dataframe.New(series.New(id, series.String, "chunk_id"), series.New(src, series.String, "source"),
		series.New(idx, series.Float, "chunk_index"), series.New(start, series.Float, "start"),
		series.New(end, series.Float, "end"), series.New(tok, series.Float, "tokens"), series.New(text, series.String, "text"))
}

// chunks reads a Chunk table back.
func (d *Dataset) chunks() ([]documents.Chunk, error) {
	if err := d.missing([]string{"chunk_id", "source", "text"}); err != nil {
		return nil, err
	}
	ids, srcs, texts := d.Column("chunk_id"), d.Column("source"), d.Column("text")
	idx, _ := d.Floats("chunk_index")
	start, _ := d.Floats("start")
	end, _ := d.Floats("end")
	out := make([]documents.Chunk, len(ids))
	for i := range ids {
		out[i] = documents.Chunk{ID: ids[i], Source: srcs[i], Text: texts[i]}
		if idx != nil {
			out[i].Index, out[i].Start, out[i].End = int(idx[i]), int(start[i]), int(end[i])
		}
	}
	return out, nil
}

// Environment variables LLMFromEnv reads, besides openai-go's OPENAI_BASE_URL and OPENAI_API_KEY.
const (
	EnvLLMModel = "RAGNB_LLM_MODEL"
)

// LLM names an OpenAI-compatible chat endpoint: OpenAI, vLLM, Ollama, llama.cpp's server, TGI... The API key
// is read from the environment variable APIKeyEnv at call time, so it never appears in a notebook, a cache
// key or an exported program.
type LLM struct {
	// BaseURL, e.g. http://localhost:11434/v1 for Ollama ("" = $OPENAI_BASE_URL, else OpenAI).
	BaseURL string
	// Model is the model name the server knows ("" = $RAGNB_LLM_MODEL).
	Model string
	// APIKeyEnv names the environment variable holding the key ("" = OPENAI_API_KEY; unset = no key).
	APIKeyEnv string
	// Temperature (default 0.7 for generation; a negative value leaves it to the server).
	Temperature float64
	// MaxTokens caps an answer (0 = the server's default).
	MaxTokens int
	// Seed is sent when non-zero.
	Seed int
	// Concurrency is the number of requests in flight (default 4); RequestsPerSecond spaces them (0 = no limit).
	Concurrency       int
	RequestsPerSecond float64
}

// LLMFromEnv is the endpoint the environment describes: OPENAI_BASE_URL, RAGNB_LLM_MODEL and OPENAI_API_KEY.
func LLMFromEnv() LLM {
	return LLM{BaseURL: os.Getenv(llm.EnvBaseURL), Model: os.Getenv(EnvLLMModel)}
}

// Configured reports whether a model is named (and so whether a cell can call the LLM at all).
func (l LLM) Configured() bool {
	return l.Model != "" || os.Getenv(EnvLLMModel) != ""
}

func (l LLM) resolved() LLM {
	if l.Model == "" {
		l.Model = os.Getenv(EnvLLMModel)
	}
	if l.BaseURL == "" {
		l.BaseURL = os.Getenv(llm.EnvBaseURL)
	}
	if l.BaseURL == "" {
		l.BaseURL = llm.DefaultBaseURL
	}
	if l.APIKeyEnv == "" {
		l.APIKeyEnv = llm.EnvAPIKey
	}
	return l
}

func (l LLM) client() (*llm.Client, error) {
	l = l.resolved()
	if l.Model == "" {
		return nil, fmt.Errorf("no LLM model named (set LLM.Model or $%s)", EnvLLMModel)
	}
	return llm.New(llm.Config{BaseURL: l.BaseURL, Model: l.Model, APIKey: llm.Secret(os.Getenv(l.APIKeyEnv)),
		Temperature: l.Temperature, MaxTokens: l.MaxTokens, Seed: l.Seed, Concurrency: l.Concurrency,
		RequestsPerSecond: l.RequestsPerSecond})
}

// identity is what decides the LLM's answers: the model and where it is served (never the key).
func (l LLM) identity() map[string]any {
	l = l.resolved()
	host := l.BaseURL
	if u, err := url.Parse(l.BaseURL); err == nil && u.Host != "" {
		host = u.Host + u.Path
	}
	return map[string]any{"model": l.Model, "endpoint": host, "temperature": l.Temperature, "max_tokens": l.MaxTokens,
		"seed": l.Seed}
}

// QAOptions configure GenerateQA. Zero values take the defaults.
type QAOptions struct {
	// QuestionsPerChunk is N (default 3).
	QuestionsPerChunk int
	// System and Template replace the default prompts (a text/template over the chunk; see package synth).
	System, Template string
	// ExtraColumns also asks for negative_retrieval, positive_reranking and negative_reranking (the
	// synthetic-data-generator's columns).
	ExtraColumns bool
	// MinOverlap is the answerability threshold: the share of a question's content words found in its chunk
	// (default 0.25; negative turns the check off).
	MinOverlap float64
}

// GenerateQA asks the LLM for N questions per chunk (a Chunk table) and returns the (anchor, positive) pairs
// with their provenance (source, chunk_id, offsets). Every answer is cached on disk by the llm package, so a
// re-run or a run after a crash pays for nothing twice; a complete table is also memoised as a step. Chunks
// that failed are listed in the notes (an error only when all failed); when some failed, the table is not
// memoised, so the next run retries just those (the others replay from the answer cache).
func (d *Dataset) GenerateQA(l LLM, opts QAOptions) *Dataset {
	op := "GenerateQA(…)"
	n := d.next(op)
	if n.err != nil {
		return n
	}
	chunks, err := d.chunks()
	if err != nil {
		return n.fail(op, err)
	}
	cfg := synth.Config{QuestionsPerChunk: opts.QuestionsPerChunk, System: opts.System, Template: opts.Template,
		ExtraColumns: opts.ExtraColumns, MinOverlap: opts.MinOverlap}
	var summary synth.Summary
	generate := func(ctx context.Context) (dataframe.DataFrame, error) {
		client, err := l.client()
		if err != nil {
			return dataframe.DataFrame{}, err
		}
		rows, sum, err := synth.GenerateQA(ctx, client, chunks, cfg, display.Progress())
		summary = sum
		if err != nil {
			return dataframe.DataFrame{}, err
		}
		if len(sum.Failed) > 0 {
			return synth.Frame(rows, opts.ExtraColumns), errPartial
		}
		return synth.Frame(rows, opts.ExtraColumns), nil
	}
	params := map[string]any{"llm": l.identity(), "qa": opts}
	key := cache.Key{Step: "generate-qa", Version: 1, Inputs: []string{d.Hash()}, Params: params}
	df, hit, err := cachedTableUnlessPartial(key, generate)
	if err != nil {
		return n.fail(op, err)
	}
	n.df = df
	switch {
	case hit:
		n.notes = append(n.notes, op+": from cache")
	default:
		n.notes = append(n.notes, fmt.Sprintf("%s: %d chunks → %d pairs; filtered %v; %d failed chunks",
			op, summary.Chunks, summary.Generated, summary.Filtered, len(summary.Failed)))
		for _, f := range summary.Failed {
			n.notes = append(n.notes, fmt.Sprintf("failed chunk %s: %s", f.ChunkID, f.Err))
		}
	}
	return n
}

// errPartial marks a table from which some rows are missing or unscored (failed chunks, pairs a teacher could
// not score): it is returned but not memoised.
var errPartial = errors.New("partial result")

// cachedTableUnlessPartial is cachedTable, except that a table computed with errPartial is returned without
// being stored, so the next run retries what failed (the LLM and rerank answer caches replay the rest).
func cachedTableUnlessPartial(key cache.Key, compute func(ctx context.Context) (dataframe.DataFrame, error)) (dataframe.DataFrame, bool, error) {
	var partial *dataframe.DataFrame
	df, hit, err := cachedTable(key, func(ctx context.Context) (dataframe.DataFrame, error) {
		out, err := compute(ctx)
		if errors.Is(err, errPartial) {
			partial = &out
		}
		return out, err
	})
	if partial != nil {
		return *partial, false, nil
	}
	return df, hit, err
}

// Teacher scores (query, passage) pairs for ScoreWithTeacher: a cross-encoder, a bi-encoder's cosine, an LLM
// judge or a rerank API. Its identity (model content, endpoint and model name — never a key) is part of the
// cache key of the scores.
type Teacher struct {
	name   string
	id     map[string]any
	scorer relevance.Scorer
	err    error
}

// CrossEncoderTeacher scores with a cross-encoder model (its logits; see ScoreOptions.Normalize).
func CrossEncoderTeacher(m *Model) *Teacher {
	t := &Teacher{name: "cross-encoder " + m.Name(), id: map[string]any{"cross-encoder": m.ID()}}
	t.scorer, t.err = m.CrossEncoder()
	return t
}

// EmbedderTeacher scores with a bi-encoder: the cosine of the query and passage embeddings.
func EmbedderTeacher(m *Model) *Teacher {
	t := &Teacher{name: "embedder " + m.Name(), id: map[string]any{"embedder": m.ID()}}
	bi, err := m.BiEncoder()
	t.scorer, t.err = teacher.EmbedderTeacher{Embedder: bi}, err
	return t
}

// LLMJudge scores with a chat model asked for a 0–1 relevance (answers cached on disk).
func LLMJudge(l LLM) *Teacher {
	t := &Teacher{name: "llm judge", id: map[string]any{"llm-judge": l.identity()}}
	c, err := l.client()
	t.scorer, t.err = &teacher.LLMJudge{Client: c}, err
	return t
}

// RerankAPI scores through an HTTP rerank endpoint: style "cohere" (also Jina's shape) or "tei"; keyEnv names
// the environment variable holding the key ("" sends none).
func RerankAPI(endpoint, model, style, keyEnv string) *Teacher {
	t := &Teacher{name: "rerank API " + endpoint, id: map[string]any{"rerank": endpoint, "model": model, "style": style}}
	key := ""
	if keyEnv != "" {
		key = os.Getenv(keyEnv)
	}
	t.scorer, t.err = teacher.NewRerankAPI(teacher.RerankConfig{URL: endpoint, Model: model, Style: style,
		APIKey: llm.Secret(key)})
	return t
}

// ScoreOptions configure ScoreWithTeacher. Zero values take the defaults.
type ScoreOptions struct {
	// Query is the query column (default "anchor"); Passages the passage columns (default "positive").
	Query    string
	Passages []string
	// Column names the score column (default "score"; with several passage columns each gets
	// "<column>_score").
	Column string
	// Normalize is "none" (default), "minmax" or "sigmoid".
	Normalize string
}

// ScoreWithTeacher adds the teacher's relevance score of each (query, passage) as a column, memoised on disk.
// Pairs the teacher could not score are NaN and counted in the notes; such a table is not memoised, so the
// next run asks again for those.
func (d *Dataset) ScoreWithTeacher(t *Teacher, opts ScoreOptions) *Dataset {
	op := fmt.Sprintf("ScoreWithTeacher(%s)", t.name)
	n := d.next(op)
	if n.err != nil {
		return n
	}
	if t.err != nil {
		return n.fail(op, t.err)
	}
	topts := teacher.ScoreOptions{QueryColumn: opts.Query, PassageColumns: opts.Passages, ScoreColumn: opts.Column,
		Normalize: opts.Normalize}
	var unscored error
	key := cache.Key{Step: "score-teacher", Version: 1, Inputs: []string{d.Hash()},
		Params: map[string]any{"teacher": t.id, "options": topts}}
	df, hit, err := cachedTableUnlessPartial(key, func(ctx context.Context) (dataframe.DataFrame, error) {
		out, err := teacher.ScoreWithTeacher(ctx, d.df, t.scorer, topts, display.Progress())
		var u *teacher.UnscoredError
		if errors.As(err, &u) {
			unscored = err
			return out, errPartial
		}
		return out, err
	})
	if err != nil {
		return n.fail(op, err)
	}
	n.df = df
	if hit {
		n.notes = append(n.notes, op+": from cache")
	}
	if unscored != nil {
		n.notes = append(n.notes, op+": "+strings.TrimPrefix(unscored.Error(), "score: "))
	}
	return n
}
