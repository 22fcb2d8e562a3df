package main

import (
	"flag"
	"io"
	"reflect"
	"testing"

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
