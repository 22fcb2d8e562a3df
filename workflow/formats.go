package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/documents"
	"github.com/ragnb/ragnb/ir"
)

// The training-file formats LoadTrainingData recognises.
const (
	// FormatTable is a table of named columns (anchor, positive, negative_1…), as datasets.Load reads it.
	FormatTable = "table"
	// FormatLlamaIndex is LlamaIndex's EmbeddingQAFinetuneDataset JSON (queries, corpus, relevant_docs, mode).
	FormatLlamaIndex = "llamaindex"
)

// TrainingData is a training file read as (anchor, positive[, negatives…]) rows, whatever its format.
type TrainingData struct {
	// Rows are the training rows; ID their content identity (datasets.Hash).
	Rows dataframe.DataFrame
	ID   string
	// Format is how the file was read (FormatTable, FormatLlamaIndex).
	Format string
	// LlamaIndex is the file as an IR task when Format is FormatLlamaIndex (its corpus is the search corpus).
	LlamaIndex *ir.Dataset
}

// LoadTrainingData reads a training file, detecting the format by its content: a JSON object with
// "queries", "corpus" and "relevant_docs" is a LlamaIndex EmbeddingQAFinetuneDataset, whose every (query,
// relevant node) becomes an (anchor, positive) row, as SentenceTransformersFinetuneEngine trains on it;
// anything else is a table (datasets.Load).
func LoadTrainingData(path string) (*TrainingData, error) {
	if isLlamaIndex(path) {
		ds, err := ir.LoadLlamaIndex(path)
		if err != nil {
			return nil, err
		}
		df := LlamaIndexPairs(ds)
		return &TrainingData{Rows: df, ID: datasets.Hash(df), Format: FormatLlamaIndex, LlamaIndex: ds}, nil
	}
	df, err := datasets.Load(path)
	if err != nil {
		return nil, err
	}
	return &TrainingData{Rows: df, ID: datasets.Hash(df), Format: FormatTable}, nil
}

// isLlamaIndex reports whether path is a JSON object with LlamaIndex's three keys.
func isLlamaIndex(path string) bool {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	for _, k := range []string{"queries", "corpus", "relevant_docs"} {
		if _, ok := top[k]; !ok {
			return false
		}
	}
	return true
}

// LlamaIndexPairs are ds's (query, relevant node) pairs as (anchor, positive) rows: queries in the file's
// order, each query's nodes in corpus order.
func LlamaIndexPairs(ds *ir.Dataset) dataframe.DataFrame {
	pos := make(map[string]int, len(ds.Corpus))
	for i, d := range ds.Corpus {
		pos[d.ID] = i
	}
	var anchors, positives []string
	for _, q := range ds.Queries {
		var nodes []int
		for id := range ds.Qrels.Relevant(q.ID) {
			nodes = append(nodes, pos[id])
		}
		slices.Sort(nodes)
		for _, n := range nodes {
			anchors = append(anchors, q.Text)
			positives = append(positives, ds.Corpus[n].Content())
		}
	}
	def := DefaultTrainOptions()
	return dataframe.New(series.New(anchors, series.String, def.Anchor), series.New(positives, series.String, def.Positive))
}

// LlamaIndexEvalSet is a LlamaIndex EmbeddingQAFinetuneDataset file as an evaluation set: its queries, its
// corpus as the search corpus, its relevant_docs as the judgements; keyed by the file's content.
func LlamaIndexEvalSet(path string) (*EvalSet, error) {
	ds, err := ir.LoadLlamaIndex(path)
	if err != nil {
		return nil, err
	}
	id, err := cache.HashFile(path)
	if err != nil {
		return nil, err
	}
	return &EvalSet{Dataset: ds, Inputs: []string{id}, Params: map[string]any{"format": FormatLlamaIndex},
		Name: fmt.Sprintf("LlamaIndex %s: %d queries, %d nodes", filepath.Base(path), len(ds.Queries), len(ds.Corpus))}, nil
}

// WithHitRate is o with LlamaIndex's hit_rate@k beside every accuracy@k (keys dim_<d>_cosine_hit_rate@<k>):
// the metric LlamaIndex's evaluation reports, under its name.
func (o EvalOptions) WithHitRate() EvalOptions {
	o.Metrics.HitRate = true
	return o
}

// LlamaIndexNode is one node of a LlamaIndex corpus: its id and text.
type LlamaIndexNode struct{ ID, Text string }

// LlamaIndexDataset is generated (query, chunk) pairs as the EmbeddingQAFinetuneDataset LlamaIndex's
// generate_qa_embedding_pairs builds: corpus holds every node given (a chunk that yielded no question is
// still a node to search), queries the questions, relevant_docs each question's one node. nodeIDs[i] names
// the node of question i (for generated pairs their chunk_id); nodes nil makes the corpus the distinct
// (nodeID, positive) pairs.
//
// LlamaIndex names each question with a random uuid4. Here a question's id is its node's id and its rank among
// that node's questions ("report.pdf#3/q2"): a re-run over cached answers writes the same file byte for byte,
// the step cache keys stay stable, and an id says which chunk a question came from.
func LlamaIndexDataset(anchors, positives, nodeIDs []string, nodes []LlamaIndexNode) (*ir.Dataset, error) {
	if len(anchors) != len(positives) || len(anchors) != len(nodeIDs) {
		return nil, fmt.Errorf("llamaindex: %d questions, %d passages, %d node ids", len(anchors), len(positives), len(nodeIDs))
	}
	ds := &ir.Dataset{Qrels: ir.Qrels{}}
	text := map[string]string{}
	add := func(id, t string) error {
		if prev, ok := text[id]; ok {
			if prev != t {
				return fmt.Errorf("llamaindex: node %q has two different texts", id)
			}
			return nil
		}
		text[id] = t
		ds.Corpus = append(ds.Corpus, ir.Document{ID: id, Text: t})
		return nil
	}
	for _, n := range nodes {
		if err := add(n.ID, n.Text); err != nil {
			return nil, err
		}
	}
	perNode := map[string]int{}
	for i, q := range anchors {
		id := nodeIDs[i]
		if id == "" {
			return nil, fmt.Errorf("llamaindex: row %d has no node id", i+1)
		}
		if nodes == nil {
			if err := add(id, positives[i]); err != nil {
				return nil, err
			}
		} else if t, ok := text[id]; !ok {
			return nil, fmt.Errorf("llamaindex: row %d names node %q, which the corpus lacks", i+1, id)
		} else if t != positives[i] {
			return nil, fmt.Errorf("llamaindex: row %d: its passage is not the text of node %q", i+1, id)
		}
		perNode[id]++
		qid := fmt.Sprintf("%s/q%d", id, perNode[id])
		ds.Queries = append(ds.Queries, ir.Query{ID: qid, Text: q})
		ds.Qrels.Add(qid, id, 1)
	}
	return ds, nil
}

// GeneratedLlamaIndex is Generate's table over chunks as a LlamaIndexDataset: every chunk a node (its
// chunk_id, its text), every generated question a query relevant to its chunk.
func GeneratedLlamaIndex(df dataframe.DataFrame, chunks []documents.Chunk) (*ir.Dataset, error) {
	cols := map[string][]string{}
	for _, c := range []string{"anchor", "positive", "chunk_id"} {
		v, err := datasets.Strings(df, c)
		if err != nil {
			return nil, fmt.Errorf("llamaindex: %w", err)
		}
		cols[c] = v
	}
	return LlamaIndexDataset(cols["anchor"], cols["positive"], cols["chunk_id"], ChunkNodes(chunks))
}

// ChunkNodes are chunks as LlamaIndex corpus nodes (their chunk_id, their text); nil for nil.
func ChunkNodes(chunks []documents.Chunk) []LlamaIndexNode {
	if chunks == nil {
		return nil
	}
	nodes := make([]LlamaIndexNode, len(chunks))
	for i, c := range chunks {
		nodes[i] = LlamaIndexNode{ID: c.ID, Text: c.Text}
	}
	return nodes
}
