package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
	"github.com/ragnb/ragnb/workflow"
)

// `ragnb init-model` with only the required flags draws exactly the model workflow.InitModel draws with
// workflow.DefaultInitModelOptions: the flags' defaults are the workflow's (the directories hash alike).
func TestInitModelDefaultsAreTheWorkflowDefaults(t *testing.T) {
	tok := sharedtest.BertTokenizer(t)
	dir := t.TempDir()
	corpus := writeFile(t, filepath.Join(dir, "corpus.txt"), "revenue grew in the quarter\nnet income fell\n")
	texts, err := readTexts(corpus, "text")
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range workflow.Architectures() {
		cli := filepath.Join(dir, arch+"-cli")
		args := []string{"init-model", "--arch", arch, "--tokenizer", tok, "--out", cli}
		in := workflow.InitModelInput{Tokenizer: tok, Out: filepath.Join(dir, arch+"-workflow")}
		if arch == workflow.ArchStatic {
			args = append(args, "--corpus", corpus)
			in.Corpus = texts
		}
		if code, out, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
		want, err := workflow.InitModel(context.Background(), workflow.Env{}, in, workflow.DefaultInitModelOptions(arch))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		got, err := cache.HashDir(cli)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.ID {
			t.Errorf("%s: init-model's defaults drew another model than workflow.DefaultInitModelOptions", arch)
		}
	}
}
