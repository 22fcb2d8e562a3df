package prelude

import (
	"fmt"
	"html"
	"strings"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/index"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/workflow"
)

// PipelineOptions configure BuildPipeline. Zero values take workflow.DefaultPipelineOptions, the defaults of
// `ragnb ask` and `ragnb serve` too (top 20 retrieved, 5 kept).
type PipelineOptions struct {
	// Corpus holds the passages to answer from, in column Column (default "positive"); identical passages are
	// indexed once.
	Corpus *Dataset
	Column string
	// Reranker, when set, rescores the TopK retrieved passages with a cross-encoder and keeps the TopN best
	// (defaults 20 and 5; without a reranker the TopN first retrieved are kept).
	Reranker   *Model
	TopK, TopN int
	// LLM, when configured, writes the answer from the kept passages; otherwise Ask returns the ranked
	// passages alone.
	LLM LLM
	// Template and System replace the default prompt (a text/template over the question and the passages,
	// cited as [1], [2], …; see package pipeline).
	Template, System string
	// HNSW builds an approximate graph index instead of exact search (for large corpora).
	HNSW bool
	// Dim truncates the embeddings to a Matryoshka dimension (0 = full).
	Dim int
	// Name labels the pipeline (default: the retriever's name).
	Name string
	// Weaviate, when set, retrieves from that collection (pushed with Model.PushIndex by the same retriever
	// model) instead of an index built here; Corpus, HNSW and Dim are then unused.
	Weaviate *Weaviate
	// Hybrid fuses the retriever model with BM25 over the same corpus (a convex combination); HybridAlpha is
	// the dense scores' weight (0: workflow.DefaultHybridOptions' 0.5; use the one Evaluate chose on dev,
	// Metrics.HybridAlpha).
	Hybrid      bool
	HybridAlpha float64
}

// Pipeline answers questions: retrieve → rerank → prompt → LLM, with the sources and per-stage timings.
type Pipeline struct {
	name, chain string
	p           *pipeline.Pipeline
	ids         map[string]string   // passage text → document id, one entry per indexed passage
	llm         workflow.LLMOptions // the answering model (Model "" when none): ComparePipelines' answer judge
	err         error
	notes       []string
}

// BuildPipeline assembles an answer pipeline over a retriever model (nil: BM25) and a corpus. The vector index
// is memoised on disk, keyed by the model's identity and the corpus content, so a re-run opens it instead of
// embedding the corpus again.
func BuildPipeline(retriever *Model, opts PipelineOptions) *Pipeline {
	name := opts.Name
	rname := "bm25"
	if retriever != nil {
		rname = retriever.Name()
	}
	if name == "" {
		name = rname
	}
	chain := fmt.Sprintf("BuildPipeline(%s)", rname)
	p := &Pipeline{name: name, chain: chain}
	fail := func(err error) *Pipeline { p.err = err; return p }
	wo, err := opts.workflow(name)
	if err != nil {
		return fail(err)
	}
	var in workflow.PipelineInput
	if opts.Weaviate != nil {
		if in, err = weaviateInput(retriever, *opts.Weaviate); err != nil {
			return fail(err)
		}
		p.notes = append(p.notes, fmt.Sprintf("weaviate %s collection %v (dim %v)", opts.Weaviate.URL, in.RetrieverInfo["collection"], in.RetrieverInfo["dim"]))
	} else {
		if opts.Corpus == nil {
			return fail(fmt.Errorf("no corpus (PipelineOptions.Corpus)"))
		}
		docs, err := corpusDocs(opts.Corpus, &opts.Column)
		if err != nil {
			return fail(err)
		}
		p.ids = make(map[string]string, len(docs))
		for _, d := range docs {
			p.ids[d.Text] = d.ID
		}
		in = workflow.PipelineInput{Docs: docs, DocsID: opts.Corpus.Hash(), Column: opts.Column}
	}
	if retriever != nil && in.Retriever == nil {
		if retriever.Err() != nil {
			return fail(retriever.Err())
		}
		in.Model, in.ModelName = retriever.handle(), retriever.Name()
	}
	if wo.Hybrid {
		p.notes = append(p.notes, "hybrid with BM25: "+wo.Fusion.String())
	}
	if opts.Reranker != nil {
		if opts.Reranker.Err() != nil {
			return fail(fmt.Errorf("reranker: %w", opts.Reranker.Err()))
		}
		in.Reranker = opts.Reranker.handle()
		p.notes = append(p.notes, fmt.Sprintf("reranker %s: top %d → %d", opts.Reranker.Name(), wo.TopK, wo.TopN))
	}
	if wo.LLM.Model != "" {
		p.notes = append(p.notes, "LLM "+wo.LLM.Model)
	} else {
		p.notes = append(p.notes, "no LLM configured: answers are the ranked passages")
	}
	env, err := stepEnv()
	if err != nil {
		return fail(err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	b, err := workflow.BuildPipeline(ctx, env, in, wo)
	if err != nil {
		return fail(err)
	}
	p.p, p.llm = b.Pipeline, wo.LLM
	return p
}

// workflow turns the options into the workflow's, every zero field from workflow.DefaultPipelineOptions.
func (o PipelineOptions) workflow(name string) (workflow.PipelineOptions, error) {
	w := workflow.DefaultPipelineOptions()
	w.Name, w.Template, w.System, w.Index.Dim = name, o.Template, o.System, o.Dim
	if o.TopK != 0 {
		w.TopK = o.TopK
	}
	if o.TopN != 0 {
		w.TopN = o.TopN
	}
	if o.HNSW {
		w.Index.Kind = index.HNSW
	}
	w.Hybrid = o.Hybrid
	if o.HybridAlpha != 0 {
		w.Fusion.Alpha = o.HybridAlpha
	}
	if !o.LLM.Configured() {
		w.LLM.Model = ""
		return w, nil
	}
	var err error
	w.LLM, err = o.LLM.options(w.LLM)
	return w, err
}

// corpusDocs reads the passages of column (default "positive", which it sets) as documents.
func corpusDocs(corpus *Dataset, column *string) ([]ir.Document, error) {
	if *column == "" {
		*column = "positive"
	}
	if corpus.Err() != nil {
		return nil, corpus.Err()
	}
	texts, err := corpus.Strings(*column)
	if err != nil {
		return nil, err
	}
	return uniqueDocs(texts), nil
}

// uniqueDocs turns passages into documents, identical texts once, ids in first-seen order.
func uniqueDocs(texts []string) []ir.Document {
	seen := map[string]bool{}
	var docs []ir.Document
	for _, t := range texts {
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		docs = append(docs, ir.Document{ID: fmt.Sprintf("p%05d", len(docs)), Text: t})
	}
	return docs
}

// Err is the error met building the pipeline, or nil.
func (p *Pipeline) Err() error { return p.err }

// Name is the pipeline's label.
func (p *Pipeline) Name() string { return p.name }

// Pipeline is the library pipeline (nil after an error), for AskMany, Do and the rest of package pipeline.
func (p *Pipeline) Pipeline() *pipeline.Pipeline { return p.p }

// Ask answers a question and shows it (streamed in the notebook; see the package-level Ask). A pipeline that
// failed to build shows its error.
func (p *Pipeline) Ask(question string) pipeline.Answer {
	if p.err != nil {
		p.Display()
		return pipeline.Answer{Question: question, Error: p.err.Error()}
	}
	return Ask(p.p, question)
}

// HTML renders the pipeline's description, or its error.
func (p *Pipeline) HTML() string {
	if p.err != nil {
		return tableError(p.chain, p.err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<div><b>%s</b>: %d passages", html.EscapeString(p.name), len(p.ids))
	for _, n := range p.notes {
		b.WriteString("; " + html.EscapeString(n))
	}
	b.WriteString("</div>")
	return b.String()
}

// String renders the pipeline's description as text, or its error.
func (p *Pipeline) String() string {
	if p.err != nil {
		return textError(p.chain, p.err)
	}
	return fmt.Sprintf("%s: %d passages; %s\n", p.name, len(p.ids), strings.Join(p.notes, "; "))
}

// Display shows the pipeline's description.
func (p *Pipeline) Display() { showHTML(p.HTML(), p.String()) }

// ComparePipelines answers the test set's anchors (the first n; 0 = all) with a base and a fine-tuned
// pipeline built over the same corpus and shows them side by side: each one's top sources, where each put the
// gold passage (the anchor's positive), and the answers. With an LLM configured on the fine-tuned pipeline, that
// model also judges every answer of both (workflow.JudgeAnswers) and the summary gives their mean scores.
func ComparePipelines(base, tuned *Pipeline, test *Dataset, n int) *pipeline.Comparison {
	chain := fmt.Sprintf("ComparePipelines(%s, %s)", base.name, tuned.name)
	for _, p := range []*Pipeline{base, tuned} {
		if p.err != nil {
			showError(chain, p.err)
			return nil
		}
	}
	if len(base.ids) != len(tuned.ids) {
		err := fmt.Errorf("the pipelines index different corpora (%d and %d passages)", len(base.ids), len(tuned.ids))
		showError(chain, err)
		return nil
	}
	questions, err := test.Strings("anchor")
	if err == nil && n > 0 && n < len(questions) {
		questions = questions[:n]
	}
	var gold []string
	if err == nil {
		var pos []string
		if pos, err = test.Strings("positive"); err == nil {
			for i := range questions {
				gold = append(gold, base.ids[pos[i]])
			}
		}
	}
	if err != nil {
		showError(chain, err)
		return nil
	}
	ctx, cancel := cellContext()
	defer cancel()
	c, err := pipeline.Compare(ctx, base.p, tuned.p, questions, gold, display.Progress())
	if c != nil && err == nil && tuned.llm.Model != "" {
		// The answering model judges the answers too: answer quality beside the retrieval figures.
		env, eerr := stepEnv()
		if eerr == nil {
			eerr = workflow.JudgeAnswers(ctx, env, c, tuned.llm)
		}
		if eerr != nil {
			err = fmt.Errorf("judging the answers: %w", eerr)
		}
	}
	if c != nil {
		ShowComparison(c)
	}
	if err != nil {
		showHTML(tableError(chain, err), "✗ "+chain+": "+err.Error()+"\n")
	}
	return c
}
