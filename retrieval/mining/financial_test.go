package mining

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/search"
)

// financial loads the shared set's questions and contexts (one row has neither).
func financial(tb testing.TB) (questions, contexts []string) {
	tb.Helper()
	df, err := datasets.Load(sharedtest.FinancialQA(tb))
	if err != nil {
		tb.Fatal(err)
	}
	q, err := datasets.Strings(df, "question")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := datasets.Strings(df, "context")
	if err != nil {
		tb.Fatal(err)
	}
	return q, c
}

// staticModel is the offline base model: bert-base-uncased's WordPiece vocabulary, dim dimensions,
// Gaussian × IDF over the contexts, normalised.
func staticModel(tb testing.TB, corpus []string, dim int) *encoder.BiEncoder {
	tb.Helper()
	tok, files, err := encoder.LoadTokenizer(sharedtest.BertTokenizer(tb))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := encoder.NewStatic(context.Background(), tok, files,
		encoder.StaticSpec{Dim: dim, Init: encoder.InitIDF, Corpus: corpus, Normalize: true, Seed: 1}, encoder.Options{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// On the shared financial set, with the static IDF model: mine the first rows' questions against the whole
// corpus and check every chosen negative independently of the package — its distance recomputed with a
// plain loop over the embeddings lies in the window, and its text is neither the row's positive nor the
// positive of any row asking the same question.
func TestFinancialNegativesRespectTheWindow(t *testing.T) {
	questions, contexts := financial(t)
	model := staticModel(t, contexts, 256)
	const rows = 400
	set, err := NewSet(questions[:rows], contexts[:rows], contexts)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Corpus) != 6756 {
		t.Fatalf("%d distinct passages, want 6756 (the non-empty distinct contexts)", len(set.Corpus))
	}
	p, err := Prepare(context.Background(), set, Static(model), PrepareOptions{TopK: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	positivesOf := map[string]map[string]bool{} // question → every context it is paired with, in all 7,000 rows
	for i, q := range questions {
		if positivesOf[q] == nil {
			positivesOf[q] = map[string]bool{}
		}
		positivesOf[q][contexts[i]] = true
	}
	// The untrained static model puts questions far from every passage (median candidate L2 distance ≈ 1.28,
	// positives ≈ 1.22), so BGE's window is empty there: windows fit to this model, and the BGE window with
	// the nearest fallback.
	for _, o := range []Options{
		{Window: Window{Distance: L2, Min: 1.0, Max: 1.25}, NumNegatives: 3},
		{Window: Window{Distance: CosineDistance, Min: 0.6, Max: 0.8}, NumNegatives: 3, Sampling: SampleRandom, Seed: 7},
		{Window: DefaultWindow(), NumNegatives: 2, Fallback: FallbackNearest},
	} {
		w := o.Window
		r, err := Select(context.Background(), p, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v:\n%v", w, r.Stats)
		if r.Stats.Negatives == 0 {
			t.Fatalf("%v: no negatives mined", w)
		}
		checked := 0
		for q, qr := range r.Queries {
			qv := p.Queries.Row(q)
			for _, n := range qr.Negatives {
				text := set.Corpus[n.Passage]
				if positivesOf[set.Queries[q]][text] {
					t.Errorf("query %d: negative is a positive of the question", q)
				}
				d := independentDistance(w.Kind(), qv, p.Corpus.Row(n.Passage))
				// Both sides use float64 over the same float32 values; allow for a different summation order.
				inside := d > w.Min-1e-12 && d <= w.Max+1e-12
				if inside == n.Fallback || math.Abs(d-n.Distance) > 1e-12 {
					t.Errorf("query %d: negative at distance %.15f (reported %.15f, fallback %v), window %v", q, d, n.Distance, n.Fallback, w)
				}
				checked++
			}
		}
		if checked != r.Stats.Negatives {
			t.Errorf("checked %d negatives, stats say %d", checked, r.Stats.Negatives)
		}
		// Triplets carry exactly the checked negatives.
		tr := r.Frame()
		for i := 0; i < tr.Nrow(); i++ {
			if positivesOf[tr.Elem(i, 0).String()][tr.Elem(i, 2).String()] {
				t.Errorf("triplet row %d: the negative is a positive", i)
			}
		}
	}
}

// independentDistance normalises both vectors and takes their L2 or cosine distance directly.
func independentDistance(kind Distance, a, b []float32) float64 {
	var na, nb float64
	for i := range a {
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	na, nb = math.Sqrt(na), math.Sqrt(nb)
	var sq, dot float64
	for i := range a {
		x, y := float64(a[i])/na, float64(b[i])/nb
		sq += (x - y) * (x - y)
		dot += x * y
	}
	if kind == CosineDistance {
		return 1 - dot
	}
	return math.Sqrt(sq)
}

// BenchmarkMineFinancial mines the whole shared set (7,000 rows: 6,932 distinct questions × 6,755 distinct
// contexts, top 100, DefaultOptions) with static IDF models of 256 and 768 dimensions, and reports the
// embedding time and the search and selection times apart.
// go test ./mining -run '^$' -bench MineFinancial -benchtime 1x
func BenchmarkMineFinancial(b *testing.B) {
	questions, contexts := financial(b)
	for _, dim := range []int{256, 768} {
		b.Run(fmt.Sprintf("dim%d", dim), func(b *testing.B) {
			model := staticModel(b, contexts, dim)
			ctx := context.Background()
			for range b.N {
				set, err := NewSet(questions, contexts, nil)
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				q, err := model.EmbedQueries(ctx, set.Queries, nil)
				if err != nil {
					b.Fatal(err)
				}
				c, err := model.EmbedDocuments(ctx, set.Corpus, nil)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				s, err := search.New(nil, search.Options{})
				if err != nil {
					b.Fatal(err)
				}
				p, err := NewPrepared(ctx, set, q, c, s, 100, nil)
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				r, err := Select(ctx, p, DefaultOptions(), nil)
				if err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				s.Close()
				b.ReportMetric(t1.Sub(t0).Seconds(), "embed-s")
				b.ReportMetric(t2.Sub(t1).Seconds(), "search-s")
				b.ReportMetric(t3.Sub(t2).Seconds(), "select-s")
				b.ReportMetric(float64(len(set.Queries)+len(set.Corpus))/t1.Sub(t0).Seconds(), "texts/s")
				b.ReportMetric(float64(r.Stats.EmptyWindow), "empty-windows")
				b.Logf("%d queries × %d passages, dim %d\n%v", len(set.Queries), len(set.Corpus), dim, r.Stats)
			}
		})
	}
}
