package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/hubtest"
	"github.com/ragnb/ragnb/workflow"
)

func TestPushFlagDefaultsAreTheWorkflowDefaults(t *testing.T) {
	f := &pushFlags{}
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse([]string{"--model", "m", "--repo", "org/x"}); err != nil {
		t.Fatal(err)
	}
	want := workflow.DefaultPushOptions()
	want.Repo = "org/x"
	if got := f.options(); !reflect.DeepEqual(got, want) {
		t.Errorf("options from flags %+v, want %+v", got, want)
	}
}

// `ragnb train` then `ragnb push`: every file lands, the weights through LFS, the card carries the flags'
// fields and the repository id, and the token shows nowhere.
func TestPushATrainedModelAndATable(t *testing.T) {
	token := "hf_cliPushTOKEN1122334455"
	s := hubtest.New(token)
	defer s.Close()
	t.Setenv("HF_ENDPOINT", s.URL)
	t.Setenv("HF_TOKEN", token)
	dir := t.TempDir()
	data := filepath.Join(dir, "pairs.jsonl")
	writePairs(t, data, 24)
	out := filepath.Join(dir, "tuned")
	if code, stdout, errOut := runCLI(t, "train", "--model", "../../testdata/models/tiny-static", "--data", data, "--out", out,
		"--max-steps", "2", "--batch-size", "8", "--test-fraction", "0.25"); code != 0 {
		t.Fatalf("train: %d\n%s\n%s", code, stdout, errOut)
	}
	code, stdout, errOut := runCLI(t, "push", "--model", out, "--repo", "acme/tuned", "--private", "--license", "mit", "--language", "en,de",
		"--commit-message", "first model")
	if code != 0 {
		t.Fatalf("push: %d\n%s\n%s", code, stdout, errOut)
	}
	if strings.Contains(stdout+errOut, token) {
		t.Error("the token was printed")
	}
	if !strings.Contains(stdout, "pushed   "+out+" to "+s.URL+"/acme/tuned (model)") || !strings.Contains(stdout, "lfs      1 sent") {
		t.Errorf("output:\n%s", stdout)
	}
	r := s.Repo("model", "acme/tuned")
	if r == nil || !r.Private || r.Commits[0] != "first model" {
		t.Fatalf("repository: %+v", r)
	}
	entries := 0
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		entries++
		rel, _ := filepath.Rel(out, p)
		b, _ := os.ReadFile(p)
		f := r.Files["main"][filepath.ToSlash(rel)]
		if rel == "README.md" {
			if card := string(f.Data); !strings.Contains(card, "license: mit\n") || !strings.Contains(card, "- de\n") || !strings.Contains(card, "ragnb embed --model acme/tuned") {
				t.Errorf("pushed card:\n%s", card)
			}
			return nil
		}
		if !bytes.Equal(f.Data, b) || f.LFS != strings.HasSuffix(rel, ".safetensors") {
			t.Errorf("%s: same bytes %v, LFS %v", rel, bytes.Equal(f.Data, b), f.LFS)
		}
		return nil
	})
	if entries != len(r.Files["main"]) || entries < 5 {
		t.Errorf("%d local files, %d landed", entries, len(r.Files["main"]))
	}
	// The same push again sends nothing.
	if code, stdout, _ = runCLI(t, "push", "--model", out, "--repo", "acme/tuned", "--private", "--license", "mit", "--language", "en,de"); code != 0 || !strings.Contains(stdout, "commit   none") {
		t.Errorf("second push: %d\n%s", code, stdout)
	}

	code, stdout, errOut = runCLI(t, "push", "--dataset", data, "--repo", "acme/pairs")
	if code != 0 || !strings.Contains(stdout, "(24 rows)") {
		t.Fatalf("push --dataset: %d\n%s\n%s", code, stdout, errOut)
	}
	if d := s.Repo("dataset", "acme/pairs"); d == nil || !d.Files["main"][workflow.DatasetPath].LFS {
		t.Errorf("dataset repository: %+v", d)
	}

	t.Setenv("HF_TOKEN", "hf_badtoken000")
	code, stdout, errOut = runCLI(t, "push", "--model", out, "--repo", "acme/other")
	if code == 0 || !strings.Contains(errOut, "401") || strings.Contains(stdout+errOut, "hf_badtoken000") {
		t.Errorf("bad token: %d\n%s\n%s", code, stdout, errOut)
	}
	if code, _, errOut = runCLI(t, "push", "--repo", "acme/x"); code != 2 || !strings.Contains(errOut, "--model or --dataset") {
		t.Errorf("no input: %d %s", code, errOut)
	}
}
