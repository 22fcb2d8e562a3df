package prelude

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/workflow"
)

// LlamaIndex is a LlamaIndex EmbeddingQAFinetuneDataset file (what generate_qa_embedding_pairs writes): its
// (query, relevant node) pairs to train on and its IR task (queries, corpus, relevant_docs) to evaluate on.
type LlamaIndex struct {
	path  string
	pairs *Dataset
	set   *workflow.EvalSet
	err   error
}

// LoadLlamaIndex reads an EmbeddingQAFinetuneDataset JSON file (as `ragnb train --data FILE.json` and `ragnb
// eval --llamaindex FILE.json` do).
func LoadLlamaIndex(path string) *LlamaIndex {
	op := fmt.Sprintf("LoadLlamaIndex(%q)", path)
	l := &LlamaIndex{path: path}
	td, err := workflow.LoadTrainingData(path)
	if err == nil && td.Format != workflow.FormatLlamaIndex {
		err = fmt.Errorf("%s is not a LlamaIndex EmbeddingQAFinetuneDataset (want a JSON object with queries, corpus and relevant_docs)", path)
	}
	if err != nil {
		l.err = fmt.Errorf("%s: %w", op, err)
		l.pairs = (&Dataset{name: path, chain: op}).fail(op, err)
		return l
	}
	l.pairs = &Dataset{name: path, chain: op, df: td.Rows}
	if l.set, err = workflow.LlamaIndexEvalSet(path); err != nil {
		l.err = fmt.Errorf("%s: %w", op, err)
	}
	return l
}

// Err is the first error met reading the file.
func (l *LlamaIndex) Err() error { return l.err }

// Pairs are the (anchor, positive) training rows: every query with each of its relevant nodes.
func (l *LlamaIndex) Pairs() *Dataset { return l.pairs }

// Evaluate measures m on the file's task, its corpus searched (workflow.EvaluateModel with hit_rate@k beside
// accuracy@k, keys dim_<d>_cosine_hit_rate@<k>). Zero options take the defaults; opts.Corpus and the column
// names are not used (the file names its corpus).
func (l *LlamaIndex) Evaluate(m *Model, opts EvalOptions) *Metrics {
	name := opts.Name
	if name == "" {
		name = m.Name()
	}
	out := &Metrics{name: name, chain: fmt.Sprintf("LoadLlamaIndex(%q).Evaluate(%s)", l.path, m.Chain())}
	if l.err != nil || m.Err() != nil {
		out.err = l.err
		if out.err == nil {
			out.err = m.Err()
		}
		return out
	}
	return evalOnSet(out, l.set, func(ctx context.Context, env workflow.Env, set *workflow.EvalSet) (*workflow.Evaluated, error) {
		return workflow.EvaluateModel(ctx, env, set, m.handle(), opts.workflow().WithHitRate())
	})
}
