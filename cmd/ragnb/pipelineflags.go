package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/relevance"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/index"
)

// openBiEncoder loads a bi-encoder from a directory or Hub id and identifies it by its files' content hash.
// The name recorded in an index is the absolute directory for a local model (so the index finds it from any
// working directory), else the Hub id.
func openBiEncoder(ctx context.Context, nameOrDir string, report progress.Func) (index.Model, error) {
	dir, err := hub.Resolve(ctx, nameOrDir, hub.FromEnv(), report)
	if err != nil {
		return index.Model{}, fmt.Errorf("--model %s: %w", nameOrDir, err)
	}
	emb, err := encoder.LoadBiEncoder(dir, encoder.Options{})
	if err != nil {
		return index.Model{}, fmt.Errorf("--model %s: %w", nameOrDir, err)
	}
	m, err := index.ModelFromDir(dir, emb)
	if err != nil {
		return index.Model{}, err
	}
	m.Name = nameOrDir
	if info, err := os.Stat(nameOrDir); err == nil && info.IsDir() {
		if abs, err := filepath.Abs(nameOrDir); err == nil {
			m.Name = abs
		}
	}
	return m, nil
}

// openIndexDir opens the index in indexDir with the bi-encoder modelDir, by default the model the index was
// built with (its manifest's ModelName). It returns the manifest as read before opening and the model used.
func openIndexDir(ctx context.Context, indexDir, modelDir string, opts index.OpenOptions, report progress.Func) (*index.Index, index.Manifest, string, error) {
	man, err := index.ReadManifest(indexDir)
	if err != nil {
		return nil, man, "", err
	}
	if modelDir == "" {
		modelDir = man.ModelName
	}
	m, err := openBiEncoder(ctx, modelDir, report)
	if err != nil {
		return nil, man, modelDir, err
	}
	ix, err := index.Open(ctx, indexDir, m, opts, report)
	return ix, man, modelDir, err
}

// openCrossEncoder loads a cross-encoder (raw logits; only their order matters for reranking).
func openCrossEncoder(ctx context.Context, nameOrDir string, report progress.Func) (relevance.Scorer, error) {
	dir, err := hub.Resolve(ctx, nameOrDir, hub.FromEnv(), report)
	if err != nil {
		return nil, fmt.Errorf("--reranker %s: %w", nameOrDir, err)
	}
	ce, err := encoder.LoadCrossEncoder(dir, encoder.Options{})
	if err != nil {
		return nil, fmt.Errorf("--reranker %s: %w", nameOrDir, err)
	}
	return ce, nil
}

// corpusFlags say where documents come from.
type corpusFlags struct {
	corpus, textCol, idCol, titleCol string
}

func (f *corpusFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.corpus, "corpus", "", "documents `file`: a BEIR corpus.jsonl ({\"_id\",\"title\",\"text\"}) or a table (.csv, .tsv, .jsonl, .json, .parquet)")
	fs.StringVar(&f.textCol, "text-column", "", "table column holding the passages (default: text, context, passage or positive, whichever exists)")
	fs.StringVar(&f.idCol, "id-column", "", "table column holding document ids (default: none; ids are content hashes and repeated passages are kept once)")
	fs.StringVar(&f.titleCol, "title-column", "", "table column holding titles (optional)")
}

func (f *corpusFlags) load() ([]ir.Document, error) {
	if f.corpus == "" {
		return nil, usagef("--corpus is required")
	}
	return index.LoadCorpus(f.corpus, index.CorpusOptions{TextColumn: f.textCol, IDColumn: f.idCol, TitleColumn: f.titleCol})
}

// pipelineFlags are the retrieval, reranking and prompt flags shared by ask and serve.
type pipelineFlags struct {
	corpusFlags
	indexDir, modelDir, rerankerDir string
	useBM25, noLLM, rebuildStale    bool
	topK, topN, efSearch, maxChars  int
	template, system                string
	llm                             llmFlags
	weaviate                        retrieverFlags
	served                          servedModels // what build opened, for serve's model API
}

func (f *pipelineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.indexDir, "index", "", "index `directory` made by `ragnb index build` (queries are embedded with --model, default the model the index was built with)")
	fs.StringVar(&f.modelDir, "model", "", "bi-encoder model `directory` (or Hub id); with --corpus and no --index, the corpus is embedded in memory at start")
	fs.BoolVar(&f.useBM25, "bm25", false, "retrieve with BM25 over --corpus instead of a model")
	f.corpusFlags.register(fs)
	f.weaviate.register(fs)
	fs.StringVar(&f.rerankerDir, "reranker", "", "cross-encoder model `directory` (or Hub id) that reranks the top k (default: no reranking)")
	fs.IntVar(&f.topK, "top-k", 20, "passages retrieved")
	fs.IntVar(&f.topN, "top-n", 5, "passages kept after reranking and put into the prompt")
	fs.IntVar(&f.efSearch, "ef-search", 0, "HNSW indexes: candidate list size of a search (0: the index's; larger is slower and closer to exact)")
	fs.StringVar(&f.template, "template", "", "`file` holding the user prompt, a Go text/template over .Question and .Passages (each with .Rank .DocID .Title .Text); default pipeline.DefaultTemplate")
	fs.StringVar(&f.system, "system", "", `system prompt (default: pipeline.DefaultSystem; "-" sends none)`)
	fs.IntVar(&f.maxChars, "max-passage-chars", 0, "clip each passage in the prompt to this many characters (0: whole passages)")
	fs.BoolVar(&f.noLLM, "no-llm", false, "do not ask a chat model: return the ranked passages")
	fs.BoolVar(&f.rebuildStale, "rebuild-stale", false, "when --index was built with another model than --model, re-embed it with --model and save it (default: a stale index is an error)")
	f.llm.registerAs(fs, "llm-model", 0, "chat model that answers, as the endpoint names it (e.g. gpt-4o-mini, llama3.1:8b); without it only passages are returned")
}

// build assembles the pipeline and describes it (for logs and /healthz).
func (f *pipelineFlags) build(ctx context.Context, report progress.Func) (*pipeline.Pipeline, map[string]any, error) {
	info := map[string]any{}
	cfg := pipeline.Config{TopK: f.topK, TopN: f.topN, System: f.system, MaxPassageChars: f.maxChars}
	if f.template != "" {
		b, err := os.ReadFile(f.template)
		if err != nil {
			return nil, nil, err
		}
		cfg.Template = string(b)
	}
	switch {
	case f.weaviate.url != "":
		if f.indexDir != "" || f.corpus != "" || f.useBM25 {
			return nil, nil, usagef("--weaviate retrieves from the collection: no --index, --corpus or --bm25")
		}
		r, wi, m, err := f.weaviate.retriever(ctx, f.modelDir, report)
		if err != nil {
			return nil, nil, err
		}
		cfg.Retriever, f.served.embedder = r, &m
		maps.Copy(info, wi)
	case f.useBM25:
		if f.indexDir != "" || f.modelDir != "" {
			return nil, nil, usagef("--bm25 retrieves without --index or --model")
		}
		docs, err := f.load()
		if err != nil {
			return nil, nil, err
		}
		r, err := pipeline.Lexical(docs, bm25.DefaultParams())
		if err != nil {
			return nil, nil, err
		}
		cfg.Retriever = r
		info["retriever"], info["docs"] = "bm25", len(docs)
	case f.indexDir != "":
		if f.corpus != "" {
			return nil, nil, usagef("--corpus is for building an index in memory; add documents to --index with `ragnb index add`")
		}
		ix, man, dir, err := openIndexDir(ctx, f.indexDir, f.modelDir, index.OpenOptions{RebuildStale: f.rebuildStale, EfSearch: f.efSearch}, report)
		if err != nil {
			return nil, nil, err
		}
		cfg.Retriever = pipeline.Dense(ix)
		f.served.embedder, f.served.embedderName = new(ix.Model()), dir
		info["retriever"], info["docs"], info["index"], info["model"] = string(man.Kind), ix.Len(), f.indexDir, dir
	case f.modelDir != "":
		docs, err := f.load()
		if err != nil {
			return nil, nil, err
		}
		m, err := openBiEncoder(ctx, f.modelDir, report)
		if err != nil {
			return nil, nil, err
		}
		ix, err := index.Build(ctx, m, docs, index.Options{}, report)
		if err != nil {
			return nil, nil, err
		}
		cfg.Retriever, f.served.embedder = pipeline.Dense(ix), &m
		info["retriever"], info["docs"], info["model"] = "exact", ix.Len(), f.modelDir
	default:
		return nil, nil, usagef("give --index DIR, --model DIR --corpus FILE, --weaviate URL --collection NAME --model DIR, or --bm25 --corpus FILE")
	}
	if f.rerankerDir != "" {
		s, err := openCrossEncoder(ctx, f.rerankerDir, report)
		if err != nil {
			return nil, nil, err
		}
		cfg.Reranker, f.served.reranker = s, s
		info["reranker"] = f.rerankerDir
	}
	if f.llm.model != "" && !f.noLLM {
		c, err := f.llm.client()
		if err != nil {
			return nil, nil, err
		}
		cfg.LLM = c
		info["llm"] = c.Model()
	}
	info["top_k"], info["top_n"] = f.topK, f.topN
	p, err := pipeline.Build(cfg)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	return p, info, nil
}
