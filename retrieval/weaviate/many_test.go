package weaviate_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/retrieval/weaviate"
)

// The bulk calls answer what the one-query calls answer: SearchMany's aliased requests give each query the
// neighbours NearVector gives it, in order, with progress to the last query; FetchDocs reads back the stored
// vectors and skips unknown ids; DocsWithText finds a passage by its words, and a text no object holds finds
// nothing that equals it.
func TestWeaviateBulkSearchFetchAndFindText(t *testing.T) {
	ctx := context.Background()
	c, f := pushedFixture(t, 64, "Fin")
	qm, err := f.emb.EmbedQueries(ctx, f.queries[:37], nil)
	if err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float32, qm.Rows)
	for i := range vecs {
		vecs[i], _ = weaviate.Prepare(qm.Row(i), f.rec)
	}
	var last progress.Report
	many, tp, err := weaviate.SearchMany(ctx, c, "Fin", vecs, 10, weaviate.ManyOptions{Concurrency: 3, PerRequest: 4},
		func(r progress.Report) { last = r })
	if err != nil {
		t.Fatal(err)
	}
	if tp.Queries != 37 || tp.Requests != 10 || last.Done != 37 || last.Stopped {
		t.Errorf("throughput %+v, last report %+v", tp, last)
	}
	for i, v := range vecs {
		one, err := c.NearVector(ctx, "Fin", v, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(many[i]) != len(one) {
			t.Fatalf("query %d: %d neighbours in bulk, %d alone", i, len(many[i]), len(one))
		}
		for j := range one {
			if many[i][j].DocID != one[j].DocID || math.Abs(1-many[i][j].Distance-one[j].Score) > 1e-6 {
				t.Errorf("query %d rank %d: bulk %+v, alone %+v", i, j, many[i][j], one[j])
			}
		}
	}

	ids := []string{f.docs[3].ID, "no-such-doc", f.docs[100].ID}
	got, err := weaviate.FetchDocs(ctx, c, "Fin", ids, true, weaviate.ManyOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[f.docs[3].ID].Text != f.docs[3].Text {
		t.Fatalf("fetched %v", got)
	}
	want, _ := weaviate.Prepare(f.vecs.Row(100), f.rec)
	if v := got[f.docs[100].ID].Vector; len(v) != 64 || !slices.EqualFunc(v, want, func(a, b float32) bool { return a-b < 1e-6 && b-a < 1e-6 }) {
		t.Errorf("stored vector of %s differs from the pushed one", f.docs[100].ID)
	}

	found, err := weaviate.FindTexts(ctx, c, "Fin", []string{f.docs[5].Text, "zyxwv qqqq unheard"}, weaviate.ManyOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(found[0], func(o weaviate.Object) bool { return o.DocID == f.docs[5].ID && o.Text == f.docs[5].Text }) {
		t.Errorf("text of %s not found: %+v", f.docs[5].ID, found[0])
	}
	if slices.ContainsFunc(found[1], func(o weaviate.Object) bool { return o.Text == "zyxwv qqqq unheard" }) {
		t.Errorf("an unpushed text was found: %+v", found[1])
	}
}
