package prelude

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/workflow"
)

// TestMineOptionsDefaultToTheWorkflowDefaults: a zero MineOptions is workflow.DefaultMineOptions, the
// defaults `ragnb mine` has; NoWindow and explicit bounds move only the window.
func TestMineOptionsDefaultToTheWorkflowDefaults(t *testing.T) {
	if got, want := (MineOptions{}).workflow(), workflow.DefaultMineOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero options give %+v\nworkflow default %+v", got, want)
	}
	want := workflow.DefaultMineOptions()
	want.Mining.Window = mining.Window{}
	if got := (MineOptions{NoWindow: true}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("NoWindow gives %+v", got)
	}
	want.Mining.Window = mining.Window{Distance: mining.CosineDistance, Min: 0.1, Max: 0.3}
	if got := (MineOptions{Distance: "cosine", MinDistance: 0.1, MaxDistance: 0.3}).workflow(); !reflect.DeepEqual(got, want) {
		t.Errorf("a cosine window gives %+v", got.Mining.Window)
	}
}

// Zero options in the prelude take exactly the workflow's defaults, the ones the command line's flags read:
// one set of defaults for both faces.
func TestZeroOptionsTakeTheWorkflowDefaults(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv(EnvLLMModel, "")
	l := LLM{Model: "m"}

	gen, err := QAOptions{}.workflow(l)
	if err != nil {
		t.Fatal(err)
	}
	want := workflow.DefaultGenerateOptions()
	want.LLM.Model = "m"
	want.LLM.BaseURL = l.resolved().BaseURL
	if !reflect.DeepEqual(gen, want) {
		t.Errorf("QAOptions{} is\n%+v\nwant %+v", gen, want)
	}
	if got := chunkOptions(0, 0); got != workflow.DefaultChunkOptions() {
		t.Errorf("Chunk(0, 0) cuts with %+v, want %+v", got, workflow.DefaultChunkOptions())
	}
	if got := (ScoreOptions{}).workflow(); !reflect.DeepEqual(got, workflow.DefaultScoreOptions()) {
		t.Errorf("ScoreOptions{} is %+v, want %+v", got, workflow.DefaultScoreOptions())
	}
	judge := LLMJudge(l)
	wantJudge := workflow.DefaultTeacher(workflow.TeacherLLM)
	wantJudge.LLM.Model, wantJudge.LLM.BaseURL = "m", l.resolved().BaseURL
	if judge.err != nil || !reflect.DeepEqual(judge.t, wantJudge) {
		t.Errorf("LLMJudge is %+v (%v), want %+v", judge.t, judge.err, wantJudge)
	}
	rr := RerankAPI("http://x/rerank", "r", "tei", "")
	wantRR := workflow.DefaultTeacher(workflow.TeacherRerankAPI)
	wantRR.URL, wantRR.Style, wantRR.LLM.Model = "http://x/rerank", "tei", "r"
	if !reflect.DeepEqual(rr.t, wantRR) {
		t.Errorf("RerankAPI is %+v, want %+v", rr.t, wantRR)
	}
	p, err := PipelineOptions{}.workflow("")
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultPipelineOptions(); !reflect.DeepEqual(p, want) {
		t.Errorf("PipelineOptions{} is\n%+v\nwant %+v", p, want)
	}
	p, _ = PipelineOptions{LLM: l}.workflow("")
	wantLLM := workflow.DefaultPipelineOptions().LLM
	wantLLM.Model, wantLLM.BaseURL = "m", l.resolved().BaseURL
	if !reflect.DeepEqual(p.LLM, wantLLM) {
		t.Errorf("the pipeline's LLM is %+v, want %+v", p.LLM, wantLLM)
	}
}

// MineOptions.Weaviate and EvalOptions.Weaviate search a collection with the workflow's bulk-search defaults,
// the source `ragnb mine|eval --weaviate URL --collection NAME` builds too; the collection defaults to the
// model's name as for PushIndex.
func TestWeaviateSourceTakesTheWorkflowDefaults(t *testing.T) {
	m := &Model{name: "fin-model"}
	got, err := Weaviate{URL: "http://127.0.0.1:8080", Collection: "Fin"}.source(m)
	if want := (workflow.WeaviateSource{URL: "http://127.0.0.1:8080", Collection: "Fin"}); err != nil || *got != want {
		t.Errorf("source %+v (%v), want %+v", got, err, want)
	}
	if got, _ := (Weaviate{URL: "http://127.0.0.1:8080"}).source(m); got.Collection != "Fin_model" {
		t.Errorf("default collection %q", got.Collection)
	}
	if _, err := (Weaviate{}).source(m); err == nil {
		t.Error("a source without a URL accepted")
	}
}

// TestTrainMatryoshkaZeroOptionsTakeTheRecipe: TrainMatryoshka's zero options run as
// workflow.DefaultTrainOptionsFor the base model's architecture — what `ragnb train` gives its flags left
// alone (cmd/ragnb's TestTrainFlagsDefaultToTheArchitecturesRecipe) — with the prelude's own column defaults,
// and TrainRecipe shows that recipe.
func TestTrainMatryoshkaZeroOptionsTakeTheRecipe(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	for _, c := range []struct {
		dir    string
		static bool
	}{{"../testdata/models/tiny-static", true}, {"../testdata/models/tiny-bert-mean", false}} {
		base := LoadModel(c.dir)
		if base.Err() != nil {
			t.Fatal(base.Err())
		}
		got, err := workflow.TrainSettings(base.handle(), TrainOptions{}.workflow())
		if err != nil {
			t.Fatal(err)
		}
		if want := workflow.DefaultTrainOptionsFor(c.static); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: TrainOptions{} trains with\n%+v\nwant workflow.DefaultTrainOptionsFor(%v)\n%+v", c.dir, got, c.static, want)
		}
		r, want := TrainRecipe(base), workflow.RecipeFor(c.static)
		if r.Epochs != want.Epochs || r.BatchSize != want.BatchSize || r.GradAccum != want.GradAccum || r.LearningRate != want.LearningRate ||
			r.WarmupRatio != want.WarmupRatio || r.Schedule != want.Schedule || r.Loss != want.Loss || r.MiniBatchSize != want.MiniBatchSize {
			t.Errorf("%s: TrainRecipe %+v, want %+v", c.dir, r, want)
		}
		// The recipe handed back trains as the zero options do.
		again, _ := workflow.TrainSettings(base.handle(), r.workflow())
		if !reflect.DeepEqual(again, got) {
			t.Errorf("%s: TrainRecipe's options train with %+v, not %+v", c.dir, again, got)
		}
	}
	if r := TrainRecipe(LoadModel(t.TempDir())); !reflect.DeepEqual(r, TrainOptions{}) {
		t.Errorf("TrainRecipe of no model: %+v", r)
	}
}

// TestHybridTeacherScoresWithTheWorkflowsHybrid: HybridTeacher is workflow.DefaultTeacher(TeacherHybrid) with
// the model, the corpus's positives and the weight — the teacher `ragnb score --teacher hybrid` builds —
// and ScoreWithTeacher scores with it: each question's own passage above another's in most rows, the weight
// in the cache key (a different alpha is not served the first's scores).
func TestHybridTeacherScoresWithTheWorkflowsHybrid(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	pairs, _, test := samplePairs(t)
	m := LoadModel("../testdata/models/tiny-static")
	ht := HybridTeacher(m, pairs, 0.3)
	if ht.err != nil {
		t.Fatal(ht.err)
	}
	want := workflow.DefaultTeacher(workflow.TeacherHybrid)
	want.Model, want.Fusion.Alpha = m.handle(), 0.3
	want.Corpus, _ = pairs.Strings("positive")
	want.CorpusID = pairs.Hash() + "/positive"
	if !reflect.DeepEqual(ht.t, want) {
		t.Errorf("HybridTeacher is %+v\nwant %+v", ht.t, want)
	}
	if bad := HybridTeacher(m, pairs, 1.5); bad.err == nil {
		t.Error("alpha 1.5 accepted")
	}

	rows := test.Head(30)
	shifted, _ := rows.Strings("positive")
	shifted = append(shifted[1:], shifted[0])
	withNeg := FromFrame("with negatives", rows.Frame().Mutate(series.New(shifted, series.String, "negative")))
	scored := withNeg.ScoreWithTeacher(ht, ScoreOptions{Passages: []string{"positive", "negative"}})
	if scored.Err() != nil {
		t.Fatal(scored.Err())
	}
	pos, neg := scored.Frame().Col("positive_score").Float(), scored.Frame().Col("negative_score").Float()
	wins := 0
	for i := range pos {
		if pos[i] > neg[i] {
			wins++
		}
	}
	if wins < 20 {
		t.Errorf("own passage above another's in %d of %d rows", wins, len(pos))
	}
	other := withNeg.ScoreWithTeacher(HybridTeacher(m, pairs, 0.9), ScoreOptions{Passages: []string{"positive", "negative"}})
	if other.Err() != nil || strings.Contains(strings.Join(other.notes, " "), "from cache") {
		t.Errorf("alpha 0.9 served alpha 0.3's scores: %v %v", other.Err(), other.notes)
	}
	if reflect.DeepEqual(other.Frame().Col("positive_score").Float(), pos) {
		t.Error("alpha 0.9 scores as alpha 0.3 does")
	}
}
