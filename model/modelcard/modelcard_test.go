package modelcard

import (
	"math"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func sampleCard() Card {
	return Card{
		Kind: BiEncoder,
		Meta: Meta{BaseModel: "BAAI/bge-base-en-v1.5", License: "apache-2.0", Language: []string{"en"}, Datasets: []string{"philschmid/finanical-rag-embedding-dataset"}},
		Model: Model{Architecture: "BertModel", Layers: 2, Hidden: 32, Heads: 2, VocabSize: 100, MaxSeqLength: 64,
			OutputDim: 32, MatryoshkaDims: []int{32, 16}, Similarity: "cosine", Pooling: "cls", Normalize: true,
			Prompts: map[string]string{"query": "Represent this sentence: "}},
		Evaluation: &Evaluation{Split: "held-out 10% of qa.csv (seed 42)", Metrics: map[string]float64{
			"dim_32_cosine_ndcg@10": 0.61, "dim_16_cosine_ndcg@10": 0.5, "dim_32_cosine_accuracy@1": 0.4,
			"dim_32_cosine_map@100": 0.55, "dim_16_cosine_accuracy@1": 0.3, "dim_16_cosine_map@100": 0.45}},
		Training: &Training{Rows: 3, Columns: []string{"anchor", "positive"},
			Samples:         [][]string{{"what is | revenue?", "Revenue\nwas 2 billion."}},
			Lengths:         [][3]float64{{10, 12.5, 18}, {20, 30, 40}},
			Loss:            "MatryoshkaLoss(MultipleNegativesRankingLoss)",
			LossParams:      [][2]string{{"loss", `"MultipleNegativesRankingLoss"`}, {"matryoshka_dims", "[32, 16]"}},
			Hyperparameters: [][2]string{{"learning_rate", "0.05"}, {"num_train_epochs", "3"}},
			Log: []LogRow{{Epoch: 0, Step: 0, Loss: math.NaN(), Eval: map[string]float64{"dim_32_cosine_ndcg@10": 0.3, "dim_16_cosine_ndcg@10": 0.2}},
				{Epoch: 1, Step: 5, Loss: 1.25, Eval: map[string]float64{"dim_32_cosine_ndcg@10": 0.61, "dim_16_cosine_ndcg@10": 0.5}}},
			Steps: 5, Epochs: 1, Seconds: 2},
		Versions: [][2]string{{"ragnb", "v0.1.0"}, {"Go", "go1.26"}},
	}
}

// frontMatter parses a card's YAML front matter with a real YAML parser.
func frontMatter(t *testing.T, md []byte) map[string]any {
	t.Helper()
	front, _, ok := splitFrontMatter(md)
	if !ok {
		t.Fatalf("no front matter in:\n%s", md)
	}
	var m map[string]any
	if err := yaml.Unmarshal(front, &m); err != nil {
		t.Fatalf("front matter is not YAML: %v\n%s", err, front)
	}
	return m
}

func TestCardFrontMatterIsTheHubMetadataSentenceTransformersWrites(t *testing.T) {
	md := sampleCard().Markdown()
	m := frontMatter(t, md)
	for k, want := range map[string]any{"library_name": "sentence-transformers", "pipeline_tag": "sentence-similarity",
		"base_model": "BAAI/bge-base-en-v1.5", "license": "apache-2.0"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	tags := strings.Join(anyStrings(m["tags"]), ",")
	for _, want := range []string{"sentence-transformers", "sentence-similarity", "dataset_size:3", "loss:MatryoshkaLoss", "loss:MultipleNegativesRankingLoss"} {
		if !strings.Contains(tags, want) {
			t.Errorf("tags %s lack %s", tags, want)
		}
	}
	if got := anyStrings(m["language"]); len(got) != 1 || got[0] != "en" {
		t.Errorf("language = %v", got)
	}
	// model-index: one result per dimension, largest first, with the metrics' values.
	idx := m["model-index"].([]any)[0].(map[string]any)
	results := idx["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("results = %d, want one per dimension", len(results))
	}
	first := results[0].(map[string]any)
	if ds := first["dataset"].(map[string]any); ds["type"] != "dim_32" {
		t.Errorf("first result's dataset = %v, want dim_32", ds)
	}
	metrics := first["metrics"].([]any)
	got := map[string]float64{}
	for _, x := range metrics {
		mm := x.(map[string]any)
		got[mm["type"].(string)] = mm["value"].(float64)
	}
	if got["cosine_ndcg@10"] != 0.61 || got["cosine_map@100"] != 0.55 || got["cosine_accuracy@1"] != 0.4 {
		t.Errorf("dim 32 metrics = %v", got)
	}
	if metrics[0].(map[string]any)["type"] != "cosine_accuracy@1" {
		t.Errorf("metrics not in sentence-transformers' order: %v", metrics)
	}
}

func TestCardSectionsNameTheSplitTheLossAndTheLog(t *testing.T) {
	md := string(sampleCard().Markdown())
	for _, want := range []string{
		"## Model Details", "**Output Dimensionality:** 32 dimensions (Matryoshka: also 32, 16)", "**Maximum Sequence Length:** 64 tokens",
		"**Similarity Function:** cosine", "**Pooling:** cls",
		"## Usage", `SentenceTransformer("ORG/NAME", truncate_dim=16)`, "ragnb embed --model",
		"#### Information Retrieval: dim 32", "Measured on held-out 10% of qa.csv (seed 42).", "| cosine_ndcg@10 | 0.6100 |",
		"- Size: 3 training rows", "what is \\| revenue? | Revenue was 2 billion.",
		"- Loss: `MatryoshkaLoss(MultipleNegativesRankingLoss)`", `"matryoshka_dims": [32, 16]`,
		"- `learning_rate`: 0.05", "| Epoch | Step | Training Loss | dim_32_cosine_ndcg@10 | dim_16_cosine_ndcg@10 |",
		"| 1 | 5 | 1.2500 | 0.6100 | 0.5000 |", "| 0 | 0 | - | 0.3000 | 0.2000 |",
		"### Framework Versions", "- ragnb: v0.1.0",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("card lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "dim 32") > strings.Index(md, "dim 16") {
		t.Error("dimensions are not largest first")
	}
}

func TestCrossEncoderCardIsTextRankingAndLocalBaseStaysOutOfFrontMatter(t *testing.T) {
	c := Card{Kind: CrossEncoder, Meta: Meta{BaseModel: "/tmp/base"}, Model: Model{Architecture: "BertForSequenceClassification", BaseModelPath: "/tmp/base"},
		Evaluation: &Evaluation{Metrics: map[string]float64{"bm25_rerank_ndcg@10": 0.7, "bm25_rerank_mrr@10": 0.6}}}
	md := c.Markdown()
	m := frontMatter(t, md)
	if m["pipeline_tag"] != "text-ranking" {
		t.Errorf("pipeline_tag = %v", m["pipeline_tag"])
	}
	if _, ok := m["base_model"]; ok {
		t.Errorf("a local path became base_model: %v", m["base_model"])
	}
	res := m["model-index"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
	if res["task"].(map[string]any)["type"] != "cross-encoder-reranking" {
		t.Errorf("task = %v", res["task"])
	}
	if !strings.Contains(string(md), "CrossEncoder(\"ORG/NAME\")") || !strings.Contains(string(md), "| bm25_rerank_ndcg@10 | 0.7000 |") {
		t.Errorf("cross-encoder card:\n%s", md)
	}
}

func TestSetMetaReplacesBlocksAndKeepsTheRest(t *testing.T) {
	md := sampleCard().Markdown()
	out, err := SetMeta(md, Meta{License: "mit", Language: []string{"en", "de"}, Datasets: []string{"org/new"}})
	if err != nil {
		t.Fatal(err)
	}
	m := frontMatter(t, out)
	if m["license"] != "mit" || strings.Join(anyStrings(m["language"]), ",") != "en,de" || strings.Join(anyStrings(m["datasets"]), ",") != "org/new" {
		t.Errorf("front matter after SetMeta: %v", m)
	}
	if m["base_model"] != "BAAI/bge-base-en-v1.5" || m["model-index"] == nil {
		t.Errorf("SetMeta lost other keys: %v", m)
	}
	_, body, _ := splitFrontMatter(md)
	_, body2, _ := splitFrontMatter(out)
	if string(body) != string(body2) {
		t.Error("SetMeta changed the card's body")
	}
	// A card without those keys gets them; a README without front matter gets one.
	plain, err := SetMeta([]byte("# hello\n"), Meta{License: "apache-2.0", BaseModel: "org/base"})
	if err != nil {
		t.Fatal(err)
	}
	if m := frontMatter(t, plain); m["license"] != "apache-2.0" || m["base_model"] != "org/base" || !strings.HasSuffix(string(plain), "# hello\n") {
		t.Errorf("plain README after SetMeta:\n%s", plain)
	}
	if _, err := SetMeta(md, Meta{BaseModel: "../local/dir"}); err == nil {
		t.Error("a local path was accepted as base_model")
	}
}

func TestQuoteKeepsYAMLScalarsStrings(t *testing.T) {
	for _, s := range []string{"yes", "1.5", "no", "- x", "a: b", "#tag", "null", "plain text", `with "quotes"`, "multi\nline", "en"} {
		var v map[string]any
		if err := yaml.Unmarshal([]byte("k: "+quote(s)+"\n"), &v); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if v["k"] != s {
			t.Errorf("quote(%q) reads back as %#v", s, v["k"])
		}
	}
}

func anyStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i], _ = x.(string)
	}
	return out
}

func TestForRepoFillsTheUsageSnippets(t *testing.T) {
	md := string(ForRepo(sampleCard().Markdown(), "acme/fin-embed"))
	if strings.Contains(md, Placeholder) || !strings.Contains(md, `SentenceTransformer("acme/fin-embed", truncate_dim=16)`) || !strings.Contains(md, "ragnb embed --model acme/fin-embed") {
		t.Errorf("card after ForRepo:\n%s", md)
	}
}

func TestDatasetCardDeclaresTheParquetConfig(t *testing.T) {
	d := DatasetCard{Meta: Meta{License: "cc-by-4.0", Language: []string{"en"}}, Path: "data/train-00000-of-00001.parquet",
		Source: "triplets.jsonl", Rows: 1500, Columns: [][2]string{{"anchor", "string"}, {"score", "float64"}}, Samples: [][]string{{"q", "0.5"}}}
	m := frontMatter(t, d.Markdown())
	cfg := m["configs"].([]any)[0].(map[string]any)
	files := cfg["data_files"].([]any)[0].(map[string]any)
	if cfg["config_name"] != "default" || files["split"] != "train" || files["path"] != d.Path || m["license"] != "cc-by-4.0" {
		t.Errorf("front matter: %v", m)
	}
	feats := m["dataset_info"].(map[string]any)["features"].([]any)
	if len(feats) != 2 || feats[1].(map[string]any)["dtype"] != "float64" || anyStrings(m["size_categories"])[0] != "1K<n<10K" {
		t.Errorf("features %v, size %v", feats, m["size_categories"])
	}
}
