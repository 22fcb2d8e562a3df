package workflow

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/retry"
	"github.com/ragnb/ragnb/internal/testkit/hubtest"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/train"
)

const pushToken = "hf_workflowPUSHtoken987654321"

// trainedStatic trains the tiny static model a few steps and saves it, as `ragnb train` does.
func trainedStatic(t *testing.T) string {
	t.Helper()
	m, err := encoder.LoadBiEncoder("../testdata/models/tiny-static", encoder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var anchors, positives []string
	for i := range 16 {
		anchors = append(anchors, fmt.Sprintf("what is the revenue of company %d", i))
		positives = append(positives, fmt.Sprintf("company %d reported revenue growth", i))
	}
	ex := &train.Examples{Names: []string{"anchor", "positive"}, Columns: [][]string{anchors, positives}}
	res, err := train.TrainBiEncoder(context.Background(), m, ex, train.Config{MaxSteps: 3, BatchSize: 8, Seed: 1, EvalName: "the training pairs",
		Evaluator: train.EvalFunc(func(context.Context, progress.Func) (map[string]float64, error) {
			return map[string]float64{"dim_8_cosine_ndcg@10": 0.5}, nil
		})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 3 {
		t.Fatalf("trained %d steps", res.Steps)
	}
	dir := filepath.Join(t.TempDir(), "trained")
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPushATrainedModelLandsEveryFileWithTheCardForTheRepo(t *testing.T) {
	dir := trainedStatic(t)
	local := files(t, dir)
	card := string(local["README.md"])
	if !strings.Contains(card, "pipeline_tag: sentence-similarity") || !strings.Contains(card, "value: 0.5") || !strings.Contains(card, `SentenceTransformer("ORG/NAME")`) {
		t.Fatalf("the trained model's card:\n%s", card)
	}
	s := hubtest.New(pushToken)
	defer s.Close()
	var log bytes.Buffer
	env := Env{Progress: func(r progress.Report) { fmt.Fprintf(&log, "%+v\n", r) }}
	o := DefaultPushOptions()
	o.Repo, o.Private, o.License, o.Language = "acme/static-fin", true, "apache-2.0", []string{"en"}
	o.Hub = &hub.Client{Endpoint: s.URL, Token: pushToken}
	res, err := Push(context.Background(), env, PushInput{Dir: dir}, o)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Repo("model", "acme/static-fin")
	if r == nil || !r.Private || r.Commits[0] != "Upload model with ragnb" || res.Commit == "" || res.Type != "model" {
		t.Fatalf("repository %+v, result %+v", r, res)
	}
	got := r.Files["main"]
	if len(got) != len(local) {
		t.Errorf("%d files landed, the directory has %d", len(got), len(local))
	}
	for p, b := range local {
		if p == "README.md" {
			continue
		}
		if !bytes.Equal(got[p].Data, b) {
			t.Errorf("%s did not land byte for byte", p)
		}
		if want := strings.HasSuffix(p, ".safetensors"); got[p].LFS != want {
			t.Errorf("%s: LFS %v, want %v", p, got[p].LFS, want)
		}
	}
	pushed := string(got["README.md"].Data)
	for _, want := range []string{"license: apache-2.0\n", "language:\n- en\n", `SentenceTransformer("acme/static-fin")`, "value: 0.5"} {
		if !strings.Contains(pushed, want) {
			t.Errorf("pushed card lacks %q:\n%s", want, pushed)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(after) != card {
		t.Error("Push changed the directory's README.md")
	}
	if strings.Contains(log.String(), pushToken) || !strings.Contains(log.String(), "push acme/static-fin") {
		t.Errorf("progress log:\n%s", log.String())
	}

	// A wrong token: the error is a 401 that does not show it.
	o.Hub = &hub.Client{Endpoint: s.URL, Token: "hf_notTheRightOne"}
	o.Retry = retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
	_, err = Push(context.Background(), env, PushInput{Dir: dir}, o)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "hf_notTheRightOne") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestPushATableWritesParquetAndADatasetCard(t *testing.T) {
	s := hubtest.New(pushToken)
	defer s.Close()
	df := dataframe.New(series.New([]string{"q1", "q2"}, series.String, "anchor"), series.New([]string{"p1", "p2"}, series.String, "positive"),
		series.New([]float64{0.9, 0.1}, series.Float, "score"))
	o := DefaultPushOptions()
	o.Repo, o.License = "acme/pairs", "cc-by-4.0"
	o.Hub = &hub.Client{Endpoint: s.URL, Token: pushToken}
	if _, err := Push(context.Background(), Env{}, PushInput{Table: &df, Source: "scored.jsonl"}, o); err != nil {
		t.Fatal(err)
	}
	r := s.Repo("dataset", "acme/pairs")
	if r == nil {
		t.Fatal("no dataset repository")
	}
	pq := r.Files["main"][DatasetPath]
	if !pq.LFS {
		t.Error("the parquet file did not go through LFS")
	}
	path := filepath.Join(t.TempDir(), "back.parquet")
	os.WriteFile(path, pq.Data, 0o644)
	back, err := datasets.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Nrow() != 2 || back.Col("anchor").Records()[1] != "q2" || back.Col("score").Float()[0] != 0.9 {
		t.Errorf("table back from the Hub: %v", back)
	}
	readme := string(r.Files["main"]["README.md"].Data)
	if !strings.Contains(readme, "license: cc-by-4.0") || !strings.Contains(readme, `load_dataset("acme/pairs"`) || !strings.Contains(readme, "path: "+DatasetPath) {
		t.Errorf("dataset card:\n%s", readme)
	}
}
