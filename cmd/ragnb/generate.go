package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/internal/atomicfile"
	"github.com/ragnb/ragnb/workflow"
)

func generateCmd() *command {
	return &command{
		name:    "generate",
		summary: "generate synthetic question/passage pairs from documents with any OpenAI-compatible chat model",
		usage:   "--docs PATH|GLOB --model M --out pairs.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			def, cdef := workflow.DefaultGenerateOptions(), workflow.DefaultChunkOptions()
			var lf llmFlags
			lf.register(fs, def.LLM, "chat model name as the endpoint knows it (required), e.g. gpt-4o-mini, llama3.1:8b")
			docsArg := fs.String("docs", "", "documents: a .txt/.md/.pdf/.docx file, a directory (recursive) or a glob (** allowed) (required)")
			out := fs.String("out", "", "output table: .jsonl, .csv or .tsv with columns anchor, positive, answer, source, chunk_id, chunk_index, start, end (required); a failed run leaves it as it was and writes OUT.partial.jsonl (.csv, .tsv) beside it")
			chunkTokens := fs.Int("chunk-tokens", cdef.Tokens, "chunk size in tokens (estimated WordPiece count, see docs.ApproxCounter)")
			overlap := fs.Int("overlap", cdef.Overlap, "tokens a chunk repeats from the end of the previous one, at most")
			questions := fs.Int("questions", def.QuestionsPerChunk, "questions asked per chunk")
			template := fs.String("template", "", "file holding the user prompt, a Go text/template over .N .Passage .Source .ChunkID .Index (default: synth.DefaultTemplate, which asks for JSON)")
			system := fs.String("system", def.System, `system prompt (default: synth.DefaultSystem; "-" sends none)`)
			extra := fs.Bool("extra-columns", def.ExtraColumns, "also generate positive_retrieval, negative_retrieval, positive_reranking, negative_reranking (synthetic-data-generator shape)")
			minOverlap := fs.Float64("min-overlap", def.MinOverlap, "answerability check: fraction of a question's content words that must occur in its chunk (0 or negative: off)")
			llmCheck := fs.Bool("llm-check", def.AnswerCheck, "also ask the same model, as a judge, whether each question is answerable from its chunk")
			llmCheckMin := fs.Float64("llm-check-min", def.AnswerCheckMin, "judge score (0–1) a question needs with --llm-check")
			summaryOut := fs.String("summary", "", "write the summary (counts, failed chunks with their errors, request stats, where the rows went) as JSON to this file")
			allowFailures := fs.Bool("allow-failures", false, "exit 0, and write --out, even when some chunks failed (they are listed either way)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("generate", args); err != nil {
					return err
				}
				if *docsArg == "" || *out == "" {
					return usagef("--docs and --out are required")
				}
				if _, err := datasets.FormatOf(*out); err != nil {
					return usagef("%v", err)
				}
				o := def
				var err error
				if o.LLM, err = lf.options(); err != nil {
					return err
				}
				o.QuestionsPerChunk, o.System, o.ExtraColumns = *questions, *system, *extra
				o.MinOverlap, o.AnswerCheck, o.AnswerCheckMin = *minOverlap, *llmCheck, *llmCheckMin
				if *template != "" {
					b, err := os.ReadFile(*template)
					if err != nil {
						return err
					}
					o.Template = string(b)
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
				chunked, err := workflow.Chunk(ctx, env, workflow.ChunkInput{Documents: loaded.Documents},
					workflow.ChunkOptions{Tokens: *chunkTokens, Overlap: *overlap})
				if err != nil {
					return err
				}
				chunks := chunked.Chunks
				fmt.Fprintf(std.err, "%d documents, %d chunks of ≤ %d tokens; asking %s for %d questions each\n",
					len(loaded.Documents), len(chunks), *chunkTokens, o.LLM.Model, o.QuestionsPerChunk)

				g, genErr := workflow.Generate(ctx, env, workflow.GenerateInput{Chunks: chunks}, o)
				if g == nil {
					return genErr // nothing asked: a bad template, a client that could not be made
				}
				sum := g.Summary
				if genErr == nil && len(sum.Failed) > 0 && !*allowFailures {
					genErr = fmt.Errorf("%d of %d chunks failed (listed above; a re-run asks only for them, answers are cached)", len(sum.Failed), len(chunks))
				}
				written, err := workflow.WriteOutput(g.Frame, *out, genErr == nil)
				if err != nil {
					return err
				}
				if written.Partial {
					fmt.Fprintf(std.out, "%s\n%s\n", written, sum)
				} else {
					fmt.Fprintf(std.out, "wrote %d pairs to %s\n%s\n", written.Rows, written.Path, sum)
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
