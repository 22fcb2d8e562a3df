package prelude

import (
	"context"
	"fmt"
	"slices"

	"github.com/ragnb/ragnb/ir"
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

// SaveLlamaIndex writes the pairs as the EmbeddingQAFinetuneDataset JSON LlamaIndex's
// generate_qa_embedding_pairs writes (queries, corpus, relevant_docs, mode "text"), which `ragnb train --data`,
// `ragnb eval --llamaindex`, LoadLlamaIndex and LlamaIndex's own from_json read. A GenerateQA table's nodes
// are its chunks (chunk_id); give the Chunk table it came from as chunks to make every chunk a node, as
// LlamaIndex does (a chunk without a question still competes in retrieval), or nil for its positives only.
// Pairs without a chunk_id column number their distinct positives n0, n1, …. Query ids are
// "<node id>/q<n>" (LlamaIndex draws uuid4s): the same table writes the same file.
func (d *Dataset) SaveLlamaIndex(path string, chunks *Dataset) error {
	if d.err != nil {
		return fmt.Errorf("save %s: %w", path, d.err)
	}
	def := workflow.DefaultTrainOptions()
	anchors, err := d.Strings(def.Anchor)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	positives, err := d.Strings(def.Positive)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	var ids []string
	if slices.Contains(d.Columns(), "chunk_id") {
		ids = d.Column("chunk_id")
	} else {
		seen := map[string]string{}
		for _, p := range positives {
			if _, ok := seen[p]; !ok {
				seen[p] = fmt.Sprintf("n%d", len(seen))
			}
			ids = append(ids, seen[p])
		}
	}
	var nodes []workflow.LlamaIndexNode
	if chunks != nil {
		if chunks.Err() != nil {
			return fmt.Errorf("save %s: chunks: %w", path, chunks.Err())
		}
		cs, err := workflow.ChunksFromFrame(chunks.Frame())
		if err != nil {
			return fmt.Errorf("save %s: chunks: %w", path, err)
		}
		nodes = workflow.ChunkNodes(cs)
	}
	ds, err := workflow.LlamaIndexDataset(anchors, positives, ids, nodes)
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return ir.SaveLlamaIndex(ds, path)
}
