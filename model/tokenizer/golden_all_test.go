package tokenizer

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// golden_all.json (tools/tokgolden, stage golden_all) holds the reference ids of every shared tokenizer.json:
// WordPiece (bert-base-uncased, all-minilm-l6-v2, bert-base-chinese), byte-level BPE (modernbert,
// roberta-base with "a b" merges, all-distilroberta-v1 with truncation and padding in the file) and Unigram
// with SentencePiece's Precompiled normalizer (t5-small, marian-unigram).

type goldenAllText struct {
	text string
	// a financial QA row, read from the shared CSV
	Row    int    `json:"row"`
	Col    string `json:"col"`
	SHA256 string `json:"sha256"`
}

func (g *goldenAllText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &g.text)
	}
	type plain goldenAllText
	return json.Unmarshal(b, (*plain)(g))
}

type goldenAllCase struct {
	Kind  string  `json:"k"`
	A     int     `json:"a"`
	B     *int    `json:"b"`
	Max   int     `json:"max"`
	IDs   []int32 `json:"ids"`
	Types []int32 `json:"types"`
	Mask  []int32 `json:"mask"`
}

var allSharedTokenizers = []string{"bert-base-uncased", "all-minilm-l6-v2", "bert-base-chinese", "modernbert", "roberta-base",
	"all-distilroberta-v1", "t5-small", "marian-unigram"}

// resolveGoldenTexts fills in the financial QA rows the golden refers to, checking each against its hash.
func resolveGoldenTexts(t *testing.T, file string, texts []goldenAllText) {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for i := range texts {
		g := &texts[i]
		if g.Col == "" {
			continue
		}
		c, ok := col[g.Col]
		if !ok || g.Row+1 >= len(rows) {
			t.Fatalf("golden text %d: %s row %d column %q not in the CSV", i, file, g.Row, g.Col)
		}
		g.text = rows[g.Row+1][c]
		sum := sha256.Sum256([]byte(g.text))
		if h := hex.EncodeToString(sum[:])[:len(g.SHA256)]; h != g.SHA256 {
			t.Fatalf("golden text %d: %s row %d column %s has hash %s, golden %s (the shared data changed?)", i, file, g.Row, g.Col, h, g.SHA256)
		}
	}
}

func TestGoldenAllTokenizerKinds(t *testing.T) {
	data, err := os.ReadFile("testdata/golden_all.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		File       string                     `json:"file"`
		Texts      []goldenAllText            `json:"texts"`
		Tokenizers map[string][]goldenAllCase `json:"tokenizers"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	resolveGoldenTexts(t, g.File, g.Texts)
	if len(g.Tokenizers) != len(allSharedTokenizers) {
		t.Fatalf("golden has %d tokenizers, want %d", len(g.Tokenizers), len(allSharedTokenizers))
	}
	for _, name := range allSharedTokenizers {
		cases := g.Tokenizers[name]
		t.Run(name, func(t *testing.T) {
			if len(cases) == 0 {
				t.Fatal("no golden cases")
			}
			tok, err := Load(filepath.Join(sharedtest.Dir(t), "data", "tokenizers", name, "tokenizer.json"))
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for _, c := range cases {
				a := g.Texts[c.A].text
				var b string
				if c.B != nil {
					b = g.Texts[*c.B].text
				}
				var got Encoding
				var mask []int32
				var desc string
				switch c.Kind {
				case "single":
					got, desc = tok.Encode(a, c.Max), fmt.Sprintf("Encode(%q, %d)", a, c.Max)
				case "nospecial":
					got, desc = tok.EncodeNoSpecial(a, c.Max), fmt.Sprintf("EncodeNoSpecial(%q, %d)", a, c.Max)
				case "pair":
					got, desc = tok.EncodePair(a, b, c.Max), fmt.Sprintf("EncodePair(%q, %q, %d)", a, b, c.Max)
				case "file":
					if c.B != nil {
						got, desc = tok.EncodePairConfigured(a, b), fmt.Sprintf("EncodePairConfigured(%q, %q)", a, b)
					} else {
						got, desc = tok.EncodeConfigured(a), fmt.Sprintf("EncodeConfigured(%q)", a)
					}
					if c.Mask != nil {
						batch := tok.PadConfigured([]Encoding{got})
						got.IDs, got.TypeIDs = batch.IDs, batch.TypeIDs
						mask = batch.Mask
					}
				default:
					t.Fatalf("unknown case kind %q", c.Kind)
				}
				if len(desc) > 300 {
					desc = desc[:300] + "…"
				}
				wantTypes := c.Types
				if wantTypes == nil {
					wantTypes = make([]int32, len(c.IDs))
				}
				wantMask := c.Mask
				if wantMask == nil {
					wantMask = make([]int32, len(c.IDs))
					for i := range wantMask {
						wantMask[i] = 1
					}
				}
				if mask == nil {
					mask = got.Mask
				}
				for _, cmp := range []struct {
					what      string
					got, want []int32
				}{{"ids", got.IDs, c.IDs}, {"type ids", got.TypeIDs, wantTypes}, {"attention mask", mask, wantMask}} {
					d := firstDiff(cmp.got, cmp.want)
					if d == len(cmp.got) && len(cmp.got) == len(cmp.want) {
						continue
					}
					bad++
					if bad <= 10 {
						t.Errorf("%s: %s differ (%d vs %d reference) from position %d: got %v, want %v (tokens %q, want %q)", desc, cmp.what,
							len(cmp.got), len(cmp.want), d, cmp.got[d:min(d+6, len(cmp.got))], cmp.want[d:min(d+6, len(cmp.want))],
							tok.Tokens(cmp.got[d:min(d+6, len(cmp.got))]), tok.Tokens(cmp.want[d:min(d+6, len(cmp.want))]))
					}
					break
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d cases differ from the reference", bad, len(cases))
			}
		})
	}
}
