package ir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ragnb/ragnb/internal/atomicfile"
)

// LlamaIndex's EmbeddingQAFinetuneDataset, the JSON that generate_qa_embedding_pairs writes and
// SentenceTransformersFinetuneEngine and its evaluation read:
//
//	{"queries": {qid: text}, "corpus": {node_id: text}, "relevant_docs": {qid: [node_id, …]}, "mode": "text"}
//
// Its corpus is the search corpus; each relevant node is a positive of its query.

// LoadLlamaIndex reads an EmbeddingQAFinetuneDataset JSON file as a Dataset, keeping the file's order of
// queries and nodes. Only mode "text" (the default, and what generate_qa_embedding_pairs writes) is accepted.
func LoadLlamaIndex(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Queries      orderedStrings      `json:"queries"`
		Corpus       orderedStrings      `json:"corpus"`
		RelevantDocs map[string][]string `json:"relevant_docs"`
		Mode         *string             `json:"mode"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("LlamaIndex dataset %s: %w", path, err)
	}
	if doc.Mode != nil && *doc.Mode != "text" {
		return nil, fmt.Errorf("LlamaIndex dataset %s: mode %q, only \"text\" is supported", path, *doc.Mode)
	}
	if len(doc.Queries.keys) == 0 || len(doc.Corpus.keys) == 0 {
		return nil, fmt.Errorf("LlamaIndex dataset %s: want non-empty \"queries\" and \"corpus\" objects", path)
	}
	ds := &Dataset{Qrels: Qrels{}}
	for _, id := range doc.Corpus.keys {
		ds.Corpus = append(ds.Corpus, Document{ID: id, Text: doc.Corpus.values[id]})
	}
	for _, id := range doc.Queries.keys {
		ds.Queries = append(ds.Queries, Query{ID: id, Text: doc.Queries.values[id]})
	}
	for qid, nodes := range doc.RelevantDocs {
		if _, ok := doc.Queries.values[qid]; !ok {
			return nil, fmt.Errorf("LlamaIndex dataset %s: relevant_docs names query %q, which \"queries\" lacks", path, qid)
		}
		for _, n := range nodes {
			if _, ok := doc.Corpus.values[n]; !ok {
				return nil, fmt.Errorf("LlamaIndex dataset %s: query %q: relevant node %q is not in \"corpus\"", path, qid, n)
			}
			ds.Qrels.Add(qid, n, 1)
		}
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("LlamaIndex dataset %s: %w", path, err)
	}
	return ds, nil
}

// SaveLlamaIndex writes ds as an EmbeddingQAFinetuneDataset JSON file (indented by 4 as save_json writes it).
// Titles are not part of the format: a document's Content (title and text) is its node text.
func SaveLlamaIndex(ds *Dataset, path string) error {
	var buf bytes.Buffer
	writeObject := func(name string, n int, key func(i int) string, value func(i int) any) error {
		fmt.Fprintf(&buf, "    %q: {", name)
		for i := 0; i < n; i++ {
			k, _ := json.Marshal(key(i))
			v, err := json.Marshal(value(i))
			if err != nil {
				return err
			}
			sep := ","
			if i == n-1 {
				sep = ""
			}
			fmt.Fprintf(&buf, "\n        %s: %s%s", k, v, sep)
		}
		if n > 0 {
			buf.WriteString("\n    ")
		}
		buf.WriteString("},\n")
		return nil
	}
	buf.WriteString("{\n")
	if err := writeObject("queries", len(ds.Queries), func(i int) string { return ds.Queries[i].ID },
		func(i int) any { return ds.Queries[i].Text }); err != nil {
		return err
	}
	if err := writeObject("corpus", len(ds.Corpus), func(i int) string { return ds.Corpus[i].ID },
		func(i int) any { return ds.Corpus[i].Content() }); err != nil {
		return err
	}
	var judged []string
	for _, q := range ds.Queries {
		if len(ds.Qrels.Relevant(q.ID)) > 0 {
			judged = append(judged, q.ID)
		}
	}
	rel := func(i int) any {
		var nodes []string
		for _, d := range ds.Corpus { // corpus order: deterministic output
			if ds.Qrels.Relevant(judged[i])[d.ID] {
				nodes = append(nodes, d.ID)
			}
		}
		return nodes
	}
	if err := writeObject("relevant_docs", len(judged), func(i int) string { return judged[i] }, rel); err != nil {
		return err
	}
	buf.WriteString("    \"mode\": \"text\"\n}")
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// orderedStrings is a JSON object of strings that remembers its keys' order.
type orderedStrings struct {
	keys   []string
	values map[string]string
}

func (o *orderedStrings) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want an object of strings, got %s", bytes.TrimSpace(b[:min(len(b), 40)]))
	}
	o.values = map[string]string{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		k := kt.(string)
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		if _, dup := o.values[k]; dup {
			return fmt.Errorf("id %q appears twice", k)
		}
		o.keys = append(o.keys, k)
		o.values[k] = v
	}
	_, err = dec.Token()
	return err
}
