package tokenizer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/trained/tokenizer.json from TrainWordPiece")

// goldenTexts are the hand-picked sentences of golden_ids.json (accents, punctuation, numbers, CJK, emoji,
// control characters, very long words and texts).
func goldenTexts(t *testing.T) []string {
	t.Helper()
	var g struct{ Texts []string }
	data, err := os.ReadFile("testdata/golden_ids.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g.Texts
}

// trainedFixtureOptions keep the vocabulary small so that many words split into pieces.
var trainedFixtureOptions = TrainOptions{VocabSize: 700, MinFrequency: 1}

// TestTrainedFixtureIsReproducible: the committed trained tokenizer (which the reference encodes in
// tools/tokgolden) is exactly what TrainWordPiece writes today.
func TestTrainedFixtureIsReproducible(t *testing.T) {
	data, err := TrainWordPiece(goldenTexts(t), trainedFixtureOptions)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "trained", "tokenizer.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("TrainWordPiece output differs from %s (rerun with -update, then regenerate trained_golden.json with tools/tokgolden)", path)
	}
	again, _ := TrainWordPiece(goldenTexts(t), trainedFixtureOptions)
	if !bytes.Equal(data, again) {
		t.Fatal("TrainWordPiece is not deterministic")
	}
}

// TestTrainedTokenizerMatchesReference: Hugging Face tokenizers loads our trained file and gives the same
// ids as we do (trained_golden.json, written by tools/tokgolden).
func TestTrainedTokenizerMatchesReference(t *testing.T) {
	tok, err := Load(filepath.Join("testdata", "trained", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Generator string
		Cases     []struct {
			Text string
			IDs  []int32 `json:"ids"`
		}
	}
	data, err := os.ReadFile("testdata/trained_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 20 {
		t.Fatalf("only %d cases", len(g.Cases))
	}
	for i, c := range g.Cases {
		if got := tok.Encode(c.Text, 0).IDs; !reflect.DeepEqual(got, c.IDs) {
			t.Errorf("case %d %.40q: ids %v, reference %v", i, c.Text, got, c.IDs)
		}
	}
}

func TestTrainWordPieceVocabulary(t *testing.T) {
	texts := []string{
		"Revenue grew 12% as cloud revenue grew.",
		"Operating revenue and cloud subscriptions grew; revenues rose.",
		"Crème brûlée",
	}
	data, err := TrainWordPiece(texts, TrainOptions{MinFrequency: 2})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.json")
	os.WriteFile(path, data, 0o644)
	tok, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range trainedSpecials {
		if id, ok := tok.TokenID(s); !ok || id != int32(i) {
			t.Errorf("%s has id %d (%v), want %d", s, id, ok, i)
		}
	}
	if tok.PadID() != 0 || tok.UnknownID() != 1 {
		t.Errorf("pad %d unk %d", tok.PadID(), tok.UnknownID())
	}
	// Frequent words (≥ 2) have entries; rare ones are spelled with pieces; accents are stripped.
	for _, w := range []string{"revenue", "grew", "cloud"} {
		if _, ok := tok.TokenID(w); !ok {
			t.Errorf("frequent word %q has no entry", w)
		}
	}
	for _, w := range []string{"operating", "subscriptions"} {
		if _, ok := tok.TokenID(w); ok {
			t.Errorf("rare word %q got an entry with MinFrequency 2", w)
		}
	}
	got := tok.Tokens(tok.Encode("Revenues soared, crème!", 0).IDs)
	want := []string{"[CLS]", "revenue", "##s", "s", "##o", "##a", "##r", "##e", "##d", ",", "c", "##r", "##e", "##m", "##e", "!", "[SEP]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens %v, want %v", got, want)
	}
	// Only a non-ASCII character the training texts never showed becomes [UNK].
	if got := tok.Tokens(tok.Encode("zq 7 €", 0).IDs); !reflect.DeepEqual(got, []string{"[CLS]", "z", "##q", "7", "[UNK]", "[SEP]"}) {
		t.Errorf("unseen characters: %v", got)
	}
	for _, text := range texts {
		for _, id := range tok.EncodeNoSpecial(text, 0).IDs {
			if id == tok.UnknownID() {
				t.Errorf("training text %q produced [UNK]", text)
			}
		}
	}
	pair := tok.EncodePair("revenue grew", "cloud", 0)
	if !reflect.DeepEqual(pair.TypeIDs, []int32{0, 0, 0, 0, 1, 1}) {
		t.Errorf("pair type ids %v", pair.TypeIDs)
	}
	if _, err := TrainWordPiece([]string{"   ", ""}, TrainOptions{}); err == nil {
		t.Error("no words: want an error")
	}
	if _, err := TrainWordPiece(texts, TrainOptions{VocabSize: 10}); err == nil || !strings.Contains(err.Error(), "vocabulary size") {
		t.Errorf("vocabulary too small for the characters: %v", err)
	}
}

func TestWriteTrained(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTrained(dir, []string{"a b c a b"}, TrainOptions{MaxLength: 128}); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.MaxLength() != 128 {
		t.Errorf("MaxLength %d, want 128 from tokenizer_config.json", tok.MaxLength())
	}
}
