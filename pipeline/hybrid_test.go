package pipeline

import (
	"context"
	"testing"

	"github.com/ragnb/ragnb/retrieval/hybrid"
)

// fixed answers every question with the same candidates.
type fixed []Candidate

func (f fixed) Retrieve(_ context.Context, qs []string, k int) ([][]Candidate, RetrieveTimings, error) {
	out := make([][]Candidate, len(qs))
	for i := range qs {
		out[i] = f[:min(k, len(f))]
	}
	return out, RetrieveTimings{}, nil
}

// TestHybridRetrieverFusesAndKeepsPassages: dense a .9, b .5, c .1 and BM25 c 10, d 5 fuse at α = 0.5 into
// a = c = .5 (tie by id), then b = d = .25; the passages keep their titles and texts, scores are the fusion's.
func TestHybridRetrieverFusesAndKeepsPassages(t *testing.T) {
	dense := fixed{{DocID: "a", Text: "A", Score: 0.9}, {DocID: "b", Text: "B", Score: 0.5}, {DocID: "c", Text: "C", Score: 0.1}}
	lexical := fixed{{DocID: "c", Title: "Cee", Text: "C", Score: 10}, {DocID: "d", Text: "D", Score: 5}}
	r, err := Hybrid(dense, lexical, hybrid.Options{Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := r.Retrieve(context.Background(), []string{"q1", "q2"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 3 {
		t.Fatalf("got %v", got)
	}
	want := []struct {
		id    string
		score float64
	}{{"a", 0.5}, {"c", 0.5}, {"b", 0.25}}
	for i, w := range want {
		if c := got[1][i]; c.DocID != w.id || c.Score != w.score {
			t.Errorf("rank %d: %+v, want %s %.2f", i+1, c, w.id, w.score)
		}
	}
	if got[0][0].Text != "A" || got[0][1].Title != "Cee" {
		t.Errorf("passages lost their text: %+v", got[0])
	}
	if _, err := Hybrid(dense, lexical, hybrid.Options{Alpha: 2}); err == nil {
		t.Error("α = 2 accepted")
	}
}
