package workflow

import (
	"context"
	"fmt"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/data/documents"
)

// ChunkOptions say how documents are cut into passages.
type ChunkOptions struct {
	// Tokens is the largest chunk, in estimated WordPiece tokens (documents.ApproxCounter).
	Tokens int `json:"tokens"`
	// Overlap is how many tokens a chunk repeats from the end of the previous one, at most.
	Overlap int `json:"overlap"`
}

// DefaultChunkOptions are ragnb's chunking defaults, the same for `ragnb generate` and the prelude's Chunk:
// 256 tokens (half of BERT's 512, so a question and its passage fit a reranker together) with 32 repeated,
// so a sentence cut at a boundary is whole in one of the two chunks.
func DefaultChunkOptions() ChunkOptions { return ChunkOptions{Tokens: 256, Overlap: 32} }

// LoadInput names the documents to read.
type LoadInput struct {
	// Pattern is a .txt/.md/.pdf/.docx file, a folder (recursive) or a glob (** for any depth).
	Pattern string
}

// Loaded is LoadDocuments' outcome.
type Loaded struct {
	Documents []documents.Document
	// Unreadable names the files that could not be read while others were (nil when all were).
	Unreadable error
}

// Frame is the documents as a table: source, format, text.
func (l *Loaded) Frame() dataframe.DataFrame {
	var src, format, text []string
	for _, d := range l.Documents {
		src, format, text = append(src, d.Source), append(format, d.Format), append(text, d.Text)
	}
	return dataframe.New(series.New(src, series.String, "source"), series.New(format, series.String, "format"),
		series.New(text, series.String, "text"))
}

// LoadDocuments reads the documents in.Pattern. Files that cannot be read are named in Loaded.Unreadable and
// the others are returned; it is an error only when none could be read. The faces decide whether a partial
// load may go on (the command line warns and goes on; the notebook refuses a half-complete table).
func LoadDocuments(ctx context.Context, env Env, in LoadInput) (*Loaded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ds, err := documents.Load(in.Pattern)
	if err != nil && len(ds) == 0 {
		return nil, err
	}
	return &Loaded{Documents: ds, Unreadable: err}, nil
}

// ChunkInput is what Chunk cuts.
type ChunkInput struct {
	Documents []documents.Document
}

// Chunked is Chunk's outcome.
type Chunked struct {
	Chunks []documents.Chunk
}

// Frame is the chunks as a table: chunk_id, source, chunk_index, start and end (byte offsets into the
// document), tokens, text — the table Generate reads back with ChunksFromFrame.
func (c *Chunked) Frame() dataframe.DataFrame {
	var id, src, text []string
	var idx, start, end, tok []float64
	for _, c := range c.Chunks {
		id, src, text = append(id, c.ID), append(src, c.Source), append(text, c.Text)
		idx, start, end, tok = append(idx, float64(c.Index)), append(start, float64(c.Start)), append(end, float64(c.End)),
			append(tok, float64(c.Tokens))
	}
	return dataframe.New(series.New(id, series.String, "chunk_id"), series.New(src, series.String, "source"),
		series.New(idx, series.Float, "chunk_index"), series.New(start, series.Float, "start"),
		series.New(end, series.Float, "end"), series.New(tok, series.Float, "tokens"), series.New(text, series.String, "text"))
}

// Chunk cuts each document into passages of at most o.Tokens tokens, o.Overlap repeated between neighbours,
// preferring sentence ends.
func Chunk(ctx context.Context, env Env, in ChunkInput, o ChunkOptions) (*Chunked, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Tokens <= 0 {
		return nil, fmt.Errorf("chunk: %d tokens per chunk (want > 0)", o.Tokens)
	}
	chunks, err := documents.ChunkAll(in.Documents, documents.ChunkConfig{Tokens: o.Tokens, Overlap: o.Overlap})
	if err != nil {
		return nil, err
	}
	return &Chunked{Chunks: chunks}, nil
}

// ChunksFromFrame reads a chunk table (Chunked.Frame, or any table with chunk_id, source and text; the
// offsets are optional) back into chunks.
func ChunksFromFrame(df dataframe.DataFrame) ([]documents.Chunk, error) {
	has := map[string]bool{}
	for _, n := range df.Names() {
		has[n] = true
	}
	for _, c := range []string{"chunk_id", "source", "text"} {
		if !has[c] {
			return nil, fmt.Errorf("no column %q (columns: %v): want a table made by Chunk", c, df.Names())
		}
	}
	ids, srcs, texts := datasets.Texts(df.Col("chunk_id")), datasets.Texts(df.Col("source")), datasets.Texts(df.Col("text"))
	out := make([]documents.Chunk, len(ids))
	for i := range ids {
		out[i] = documents.Chunk{ID: ids[i], Source: srcs[i], Text: texts[i]}
	}
	if has["chunk_index"] && has["start"] && has["end"] {
		idx, start, end := df.Col("chunk_index").Float(), df.Col("start").Float(), df.Col("end").Float()
		for i := range out {
			out[i].Index, out[i].Start, out[i].End = int(idx[i]), int(start[i]), int(end[i])
		}
	}
	return out, nil
}
