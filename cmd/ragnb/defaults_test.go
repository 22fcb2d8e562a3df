package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/workflow"
)

// TestMineFlagsDefaultToTheWorkflowDefaults: `ragnb mine` with only its required flags asks for exactly
// workflow.DefaultMineOptions, the defaults the prelude's MineNegatives takes too.
func TestMineFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("mine", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := newMineArgs(fs)
	if err := fs.Parse([]string{"--model", "m", "--data", "d.jsonl", "--out", "o.jsonl"}); err != nil {
		t.Fatal(err)
	}
	got, err := a.options()
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultMineOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("flags give %+v\nworkflow default %+v", got, want)
	}
	// A flag moves only its own field.
	fs = flag.NewFlagSet("mine", flag.ContinueOnError)
	a = newMineArgs(fs)
	if err := fs.Parse([]string{"--max-distance", "0", "--num-negatives", "3"}); err != nil {
		t.Fatal(err)
	}
	got, _ = a.options()
	want := workflow.DefaultMineOptions()
	want.Mining.Window.Max, want.Mining.Window.Min, want.Mining.Window.Distance = 0, 0, ""
	want.Mining.NumNegatives = 3
	if !reflect.DeepEqual(got, want) {
		t.Errorf("--max-distance 0 --num-negatives 3 give %+v\nwant %+v", got, want)
	}
}

// TestTrainAdapterFlagsDefaultToTheWorkflowDefaults: `ragnb train-adapter` with only its required flags asks
// for workflow.DefaultAdapterOptions (LlamaIndex's), and a run writes an adapter that loads.
func TestTrainAdapterFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("train-adapter", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a := newAdapterArgs(fs)
	if err := fs.Parse([]string{"--model", "m", "--data", "d.jsonl", "--out", "o"}); err != nil {
		t.Fatal(err)
	}
	if got, want := a.options(), workflow.DefaultAdapterOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("flags give %+v\nworkflow default %+v", got, want)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "train-adapter", "--model", "../../testdata/models/tiny-bert-mean",
		"--data", "../../testdata/financial-sample/pairs.csv", "--anchor", "question", "--positive", "context",
		"--kind", "two-layer", "--hidden", "16", "--residual", "--epochs", "1", "--out", out)
	if code != 0 || !strings.Contains(stdout, "two-layer adapter 32 → 32 on 518 pairs") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	ad, err := adapter.Load(out)
	if err != nil || ad.Config().Hidden != 16 || !ad.Config().AddResidual {
		t.Errorf("saved adapter %+v: %v", ad, err)
	}
}

// parse registers a command's flags and parses args (only the required flags), failing the test on an error.
func parse(t *testing.T, register func(fs *flag.FlagSet), args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

// The flags of generate, given only the required ones, build exactly workflow.DefaultGenerateOptions and
// DefaultChunkOptions: the command line and the prelude share one set of defaults.
func TestGenerateFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	var g generateFlags
	parse(t, g.register, "--model", "m")
	got, err := g.options()
	if err != nil {
		t.Fatal(err)
	}
	want := workflow.DefaultGenerateOptions()
	want.LLM.Model = "m"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("generate flags build\n%+v\nwant %+v", got, want)
	}
	if g.chunk != workflow.DefaultChunkOptions() {
		t.Errorf("chunk flags %+v, want %+v", g.chunk, workflow.DefaultChunkOptions())
	}
	if got.LLM.Temperature != 0.7 {
		t.Errorf("generation temperature %v", got.LLM.Temperature)
	}
}

func TestScoreFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	for _, kind := range []string{workflow.TeacherLLM, workflow.TeacherRerankAPI, workflow.TeacherCrossEncoder, workflow.TeacherHybrid} {
		var f scoreFlags
		args := []string{"--teacher", kind, "--model", "m", "--url", "http://x/rerank", "--model-dir", "d", "--teacher-corpus", "c.jsonl"}
		fs := parse(t, f.register, args...)
		o, tch, err := f.options(fs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o, workflow.DefaultScoreOptions()) {
			t.Errorf("%s: score flags build %+v, want %+v", kind, o, workflow.DefaultScoreOptions())
		}
		want := workflow.DefaultTeacher(kind)
		want.LLM.Model, want.URL = "m", "http://x/rerank"
		if !reflect.DeepEqual(tch, want) {
			t.Errorf("%s: teacher flags build\n%+v\nwant %+v", kind, tch, want)
		}
	}
	// The hybrid's weight and depth are flags; a weight outside [0, 1] and a missing corpus are refused.
	var f scoreFlags
	fs := parse(t, f.register, "--teacher", "hybrid", "--model-dir", "d", "--teacher-corpus", "c.jsonl", "--hybrid-alpha", "0.3", "--hybrid-depth", "20")
	if _, tch, err := f.options(fs); err != nil || tch.Fusion.Alpha != 0.3 || tch.Fusion.Depth != 20 || tch.Fusion.Method != "convex" {
		t.Errorf("--hybrid-alpha 0.3 --hybrid-depth 20: %+v (%v)", tch.Fusion, err)
	}
	for _, bad := range [][]string{{"--teacher-corpus", "c.jsonl", "--hybrid-alpha", "1.5"}, {}} {
		var f scoreFlags
		fs := parse(t, f.register, append([]string{"--teacher", "hybrid", "--model-dir", "d"}, bad...)...)
		if _, _, err := f.options(fs); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// ask and serve share pipelineFlags; index build its own.
func TestPipelineAndIndexFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	var f pipelineFlags
	parse(t, f.register, "--bm25", "--corpus", "c.jsonl")
	got, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	if want := workflow.DefaultPipelineOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("ask/serve flags build\n%+v\nwant %+v", got, want)
	}
	var b indexBuildFlags
	parse(t, b.register)
	if got, want := b.options(), workflow.DefaultIndexOptions(); !reflect.DeepEqual(got, want) {
		t.Errorf("index build flags build %+v, want %+v", got, want)
	}
}

func TestEmbedFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	embedCmd().flags(fs)
	if q := fs.Lookup("query"); q.DefValue != "false" || workflow.DefaultEmbedOptions().Queries {
		t.Errorf("--query defaults to %s, the workflow to %v", q.DefValue, workflow.DefaultEmbedOptions().Queries)
	}
	if workflow.DefaultEmbedOptions().Prompt != nil {
		t.Error("the default embeds with a literal prompt")
	}
}

// TestEvalHybridFlagsDefaultToTheWorkflowDefaults: `ragnb eval --model hybrid:DIR` with no fusion flags asks
// for workflow.DefaultHybridOptions (the prelude's EvalOptions.Hybrid takes them too); --hybrid-alpha given
// fixes the weight instead of tuning it, and --hybrid rrf switches the method only.
func TestEvalHybridFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	for _, c := range []struct {
		args []string
		want func(*workflow.HybridOptions)
	}{
		{nil, func(*workflow.HybridOptions) {}},
		{[]string{"--hybrid-alpha", "0.3"}, func(h *workflow.HybridOptions) { h.Fusion.Alpha, h.Tune = 0.3, false }},
		{[]string{"--hybrid", "rrf"}, func(h *workflow.HybridOptions) { h.Fusion.Method = "rrf" }},
	} {
		f := &evalFlags{}
		parse(t, f.register, c.args...)
		got, err := f.hybridOptions()
		if err != nil {
			t.Fatal(err)
		}
		want := workflow.DefaultHybridOptions()
		c.want(&want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: flags give %+v\nwant %+v", c.args, got, want)
		}
	}
	f := &evalFlags{}
	parse(t, f.register, "--hybrid-alpha", "1.5")
	if _, err := f.hybridOptions(); err == nil {
		t.Error("--hybrid-alpha 1.5 accepted")
	}
}

// `mine` and `eval` search a collection only with --weaviate, and then with the workflow's bulk-search
// defaults (a WeaviateSource whose zero tuning takes weaviate.DefaultConcurrency and DefaultPerRequest, as the
// prelude's MineOptions.Weaviate and EvalOptions.Weaviate do); --collection alone is an error.
func TestMineAndEvalWeaviateFlagsDefaultToTheWorkflowDefaults(t *testing.T) {
	for _, cmd := range []string{"mine", "eval"} {
		src := func(args ...string) (*workflow.WeaviateSource, error) {
			fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var w *weaviateFlags
			if cmd == "mine" {
				w = &newMineArgs(fs).weaviate
			} else {
				f := &evalFlags{}
				f.register(fs)
				w = &f.weaviate
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			return w.source()
		}
		if s, err := src(); s != nil || err != nil {
			t.Errorf("%s without --weaviate: %+v, %v", cmd, s, err)
		}
		s, err := src("--weaviate", "http://127.0.0.1:8080", "--collection", "Fin")
		if want := (workflow.WeaviateSource{URL: "http://127.0.0.1:8080", Collection: "Fin"}); err != nil || s == nil || *s != want {
			t.Errorf("%s --weaviate: %+v, %v", cmd, s, err)
		}
		if _, err := src("--collection", "Fin"); err == nil {
			t.Errorf("%s: --collection without --weaviate accepted", cmd)
		}
		if _, err := src("--weaviate", "http://127.0.0.1:8080"); err == nil || !strings.Contains(err.Error(), "--collection") {
			t.Errorf("%s: --weaviate without --collection: %v", cmd, err)
		}
	}
}

// TestTrainFlagsDefaultToTheArchitecturesRecipe: `ragnb train` with only its required flags trains with
// workflow.DefaultTrainOptionsFor the --model's architecture (the bge recipe for a transformer, the static
// recipe for static embeddings) — what the prelude's TrainMatryoshka gives its zero fields
// (prelude.TestTrainMatryoshkaZeroOptionsTakeTheRecipe) — and a flag set wins over the recipe, an explicit
// --warmup-ratio 0 included.
func TestTrainFlagsDefaultToTheArchitecturesRecipe(t *testing.T) {
	for _, c := range []struct {
		model  string
		static bool
	}{{"../../testdata/models/tiny-static", true}, {"../../testdata/models/tiny-bert-mean", false}} {
		required := []string{"--model", c.model, "--data", "d.jsonl", "--out", "out"}
		f := &biFlags{}
		fs := parse(t, f.register, required...)
		static, err := workflow.IsStatic(c.model)
		if err != nil || static != c.static {
			t.Fatalf("%s: static %v (%v)", c.model, static, err)
		}
		got, err := f.options(fs, static)
		if err != nil {
			t.Fatal(err)
		}
		want := workflow.DefaultTrainOptionsFor(c.static)
		want.CheckpointDir = "out.checkpoints"
		if filled := got.WithDefaultsFor(c.static); !reflect.DeepEqual(filled, want) {
			t.Errorf("%s: flags train with\n%+v\nwant workflow.DefaultTrainOptionsFor(%v)\n%+v", c.model, filled, c.static, want)
		}
		settings, err := workflow.TrainSettings(&workflow.Model{Dir: c.model}, got)
		if err != nil || !reflect.DeepEqual(settings, want) {
			t.Errorf("%s: the train step runs the flags as %+v (%v)", c.model, settings, err)
		}

		f = &biFlags{}
		fs = parse(t, f.register, append(required, "--epochs", "7", "--warmup-ratio", "0", "--schedule", "linear")...)
		got, err = f.options(fs, static)
		if err != nil {
			t.Fatal(err)
		}
		want = workflow.DefaultTrainOptionsFor(c.static)
		want.CheckpointDir, want.Epochs, want.WarmupRatio, want.Schedule = "out.checkpoints", 7, 0, "linear"
		if filled := got.WithDefaultsFor(c.static); !reflect.DeepEqual(filled, want) {
			t.Errorf("%s: --epochs 7 --warmup-ratio 0 --schedule linear train with\n%+v\nwant\n%+v", c.model, filled, want)
		}
	}
	// The help says both recipes.
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	(&biFlags{}).register(fs)
	st, tr := workflow.RecipeFor(true), workflow.RecipeFor(false)
	if u := fs.Lookup("grad-accum").Usage; !strings.Contains(u, fmt.Sprintf("%d for static models, %d for transformers", st.GradAccum, tr.GradAccum)) {
		t.Errorf("--grad-accum help %q", u)
	}
}
