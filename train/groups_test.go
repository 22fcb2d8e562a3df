package train

import (
	"slices"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/datasets"
)

// flagFixture is FlagEmbedding training JSONL ({query, pos, neg, pos_scores, neg_scores, prompt, type}) with
// ragged lists: one to seven negatives, one or two positives.
const flagFixture = "../testdata/formats/flag_train.jsonl"

// Groups draw as AbsEmbedderTrainDataset.__getitem__ does: one positive from the list, Size−1 distinct
// negatives when the list is long enough, else each negative at most ⌈(Size−1)/len⌉ times; the scores follow
// their passages; the draw is a function of (seed, epoch, row) and changes with the epoch.
func TestGroupsDrawFlagEmbeddingSemantics(t *testing.T) {
	df, err := datasets.Load(flagFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !IsFlagEmbedding(df) {
		t.Fatalf("columns %v not taken for FlagEmbedding", df.Names())
	}
	ex, err := GroupExamples(df, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	g := ex.Groups
	if len(ex.Columns) != 6 || ex.Names[5] != "negative_4" || !g.Distill() {
		t.Fatalf("names %v, distill %v", ex.Names, g.Distill())
	}
	if !strings.HasPrefix(ex.Columns[0][0], "Represent this sentence for searching relevant passages: What was") {
		t.Errorf("the row's prompt is not its query instruction: %q", ex.Columns[0][0])
	}
	score := map[string]float64{}
	for r := range g.Positives {
		for i, p := range g.Positives[r] {
			score[p+"|pos"] = g.PosScores[r][i]
		}
	}
	differs := false
	for r := range g.Positives {
		if want := len(df.Col("neg_1").Records()); len(g.Negatives) != want {
			t.Fatalf("%d negative pools for %d rows", len(g.Negatives), want)
		}
		for _, e := range []int{0, 1} {
			ps, sc := g.Draw(r, 7, e)
			if len(ps) != 5 || len(sc) != 5 {
				t.Fatalf("row %d: group of %d passages, %d scores", r+1, len(ps), len(sc))
			}
			if sc[0] != score[ps[0]+"|pos"] {
				t.Errorf("row %d: positive %q scored %v, the file says %v", r+1, ps[0], sc[0], score[ps[0]+"|pos"])
			}
			count := map[string]int{}
			for i, n := range ps[1:] {
				count[n]++
				k := slices.Index(g.Negatives[r], n)
				if k < 0 || g.NegScores[r][k] != sc[i+1] || n == "" {
					t.Errorf("row %d: negative %q (score %v) is not one of its list %v", r+1, n, sc[i+1], g.Negatives[r])
				}
			}
			limit := 1
			if n := len(g.Negatives[r]); n < 4 {
				limit = (4 + n - 1) / n
			}
			for n, c := range count {
				if c > limit {
					t.Errorf("row %d (%d negatives): %q drawn %d times, at most %d", r+1, len(g.Negatives[r]), n, c, limit)
				}
			}
			again, _ := g.Draw(r, 7, e)
			if strings.Join(again, "|") != strings.Join(ps, "|") {
				t.Errorf("row %d epoch %d: two draws differ", r+1, e)
			}
		}
		a, _ := g.Draw(r, 7, 0)
		b, _ := g.Draw(r, 7, 1)
		differs = differs || strings.Join(a, "|") != strings.Join(b, "|")
	}
	if !differs {
		t.Error("no row's group changed between epochs")
	}
}

// Ragged lists' "" fillers are never passages; a row without negatives, or a missing teacher score, is
// refused naming its row.
func TestGroupExamplesRefusesWhatFlagEmbeddingCannotTrainOn(t *testing.T) {
	for _, c := range []struct{ name, jsonl, want string }{
		{"no negatives", `{"query": "q1", "pos": ["p1"], "neg": ["n1"]}` + "\n" + `{"query": "q2", "pos": ["p2"], "neg": []}`, "row 2: no negative"},
		{"missing score", `{"query": "q1", "pos": ["p1"], "neg": ["n1", "n2"], "pos_scores": [1], "neg_scores": [0.5, 0.2]}` + "\n" +
			`{"query": "q2", "pos": ["p2"], "neg": ["n3", "n4"], "pos_scores": [1], "neg_scores": [0.1]}`, `row 2 column "neg_scores_2": teacher score "" is not a finite number`},
	} {
		df, err := datasets.Read(strings.NewReader(c.jsonl), datasets.JSONL, c.name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = GroupExamples(df, 3, true)
		if c.name == "no negatives" {
			_, err = GroupExamples(df, 3, false)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
