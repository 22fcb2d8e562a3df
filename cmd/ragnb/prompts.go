package main

import (
	"flag"

	"github.com/ragnb/ragnb/workflow"
)

// queryInstructionFlags set or remove a bi-encoder's query instruction, overriding the "query" prompt of the
// model directory's config_sentence_transformers.json (workflow.QueryInstruction).
type queryInstructionFlags struct {
	instruction string
	none        bool
}

func (q *queryInstructionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.instruction, "query-instruction", "", "put this `instruction` before every query, instead of the model's query prompt "+
		"(e.g. \"Represent this sentence for searching relevant passages: \")")
	fs.BoolVar(&q.none, "no-query-instruction", false, "embed queries without the model's query prompt")
}

// prompts are the encoder prompt overrides the flags ask for (nil: the model's).
func (q *queryInstructionFlags) prompts() (map[string]string, error) {
	p, err := workflow.QueryInstruction(q.instruction, q.none)
	if err != nil {
		return nil, usagef("--query-instruction, --no-query-instruction: %v", err)
	}
	return p, nil
}
