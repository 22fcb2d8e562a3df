package weaviate

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// PushOptions configure Push.
type PushOptions struct {
	// BatchSize is the number of objects per batch request (default 100).
	BatchSize int
	// Prune deletes the collection's documents whose ids are not among the pushed ones.
	Prune bool
	// HNSW configures a collection Push creates (ignored for an existing one).
	HNSW HNSW
}

// PushResult says what a push did.
type PushResult struct {
	Collection string
	// Created says the collection was made by this push.
	Created bool
	// Pushed objects were written (added or replaced); Pruned were deleted; Count is the collection's size
	// after the push.
	Pushed, Pruned, Count int
}

// Push writes docs with their vectors (row i of vecs is docs[i]'s, as the model gave it or already in the
// stored form) into class, creating it with rec when absent. The vectors are stored as rec says (Prepare: a
// Matryoshka prefix of rec.Dim values, renormalised for cosine). An existing collection must carry a record
// with the same model hash, similarity and dimension, else nothing is written.
//
// Every object's UUID derives from its document id, so a push is idempotent: pushing again, or again after a
// push was killed midway, replaces objects instead of adding copies. Batches retry transient failures.
func Push(ctx context.Context, c *Client, class string, rec Record, docs []ir.Document, vecs *vector.Matrix, o PushOptions, report progress.Func) (PushResult, error) {
	res := PushResult{Collection: class}
	if vecs == nil || vecs.Rows != len(docs) {
		return res, fmt.Errorf("weaviate: push %d documents with %d vectors", len(docs), rowsOf(vecs))
	}
	if rec.Dim <= 0 {
		rec.Dim = vecs.Dim
	}
	if rec.EmbeddingDim <= 0 {
		rec.EmbeddingDim = vecs.Dim
	}
	if rec.Dim > vecs.Dim {
		return res, fmt.Errorf("weaviate: push dimension %d, the vectors have %d", rec.Dim, vecs.Dim)
	}
	if rec.ModelHash == "" {
		return res, fmt.Errorf("weaviate: push without a model hash (the collection could not be checked against a searcher's model)")
	}
	rec.Format = RecordFormat
	col, found, err := c.GetCollection(ctx, class)
	if err != nil {
		return res, err
	}
	if found {
		if err := compatible(class, col, rec); err != nil {
			return res, err
		}
		res.Collection = col.Name
	} else {
		if err := c.CreateCollection(ctx, class, rec, o.HNSW); err != nil {
			return res, err
		}
		res.Created = true
	}
	seen := make(map[string]bool, len(docs))
	for i, d := range docs {
		if d.ID == "" {
			return res, fmt.Errorf("weaviate: document %d has no id", i)
		}
		if seen[d.ID] {
			return res, fmt.Errorf("weaviate: document id %q appears twice (row %d)", d.ID, i)
		}
		seen[d.ID] = true
	}
	batch := o.BatchSize
	if batch <= 0 {
		batch = 100
	}
	tr := progress.Start(report, "push to weaviate", len(docs), "docs")
	objs := make([]Object, 0, batch)
	for start := 0; start < len(docs); start += batch {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		objs = objs[:0]
		for i := start; i < min(start+batch, len(docs)); i++ {
			v, err := Prepare(vecs.Row(i), rec)
			if err != nil {
				return res, fmt.Errorf("document %q (row %d): %w", docs[i].ID, i, err)
			}
			objs = append(objs, Object{DocID: docs[i].ID, Title: docs[i].Title, Text: docs[i].Text, Vector: v})
		}
		if err := c.Upsert(ctx, res.Collection, objs); err != nil {
			return res, fmt.Errorf("rows %d–%d: %w", start, start+len(objs)-1, err)
		}
		res.Pushed += len(objs)
		tr.Add(len(objs))
	}
	tr.Finish()
	if o.Prune {
		ids, err := c.DocIDs(ctx, res.Collection, 0)
		if err != nil {
			return res, err
		}
		var gone []string
		for _, id := range ids {
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		if res.Pruned, err = c.DeleteDocs(ctx, res.Collection, gone); err != nil {
			return res, err
		}
	}
	if res.Count, err = c.Count(ctx, res.Collection); err != nil {
		return res, err
	}
	return res, nil
}

func rowsOf(m *vector.Matrix) int {
	if m == nil {
		return 0
	}
	return m.Rows
}

// compatible says why vectors described by rec cannot join collection col.
func compatible(class string, col Collection, rec Record) error {
	have := col.Record
	if have == nil {
		return fmt.Errorf("weaviate: collection %s exists and was not written by ragnb; push under another --collection", class)
	}
	if have.ModelHash != rec.ModelHash {
		return &MismatchError{Collection: class, BuiltHash: have.ModelHash, BuiltName: have.ModelName, NowHash: rec.ModelHash, NowName: rec.ModelName}
	}
	if have.Dim != rec.Dim || have.Similarity != rec.Similarity {
		return fmt.Errorf("weaviate: collection %s holds %s vectors of dimension %d, this push %s of dimension %d; push under another --collection",
			class, have.Similarity, have.Dim, rec.Similarity, rec.Dim)
	}
	return nil
}
