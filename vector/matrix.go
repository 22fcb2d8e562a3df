// Package vector holds embeddings as dense float32 matrices (one row per text), the operations every
// consumer needs on them (L2 normalisation, Matryoshka truncation), the .npy format they are exchanged in,
// and the Embedder interface that bi-encoders implement. Search over vectors lives elsewhere.
package vector

import (
	"context"
	"fmt"
	"math"

	"github.com/ragnb/ragnb/progress"
)

// Matrix is a row-major Rows×Dim float32 matrix.
type Matrix struct {
	Rows, Dim int
	Data      []float32
}

// New returns a zero Rows×Dim matrix.
func New(rows, dim int) *Matrix {
	return &Matrix{Rows: rows, Dim: dim, Data: make([]float32, rows*dim)}
}

// FromRows copies equal-length rows into a matrix.
func FromRows(rows [][]float32) (*Matrix, error) {
	if len(rows) == 0 {
		return &Matrix{}, nil
	}
	m := New(len(rows), len(rows[0]))
	for i, r := range rows {
		if len(r) != m.Dim {
			return nil, fmt.Errorf("row %d has %d values, row 0 has %d", i, len(r), m.Dim)
		}
		copy(m.Row(i), r)
	}
	return m, nil
}

// Row returns row i, sharing memory with m.
func (m *Matrix) Row(i int) []float32 {
	return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim]
}

// Normalize scales every row to unit L2 norm in place; all-zero rows stay zero.
func (m *Matrix) Normalize() {
	for i := 0; i < m.Rows; i++ {
		NormalizeInPlace(m.Row(i))
	}
}

// Truncate returns a new matrix with the first dim columns of each row, renormalised to unit length: the
// Matryoshka view of the embeddings at a smaller dimension. dim must be in [1, m.Dim].
func (m *Matrix) Truncate(dim int) (*Matrix, error) {
	if dim < 1 || dim > m.Dim {
		return nil, fmt.Errorf("truncate to dimension %d: embeddings have %d", dim, m.Dim)
	}
	out := New(m.Rows, dim)
	for i := 0; i < m.Rows; i++ {
		copy(out.Row(i), m.Row(i)[:dim])
	}
	out.Normalize()
	return out, nil
}

// NormalizeInPlace scales v to unit L2 norm (accumulated in float64); a zero vector is left as is.
func NormalizeInPlace(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
}

// Dot is the float64-accumulated dot product of two equal-length vectors.
func Dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// Cosine is the cosine similarity of a and b (0 when either is zero).
func Cosine(a, b []float32) float64 {
	na, nb := Dot(a, a), Dot(b, b)
	if na == 0 || nb == 0 {
		return 0
	}
	return Dot(a, b) / math.Sqrt(na*nb)
}

// Embedder turns texts into one vector per text. Queries and documents are separate calls because models may
// prefix them differently (e.g. the bge query instruction from config_sentence_transformers.json).
// report may be nil.
type Embedder interface {
	EmbedQueries(ctx context.Context, texts []string, report progress.Func) (*Matrix, error)
	EmbedDocuments(ctx context.Context, texts []string, report progress.Func) (*Matrix, error)
}
