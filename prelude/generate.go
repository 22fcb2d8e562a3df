package prelude

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/workflow"
)

// LoadDocs reads documents — .txt, .md, the text layer of .pdf, .docx — from a file, a folder (recursively) or
// a glob (** for any depth), as a Dataset with columns source, format and text. Files that cannot be read are
// named in the error; the others are not loaded into a half-complete table.
func LoadDocs(pattern string) *Dataset {
	op := fmt.Sprintf("LoadDocs(%q)", pattern)
	d := &Dataset{name: pattern, chain: op}
	ctx, cancel := cellContext()
	defer cancel()
	l, err := workflow.LoadDocuments(ctx, workflow.Env{}, workflow.LoadInput{Pattern: pattern})
	if err == nil {
		err = l.Unreadable
	}
	if err != nil {
		return d.fail(op, err)
	}
	d.df = l.Frame()
	return d
}

// Chunk cuts each document (column text; source from column source, else path) into passages of at most tokens
// tokens with overlap tokens repeated between neighbours, preferring sentence ends; Chunk(0, 0) takes
// workflow.DefaultChunkOptions (256 and 32, as `ragnb generate`). Columns: chunk_id, source, chunk_index,
// start and end (byte offsets into the document), tokens, text. Token counts approximate BERT WordPiece
// without a vocabulary (docs.ApproxCounter: within 0.4% of bert-base-uncased on the financial set).
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
	o := chunkOptions(tokens, overlap)
	sources, texts := d.Column(srcCol), d.Column("text")
	var in []documents.Document
	for i := range texts {
		in = append(in, documents.Document{Source: sources[i], Text: texts[i]})
	}
	ctx, cancel := cellContext()
	defer cancel()
	c, err := workflow.Chunk(ctx, workflow.Env{}, workflow.ChunkInput{Documents: in}, o)
	if err != nil {
		return n.fail(op, err)
	}
	n.df = c.Frame()
	n.notes = append(n.notes, fmt.Sprintf("%s: %d documents → %d chunks", op, len(in), len(c.Chunks)))
	return n
}

// chunkOptions are Chunk's arguments as the workflow's options: no size takes the defaults.
func chunkOptions(tokens, overlap int) workflow.ChunkOptions {
	if tokens == 0 && overlap == 0 {
		return workflow.DefaultChunkOptions()
	}
	if tokens == 0 {
		tokens = workflow.DefaultChunkOptions().Tokens
	}
	return workflow.ChunkOptions{Tokens: tokens, Overlap: overlap}
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
	// Temperature; 0 takes the step's default (0.7 generating questions, 0 judging and answering, as on the
	// command line); a negative value leaves it to the server.
	Temperature float64
	// MaxTokens caps an answer (0 = the server's default).
	MaxTokens int
	// Seed is sent when non-zero.
	Seed int
	// Concurrency is the number of requests in flight (default 4); RequestsPerSecond spaces them (0 = no limit).
	// Retries (5) and the attempt timeout (2 minutes) are workflow.DefaultLLMOptions'.
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

// options are the workflow's LLMOptions for a step whose defaults are def: the model and endpoint from the
// environment when not named, the key read from APIKeyEnv now, zero tuning fields from def.
func (l LLM) options(def workflow.LLMOptions) (workflow.LLMOptions, error) {
	l = l.resolved()
	if l.Model == "" {
		return def, fmt.Errorf("no LLM model named (set LLM.Model or $%s)", EnvLLMModel)
	}
	o := def
	o.BaseURL, o.Model, o.APIKey = l.BaseURL, l.Model, llm.Secret(os.Getenv(l.APIKeyEnv))
	if l.Temperature != 0 {
		o.Temperature = l.Temperature
	}
	if l.MaxTokens != 0 {
		o.MaxTokens = l.MaxTokens
	}
	if l.Seed != 0 {
		o.Seed = l.Seed
	}
	if l.Concurrency != 0 {
		o.Concurrency = l.Concurrency
	}
	if l.RequestsPerSecond != 0 {
		o.RequestsPerSecond = l.RequestsPerSecond
	}
	return o, nil
}

// QAOptions configure GenerateQA. Zero values take workflow.DefaultGenerateOptions, the defaults of `ragnb
// generate` too.
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

// workflow turns the options into the workflow's, every zero field from workflow.DefaultGenerateOptions.
func (o QAOptions) workflow(l LLM) (workflow.GenerateOptions, error) {
	w := workflow.DefaultGenerateOptions()
	if o.QuestionsPerChunk != 0 {
		w.QuestionsPerChunk = o.QuestionsPerChunk
	}
	w.System, w.Template, w.ExtraColumns = o.System, o.Template, o.ExtraColumns
	if o.MinOverlap != 0 {
		w.MinOverlap = o.MinOverlap
	}
	var err error
	w.LLM, err = l.options(w.LLM)
	return w, err
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
	chunks, err := workflow.ChunksFromFrame(d.df)
	if err != nil {
		return n.fail(op, err)
	}
	wo, err := opts.workflow(l)
	if err != nil {
		return n.fail(op, err)
	}
	env, err := stepEnv()
	if err != nil {
		return n.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	g, err := workflow.Generate(ctx, env, workflow.GenerateInput{Chunks: chunks, DataID: d.Hash()}, wo)
	if err != nil {
		return n.fail(op, err)
	}
	n.df = g.Frame
	if g.Cached {
		n.notes = append(n.notes, op+": from cache")
		return n
	}
	s := g.Summary
	n.notes = append(n.notes, fmt.Sprintf("%s: %d chunks → %d pairs; filtered %v; %d failed chunks",
		op, s.Chunks, s.Generated, s.Filtered, len(s.Failed)))
	for _, f := range s.Failed {
		n.notes = append(n.notes, fmt.Sprintf("failed chunk %s: %s", f.ChunkID, f.Err))
	}
	return n
}

// Teacher scores (query, passage) pairs for ScoreWithTeacher: a cross-encoder, a bi-encoder's cosine, an LLM
// judge or a rerank API. Its identity (model content, endpoint and model name — never a key) is part of the
// cache key of the scores.
type Teacher struct {
	name string
	t    workflow.Teacher
	err  error
}

// CrossEncoderTeacher scores with a cross-encoder model (its logits; see ScoreOptions.Normalize).
func CrossEncoderTeacher(m *Model) *Teacher {
	return modelTeacher(workflow.TeacherCrossEncoder, m)
}

// EmbedderTeacher scores with a bi-encoder: the cosine of the query and passage embeddings.
func EmbedderTeacher(m *Model) *Teacher {
	return modelTeacher(workflow.TeacherEmbedder, m)
}

// HybridTeacher scores with hybrid retrieval: BM25 over corpus fused with bi-encoder m's cosine by the
// convex combination evaluation uses, alpha the weight on the dense side (e.g. Metrics.HybridAlpha(dim) of an
// Evaluate with a dev set, where it was chosen). The corpus is its "positive" column when it has one (a pairs
// table, as Evaluate's corpus), else its "text" column. Each query's scores are normalised over its
// candidates — both runs' top 100 in corpus plus the passages scored for it — so they order a query's
// passages as hybrid retrieval ranks them (hybrid.Teacher). A teacher stronger than m alone where the hybrid
// beats it: the one to distil a reranker from.
func HybridTeacher(m *Model, corpus *Dataset, alpha float64) *Teacher {
	t := modelTeacher(workflow.TeacherHybrid, m)
	t.name = fmt.Sprintf("hybrid %s + BM25 (α=%.2f)", m.Name(), alpha)
	switch {
	case t.err != nil:
	case corpus.Err() != nil:
		t.err = corpus.Err()
	case !(alpha >= 0 && alpha <= 1):
		t.err = fmt.Errorf("HybridTeacher: alpha %v, want a weight in [0, 1]", alpha)
	default:
		column := "text"
		if slices.Contains(corpus.Columns(), "positive") {
			column = "positive"
		}
		t.t.Corpus, t.err = corpus.Strings(column)
		t.t.CorpusID = corpus.Hash() + "/" + column
		t.t.Fusion.Alpha = alpha
	}
	return t
}

func modelTeacher(kind string, m *Model) *Teacher {
	t := &Teacher{name: kind + " " + m.Name(), t: workflow.DefaultTeacher(kind), err: m.Err()}
	if t.err == nil {
		t.t.Model = m.handle()
	}
	return t
}

// LLMJudge scores with a chat model asked for a 0–1 relevance (answers cached on disk).
func LLMJudge(l LLM) *Teacher {
	t := &Teacher{name: "llm judge", t: workflow.DefaultTeacher(workflow.TeacherLLM)}
	t.t.LLM, t.err = l.options(t.t.LLM)
	return t
}

// RerankAPI scores through an HTTP rerank endpoint: style "cohere" (also Jina's shape) or "tei"; keyEnv names
// the environment variable holding the key ("" sends none).
func RerankAPI(endpoint, model, style, keyEnv string) *Teacher {
	t := &Teacher{name: "rerank API " + endpoint, t: workflow.DefaultTeacher(workflow.TeacherRerankAPI)}
	t.t.URL, t.t.Style, t.t.LLM.Model = endpoint, style, model
	if keyEnv != "" {
		t.t.LLM.APIKey = llm.Secret(os.Getenv(keyEnv))
	}
	return t
}

// ScoreOptions configure ScoreWithTeacher. Zero values take workflow.DefaultScoreOptions, the defaults of
// `ragnb score` too.
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

// workflow turns the options into the workflow's, every zero field from workflow.DefaultScoreOptions.
func (o ScoreOptions) workflow() workflow.ScoreOptions {
	w := workflow.DefaultScoreOptions()
	for dst, v := range map[*string]string{&w.Query: o.Query, &w.Column: o.Column, &w.Normalize: o.Normalize} {
		if v != "" {
			*dst = v
		}
	}
	if len(o.Passages) > 0 {
		w.Passages = o.Passages
	}
	return w
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
	env, err := stepEnv()
	if err != nil {
		return n.fail(op, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	s, err := workflow.Score(ctx, env, workflow.ScoreInput{Frame: d.df, DataID: d.Hash(), Teacher: t.t}, opts.workflow())
	if s == nil {
		return n.fail(op, err)
	}
	n.df = s.Frame
	if s.Cached {
		n.notes = append(n.notes, op+": from cache")
	}
	if err != nil {
		n.notes = append(n.notes, op+": "+strings.TrimPrefix(err.Error(), "score: "))
	}
	return n
}
