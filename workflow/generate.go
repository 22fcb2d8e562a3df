package workflow

import (
	"context"
	"errors"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/data/synth"
	"github.com/ragnb/ragnb/data/teacher"
)

// GenerateOptions configure Generate: what to ask for each chunk and of which chat model. See package synth.
type GenerateOptions struct {
	// QuestionsPerChunk is N.
	QuestionsPerChunk int `json:"questions_per_chunk"`
	// System and Template replace synth.DefaultSystem and synth.DefaultTemplate ("" keeps them; System "-"
	// sends none).
	System   string `json:"system"`
	Template string `json:"template"`
	// ExtraColumns also asks for negative_retrieval, positive_reranking and negative_reranking.
	ExtraColumns bool `json:"extra_columns"`
	// MinOverlap is the answerability check: the share of a question's content words found in its chunk
	// (0 or negative: off).
	MinOverlap float64 `json:"min_overlap"`
	// AnswerCheck also asks the same model, as a judge, whether each question is answerable from its chunk;
	// questions scoring below AnswerCheckMin are dropped.
	AnswerCheck    bool    `json:"answer_check"`
	AnswerCheckMin float64 `json:"answer_check_min"`
	// LLM is the chat model asked.
	LLM LLMOptions `json:"llm"`
}

// DefaultGenerateOptions are the generation defaults of `ragnb generate` and the prelude's GenerateQA: 3
// questions per chunk, the answerability threshold 0.25 (97.3% of the shared financial set's true pairs pass
// it and 5.9% of mismatched ones), the judge off (threshold 0.5 when on), and DefaultLLMOptions at
// temperature 0.7 — the command line's value and what the prelude documented; the prelude sent 0, which
// makes the N questions of a chunk near-copies of each other.
func DefaultGenerateOptions() GenerateOptions {
	l := DefaultLLMOptions()
	l.Temperature = 0.7
	return GenerateOptions{QuestionsPerChunk: 3, MinOverlap: 0.25, AnswerCheckMin: 0.5, LLM: l}
}

// GenerateInput is what Generate asks about.
type GenerateInput struct {
	Chunks []documents.Chunk
	// DataID is the content identity of the chunk table (its datasets.Hash) for the cache key; "" does not
	// memoise the table (the chat answers are cached either way).
	DataID string
}

// Generated is Generate's outcome.
type Generated struct {
	// Frame is the (anchor, positive) pairs with their provenance (synth.Frame).
	Frame dataframe.DataFrame
	// Summary accounts for every requested question (zero when Cached).
	Summary synth.Summary
	// Cached says the table came from the step cache.
	Cached bool
}

// Generate asks the chat model for N questions per chunk and returns the (anchor, positive) pairs with their
// provenance. Every answer is cached by the llm package, so a re-run pays for nothing twice; with a DataID and
// a cache the complete table is also memoised (step "generate-qa", the prelude's key). A table with failed
// chunks (listed in the Summary) is returned but not memoised, so the next run retries just those. After an
// interrupt, or when every chunk failed, the result holds what was produced and the error says why.
func Generate(ctx context.Context, env Env, in GenerateInput, o GenerateOptions) (*Generated, error) {
	client, err := o.LLM.Client()
	if err != nil {
		return nil, err
	}
	cfg := synth.Config{QuestionsPerChunk: o.QuestionsPerChunk, System: o.System, Template: o.Template,
		ExtraColumns: o.ExtraColumns, MinOverlap: o.MinOverlap, AnswerCheckMin: o.AnswerCheckMin}
	if o.MinOverlap <= 0 {
		cfg.MinOverlap = -1 // synth: 0 is its default, negative off
	}
	if o.AnswerCheck {
		cfg.AnswerCheck = &teacher.LLMJudge{Client: client}
	}
	out := &Generated{}
	var runErr error
	compute := func(ctx context.Context) (dataframe.DataFrame, bool, error) {
		rows, sum, err := synth.GenerateQA(ctx, client, in.Chunks, cfg, env.Progress)
		out.Summary, out.Frame = sum, synth.Frame(rows, o.ExtraColumns)
		if err != nil {
			runErr = err
			return out.Frame, false, err
		}
		return out.Frame, len(sum.Failed) == 0, nil
	}
	if in.DataID == "" || env.Cache == nil {
		_, _, err := compute(ctx)
		return out, err
	}
	key := cache.Key{Step: "generate-qa", Version: 1, Inputs: []string{in.DataID},
		Params: map[string]any{"llm": o.LLM.identity(), "qa": o.keyParams()}}
	df, hit, err := env.memoTable(ctx, key, compute)
	if runErr != nil {
		return out, runErr
	}
	if err != nil {
		return nil, err
	}
	out.Frame, out.Cached = df, hit
	return out, nil
}

// keyParams are the options in the shape of the prelude's cache keys, which held its QAOptions with zero for
// every default, so that the tables users generated before stay cached.
func (o GenerateOptions) keyParams() any {
	def := DefaultGenerateOptions()
	k := struct {
		QuestionsPerChunk int
		System, Template  string
		ExtraColumns      bool
		MinOverlap        float64
		AnswerCheck       bool    `json:",omitempty"`
		AnswerCheckMin    float64 `json:",omitempty"`
	}{o.QuestionsPerChunk, o.System, o.Template, o.ExtraColumns, o.MinOverlap, o.AnswerCheck, 0}
	if k.QuestionsPerChunk == def.QuestionsPerChunk {
		k.QuestionsPerChunk = 0
	}
	switch {
	case k.MinOverlap == def.MinOverlap:
		k.MinOverlap = 0
	case k.MinOverlap <= 0:
		k.MinOverlap = -1
	}
	if o.AnswerCheck {
		k.AnswerCheckMin = o.AnswerCheckMin
	}
	return k
}

// errIncomplete marks a table that is returned but not memoised.
var errIncomplete = errors.New("incomplete result")

// memoTable memoises a table-producing computation under key. compute says whether its table is complete; an
// incomplete one is returned without being stored, so the next run computes again what was missing. Without
// a cache compute runs directly.
func (e Env) memoTable(ctx context.Context, key cache.Key, compute func(ctx context.Context) (df dataframe.DataFrame, complete bool, err error)) (dataframe.DataFrame, bool, error) {
	var df dataframe.DataFrame
	var incomplete bool
	hit, err := e.memo(ctx, key, func(ctx context.Context, dir string) error {
		out, complete, err := compute(ctx)
		df = out
		if err != nil {
			return err
		}
		if !complete {
			incomplete = true
			return errIncomplete
		}
		if dir == "" {
			return nil
		}
		return SaveTable(dir, out)
	}, func(dir string) (err error) {
		df, err = LoadTable(dir)
		return err
	})
	if incomplete {
		return df, false, nil
	}
	if err != nil {
		return df, hit, err
	}
	return df, hit, nil
}
