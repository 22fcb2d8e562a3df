package workflow

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/hnsw"
	"github.com/ragnb/ragnb/retrieval/hybrid"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/retrieval/search"
)

// IndexOptions configure BuildIndex (see package index).
type IndexOptions struct {
	// Kind is exact or hnsw; Similarity cosine or dot; Dim keeps the first Dim dimensions (Matryoshka; 0:
	// all).
	Kind       index.Kind        `json:"kind"`
	Similarity search.Similarity `json:"similarity"`
	Dim        int               `json:"dim"`
	// HNSW are the graph's parameters (hnsw indexes).
	HNSW hnsw.Params `json:"hnsw"`
	// BatchSize is the texts per embedding call.
	BatchSize int `json:"batch_size"`
}

// DefaultIndexOptions are the index defaults of `ragnb index build` and the prelude's BuildPipeline: exact
// cosine search over the full dimension (exact search ranks as an evaluation does;
// HNSW is for corpora too large for it); for HNSW package hnsw's defaults (16 links per node, 200 candidates while linking, 128
// while searching); 256 texts per embedding call.
func DefaultIndexOptions() IndexOptions {
	return IndexOptions{Kind: index.Exact, Similarity: search.Cosine, HNSW: hnsw.Params{}.WithDefaults(), BatchSize: 256}
}

// IndexInput is what BuildIndex embeds.
type IndexInput struct {
	Docs  []ir.Document
	Model *Model
	// DocsID is the content identity of the table the documents come from and Column the column holding their
	// texts, for the cache key (step "index", the prelude's key); DocsID "" does not memoise.
	DocsID, Column string
	// Name is the model's name the index records ("": its directory); a local directory is made absolute so
	// the index finds it from any working directory.
	Name string
}

// Indexed is BuildIndex's outcome.
type Indexed struct {
	Index *index.Index
	// Cached says the index was opened from the step cache; Dir is its directory there ("" when it was built
	// in memory, without a cache or a DocsID).
	Cached bool
	Dir    string
}

// IndexModel is the model as package index (and a Weaviate collection's record) takes it: its content hash,
// and a name that finds it again from any working directory (the absolute directory, or the reference given
// when it is not a local directory).
func IndexModel(m *Model, name string) (index.Model, error) {
	// Documents are the base model's vectors (Hash: the directory's identity, so an index built with the base
	// model opens); an adapter changes the queries only.
	e, err := m.Embedder()
	if err != nil {
		return index.Model{}, err
	}
	if name == "" {
		name = m.Dir
	}
	if info, err := os.Stat(name); err == nil && info.IsDir() {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	return index.Model{Embedder: e, Hash: m.ID, Name: name}, nil
}

// BuildIndex embeds the documents with the model into a vector index, memoised (step "index") when the
// input has a DocsID and the env a cache, so a re-run opens it instead of embedding the corpus again.
func BuildIndex(ctx context.Context, env Env, in IndexInput, o IndexOptions) (*Indexed, error) {
	if in.Model == nil {
		return nil, fmt.Errorf("index: no model")
	}
	model, err := IndexModel(in.Model, in.Name)
	if err != nil {
		return nil, err
	}
	io := index.Options{Kind: o.Kind, Similarity: o.Similarity, Dim: o.Dim, HNSW: o.HNSW, BatchSize: o.BatchSize}
	if in.DocsID == "" || env.Cache == nil {
		ix, err := index.Build(ctx, model, in.Docs, io, env.Progress)
		if err != nil {
			return nil, err
		}
		return &Indexed{Index: ix}, nil
	}
	key := cache.Key{Step: "index", Version: 1, Inputs: []string{in.Model.ID, in.DocsID}, Params: o.keyParams(in.Column)}
	dir, hit, err := env.Cache.Do(ctx, key, func(ctx context.Context, dir string) error {
		ix, err := index.Build(ctx, model, in.Docs, io, env.Progress)
		if err != nil {
			return err
		}
		return ix.Save(dir)
	})
	if err != nil {
		return nil, err
	}
	ix, err := index.Open(ctx, dir, model, index.OpenOptions{}, nil)
	if err != nil {
		return nil, fmt.Errorf("cached step index in %s: %w", dir, err)
	}
	return &Indexed{Index: ix, Cached: hit, Dir: dir}, nil
}

// keyParams are the options as the prelude's keys held them (column, kind, dim), plus what differs from the
// defaults it always used.
func (o IndexOptions) keyParams(column string) map[string]any {
	def := DefaultIndexOptions()
	p := map[string]any{"column": column, "kind": o.Kind, "dim": o.Dim}
	if o.Similarity != def.Similarity {
		p["similarity"] = o.Similarity
	}
	if o.Kind == index.HNSW && o.HNSW != def.HNSW {
		p["hnsw"] = o.HNSW
	}
	return p
}

// OpenIndex opens the index saved in dir with the bi-encoder modelRef, by default the model the index was
// built with (its manifest's model name), loaded with mo (e.g. a query instruction: Options.Prompts), with the
// adapter in adapterDir on its queries when given (the index's passages are the base model's vectors either
// way). It returns the manifest as read before opening and the model reference used.
func OpenIndex(ctx context.Context, env Env, dir, modelRef, adapterDir string, mo encoder.Options, o index.OpenOptions) (*index.Index, index.Manifest, string, error) {
	man, err := index.ReadManifest(dir)
	if err != nil {
		return nil, man, "", err
	}
	if modelRef == "" {
		modelRef = man.ModelName
	}
	m, err := OpenAdapted(ctx, env, modelRef, adapterDir, mo)
	if err != nil {
		return nil, man, modelRef, err
	}
	model, err := IndexModel(m, modelRef)
	if err != nil {
		return nil, man, modelRef, fmt.Errorf("model %s: %w", modelRef, err)
	}
	ix, err := index.Open(ctx, dir, model, o, env.Progress)
	return ix, man, modelRef, err
}

// PipelineOptions configure BuildPipeline.
type PipelineOptions struct {
	// Name labels the pipeline ("": the retriever's).
	Name string `json:"name"`
	// TopK passages are retrieved; the TopN best after reranking (or the TopN first without a reranker) go
	// into the prompt.
	TopK int `json:"top_k"`
	TopN int `json:"top_n"`
	// Template and System replace pipeline.DefaultTemplate and DefaultSystem; MaxPassageChars clips each
	// passage in the prompt (0: whole).
	Template        string `json:"template"`
	System          string `json:"system"`
	MaxPassageChars int    `json:"max_passage_chars"`
	// LLM writes the answer; with no LLM.Model the answers are the ranked passages.
	LLM LLMOptions `json:"llm"`
	// Index configures the index built over PipelineInput.Docs for a model.
	Index IndexOptions `json:"index"`
	// Hybrid fuses the dense retriever with BM25 over the same documents (the index's, or PipelineInput.Docs)
	// by Fusion (DefaultHybridOptions' unless set: the weight should be one chosen on a dev split).
	Hybrid bool           `json:"hybrid"`
	Fusion hybrid.Options `json:"fusion"`
}

// DefaultPipelineOptions are the answer pipeline's defaults, the same for `ragnb ask`, `ragnb serve` and the
// prelude's BuildPipeline: 20 passages retrieved, the 5 best kept (a reranker sees enough candidates to
// reorder, and the prompt stays short), no LLM until one is named (then DefaultLLMOptions: greedy answers),
// exact search.
func DefaultPipelineOptions() PipelineOptions {
	return PipelineOptions{TopK: 20, TopN: 5, LLM: DefaultLLMOptions(), Index: DefaultIndexOptions(), Fusion: DefaultHybridOptions().Fusion}
}

// PipelineInput is what the pipeline retrieves from and who reranks.
type PipelineInput struct {
	// Index is an opened index (OpenIndex); else Docs are indexed with Model (BuildIndex; DocsID and Column
	// memoise it), or searched with BM25 when Model is nil.
	Index  *index.Index
	Docs   []ir.Document
	Model  *Model
	DocsID string
	Column string
	// ModelName is the name the index records for Model (see IndexInput.Name).
	ModelName string
	// Reranker (optional) rescores the TopK retrieved passages.
	Reranker *Model
	// Retriever, when set, is used as it is (a Weaviate collection: WeaviateRetriever), described by
	// RetrieverInfo; Index, Docs and Model are then not read.
	Retriever     pipeline.Retriever
	RetrieverInfo map[string]any
}

// Built is BuildPipeline's outcome.
type Built struct {
	Pipeline *pipeline.Pipeline
	// Info describes it (retriever, docs, reranker, llm, top_k, top_n), for logs and /healthz.
	Info map[string]any
	// IndexCached says the index came from the step cache.
	IndexCached bool
}

// BuildPipeline assembles an answer pipeline: retrieve → rerank → prompt → LLM.
func BuildPipeline(ctx context.Context, env Env, in PipelineInput, o PipelineOptions) (*Built, error) {
	out := &Built{Info: map[string]any{}}
	info := out.Info
	cfg := pipeline.Config{Name: o.Name, TopK: o.TopK, TopN: o.TopN, Template: o.Template, System: o.System,
		MaxPassageChars: o.MaxPassageChars}
	switch {
	case in.Retriever != nil:
		cfg.Retriever = in.Retriever
		maps.Copy(info, in.RetrieverInfo)
	case in.Index != nil:
		cfg.Retriever = pipeline.Dense(in.Index)
		info["retriever"], info["docs"] = string(in.Index.Manifest().Kind), in.Index.Len()
	case in.Model != nil:
		ix, err := BuildIndex(ctx, env, IndexInput{Docs: in.Docs, Model: in.Model, DocsID: in.DocsID, Column: in.Column, Name: in.ModelName}, o.Index)
		if err != nil {
			return nil, err
		}
		cfg.Retriever, out.IndexCached = pipeline.Dense(ix.Index), ix.Cached
		info["retriever"], info["docs"] = string(o.Index.Kind), ix.Index.Len()
	default:
		if o.Hybrid {
			return nil, &OptionsError{fmt.Errorf("hybrid retrieval needs a bi-encoder (an index or a model) beside BM25")}
		}
		r, err := pipeline.Lexical(in.Docs, bm25.DefaultParams())
		if err != nil {
			return nil, err
		}
		cfg.Retriever = r
		info["retriever"], info["docs"] = "bm25", len(in.Docs)
	}
	// A given retriever (a Weaviate collection) fuses BM25 itself when asked: not a second time here.
	if o.Hybrid && in.Retriever == nil {
		if err := hybridRetriever(&cfg, in, o.Fusion); err != nil {
			return nil, err
		}
		info["retriever"], info["fusion"] = "hybrid("+info["retriever"].(string)+", bm25)", o.Fusion.String()
	}
	if in.Reranker != nil {
		ce, err := in.Reranker.CrossEncoder()
		if err != nil {
			return nil, fmt.Errorf("reranker: %w", err)
		}
		cfg.Reranker = ce
	}
	if o.LLM.Model != "" {
		c, err := o.LLM.Client()
		if err != nil {
			return nil, err
		}
		cfg.LLM = c
		info["llm"] = c.Model()
	}
	info["top_k"], info["top_n"] = o.TopK, o.TopN
	p, err := pipeline.Build(cfg)
	if err != nil {
		return nil, &OptionsError{err}
	}
	out.Pipeline = p
	return out, nil
}

// hybridRetriever replaces cfg's dense retriever by its fusion with BM25 over the same documents: the
// index's when there is one, else in.Docs.
func hybridRetriever(cfg *pipeline.Config, in PipelineInput, fusion hybrid.Options) error {
	docs := in.Docs
	if in.Index != nil {
		docs = make([]ir.Document, in.Index.Len())
		for i := range docs {
			docs[i] = in.Index.Doc(i)
		}
	}
	lexical, err := pipeline.Lexical(docs, bm25.DefaultParams())
	if err != nil {
		return err
	}
	r, err := pipeline.Hybrid(cfg.Retriever, lexical, fusion)
	if err != nil {
		return &OptionsError{err}
	}
	cfg.Retriever = r
	return nil
}

// OptionsError is an error in a step's options themselves (a top-n above the top-k, a template that does not
// parse), which the command line reports as a usage error.
type OptionsError struct{ Err error }

func (e *OptionsError) Error() string { return e.Err.Error() }
func (e *OptionsError) Unwrap() error { return e.Err }

// JudgeAnswers scores both pipelines' answers in c with the chat model llm as an answer judge
// (teacher.DefaultAnswerJudgeTemplate over the question, the answer and its sources; answers cached by the llm
// client like every judge's), so a comparison reports answer quality beside retrieval.
func JudgeAnswers(ctx context.Context, env Env, c *pipeline.Comparison, llm LLMOptions) error {
	t := DefaultTeacher(TeacherLLM)
	t.LLM, t.JudgeTemplate = llm, teacher.DefaultAnswerJudgeTemplate
	s, _, err := t.scorer()
	if err != nil {
		return fmt.Errorf("answer judge: %w", err)
	}
	return c.JudgeAnswers(ctx, s, env.Progress)
}
