package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/pipeline/server"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/workflow"
)

// weaviateFlags name a Weaviate server and collection (index push, ask, serve).
type weaviateFlags struct {
	url, collection, apiKeyEnv string
	keyFlag                    string
}

// register adds --weaviate, --collection and keyFlag (the API key variable's flag: ask and serve have an
// --api-key-env for the chat model already).
func (f *weaviateFlags) register(fs *flag.FlagSet, collectionHelp, keyFlag string) {
	fs.StringVar(&f.url, "weaviate", "", "Weaviate server `URL` (e.g. http://127.0.0.1:8080)")
	fs.StringVar(&f.collection, "collection", "", collectionHelp)
	fs.StringVar(&f.apiKeyEnv, keyFlag, "", "environment `variable` holding the Weaviate API key (sent as a bearer token; default: anonymous)")
	f.keyFlag = keyFlag
}

// apiKey reads the key from the named variable; naming an unset or empty one is an error, not anonymous access.
func (f *weaviateFlags) apiKey() (string, error) {
	if f.apiKeyEnv == "" {
		return "", nil
	}
	k := os.Getenv(f.apiKeyEnv)
	if k == "" {
		return "", usagef("--%s %s: the variable is unset or empty", f.keyFlag, f.apiKeyEnv)
	}
	return k, nil
}

// source is the collection mine and eval search instead of the in-process exact search (nil without
// --weaviate).
func (f *weaviateFlags) source() (*workflow.WeaviateSource, error) {
	if f.url == "" {
		if f.collection != "" {
			return nil, usagef("--collection goes with --weaviate URL")
		}
		return nil, nil
	}
	if f.collection == "" {
		return nil, usagef("--weaviate needs --collection (the collection `ragnb index push` wrote with --model's model)")
	}
	k, err := f.apiKey()
	if err != nil {
		return nil, err
	}
	return &workflow.WeaviateSource{URL: f.url, Collection: f.collection, APIKey: k}, nil
}

// indexPushFlags are `ragnb index push`'s own flags.
type indexPushFlags struct {
	weaviateFlags
	prune bool
}

func (f *indexPushFlags) register(fs *flag.FlagSet) {
	f.weaviateFlags.register(fs, "push: Weaviate collection `name` (default: from the index directory's name)", "api-key-env")
	fs.BoolVar(&f.prune, "prune", workflow.DefaultPushIndexOptions().Prune, "push: delete the collection's documents the index no longer holds")
}

// options are the workflow's push options from the flags (dim and batch are index's shared flags).
func (f *indexPushFlags) options(dim, batch int) (workflow.PushIndexOptions, error) {
	o := workflow.DefaultPushIndexOptions()
	o.Collection, o.Dim, o.BatchSize, o.Prune = f.collection, dim, batch, f.prune
	k, err := f.apiKey()
	o.APIKey = k
	return o, err
}

func (f *indexPushFlags) run(ctx context.Context, std *stdio, indexDir string, dim, batch int) error {
	if f.url == "" {
		return usagef("push needs --weaviate URL")
	}
	o, err := f.options(dim, batch)
	if err != nil {
		return err
	}
	env, err := stepEnv(std, "")
	if err != nil {
		return err
	}
	res, err := workflow.PushIndex(ctx, env, workflow.PushIndexInput{IndexDir: indexDir, URL: f.url}, o)
	if err != nil {
		return err
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	fmt.Fprintf(std.out, "%s collection %s at %s: pushed %d documents, pruned %d, %d objects now\n",
		verb, res.Collection, f.url, res.Pushed, res.Pruned, res.Count)
	return nil
}

// hybridFlag is `--hybrid` or `--hybrid=ALPHA` (explicit then says the weight was given with it).
type hybridFlag struct {
	on, explicit bool
	alpha        float64
}

func (h *hybridFlag) String() string {
	if h == nil || !h.on {
		return ""
	}
	return strconv.FormatFloat(h.alpha, 'g', -1, 64)
}

func (h *hybridFlag) Set(s string) error {
	switch s {
	case "true":
		h.on, h.explicit = true, false
		return nil
	case "false":
		h.on = false
		return nil
	}
	a, err := strconv.ParseFloat(s, 64)
	if err != nil || a < 0 || a > 1 {
		return fmt.Errorf("want an alpha between 0 (BM25 only) and 1 (vector only), got %q", s)
	}
	h.on, h.explicit, h.alpha = true, true, a
	return nil
}

func (h *hybridFlag) IsBoolFlag() bool { return true }

// retrieverFlags are ask's and serve's Weaviate flags.
type retrieverFlags struct {
	weaviateFlags
	hybrid hybridFlag
}

func (f *retrieverFlags) register(fs *flag.FlagSet) {
	f.weaviateFlags.register(fs, "with --weaviate: the collection `name` (written by `ragnb index push` with --model's model)", "weaviate-api-key-env")
}

func (f *retrieverFlags) options() (workflow.WeaviateOptions, error) {
	o := workflow.DefaultWeaviateOptions()
	o.URL, o.Collection = f.url, f.collection
	if f.hybrid.on {
		o.Hybrid, o.Alpha = true, f.hybrid.alpha
	}
	k, err := f.apiKey()
	o.APIKey = k
	return o, err
}

// retriever opens the collection for the bi-encoder modelDir.
func (f *retrieverFlags) retriever(ctx context.Context, env workflow.Env, modelDir string) (pipeline.Retriever, map[string]any, index.Model, error) {
	var m index.Model
	if modelDir == "" || f.collection == "" {
		return nil, nil, m, usagef("--weaviate needs --collection and --model (the model the collection was pushed with)")
	}
	o, err := f.options()
	if err != nil {
		return nil, nil, m, err
	}
	wm, err := workflow.OpenModel(ctx, env, modelDir, encoder.Options{})
	if err != nil {
		return nil, nil, m, fmt.Errorf("--model %s: %w", modelDir, err)
	}
	if m, err = workflow.IndexModel(wm, modelDir); err != nil {
		return nil, nil, m, fmt.Errorf("--model %s: %w", modelDir, err)
	}
	r, s, err := workflow.WeaviateRetriever(ctx, m, o)
	if err != nil {
		return nil, nil, m, err
	}
	kind := "weaviate"
	if o.Hybrid {
		kind = fmt.Sprintf("weaviate-hybrid(alpha=%g)", o.Alpha)
	}
	return r, map[string]any{"retriever": kind, "collection": s.Collection(), "model": modelDir, "dim": s.Record().Dim}, m, nil
}

// servedModels are the models a pipeline opened, which `ragnb serve` also answers with directly.
type servedModels struct {
	embedder     *index.Model
	embedderName string // the model's directory or Hub id when embedder.Name is not it
	reranker     ir.Scorer
}

// api is the OpenAI/Cohere/TEI model API over the served models (nil when there are none). A model is named
// by its directory's base name or Hub id, as clients would spell it.
func (s servedModels) api(rerankerRef string, timeout time.Duration) http.Handler {
	if s.embedder == nil && s.reranker == nil {
		return nil
	}
	o := server.APIOptions{Timeout: timeout}
	if s.embedder != nil {
		name := s.embedderName
		if name == "" {
			name = s.embedder.Name
		}
		em := &server.EmbeddingModel{Name: filepath.Base(name), Embedder: s.embedder.Embedder}
		if tk, ok := s.embedder.Embedder.(interface {
			Tokenize(texts []string, prompt string) []encoder.Sequence
		}); ok {
			em.CountTokens = func(texts []string) int {
				n := 0
				for _, seq := range tk.Tokenize(texts, "") {
					n += len(seq.IDs)
				}
				return n
			}
		}
		o.Embedding = em
	}
	if s.reranker != nil {
		o.Rerank = &server.RerankModel{Name: filepath.Base(rerankerRef), Scorer: s.reranker}
	}
	return server.NewAPI(o)
}
