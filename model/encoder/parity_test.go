package encoder

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/modeldir"
)

// The goldens: tiny random models written by `go run ./tools/goldens` and the outputs that
// tools/reference.py (plain PyTorch, float64, its own safetensors reader) computed from those same files.
type goldenInputs struct {
	Models map[string][]string `json:"models"`
	Cases  []struct {
		Name  string    `json:"name"`
		IDs   [][]int32 `json:"ids"`
		Types [][]int32 `json:"types"`
	} `json:"cases"`
}

type goldenResult struct {
	Hidden     [][][]float64 `json:"hidden"`
	Embeddings [][]float64   `json:"embeddings"`
	Logits     []float64     `json:"logits"`
}

type goldenReference struct {
	Results map[string]map[string]goldenResult `json:"results"`
}

func readGolden(t *testing.T) (goldenInputs, goldenReference) {
	t.Helper()
	var in goldenInputs
	var ref goldenReference
	for name, v := range map[string]any{"inputs.json": &in, "reference.json": &ref} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return in, ref
}

// loadWithoutTokenizer builds a model from a golden directory; the goldens are token ids, so no tokenizer is
// involved.
func loadWithoutTokenizer(t *testing.T, dir string) (*BiEncoder, *CrossEncoder) {
	t.Helper()
	l, tokFiles, f, err := readDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind == modeldir.CrossEncoder {
		ts, err := readWeights(l, f, true, 0)
		if err != nil {
			t.Fatal(err)
		}
		m, err := newCrossEncoder(l, nil, tokFiles, ts, Options{BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		return nil, m
	}
	ts, err := biEncoderWeights(l, f, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newBiEncoder(l, nil, tokFiles, ts, Options{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	return m, nil
}

// hiddenStates runs the layout's encoder on sequences padded to padLen (longer than the reference's padding,
// so the comparison also checks that padding does not leak into the tokens).
func hiddenStates(t *testing.T, store *model.Store, l *modeldir.Layout, scopeName string, seqs []Sequence, padLen int) [][]float32 {
	t.Helper()
	b, err := (Options{}).backend()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := model.NewExec(b, store, func(scope *model.Scope, ids, types, mask *graph.Node) *graph.Node {
		if scopeName != "" {
			scope = scope.At("%s", scopeName)
		}
		return encodeGraph(l, scope, ids, types, mask)
	})
	if err != nil {
		t.Fatal(err)
	}
	plan := batchPlan{rows: len(seqs), len: padLen}
	for i := range seqs {
		plan.index = append(plan.index, i)
	}
	ids, types, mask, _ := padded(seqs, plan, int32(l.PadTokenID()))
	out, err := exec.Exec(ids, types, mask)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	h := l.HiddenSize()
	rows := make([][]float32, len(seqs))
	for i := range seqs {
		rows[i] = flat[i*padLen*h : (i*padLen+len(seqs[i].IDs))*h]
	}
	return rows
}

func maxAbsDiff(got []float32, want []float64) float64 {
	d := 0.0
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

func cosine64(a []float32, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * b[i]
		aa += float64(a[i]) * float64(a[i])
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func TestParityWithPyTorchReference(t *testing.T) {
	in, ref := readGolden(t)
	cases := map[string][]Sequence{}
	for _, c := range in.Cases {
		for i := range c.IDs {
			s := Sequence{IDs: c.IDs[i]}
			if c.Types != nil {
				s.TypeIDs = c.Types[i]
			}
			cases[c.Name] = append(cases[c.Name], s)
		}
	}
	ctx := context.Background()
	for name, caseNames := range in.Models {
		bi, cross := loadWithoutTokenizer(t, filepath.Join("..", "..", "testdata", "models", name))
		for _, cn := range caseNames {
			want := ref.Results[name][cn]
			seqs := cases[cn]
			t.Run(name+"/"+cn, func(t *testing.T) {
				if len(want.Hidden) > 0 {
					var store *model.Store
					var l *modeldir.Layout
					scope := ""
					if bi != nil {
						store, l = bi.Store(), bi.Layout()
					} else {
						store, l = cross.Store(), cross.Layout()
						scope = encoderScope(l)
					}
					worst := 0.0
					for i, row := range hiddenStates(t, store, l, scope, seqs, min(l.MaxPositions(), 96)) {
						var flat []float64
						for _, tok := range want.Hidden[i] {
							flat = append(flat, tok...)
						}
						worst = math.Max(worst, maxAbsDiff(row, flat))
					}
					t.Logf("hidden states: max |Δ| = %.2g", worst)
					if worst > 1e-4 {
						t.Errorf("hidden states differ from the reference by %.3g > 1e-4", worst)
					}
				}
				if want.Embeddings != nil {
					got, err := bi.EmbedSequences(ctx, seqs, nil)
					if err != nil {
						t.Fatal(err)
					}
					worstCos, worstAbs := 1.0, 0.0
					for i, w := range want.Embeddings {
						if norm(w) == 0 { // the empty bag: exactly zero
							for _, x := range got.Row(i) {
								if x != 0 {
									t.Errorf("row %d: want the zero vector, got %v", i, got.Row(i))
									break
								}
							}
							continue
						}
						worstCos = math.Min(worstCos, cosine64(got.Row(i), w))
						worstAbs = math.Max(worstAbs, maxAbsDiff(got.Row(i), w))
					}
					t.Logf("embeddings: min cosine = %.9f, max |Δ| = %.2g", worstCos, worstAbs)
					if worstAbs > 1e-4 {
						t.Errorf("embeddings differ from the reference by %.3g > 1e-4", worstAbs)
					}
					if worstCos < 0.99999 {
						t.Errorf("embedding cosine to the reference %.7f < 0.99999", worstCos)
					}
				}
				if want.Logits != nil {
					got, err := cross.ScoreSequences(ctx, seqs, nil)
					if err != nil {
						t.Fatal(err)
					}
					worst := 0.0
					for i, w := range want.Logits {
						worst = math.Max(worst, math.Abs(got[i]-w))
					}
					t.Logf("logits: max |Δ| = %.2g", worst)
					if worst > 1e-4 {
						t.Errorf("logits differ from the reference by %.3g > 1e-4: got %v want %v", worst, got, want.Logits)
					}
				}
			})
		}
	}
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// With include_prompt false the prompt's tokens are left out of mean pooling (sentence-transformers'
// Pooling): the embedding is the normalised mean of the hidden states after them.
func TestPoolingExcludesPrompt(t *testing.T) {
	m, _ := loadWithoutTokenizer(t, filepath.Join("..", "..", "testdata", "models", "tiny-bert-mean"))
	copied := *m.layout
	copied.IncludePrompt = false
	m.layout = &copied
	seqs := []Sequence{{IDs: []int32{2, 95, 93, 108, 3}, SkipPool: 3}, {IDs: []int32{2, 95, 93, 50, 60, 70, 3}, SkipPool: 3}}
	got, err := m.EmbedSequences(context.Background(), seqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.layout.Config
	for i, h := range hiddenStates(t, m.Store(), m.layout, "", seqs, 16) {
		want := make([]float32, cfg.HiddenSize)
		n := len(seqs[i].IDs) - seqs[i].SkipPool
		for tok := seqs[i].SkipPool; tok < len(seqs[i].IDs); tok++ {
			for j := range want {
				want[j] += h[tok*cfg.HiddenSize+j] / float32(n)
			}
		}
		w64 := make([]float64, len(want))
		for j, x := range want {
			w64[j] = float64(x)
		}
		if c := cosine64(got.Row(i), w64); c < 0.999999 {
			t.Errorf("row %d: cosine %.7f to the mean of the non-prompt tokens", i, c)
		}
	}
}
