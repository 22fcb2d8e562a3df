package prelude

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestLoadHubDataset serves a dataset in the Hub's URL layout and loads it with Load("hf:…"): the train split
// by default (two files concatenated in order), another split by name, an unknown split as an error naming the
// files, and the same rows again offline from the Hugging Face cache.
func TestLoadHubDataset(t *testing.T) {
	const sha = "89abcdef0123456789abcdef0123456789abcdef"
	files := map[string]string{
		"README.md":                          "# fin",
		"data/train-00000-of-00002.jsonl":    `{"question": "q1", "context": "c1"}` + "\n" + `{"question": "q2", "context": "c2"}` + "\n",
		"data/train-00001-of-00002.jsonl":    `{"question": "q3", "context": "c3"}` + "\n",
		"data/test-00000-of-00001.jsonl":     `{"question": "t1", "context": "c1"}` + "\n",
		"data/validation-00000-of-00001.csv": "question,context\nv1,c2\n",
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path == "/api/datasets/org/fin/revision/main" {
			var sibs []map[string]string
			for name := range files {
				sibs = append(sibs, map[string]string{"rfilename": name})
			}
			json.NewEncoder(w).Encode(map[string]any{"sha": sha, "siblings": sibs})
			return
		}
		if name, ok := strings.CutPrefix(r.URL.Path, "/datasets/org/fin/resolve/"+sha+"/"); ok {
			if body, ok := files[name]; ok {
				w.Write([]byte(body))
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cacheDir := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_HUB_CACHE", cacheDir)
	t.Setenv("HF_HUB_OFFLINE", "")

	train := Load("hf:org/fin")
	if err := train.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(train.Column("question"), " "); got != "q1 q2 q3" {
		t.Errorf("train questions %q, want q1 q2 q3", got)
	}
	if !strings.Contains(train.String(), "org/fin (train)") {
		t.Errorf("display:\n%s", train)
	}
	if got, _ := filepath.Glob(filepath.Join(cacheDir, "datasets--org--fin", "snapshots", sha, "data", "*.jsonl")); len(got) != 3 {
		t.Errorf("the Hugging Face cache holds %v, want the 3 JSONL files", got)
	}
	if got := Load("hf:org/fin:validation").Column("question"); len(got) != 1 || got[0] != "v1" {
		t.Errorf("validation split: %v", got)
	}
	if err := Load("hf:org/fin:dev").Err(); err == nil || !strings.Contains(err.Error(), `no split "dev"`) || !strings.Contains(err.Error(), "data/test-00000-of-00001.jsonl") {
		t.Errorf("unknown split: %v", err)
	}
	n := requests.Load()
	srv.Close()
	t.Setenv("HF_HUB_OFFLINE", "1")
	again := Load("hf:org/fin:test")
	if err := again.Err(); err != nil || requests.Load() != n || strings.Join(again.Column("question"), " ") != "t1" {
		t.Errorf("offline from the cache: %v, %d new requests, %v", err, requests.Load()-n, again.Column("question"))
	}
}

func TestFileSplit(t *testing.T) {
	for name, want := range map[string]string{
		"data/train-00000-of-00001.parquet": "train", "test.jsonl": "test", "train/part-0.parquet": "train",
		"data/validation.csv": "validation", "valid_0.csv": "valid", "devices.csv": "", "corpus.jsonl": "",
		"dev/queries.tsv": "dev", "trainer_notes.json": "",
	} {
		if got := fileSplit(name); got != want {
			t.Errorf("fileSplit(%q) = %q, want %q", name, got, want)
		}
	}
}
