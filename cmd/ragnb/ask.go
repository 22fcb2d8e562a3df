package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/pipeline"
)

func askCmd() *command {
	return &command{
		name:    "ask",
		summary: "answer questions over a corpus: retrieve → rerank → prompt → chat model, with sources and timings",
		usage: "(--index DIR [--model DIR] | --model DIR --corpus FILE | --weaviate URL --collection NAME --model DIR [--hybrid[=ALPHA]]\n" +
			"       | --bm25 --corpus FILE) [--reranker DIR]\n" +
			"       [--llm-model NAME --base-url URL ...] [flags] QUESTION... | --questions FILE",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &pipelineFlags{}
			f.register(fs)
			questionsFile := fs.String("questions", "", "`file` of questions: .txt (one per line) or a table with a question column")
			questionCol := fs.String("question-column", "question", "column of --questions tables holding the questions")
			asJSON := fs.Bool("json", false, "print one JSON answer per line (question, answer, sources, cited, timings, prompt, error) instead of text")
			showPrompt := fs.Bool("show-prompt", false, "text output: also print the prompt sent to the model")
			return func(ctx context.Context, std *stdio, args []string) error {
				questions := args
				if *questionsFile != "" {
					if len(args) > 0 {
						return usagef("give questions as arguments or with --questions, not both")
					}
					qs, err := readQuestions(*questionsFile, *questionCol)
					if err != nil {
						return err
					}
					questions = qs
				}
				if len(questions) == 0 {
					return usagef("no question given")
				}
				p, _, err := f.build(ctx, std)
				if err != nil {
					return err
				}
				out := askOutput{w: std.out, json: *asJSON, showPrompt: *showPrompt}
				var failed int
				if *questionsFile != "" {
					answers, err := p.AskMany(ctx, questions, 0, progressTo(std))
					for _, a := range answers {
						out.answer(a, false)
					}
					if err != nil {
						failed = countErrors(answers)
					}
				} else {
					for _, q := range questions {
						var onDelta func(string)
						if !*asJSON {
							fmt.Fprintf(std.out, "Q: %s\n", q)
							onDelta = func(d string) { io.WriteString(std.out, d) }
						}
						a, err := p.AskStream(ctx, q, onDelta)
						out.answer(a, !*asJSON)
						if err != nil {
							failed++
							fmt.Fprintf(std.err, "ragnb ask: %v\n", err)
						}
						if ctx.Err() != nil {
							break
						}
					}
				}
				if failed > 0 {
					return fmt.Errorf("%d of %d questions failed (their sources are printed above)", failed, len(questions))
				}
				return nil
			}
		},
	}
}

func countErrors(answers []pipeline.Answer) int {
	n := 0
	for _, a := range answers {
		if a.Error != "" {
			n++
		}
	}
	return n
}

// readQuestions reads one question per line from a .txt file, else the question column of a table.
func readQuestions(path, column string) ([]string, error) {
	if strings.HasSuffix(strings.ToLower(path), ".txt") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var qs []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if q := strings.TrimSpace(sc.Text()); q != "" {
				qs = append(qs, q)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return qs, nil
	}
	df, err := datasets.Load(path)
	if err != nil {
		return nil, err
	}
	qs, err := datasets.Strings(df, column)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return qs, nil
}

type askOutput struct {
	w          io.Writer
	json       bool
	showPrompt bool
}

// answer prints one answer; streamed says the answer text was already written as it arrived.
func (o askOutput) answer(a pipeline.Answer, streamed bool) {
	if o.json {
		b, _ := json.Marshal(a)
		o.w.Write(append(b, '\n'))
		return
	}
	if !streamed {
		fmt.Fprintf(o.w, "Q: %s\n%s", a.Question, a.Text)
	}
	if a.Text != "" {
		fmt.Fprintln(o.w)
	}
	if a.Error != "" {
		fmt.Fprintf(o.w, "error: %s\n", a.Error)
	}
	if o.showPrompt && a.Prompt != "" {
		fmt.Fprintf(o.w, "\nPrompt:\n%s\n", a.Prompt)
	}
	fmt.Fprint(o.w, pipeline.SourcesText(a))
	fmt.Fprintf(o.w, "timings: %s\n\n", pipeline.TimingsText(a.Timings))
}
