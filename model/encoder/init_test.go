package encoder

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
)

// Every architecture's random init writes the HF layout with its own config and tensor names, truncates at
// the spec's length, and reloads to the same weights.
func TestInitEveryArchitectureRoundTrips(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "models", "tiny-bert-mean")
	tok, err := loadTokenizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := modeldir.ReadTokenizerFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		arch, biTensor, crossArch, crossTensor string
	}{
		{ArchBERT, "encoder.layer.1.attention.self.query.weight", "BertForSequenceClassification", "bert.pooler.dense.weight"},
		{ArchXLMRoberta, "encoder.layer.1.attention.self.query.weight", "XLMRobertaForSequenceClassification", "classifier.out_proj.weight"},
		{ArchModernBERT, "layers.1.attn.Wqkv.weight", "ModernBertForSequenceClassification", "model.final_norm.weight"},
	} {
		spec := BERTSpec{Arch: c.arch, Layers: 2, Hidden: 16, Heads: 2, Intermediate: 24, MaxLength: 64, Seed: 9}
		bi, err := NewBERTBiEncoder(tok, files, spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		cross, err := NewBERTCrossEncoder(tok, files, spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if bi.MaxLength() != 64 || cross.MaxLength() != 64 || bi.Layout().Architecture() != c.arch {
			t.Errorf("%s: max length %d / %d, arch %s", c.arch, bi.MaxLength(), cross.MaxLength(), bi.Layout().Architecture())
		}
		for _, m := range []struct {
			save     func(string) error
			weights  func() ([]string, [][]float32)
			load     func(string) ([][]float32, error)
			tensor   string
			archName string
		}{
			{bi.Save, namesAndData(bi.Weights), func(d string) ([][]float32, error) {
				m, err := LoadBiEncoder(d, Options{})
				if err != nil {
					return nil, err
				}
				_, data := namesAndData(m.Weights)()
				return data, nil
			}, c.biTensor, ""},
			{cross.Save, namesAndData(cross.Weights), func(d string) ([][]float32, error) {
				m, err := LoadCrossEncoder(d, Options{})
				if err != nil {
					return nil, err
				}
				_, data := namesAndData(m.Weights)()
				return data, nil
			}, c.crossTensor, c.crossArch},
		} {
			out := filepath.Join(t.TempDir(), c.arch)
			if err := m.save(out); err != nil {
				t.Fatal(err)
			}
			names, want := m.weights()
			if !slices.Contains(names, m.tensor) {
				t.Errorf("%s: no tensor %s in %v", c.arch, m.tensor, names)
			}
			cfg, _ := os.ReadFile(filepath.Join(out, "config.json"))
			if m.archName != "" && !strings.Contains(string(cfg), m.archName) {
				t.Errorf("%s: config.json lacks %s: %s", c.arch, m.archName, cfg)
			}
			got, err := m.load(out)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("%s: tensor %s differs after reload", c.arch, names[i])
				}
			}
		}
	}
}

// namesAndData splits a model's Weights into names and values (a read error leaves both empty).
func namesAndData(w func() ([]safetensors.Float32Tensor, error)) func() ([]string, [][]float32) {
	return func() ([]string, [][]float32) {
		ts, _ := w()
		var names []string
		var data [][]float32
		for _, x := range ts {
			names, data = append(names, x.Name), append(data, x.Data)
		}
		return names, data
	}
}
