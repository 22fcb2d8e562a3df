package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/teacher"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/workflow"
)

// scoreFlags bind score's flags to the step's options; their defaults are DefaultScoreOptions and
// DefaultTeacher.
type scoreFlags struct {
	llm                      llmFlags
	kind, passages, template string
	o                        workflow.ScoreOptions
	t                        workflow.Teacher
	modelDir                 string
	corpus, corpusField      string
}

func (f *scoreFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultScoreOptions()
	f.registerTeacher(fs)
	fs.StringVar(&f.passages, "passage-columns", strings.Join(def.Passages, ","), "comma-separated columns scored against the query; with several, each gets <column>_score")
	fs.StringVar(&f.o.Column, "score-column", def.Column, "name of the score column (one passage column)")
	fs.StringVar(&f.o.Normalize, "normalize", def.Normalize, "none, minmax (over all scores) or sigmoid (logits to probabilities)")
}

// registerTeacher defines the teacher's flags and --query-column (shared with sample-topn).
func (f *scoreFlags) registerTeacher(fs *flag.FlagSet) {
	def, tdef := workflow.DefaultScoreOptions(), workflow.DefaultTeacher("")
	f.o, f.t = def, tdef
	f.llm.register(fs, tdef.LLM, "llm: the judge's chat model name (required); rerank-api: the rerank model (e.g. rerank-v3.5, jina-reranker-v2-base-multilingual; TEI ignores it)")
	fs.StringVar(&f.kind, "teacher", "", "llm (a chat model judges relevance 0–1), rerank-api (Cohere/Jina/TEI /rerank), embedder (cosine of a bi-encoder's query and passage embeddings), "+
		"cross-encoder (its logit) or hybrid (hybrid retrieval's fused score: BM25 over --teacher-corpus fused with the --model-dir bi-encoder) (required)")
	fs.StringVar(&f.o.Query, "query-column", def.Query, "column holding the queries")
	fs.StringVar(&f.template, "template", "", "llm: file holding the judge prompt, a Go text/template over .Query and .Passage (default: teacher.DefaultJudgeTemplate)")
	fs.StringVar(&f.t.URL, "url", "", "rerank-api: full endpoint URL, e.g. https://api.cohere.com/v2/rerank, https://api.jina.ai/v1/rerank, http://localhost:8080/rerank")
	fs.StringVar(&f.t.Style, "style", tdef.Style, "rerank-api: request shape, cohere (v1), cohere-v2 (Cohere's /v2/rerank exactly: --model required), jina, tei or voyage")
	fs.IntVar(&f.t.BatchSize, "batch-size", tdef.BatchSize, "rerank-api: documents per request (pairs are grouped by query); embedder, cross-encoder: texts per batch")
	fs.BoolVar(&f.t.RawScores, "raw-scores", tdef.RawScores, "rerank-api with --style tei: ask for logits instead of probabilities")
	fs.StringVar(&f.modelDir, "model-dir", "", "embedder / cross-encoder / hybrid: the model directory or Hub id")
	fs.StringVar(&f.corpus, "teacher-corpus", "", "hybrid: table of the passages hybrid retrieval searches (BM25's statistics and each query's candidates) (required with hybrid)")
	fs.StringVar(&f.corpusField, "teacher-corpus-field", "text", "hybrid: passage `column` of --teacher-corpus")
	fs.Float64Var(&f.t.Fusion.Alpha, "hybrid-alpha", tdef.Fusion.Alpha, "hybrid: the weight on the dense scores in [0, 1] (e.g. the one ragnb eval --model hybrid:DIR --dev-fraction chose on dev)")
	fs.IntVar(&f.t.Fusion.Depth, "hybrid-depth", tdef.Fusion.Depth, "hybrid: each run's candidates per query (the scored passages are added to them)")
}

// options are the step's options and its teacher from the flags, the model not opened yet (the judge's
// template read, keys from the environment).
func (f *scoreFlags) options(fs *flag.FlagSet) (workflow.ScoreOptions, workflow.Teacher, error) {
	o, t := f.o, f.t
	o.Passages = splitList(f.passages)
	t.Kind, t.LLM = f.kind, f.llm.o
	var err error
	switch f.kind {
	case workflow.TeacherLLM:
		if t.LLM, err = f.llm.options(); err != nil {
			return o, t, err
		}
		if f.template != "" {
			b, err := os.ReadFile(f.template)
			if err != nil {
				return o, t, err
			}
			t.JudgeTemplate = string(b)
		}
	case workflow.TeacherRerankAPI:
		if t.URL == "" {
			return o, t, usagef("--teacher rerank-api needs --url")
		}
		t.LLM.CacheDir = f.llm.cacheDir("rerank")
		// Only a variable named explicitly is read: a local TEI needs no key, and an OpenAI key must not go
		// to another vendor.
		if flagSet(fs, "api-key-env") {
			if t.LLM.APIKey, err = apiKey(f.llm.keyEnv, ""); err != nil {
				return o, t, err
			}
		}
	case workflow.TeacherEmbedder, workflow.TeacherCrossEncoder, workflow.TeacherHybrid:
		if f.modelDir == "" {
			return o, t, usagef("--teacher %s needs --model-dir", f.kind)
		}
		if f.kind == workflow.TeacherHybrid && f.corpus == "" {
			return o, t, usagef("--teacher hybrid needs --teacher-corpus (the passages hybrid retrieval searches)")
		}
		if a := t.Fusion.Alpha; f.kind == workflow.TeacherHybrid && (!(a >= 0 && a <= 1) || t.Fusion.Depth < 1) {
			return o, t, usagef("--hybrid-alpha %v must be in [0, 1] and --hybrid-depth %d at least 1", a, t.Fusion.Depth)
		}
	default:
		return o, t, usagef("unknown --teacher %q (want llm, rerank-api, embedder, cross-encoder or hybrid)", f.kind)
	}
	return o, t, nil
}

func scoreCmd() *command {
	return &command{
		name:    "score",
		summary: "add teacher relevance scores to a pairs table (LLM judge, rerank API, local bi-encoder or cross-encoder, hybrid retrieval)",
		usage:   "--in pairs.jsonl --teacher llm|rerank-api|embedder|cross-encoder|hybrid --out scored.jsonl [flags]",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			var f scoreFlags
			f.register(fs)
			in := fs.String("in", "", "input table (.jsonl, .json, .csv, .tsv, .parquet) (required)")
			out := fs.String("out", "", "output table (.jsonl, .csv, .tsv): the input with the score column(s) added (required); a failed run leaves it as it was and writes OUT.partial.jsonl (.csv, .tsv) beside it")
			allowFailures := fs.Bool("allow-failures", false, "exit 0, and write --out, even when some pairs could not be scored (they are null in the output)")
			return func(ctx context.Context, std *stdio, args []string) error {
				if err := noArgs("score", args); err != nil {
					return err
				}
				if *in == "" || *out == "" || f.kind == "" {
					return usagef("--in, --out and --teacher are required")
				}
				o, t, env, err := f.start(ctx, std, fs, *out)
				if err != nil {
					return err
				}
				df, err := datasets.Load(*in)
				if err != nil {
					return err
				}
				start := time.Now()
				scored, scoreErr := workflow.Score(ctx, env, workflow.ScoreInput{Frame: df, Teacher: t}, o)
				if scored == nil {
					return scoreErr // nothing scored: a missing column, a bad option, a teacher that returned nothing
				}
				notScored := 0
				var unscored *teacher.UnscoredError
				if errors.As(scoreErr, &unscored) {
					notScored = unscored.Unscored
				}
				complete := scoreErr == nil || (*allowFailures && ctx.Err() == nil)
				written, err := workflow.WriteOutput(scored.Frame, *out, complete)
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "%s in %v; %d pairs not scored; %s\n", written,
					time.Since(start).Round(time.Millisecond), notScored, scored.TeacherStats)
				if !complete {
					return written.Wrap(scoreErr)
				}
				return nil
			}
		},
	}
}

// start checks the output file's format, builds the options and the teacher, and opens a local teacher's
// model (embedder, cross-encoder) in the command's Env.
func (f *scoreFlags) start(ctx context.Context, std *stdio, fs *flag.FlagSet, out string) (workflow.ScoreOptions, workflow.Teacher, workflow.Env, error) {
	var env workflow.Env
	if _, err := datasets.FormatOf(out); err != nil {
		return workflow.ScoreOptions{}, workflow.Teacher{}, env, usagef("%v", err)
	}
	o, t, err := f.options(fs)
	if err != nil {
		return o, t, env, err
	}
	if env, err = stepEnv(std, ""); err != nil {
		return o, t, env, err
	}
	if t.Kind == workflow.TeacherEmbedder || t.Kind == workflow.TeacherCrossEncoder || t.Kind == workflow.TeacherHybrid {
		if t.Model, err = workflow.OpenModel(ctx, env, f.modelDir, encoder.Options{BatchSize: t.BatchSize}); err != nil {
			return o, t, env, err
		}
	}
	if t.Kind == workflow.TeacherHybrid {
		if t.Corpus, err = readTexts(f.corpus, f.corpusField); err != nil {
			return o, t, env, fmt.Errorf("--teacher-corpus: %w", err)
		}
	}
	return o, t, env, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
