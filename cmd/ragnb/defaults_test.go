package main

import (
	"flag"
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/workflow"
)

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
	for _, kind := range []string{workflow.TeacherLLM, workflow.TeacherRerankAPI, workflow.TeacherCrossEncoder} {
		var f scoreFlags
		args := []string{"--teacher", kind, "--model", "m", "--url", "http://x/rerank", "--model-dir", "d"}
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
