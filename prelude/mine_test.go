package prelude

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

func stepCounts(t *testing.T) map[string]int {
	t.Helper()
	s, err := store()
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range es {
		n[e.Step]++
	}
	return n
}

// MineNegatives gives the library's negatives, memoises each stage, and a new window re-runs only the
// selection.
func TestMineNegatives(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs, train, _ := samplePairs(t)
	model := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	if err := model.Err(); err != nil {
		t.Fatal(err)
	}
	// Without a window first, to read the candidates' distances and fit a window to this model.
	first := train.MineNegatives(model, MineOptions{TopK: 30})
	if err := first.Err(); err != nil {
		t.Fatal(err)
	}
	cd := first.Stats().CandidateDistances
	opts := MineOptions{TopK: 30, MinDistance: cd.Q25, MaxDistance: cd.Q75, NumNegatives: 2, Format: "n-tuple"}
	mined := train.MineNegatives(model, opts)
	if err := mined.Err(); err != nil {
		t.Fatal(err)
	}
	after := stepCounts(t)
	if after["embed"] != 2 || after["mine-topk"] != 1 || after["mine-select"] != 2 {
		t.Errorf("cache steps %v: want 2 embeddings, 1 top-k, 2 selections", after)
	}

	// The library on its own, with the same model files and options.
	bi, err := encoder.LoadBiEncoder(model.Dir(), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	anchors, _ := train.Strings("anchor")
	positives, _ := train.Strings("positive")
	want, err := mining.Mine(context.Background(), bi, anchors, positives, nil, mining.Options{TopK: 30,
		Window: mining.Window{Min: cd.Q25, Max: cd.Q75}, NumNegatives: 2, Format: mining.NTuple}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := mined.Dataset()
	if !reflect.DeepEqual(got.Frame().Records(), want.Frame().Records()) || got.Len() == 0 {
		t.Fatalf("prelude and library differ: %d vs %d rows", got.Len(), want.Frame().Nrow())
	}
	if !reflect.DeepEqual(mined.Stats(), want.Stats) {
		t.Errorf("stats differ:\n%v\n%v", mined.Stats(), want.Stats)
	}
	for _, q := range mined.Result().Queries {
		for _, n := range q.Negatives {
			if !(n.Distance > cd.Q25 && n.Distance <= cd.Q75) {
				t.Errorf("negative at %v outside the window", n.Distance)
			}
		}
	}
	if !strings.Contains(mined.String(), "negatives mined") || !strings.Contains(mined.HTML(), "<pre>") {
		t.Errorf("display text:\n%s", mined.String())
	}
	if svg, err := mined.Histogram().SVG(); err != nil || !strings.Contains(string(svg), "L2 distance") {
		t.Errorf("histogram: %v", err)
	}

	// Again: served from the cache, same table.
	again := train.MineNegatives(model, opts)
	if !reflect.DeepEqual(again.Dataset().Frame().Records(), got.Frame().Records()) ||
		!strings.Contains(strings.Join(again.Dataset().Notes(), "\n"), "(from cache)") {
		t.Errorf("second run: notes %v", again.Dataset().Notes())
	}
	// A new window: one more selection, nothing else.
	opts.MaxDistance = cd.Max
	if err := train.MineNegatives(model, opts).Err(); err != nil {
		t.Fatal(err)
	}
	if n := stepCounts(t); n["embed"] != 2 || n["mine-topk"] != 1 || n["mine-select"] != 3 {
		t.Errorf("after a new window, cache steps %v", n)
	}
	// The embeddings are the ones Model.Embed shares with evaluation.
	set, _ := mining.NewSet(anchors, positives, nil)
	s, _ := store()
	if _, ok, err := s.Lookup(mining.EmbedKey(model.ID(), set.CorpusHash(), false)); !ok || err != nil {
		t.Errorf("corpus embeddings not under Model.Embed's key: %v", err)
	}
	if _, ok, _ := s.Lookup(cache.Key{Step: "embed", Version: 1, Inputs: []string{model.ID(), cache.HashStrings(set.Queries...)},
		Params: map[string]any{"queries": true}}); !ok {
		t.Error("query embeddings not under Model.Embed's key")
	}

	// Errors travel.
	bad := train.MineNegatives(model, MineOptions{Anchor: "question"})
	if bad.Err() == nil || bad.Dataset().Err() == nil || !strings.Contains(bad.String(), `no column "question"`) {
		t.Errorf("missing column: %v", bad.Err())
	}
	if err := train.MineNegatives(model, MineOptions{CEThreshold: Float(0.5)}).Err(); err == nil ||
		!strings.Contains(err.Error(), "without a cross-encoder") {
		t.Errorf("threshold without a cross-encoder: %v", err)
	}
	if err := train.MineNegatives(LoadModel(t.TempDir()+"/none"), MineOptions{}).Err(); err == nil {
		t.Error("a failed model mined")
	}
}

// TestMineNegativesSuggestWindow: SuggestWindow mines with mining.SuggestWindow's window on the same top-k
// (the library on its own gives the same bounds and coverage), the display shows it, and the histogram
// still draws.
func TestMineNegativesSuggestWindow(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs, train, _ := samplePairs(t)
	model := StaticModel(pairs, "positive", StaticOptions{Dim: 64})
	mined := train.MineNegatives(model, MineOptions{TopK: 30, SuggestWindow: true, Distance: "cosine", NumNegatives: 2})
	if err := mined.Err(); err != nil {
		t.Fatal(err)
	}
	s := mined.Suggestion()
	if s == nil || s.LowQuantile != 0.1 || s.HighQuantile != 0.9 || mined.Result().Options.Window != s.Window {
		t.Fatalf("suggestion %+v, mined with %+v", s, mined.Result().Options.Window)
	}
	if !strings.Contains(mined.String(), s.String()) || !strings.Contains(mined.HTML(), "suggested window") {
		t.Errorf("the display lacks the suggestion:\n%s", mined.String())
	}
	// The library on its own.
	anchors, _ := train.Strings("anchor")
	positives, _ := train.Strings("positive")
	set, err := mining.NewSet(anchors, positives, nil)
	if err != nil {
		t.Fatal(err)
	}
	bi, err := encoder.LoadBiEncoder(model.Dir(), encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mining.Prepare(context.Background(), set, func() (vector.Embedder, error) { return bi, nil }, mining.PrepareOptions{TopK: 30}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := mining.SuggestWindow(p, mining.CosineDistance, 0.1, 0.9, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want.Window != s.Window || want.Covered != s.Covered {
		t.Errorf("prelude %+v, library %+v", *s, want)
	}
	if c := mined.Histogram(); c.Err() != nil {
		t.Error(c.Err())
	}
}
