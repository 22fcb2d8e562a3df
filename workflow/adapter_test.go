package workflow

import (
	"context"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/vector"
)

// TestTrainAdapterLearnsAndIsMemoised: a linear adapter over a tiny random BERT's frozen embeddings of 120
// financial-sample pairs lowers the MNRL loss and finds more of those passages top-1 for their questions than
// the base model (a 32-d model over a 143-id vocabulary: little to work with, but deterministic); the second
// run comes from the step cache with the same weights. train/adapter's tests check the learning itself.
func TestTrainAdapterLearnsAndIsMemoised(t *testing.T) {
	ctx := context.Background()
	df, err := datasets.Load("../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := datasets.Strings(df, "question")
	ps, _ := datasets.Strings(df, "context")
	qs, ps = qs[:120], ps[:120]
	st, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Cache: st}
	m, err := OpenModel(ctx, env, "../testdata/models/tiny-bert-mean", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultAdapterOptions()
	o.Train.Epochs, o.Train.LR, o.Adapter.Bias = 30, 0.05, true
	res, err := TrainAdapter(ctx, env, AdapterInput{Model: m, Queries: qs, Positives: ps}, o, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached || len(res.Losses) != 30*12 {
		t.Fatalf("cached %v, %d steps", res.Cached, len(res.Losses))
	}
	if first, last := res.Losses[0], res.Losses[len(res.Losses)-1]; !(last < first) {
		t.Errorf("loss %.3f → %.3f", first, last)
	}
	bi, _ := m.BiEncoder()
	top1 := func(e vector.Embedder) int {
		q, _ := e.EmbedQueries(ctx, qs, nil)
		p, _ := e.EmbedDocuments(ctx, ps, nil)
		hits := 0
		for i := 0; i < q.Rows; i++ {
			best, bj := -2.0, -1
			for j := 0; j < p.Rows; j++ {
				if c := vector.Cosine(q.Row(i), p.Row(j)); c > best {
					best, bj = c, j
				}
			}
			if bj == i {
				hits++
			}
		}
		return hits
	}
	base, adapted := top1(bi), top1(AdaptedEmbedder{Base: bi, Adapter: res.Adapter})
	t.Logf("top-1 of 120: base %d, adapted %d", base, adapted)
	if adapted <= base {
		t.Errorf("the adapter did not help: %d vs %d top-1", adapted, base)
	}
	again, err := TrainAdapter(ctx, env, AdapterInput{Model: m, Queries: qs, Positives: ps}, o, t.TempDir())
	if err != nil || !again.Cached {
		t.Fatalf("second run: cached %v, %v", again != nil && again.Cached, err)
	}
	x := vector.New(1, res.Adapter.Config().In)
	x.Row(0)[0] = 1
	a1, _ := res.Adapter.Apply(x)
	a2, _ := again.Adapter.Apply(x)
	for i := range a1.Data {
		if d := a1.Data[i] - a2.Data[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("the cached adapter differs at %d", i)
		}
	}
	if _, err := adapter.Load(again.Dir); err != nil {
		t.Errorf("the copy in the output directory: %v", err)
	}
	// The copy identifies as the cache entry; the adapted model's embeddings are keyed apart from the base's.
	if id, err := AdapterIdentity(again.Dir); err != nil || id != res.ID || res.ID == "" {
		t.Errorf("identity of the copy %q (%v), of the entry %q", id, err, res.ID)
	}
	am := m.WithAdapter(res.Adapter, res.ID)
	if am.EmbedID() == m.EmbedID() || am.baseEmbedID() != m.EmbedID() {
		t.Error("the adapted model's EmbedID must differ from the base's, its documents' must not")
	}
	if len(again.Losses) != len(res.Losses) || again.Losses[0] != res.Losses[0] {
		t.Errorf("the cached run's losses %d, first run's %d", len(again.Losses), len(res.Losses))
	}
	if _, err := TrainAdapter(ctx, env, AdapterInput{Model: am, Queries: qs, Positives: ps}, o, ""); err == nil {
		t.Error("an adapter over an adapted model was trained")
	}
	if _, err := Train(ctx, env, TrainInput{Model: am}, DefaultTrainOptions()); err == nil {
		t.Error("fine-tuning an adapted model was accepted")
	}
}
