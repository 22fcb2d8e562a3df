package prelude

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/internal/testkit/hubtest"
	"github.com/ragnb/ragnb/workflow"
)

func TestPushZeroOptionsAreTheWorkflowDefaults(t *testing.T) {
	want := workflow.DefaultPushOptions()
	want.Repo = "org/x"
	if got := (PushOptions{}).workflow("org/x"); !reflect.DeepEqual(got, want) {
		t.Errorf("zero options give %+v, want %+v", got, want)
	}
}

func TestModelAndDatasetPush(t *testing.T) {
	token := "hf_preludePushToken13579"
	s := hubtest.New(token)
	defer s.Close()
	t.Setenv("HF_ENDPOINT", s.URL)
	t.Setenv("HF_TOKEN", token)
	dir := "../testdata/models/tiny-static"
	m := LoadModel(dir)
	p := m.Push("acme/static", PushOptions{License: "apache-2.0", Private: true})
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	r := s.Repo("model", "acme/static")
	if r == nil || !r.Private || p.URL() != s.URL+"/acme/static" || p.Commit() == "" {
		t.Fatalf("repository %+v, pushed %s", r, p.String())
	}
	weights, _ := os.ReadFile(filepath.Join(dir, "0_StaticEmbedding", "model.safetensors"))
	if f := r.Files["main"]["0_StaticEmbedding/model.safetensors"]; !f.LFS || !bytes.Equal(f.Data, weights) {
		t.Error("the weights did not land through LFS byte for byte")
	}
	// The directory has no card: one is written from its layout, with the options' fields.
	card := string(r.Files["main"]["README.md"].Data)
	if !strings.Contains(card, "license: apache-2.0") || !strings.Contains(card, "StaticEmbedding") || !strings.Contains(card, `SentenceTransformer("acme/static")`) {
		t.Errorf("card:\n%s", card)
	}
	if out := p.String() + p.HTML(); strings.Contains(out, token) || !strings.Contains(p.String(), "LFS: 1 sent") {
		t.Errorf("output:\n%s", p.String())
	}

	d := FromFrame("pairs", dataframe.New(series.New([]string{"q1", "q2"}, series.String, "anchor"), series.New([]string{"p1", "p2"}, series.String, "positive")))
	if p := d.Push("acme/pairs"); p.Err() != nil {
		t.Fatal(p.Err())
	}
	if ds := s.Repo("dataset", "acme/pairs"); ds == nil || !ds.Files["main"][workflow.DatasetPath].LFS {
		t.Errorf("dataset repository: %+v", ds)
	}

	t.Setenv("HF_TOKEN", "hf_wrongOne")
	if p := m.Push("acme/denied"); p.Err() == nil || !strings.Contains(p.String(), "401") || strings.Contains(p.String(), "hf_wrongOne") {
		t.Errorf("bad token: %v", p.String())
	}
}
