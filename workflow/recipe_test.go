package workflow

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/train/optim"
)

// Zero options run as the base model's recipe: the bge recipe for a transformer, the static one for static
// embeddings; a set field stays, and NoWarmup turns the transformer's warmup off.
func TestTrainSettingsFollowTheArchitecture(t *testing.T) {
	for _, c := range []struct {
		dir    string
		static bool
	}{{"../testdata/models/tiny-static", true}, {"../testdata/models/tiny-bert-mean", false}} {
		got, err := TrainSettings(&Model{Dir: c.dir}, TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := DefaultTrainOptionsFor(c.static); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: zero options run as\n%+v\nwant DefaultTrainOptionsFor(%v)\n%+v", c.dir, got, c.static, want)
		}
	}
	bge := DefaultTrainOptionsFor(false)
	if bge.Epochs != 4 || bge.BatchSize != 32 || bge.GradAccum != 16 || bge.LearningRate != 2e-5 || bge.WarmupRatio != 0.1 ||
		bge.Schedule != optim.Cosine {
		t.Errorf("the transformer recipe is not bge's: %+v", bge)
	}
	got, err := TrainSettings(&Model{Dir: "../testdata/models/tiny-bert-mean"}, TrainOptions{Epochs: 1, WarmupRatio: NoWarmup})
	if err != nil {
		t.Fatal(err)
	}
	if got.Epochs != 1 || got.WarmupRatio != 0 || got.GradAccum != 16 {
		t.Errorf("set fields lost or recipe not filled: %+v", got)
	}
	if _, err := TrainSettings(&Model{Dir: t.TempDir()}, TrainOptions{}); err == nil {
		t.Error("a folder without a model has no architecture, and no error")
	}
}

// Train keys its entry on the options filled from the recipe (version 2): zero options and the recipe spelt
// out share an entry, the architectures do not, and an entry stored under version 1 — zero options as given,
// trained with the old defaults — is not served for the same options now that zero means the recipe.
func TestTrainKeyIsTheRecipeNotTheOldDefaults(t *testing.T) {
	ctx := context.Background()
	st, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Cache: st}
	m, err := OpenModel(ctx, env, "../testdata/models/tiny-static", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	df, err := datasets.Load("../testdata/financial-sample/pairs.csv")
	if err != nil {
		t.Fatal(err)
	}
	df = df.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7})
	in := TrainInput{Model: m, Data: df, DataID: datasets.Hash(df)}
	o := TrainOptions{Anchor: "question", Positive: "context", MaxSteps: 1}

	zero, err := TrainKey(in, o)
	if err != nil {
		t.Fatal(err)
	}
	spelt := DefaultTrainOptionsFor(true)
	spelt.Anchor, spelt.Positive, spelt.MaxSteps = "question", "context", 1
	explicit, _ := TrainKey(in, spelt)
	sameKey(t, zero, explicit)
	bert, err := OpenModel(ctx, env, "../testdata/models/tiny-bert-mean", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bertKey, _ := TrainKey(TrainInput{Model: bert, Data: df, DataID: in.DataID}, o)
	if reflect.DeepEqual(bertKey.Params, zero.Params) {
		t.Error("a transformer and a static model key the same settings")
	}

	// Plant what version 1 stored for these options: it must not come back.
	old := trainKey("train-matryoshka", 1, in, o)
	oldDir, _, err := st.Do(ctx, old, func(_ context.Context, dir string) error {
		return os.WriteFile(filepath.Join(dir, "old-defaults"), []byte("1 epoch, linear"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Train(ctx, env, in, o)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cached || got.Dir == oldDir {
		t.Fatalf("the version-1 entry %s was served (cached %v, dir %s)", oldDir, got.Cached, got.Dir)
	}
	if got.Config.Schedule != RecipeFor(true).Schedule || got.Config.LearningRate != RecipeFor(true).LearningRate {
		t.Errorf("ran with %+v, not the static recipe", got.Config)
	}
	if hash, _ := zero.Hash(); got.ID != hash {
		t.Errorf("stored under %s, TrainKey says %s", got.ID, hash)
	}
	again, err := Train(ctx, env, in, spelt)
	if err != nil || !again.Cached || again.Dir != got.Dir {
		t.Errorf("the recipe spelt out was not served the zero options' entry: %+v %v", again, err)
	}
}
