package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/internal/atomicfile"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/workflow"
)

// generateFlags bind generate's flags to the step's options; their defaults are DefaultGenerateOptions and
// DefaultChunkOptions.
type generateFlags struct {
	llm      llmFlags
	o        workflow.GenerateOptions
	chunk    workflow.ChunkOptions
	template string
}

func (g *generateFlags) register(fs *flag.FlagSet) {
	def, cdef := workflow.DefaultGenerateOptions(), workflow.DefaultChunkOptions()
	g.o, g.chunk = def, cdef
	g.llm.register(fs, def.LLM, "chat model name as the endpoint knows it (required), e.g. gpt-4o-mini, llama3.1:8b")
	fs.IntVar(&g.chunk.Tokens, "chunk-tokens", cdef.Tokens, "chunk size in tokens (estimated WordPiece count, see docs.ApproxCounter)")
	fs.IntVar(&g.chunk.Overlap, "overlap", cdef.Overlap, "tokens a chunk repeats from the end of the previous one, at most")
	fs.IntVar(&g.o.QuestionsPerChunk, "questions", def.QuestionsPerChunk, "questions asked per chunk")
	fs.StringVar(&g.template, "template", "", "file holding the user prompt, a Go text/template over .N .Passage .Source .ChunkID .Index (default: synth.DefaultTemplate, which asks for JSON)")
	fs.StringVar(&g.o.System, "system", def.System, `system prompt (default: synth.DefaultSystem; "-" sends none)`)
	fs.BoolVar(&g.o.ExtraColumns, "extra-columns", def.ExtraColumns, "also generate positive_retrieval, negative_retrieval, positive_reranking, negative_reranking (synthetic-data-generator shape)")
	fs.Float64Var(&g.o.MinOverlap, "min-overlap", def.MinOverlap, "answerability check: fraction of a question's content words that must occur in its chunk (0 or negative: off)")
	fs.BoolVar(&g.o.AnswerCheck, "llm-check", def.AnswerCheck, "also ask the same model, as a judge, whether each question is answerable from its chunk")
	fs.Float64Var(&g.o.AnswerCheckMin, "llm-check-min", def.AnswerCheckMin, "judge score (0–1) a question needs with --llm-check")
}

// options are the step's options from the flags (the template read, the key from the environment).
func (g *generateFlags) options() (workflow.GenerateOptions, error) {
	o := g.o
	var err error
	if o.LLM, err = g.llm.options(); err != nil {
		return o, err
	}
	if g.template != "" {
		b, err := os.ReadFile(g.template)
		if err != nil {
			return o, err
		}
		o.Template = string(b)
	}
	return o, nil
}

// generateFormat says whether `ragnb generate --format F --out OUT` writes LlamaIndex JSON (else a table).
func generateFormat(format, out string) (bool, error) {
	switch format {
	case "auto":
		if strings.EqualFold(filepath.Ext(out), ".json") {
			return true, nil
		}
	case "llamaindex":
		return true, nil
	case "table":
	default:
		return false, usagef("--format %q: want auto, table or llamaindex", format)
	}
	if _, err := datasets.FormatOf(out); err != nil {
		return false, usagef("%v", err)
	}
	return false, nil
}

func generateCmd() *command {
	return &command{
		name:    "generate",
		summary: "generate synthetic question/passage pairs from documents with any OpenAI-compatible chat model",
		usage:   "--docs PATH|GLOB --model M --out pairs.jsonl|pairs.json [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var g generateFlags
			g.register(fs)
			docsArg := fs.String("docs", "", "documents: a .txt/.md/.pdf/.docx file, a directory (recursive) or a glob (** allowed) (required)")
			out := fs.String("out", "", "output: a table (.jsonl, .csv, .tsv, .parquet) with columns anchor, positive, answer, source, chunk_id, chunk_index, start, end, or a .json LlamaIndex EmbeddingQAFinetuneDataset (see --format) (required); a failed run leaves it as it was and writes OUT.partial.<ext> beside it")
			format := fs.String("format", "auto", "output format: auto (.json → llamaindex, else a table), table, or llamaindex (the EmbeddingQAFinetuneDataset generate_qa_embedding_pairs writes: queries, corpus of every chunk, relevant_docs, mode text; ids are chunk ids and chunk_id/q<n>)")
			summaryOut := fs.String("summary", "", "write the summary (counts, failed chunks with their errors, request stats, where the rows went) as JSON to this file")
			allowFailures := fs.Bool("allow-failures", false, "exit 0, and write --out, even when some chunks failed (they are listed either way)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("generate", args); err != nil {
					return err
				}
				if *docsArg == "" || *out == "" {
					return usagef("--docs and --out are required")
				}
				llamaIndex, err := generateFormat(*format, *out)
				if err != nil {
					return err
				}
				o, err := g.options()
				if err != nil {
					return err
				}
				// The chat answers are cached by the llm client; the whole table is not memoised here, so the
				// summary always accounts for this run.
				env := workflow.Env{Progress: progressTo(std)}
				loaded, err := workflow.LoadDocuments(ctx, env, workflow.LoadInput{Pattern: *docsArg})
				if err != nil {
					return err
				}
				if loaded.Unreadable != nil {
					fmt.Fprintf(std.err, "warning: %v\n", loaded.Unreadable) // the readable documents go on
				}
				chunked, err := workflow.Chunk(ctx, env, workflow.ChunkInput{Documents: loaded.Documents}, g.chunk)
				if err != nil {
					return err
				}
				chunks := chunked.Chunks
				fmt.Fprintf(std.err, "%d documents, %d chunks of ≤ %d tokens; asking %s for %d questions each\n",
					len(loaded.Documents), len(chunks), g.chunk.Tokens, o.LLM.Model, o.QuestionsPerChunk)

				res, genErr := workflow.Generate(ctx, env, workflow.GenerateInput{Chunks: chunks}, o)
				if res == nil {
					return genErr // nothing asked: a client that could not be made
				}
				sum := res.Summary
				if genErr == nil && len(sum.Failed) > 0 && !*allowFailures {
					genErr = fmt.Errorf("%d of %d chunks failed (listed above; a re-run asks only for them, answers are cached)", len(sum.Failed), len(chunks))
				}
				var written workflow.Output
				what := "pairs"
				if llamaIndex {
					var ds *ir.Dataset
					if ds, err = workflow.GeneratedLlamaIndex(res.Frame, chunks); err != nil {
						return err
					}
					what = fmt.Sprintf("queries over %d chunk nodes (LlamaIndex EmbeddingQAFinetuneDataset)", len(ds.Corpus))
					written, err = workflow.WriteLlamaIndexOutput(ds, *out, genErr == nil)
				} else {
					written, err = workflow.WriteOutput(res.Frame, *out, genErr == nil)
				}
				if err != nil {
					return err
				}
				if written.Partial {
					fmt.Fprintf(std.out, "%s\n%s\n", written, sum)
				} else {
					fmt.Fprintf(std.out, "wrote %d %s to %s\n%s\n", written.Rows, what, written.Path, sum)
				}
				if *summaryOut != "" {
					b, _ := json.MarshalIndent(struct {
						synth.Summary
						Output workflow.Output `json:"output"`
					}{sum, written}, "", "  ")
					if err := atomicfile.WriteBytesMode(*summaryOut, append(b, '\n'), 0o644); err != nil {
						return err
					}
				}
				return written.Wrap(genErr)
			}
		},
	}
}
