package prelude

import (
	"reflect"
	"testing"

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
