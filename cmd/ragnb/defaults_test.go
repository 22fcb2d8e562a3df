package main

import (
	"flag"
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
