package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/vector"
	"github.com/ragnb/ragnb/workflow"
)

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

// pipelineFlags are the retrieval, reranking and prompt flags shared by ask and serve, bound to
// workflow.PipelineOptions (their defaults are DefaultPipelineOptions).
type pipelineFlags struct {
	corpusFlags
	indexDir, modelDir, rerankerDir string
	adapterDir                      string
	query                           queryInstructionFlags
	useBM25, noLLM, rebuildStale    bool
	efSearch                        int
	template                        string
	o                               workflow.PipelineOptions
	llm                             llmFlags
	weaviate                        retrieverFlags
	served                          servedModels // what build opened, for serve's model API
}

func (f *pipelineFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultPipelineOptions()
	f.o = def
	fs.StringVar(&f.indexDir, "index", "", "index `directory` made by `ragnb index build` (queries are embedded with --model, default the model the index was built with)")
	fs.StringVar(&f.modelDir, "model", "", "bi-encoder model `directory` (or Hub id); with --corpus and no --index, the corpus is embedded in memory at start")
	fs.BoolVar(&f.useBM25, "bm25", false, "retrieve with BM25 over --corpus instead of a model")
	fs.Var(&f.weaviate.hybrid, "hybrid", "fuse the model's retrieval with BM25: over the same documents (the index's, or --corpus) a convex combination, with --weaviate Weaviate's own hybrid search; --hybrid=ALPHA or --hybrid-alpha weighs the dense side")
	fs.Float64Var(&f.o.Fusion.Alpha, "hybrid-alpha", def.Fusion.Alpha, "--hybrid: weight of the dense scores in [0, 1] (use the one `ragnb eval --model hybrid:DIR` chose on a dev set)")
	f.corpusFlags.register(fs)
	f.weaviate.register(fs)
	f.query.register(fs)
	fs.StringVar(&f.adapterDir, "adapter", "", "adapter `directory` from `ragnb train-adapter`, applied to the query embeddings only (the documents and an index keep the base model's vectors)")
	fs.StringVar(&f.rerankerDir, "reranker", "", "cross-encoder model `directory` (or Hub id) that reranks the top k (default: no reranking)")
	fs.IntVar(&f.o.TopK, "top-k", def.TopK, "passages retrieved")
	fs.IntVar(&f.o.TopN, "top-n", def.TopN, "passages kept after reranking and put into the prompt")
	fs.IntVar(&f.efSearch, "ef-search", 0, "HNSW indexes: candidate list size of a search (0: the index's; larger is slower and closer to exact)")
	fs.StringVar(&f.template, "template", "", "`file` holding the user prompt, a Go text/template over .Question and .Passages (each with .Rank .DocID .Title .Text); default pipeline.DefaultTemplate")
	fs.StringVar(&f.o.System, "system", def.System, `system prompt (default: pipeline.DefaultSystem; "-" sends none)`)
	fs.IntVar(&f.o.MaxPassageChars, "max-passage-chars", def.MaxPassageChars, "clip each passage in the prompt to this many characters (0: whole passages)")
	fs.BoolVar(&f.noLLM, "no-llm", false, "do not ask a chat model: return the ranked passages")
	fs.BoolVar(&f.rebuildStale, "rebuild-stale", false, "when --index was built with another model than --model, re-embed it with --model and save it (default: a stale index is an error)")
	f.llm.registerAs(fs, "llm-model", def.LLM, "chat model that answers, as the endpoint names it (e.g. gpt-4o-mini, llama3.1:8b); without it only passages are returned")
}

// options are the pipeline's options from the flags (the prompt template read, the chat model's key from the
// environment).
func (f *pipelineFlags) options() (workflow.PipelineOptions, error) {
	h := &f.weaviate.hybrid
	if h.on && h.explicit {
		f.o.Fusion.Alpha = h.alpha
	}
	f.o.Hybrid, h.alpha = h.on, f.o.Fusion.Alpha // one weight for both kinds of hybrid
	o := f.o
	if f.template != "" {
		b, err := os.ReadFile(f.template)
		if err != nil {
			return o, err
		}
		o.Template = string(b)
	}
	o.LLM = f.llm.o
	if f.llm.o.Model != "" && !f.noLLM {
		lo, err := f.llm.options()
		if err != nil {
			return o, err
		}
		o.LLM = lo
	} else {
		o.LLM.Model = ""
	}
	return o, nil
}

// build assembles the pipeline and describes it (for logs and /healthz).
func (f *pipelineFlags) build(ctx context.Context, std *stdio) (*pipeline.Pipeline, map[string]any, error) {
	o, err := f.options()
	if err != nil {
		return nil, nil, err
	}
	env, err := stepEnv(std, "")
	if err != nil {
		return nil, nil, err
	}
	var in workflow.PipelineInput
	extra := map[string]any{}
	switch {
	case f.weaviate.url != "":
		if f.indexDir != "" || f.corpus != "" || f.useBM25 || f.adapterDir != "" {
			return nil, nil, usagef("--weaviate retrieves from the collection: no --index, --corpus, --bm25 or --adapter")
		}
		r, wi, m, err := f.weaviate.retriever(ctx, env, f.modelDir)
		if err != nil {
			return nil, nil, err
		}
		in.Retriever, in.RetrieverInfo, f.served.embedder = r, wi, &m
	case f.useBM25:
		if f.indexDir != "" || f.modelDir != "" || f.o.Hybrid || f.adapterDir != "" {
			return nil, nil, usagef("--bm25 retrieves without --index, --model or --hybrid")
		}
		if in.Docs, err = f.load(); err != nil {
			return nil, nil, err
		}
	case f.indexDir != "":
		if f.corpus != "" {
			return nil, nil, usagef("--corpus is for building an index in memory; add documents to --index with `ragnb index add`")
		}
		prompts, err := f.query.prompts()
		if err != nil {
			return nil, nil, err
		}
		ix, _, dir, err := workflow.OpenIndex(ctx, env, f.indexDir, f.modelDir, f.adapterDir, encoder.Options{Prompts: prompts}, index.OpenOptions{RebuildStale: f.rebuildStale, EfSearch: f.efSearch})
		if err != nil {
			return nil, nil, err
		}
		in.Index = ix
		f.served.embedder, f.served.embedderName = new(ix.Model()), dir
		extra["index"], extra["model"] = f.indexDir, dir
	case f.modelDir != "":
		if in.Docs, err = f.load(); err != nil {
			return nil, nil, err
		}
		prompts, err := f.query.prompts()
		if err != nil {
			return nil, nil, err
		}
		var e vector.Embedder
		if in.Model, err = workflow.OpenAdapted(ctx, env, f.modelDir, f.adapterDir, encoder.Options{Prompts: prompts}); err == nil {
			e, err = in.Model.Embedder() // loaded now, so that an error names the flag
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--model %s: %w", f.modelDir, err)
		}
		f.served.embedder, f.served.embedderName = &index.Model{Embedder: e, Hash: in.Model.ID, Name: f.modelDir}, f.modelDir
		in.ModelName, extra["model"] = f.modelDir, f.modelDir
	default:
		return nil, nil, usagef("give --index DIR, --model DIR --corpus FILE, --weaviate URL --collection NAME --model DIR, or --bm25 --corpus FILE")
	}
	if f.rerankerDir != "" {
		var ce *encoder.CrossEncoder
		if in.Reranker, err = workflow.OpenModel(ctx, env, f.rerankerDir, encoder.Options{}); err == nil {
			ce, err = in.Reranker.CrossEncoder()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--reranker %s: %w", f.rerankerDir, err)
		}
		f.served.reranker = ce
		extra["reranker"] = f.rerankerDir
	}
	if f.adapterDir != "" {
		extra["adapter"] = f.adapterDir
	}
	b, err := workflow.BuildPipeline(ctx, env, in, o)
	if err != nil {
		var bad *workflow.OptionsError
		if errors.As(err, &bad) {
			return nil, nil, usagef("%v", err)
		}
		return nil, nil, err
	}
	for k, v := range extra {
		b.Info[k] = v
	}
	return b.Pipeline, b.Info, nil
}
