package encoder

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/vector"
)

// Saving a loaded model writes the same weights file, and the reloaded model embeds bit-identically.
func TestSaveLoadBitIdentical(t *testing.T) {
	seqs := []Sequence{{IDs: []int32{2, 50, 60, 3}}, {IDs: []int32{2, 9, 3}}, {IDs: []int32{2, 100, 101, 102, 103, 104, 3}}}
	static := []Sequence{{IDs: []int32{50, 60}}, {IDs: []int32{9}}, {}}
	for _, name := range []string{"tiny-bert-mean", "tiny-bert-cls", "tiny-static", "tiny-cross", "tiny-xlmr-mean", "tiny-xlmr-cross",
		"tiny-modernbert-mean", "tiny-modernbert-cross-cls", "tiny-modernbert-cross-mean"} {
		src := filepath.Join("..", "..", "testdata", "models", name)
		bi, cross := loadWithoutTokenizer(t, src)
		dst := filepath.Join(t.TempDir(), name)
		var err error
		if bi != nil {
			err = bi.Save(dst)
		} else {
			err = cross.Save(dst)
		}
		if err != nil {
			t.Fatal(err)
		}
		var l *modeldir.Layout
		if bi != nil {
			l = bi.Layout()
		} else {
			l = cross.Layout()
		}
		orig, _ := os.ReadFile(l.WeightsFile(src))
		saved, _ := os.ReadFile(l.WeightsFile(dst))
		if !bytes.Equal(orig, saved) {
			t.Errorf("%s: saved model.safetensors differs from the loaded one", name)
		}
		bi2, cross2 := loadWithoutTokenizer(t, dst)
		ctx := context.Background()
		if bi != nil {
			in := seqs
			if bi.IsStatic() {
				in = static
			}
			a, err := bi.EmbedSequences(ctx, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := bi2.EmbedSequences(ctx, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range a.Data {
				if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
					t.Fatalf("%s: value %d differs after save/load", name, i)
				}
			}
		} else {
			a, _ := cross.ScoreSequences(ctx, seqs, nil)
			b, _ := cross2.ScoreSequences(ctx, seqs, nil)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%s: score %d differs after save/load", name, i)
				}
			}
		}
	}
}

// Options.Dim gives the first Dim values renormalised (Matryoshka); Options.Sigmoid maps logits to (0, 1).
func TestDimAndSigmoid(t *testing.T) {
	seqs := []Sequence{{IDs: []int32{2, 50, 60, 3}}, {IDs: []int32{2, 9, 10, 11, 3}}}
	dir := filepath.Join("..", "..", "testdata", "models", "tiny-bert-cls")
	full, _ := loadWithoutTokenizer(t, dir)
	l, tokFiles, f, _ := readDir(dir)
	ts, _ := biEncoderWeights(l, f, 0, 0)
	short, err := newBiEncoder(l, nil, tokFiles, ts, Options{Dim: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, _ := full.EmbedSequences(ctx, seqs, nil)
	b, err := short.EmbedSequences(ctx, seqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Dim != 8 {
		t.Fatalf("dim %d", b.Dim)
	}
	for i := range seqs {
		want := append([]float32(nil), a.Row(i)[:8]...)
		vector.NormalizeInPlace(want)
		for j := range want {
			if math.Abs(float64(want[j]-b.Row(i)[j])) > 1e-6 {
				t.Fatalf("row %d: %v, want %v", i, b.Row(i), want)
			}
		}
	}
	if _, err := newBiEncoder(l, nil, tokFiles, ts, Options{Dim: 33}); err == nil {
		t.Error("Dim above the model's 32: want an error")
	}

	_, cross := loadWithoutTokenizer(t, filepath.Join("..", "..", "testdata", "models", "tiny-cross"))
	logits, _ := cross.ScoreSequences(ctx, seqs, nil)
	cts, err := cross.Weights()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := newCrossEncoder(cross.Layout(), nil, nil, cts, Options{Sigmoid: true})
	if err != nil {
		t.Fatal(err)
	}
	probs, _ := sig.ScoreSequences(ctx, seqs, nil)
	for i := range logits {
		if want := 1 / (1 + math.Exp(-logits[i])); math.Abs(probs[i]-want) > 1e-12 {
			t.Errorf("sigmoid(%v) = %v, got %v", logits[i], want, probs[i])
		}
	}
}
