package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// The goldens come from Hugging Face tokenizers 0.23.2 (Rust, via its Node bindings) run by
// tools/tokgolden/gen.js on the real tokenizer.json files in ../shared/data/tokenizers.

type goldenFile struct {
	Generator  string                  `json:"generator"`
	Texts      []string                `json:"texts"`
	Tokenizers map[string][]goldenCase `json:"tokenizers"`
}

type goldenCase struct {
	Kind    string   `json:"kind"`
	A       int      `json:"a"`
	B       *int     `json:"b"`
	MaxLen  int      `json:"max_len"`
	IDs     []int32  `json:"ids"`
	TypeIDs []int32  `json:"type_ids"`
	Offsets [][2]int `json:"offsets"`
	SameAs  string   `json:"same_as"`
}

func sharedTokenizers(t testing.TB) map[string]string {
	return map[string]string{
		"bert-base-uncased": sharedtest.BertTokenizer(t),
		"all-minilm-l6-v2":  sharedtest.MiniLMTokenizer(t),
	}
}

func loadShared(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(sharedTokenizers(t)[name])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func readGolden(t testing.TB) goldenFile {
	t.Helper()
	data, err := os.ReadFile("testdata/golden_ids.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func firstDiff(a, b []int32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestGoldenIDs(t *testing.T) {
	g := readGolden(t)
	if len(g.Tokenizers) != 2 {
		t.Fatalf("golden has %d tokenizers, want 2", len(g.Tokenizers))
	}
	counts := map[string]int{}
	for name, cases := range g.Tokenizers {
		tok := loadShared(t, name)
		for i, c := range cases {
			want := c
			if c.SameAs != "" {
				want = g.Tokenizers[c.SameAs][i]
				if want.Kind != c.Kind || want.A != c.A || want.MaxLen != c.MaxLen {
					t.Fatalf("%s case %d: same_as points at a different case", name, i)
				}
			}
			a := g.Texts[c.A]
			var got Encoding
			var desc string
			switch c.Kind {
			case "single":
				got = tok.Encode(a, c.MaxLen)
				desc = fmt.Sprintf("Encode(%.40q, %d)", a, c.MaxLen)
			case "nospecial":
				got = tok.EncodeNoSpecial(a, c.MaxLen)
				desc = fmt.Sprintf("EncodeNoSpecial(%.40q, %d)", a, c.MaxLen)
			case "pair":
				b := g.Texts[*c.B]
				got = tok.EncodePair(a, b, c.MaxLen)
				desc = fmt.Sprintf("EncodePair(%.30q, %.30q, %d)", a, b, c.MaxLen)
			default:
				t.Fatalf("unknown case kind %q", c.Kind)
			}
			counts[c.Kind]++
			if d := firstDiff(got.IDs, want.IDs); d != len(got.IDs) || len(got.IDs) != len(want.IDs) {
				t.Errorf("%s %s: %d ids, want %d; first difference at %d: got %q want %q", name, desc,
					len(got.IDs), len(want.IDs), d, tok.Tokens(got.IDs[d:min(d+5, len(got.IDs))]), tok.Tokens(want.IDs[d:min(d+5, len(want.IDs))]))
				continue
			}
			wantTypes := want.TypeIDs
			if wantTypes == nil {
				wantTypes = make([]int32, len(want.IDs))
			}
			if d := firstDiff(got.TypeIDs, wantTypes); d != len(wantTypes) || len(got.TypeIDs) != len(wantTypes) {
				t.Errorf("%s %s: type ids differ at %d: got %v want %v", name, desc, d, got.TypeIDs, wantTypes)
			}
			if len(got.Mask) != len(got.IDs) {
				t.Errorf("%s %s: mask length %d for %d ids", name, desc, len(got.Mask), len(got.IDs))
			}
			for j, m := range got.Mask {
				if m != 1 {
					t.Errorf("%s %s: mask[%d] = %d, want 1 (unpadded)", name, desc, j, m)
					break
				}
			}
			if want.Offsets != nil {
				for j := range want.Offsets {
					if got.Offsets[j] != want.Offsets[j] {
						t.Errorf("%s %s: token %d (%q) offsets %v, want %v", name, desc, j, tok.IDToken(got.IDs[j]), got.Offsets[j], want.Offsets[j])
						break
					}
				}
			}
		}
	}
	if counts["single"] == 0 || counts["pair"] == 0 || counts["nospecial"] == 0 {
		t.Fatalf("golden cases by kind: %v", counts)
	}
}

// TestTinyGolden loads small tokenizer.json files written by the reference library itself (added tokens
// with single_word / lstrip / rstrip / normalized, BertProcessing, RobertaProcessing, a Sequence normalizer
// and WhitespaceSplit) and compares their encodings with the reference's.
func TestTinyGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Tokenizers []struct {
			Name          string `json:"name"`
			TokenizerJSON string `json:"tokenizer_json"`
			Cases         []struct {
				Kind    string   `json:"kind"`
				A       string   `json:"a"`
				B       string   `json:"b"`
				MaxLen  int      `json:"max_len"`
				IDs     []int32  `json:"ids"`
				TypeIDs []int32  `json:"type_ids"`
				Offsets [][2]int `json:"offsets"`
			} `json:"cases"`
		} `json:"tokenizers"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Tokenizers) != 2 {
		t.Fatalf("%d tiny tokenizers, want 2", len(g.Tokenizers))
	}
	for _, tt := range g.Tokenizers {
		p := filepath.Join(t.TempDir(), "tokenizer.json")
		writeFile(t, p, []byte(tt.TokenizerJSON))
		tok, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", tt.Name, err)
		}
		for _, c := range tt.Cases {
			var got Encoding
			switch c.Kind {
			case "single":
				got = tok.Encode(c.A, c.MaxLen)
			case "nospecial":
				got = tok.EncodeNoSpecial(c.A, c.MaxLen)
			case "pair":
				got = tok.EncodePair(c.A, c.B, c.MaxLen)
			}
			wantTypes := c.TypeIDs
			if wantTypes == nil {
				wantTypes = make([]int32, len(c.IDs))
			}
			if !reflect.DeepEqual(got.IDs, c.IDs) || !reflect.DeepEqual(got.TypeIDs, wantTypes) || !reflect.DeepEqual(got.Offsets, c.Offsets) {
				t.Errorf("%s %s(%q, %q, %d):\n got %q %v %v\nwant %q %v %v", tt.Name, c.Kind, c.A, c.B, c.MaxLen,
					tok.Tokens(got.IDs), got.TypeIDs, got.Offsets, tok.Tokens(c.IDs), wantTypes, c.Offsets)
			}
		}
	}
}
