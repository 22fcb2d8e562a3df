package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/data/teacher"
)

func generateCmd() *command {
	return &command{
		name:    "generate",
		summary: "generate synthetic question/passage pairs from documents with any OpenAI-compatible chat model",
		usage:   "--docs PATH|GLOB --model M --out pairs.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var lf llmFlags
			lf.register(fs, 0.7, "chat model name as the endpoint knows it (required), e.g. gpt-4o-mini, llama3.1:8b")
			docsArg := fs.String("docs", "", "documents: a .txt/.md/.pdf/.docx file, a directory (recursive) or a glob (** allowed) (required)")
			out := fs.String("out", "", "output table: .jsonl, .csv or .tsv with columns anchor, positive, answer, source, chunk_id, chunk_index, start, end (required)")
			chunkTokens := fs.Int("chunk-tokens", 256, "chunk size in tokens (estimated WordPiece count, see docs.ApproxCounter)")
			overlap := fs.Int("overlap", 32, "tokens a chunk repeats from the end of the previous one, at most")
			questions := fs.Int("questions", 3, "questions asked per chunk")
			template := fs.String("template", "", "file holding the user prompt, a Go text/template over .N .Passage .Source .ChunkID .Index (default: synth.DefaultTemplate, which asks for JSON)")
			system := fs.String("system", "", `system prompt (default: synth.DefaultSystem; "-" sends none)`)
			extra := fs.Bool("extra-columns", false, "also generate positive_retrieval, negative_retrieval, positive_reranking, negative_reranking (synthetic-data-generator shape)")
			minOverlap := fs.Float64("min-overlap", 0.25, "answerability check: fraction of a question's content words that must occur in its chunk (negative: off)")
			llmCheck := fs.Bool("llm-check", false, "also ask the same model, as a judge, whether each question is answerable from its chunk")
			llmCheckMin := fs.Float64("llm-check-min", 0.5, "judge score (0–1) a question needs with --llm-check")
			summaryOut := fs.String("summary", "", "write the summary (counts, failed chunks with their errors, request stats) as JSON to this file")
			allowFailures := fs.Bool("allow-failures", false, "exit 0 even when some chunks failed (they are listed either way)")
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
				client, err := lf.client()
				if err != nil {
					return err
				}
				cfg := synth.Config{QuestionsPerChunk: *questions, System: *system, ExtraColumns: *extra,
					MinOverlap: *minOverlap, AnswerCheckMin: *llmCheckMin}
				if *minOverlap == 0 {
					cfg.MinOverlap = -1 // 0 in the library means the default
				}
				if *template != "" {
					b, err := os.ReadFile(*template)
					if err != nil {
						return err
					}
					cfg.Template = string(b)
				}
				if *llmCheck {
					cfg.AnswerCheck = &teacher.LLMJudge{Client: client}
				}

				ds, loadErr := documents.Load(*docsArg)
				if loadErr != nil {
					if len(ds) == 0 {
						return loadErr
					}
					fmt.Fprintf(std.err, "warning: %v\n", loadErr) // the readable documents go on
				}
				chunks, err := documents.ChunkAll(ds, documents.ChunkConfig{Tokens: *chunkTokens, Overlap: *overlap})
				if err != nil {
					return err
				}
				fmt.Fprintf(std.err, "%d documents, %d chunks of ≤ %d tokens; asking %s for %d questions each\n",
					len(ds), len(chunks), *chunkTokens, client.Model(), *questions)

				rows, sum, genErr := synth.GenerateQA(ctx, client, chunks, cfg, progressTo(std))
				// Whatever was produced is written, even after an interrupt.
				if err := datasets.Save(synth.Frame(rows, *extra), *out); err != nil {
					return err
				}
				fmt.Fprintf(std.out, "wrote %d pairs to %s\n%s\n", len(rows), *out, sum)
				if *summaryOut != "" {
					b, _ := json.MarshalIndent(sum, "", "  ")
					if err := os.WriteFile(*summaryOut, append(b, '\n'), 0o644); err != nil {
						return err
					}
				}
				if genErr != nil {
					return genErr
				}
				if len(sum.Failed) > 0 && !*allowFailures {
					return fmt.Errorf("%d of %d chunks failed (listed above; a re-run asks only for them, answers are cached)", len(sum.Failed), len(chunks))
				}
				return nil
			}
		},
	}
}
