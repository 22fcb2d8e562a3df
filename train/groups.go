package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
)

// DefaultGroupSize is FlagEmbedding's train_group_size default: one positive and seven negatives per query.
const DefaultGroupSize = 8

// Groups are FlagEmbedding's per-query pools ({query, pos: [...], neg: [...], pos_scores, neg_scores}): in
// every epoch each row's group is one positive and Size−1 negatives drawn from its pools, as
// AbsEmbedderTrainDataset.__getitem__ draws them — the positive uniformly, the negatives without repetition
// when the pool has Size−1 or more, else from the pool repeated ⌈(Size−1)/len⌉ times. The draw is a pure
// function of (seed, epoch, row), so a resumed run draws what an uninterrupted one drew.
type Groups struct {
	Size                 int
	Positives, Negatives [][]string
	// PosScores and NegScores are the teacher's scores of the pools (nil: none); with them a bi-encoder trains
	// with knowledge distillation (losses.GroupKLDivergence beside MNRL).
	PosScores, NegScores [][]float64
}

// Distill reports whether the groups carry teacher scores.
func (g *Groups) Distill() bool { return g != nil && g.PosScores != nil }

// Draw is row r's group in epoch e: the passages (positive first) and, with teacher scores, theirs.
func (g *Groups) Draw(r int, seed uint64, epoch int) (passages []string, scores []float64) {
	rng := rand.New(rand.NewPCG(seed^0x6a09e667f3bcc908, uint64(epoch)<<32|uint64(r)))
	pi := rng.IntN(len(g.Positives[r]))
	passages = append(passages, g.Positives[r][pi])
	if g.Distill() {
		scores = append(scores, g.PosScores[r][pi])
	}
	negs := g.Negatives[r]
	want := g.Size - 1
	if want <= 0 {
		return passages, scores
	}
	reps := 1
	if len(negs) < want {
		reps = (want + len(negs) - 1) / len(negs)
	}
	pool := make([]int, 0, reps*len(negs))
	for range reps {
		for i := range negs {
			pool = append(pool, i)
		}
	}
	for i := range want { // a partial Fisher–Yates shuffle: random.sample(pool, want)
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
		passages = append(passages, negs[pool[i]])
		if g.Distill() {
			scores = append(scores, g.NegScores[r][pool[i]])
		}
	}
	return passages, scores
}

var spreadName = regexp.MustCompile(`^(pos|neg|pos_scores|neg_scores)_(\d+)$`)

// IsFlagEmbedding reports whether df is FlagEmbedding JSONL as datasets.Load spreads it: a "query" column
// and pos_1 … (lists spread into x_1 … x_n).
func IsFlagEmbedding(df dataframe.DataFrame) bool {
	has := map[string]bool{}
	for _, n := range df.Names() {
		has[n] = true
	}
	return has["query"] && has["pos_1"]
}

// GroupExamples reads FlagEmbedding rows — query, pos_1…, neg_1…, and with distill pos_scores_1…,
// neg_scores_1… — into Examples of groups of size (anchor, positive, negative_1 … negative_{size−1}). The ""
// cells a ragged list leaves behind are not passages: each row's pools are its filled cells, and a row with
// no positive, or with no negative when size > 1, is refused naming its 1-based row. With distill every pool
// passage needs its score (FlagEmbedding's knowledge_distillation). A "prompt" column is the row's query
// instruction, prepended to its query. Columns hold epoch 0's draw (seed 0).
func GroupExamples(df dataframe.DataFrame, size int, distill bool) (*Examples, error) {
	if size < 1 {
		return nil, fmt.Errorf("group size %d: want at least 1 (one positive, size−1 negatives)", size)
	}
	lists := map[string][]string{}
	for _, n := range df.Names() {
		if m := spreadName.FindStringSubmatch(n); m != nil {
			lists[m[1]] = append(lists[m[1]], n)
		}
	}
	for _, names := range lists {
		sort.Slice(names, func(i, j int) bool { return spreadIndex(names[i]) < spreadIndex(names[j]) })
	}
	if distill && (lists["pos_scores"] == nil || lists["neg_scores"] == nil && size > 1) {
		return nil, fmt.Errorf("knowledge distillation needs pos_scores and neg_scores lists")
	}
	queries, err := datasets.Strings(df, "query")
	if err != nil {
		return nil, err
	}
	if slices.Contains(df.Names(), "prompt") { // a row's own query instruction, as FlagEmbedding reads it
		prompts, err := datasets.Strings(df, "prompt")
		if err != nil {
			return nil, err
		}
		for r := range queries {
			queries[r] = prompts[r] + queries[r]
		}
	}
	g := &Groups{Size: size}
	g.Positives, err = pools(df, lists["pos"])
	if err != nil {
		return nil, err
	}
	if g.Negatives, err = pools(df, lists["neg"]); err != nil {
		return nil, err
	}
	if g.Negatives == nil {
		g.Negatives = make([][]string, len(queries))
	}
	if distill {
		if g.PosScores, err = scorePools(df, lists["pos_scores"], g.Positives, "pos"); err != nil {
			return nil, err
		}
		if g.NegScores, err = scorePools(df, lists["neg_scores"], g.Negatives, "neg"); err != nil {
			return nil, err
		}
	}
	for r, q := range queries {
		switch {
		case strings.TrimSpace(q) == "":
			return nil, fmt.Errorf("row %d: empty query", r+1)
		case len(g.Positives[r]) == 0:
			return nil, fmt.Errorf("row %d: no positive in \"pos\"", r+1)
		case size > 1 && len(g.Negatives[r]) == 0:
			return nil, fmt.Errorf("row %d: no negative in \"neg\", and a group of %d takes %d (mine some: ragnb mine --format flag)", r+1, size, size-1)
		}
	}
	ex := &Examples{Names: []string{"query", "positive"}, Groups: g}
	for i := 1; i < size; i++ {
		ex.Names = append(ex.Names, fmt.Sprintf("negative_%d", i))
	}
	ex.Columns = make([][]string, size+1)
	ex.Columns[0] = queries
	for r := range queries {
		ps, _ := g.Draw(r, 0, 0)
		for c, p := range ps {
			ex.Columns[c+1] = append(ex.Columns[c+1], p)
		}
	}
	return ex, ex.check()
}

func spreadIndex(name string) int {
	n, _ := strconv.Atoi(name[strings.LastIndexByte(name, '_')+1:])
	return n
}

// pools are each row's filled cells of the spread columns, in list order.
func pools(df dataframe.DataFrame, cols []string) ([][]string, error) {
	var out [][]string
	for _, c := range cols {
		vals, err := datasets.Strings(df, c)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make([][]string, len(vals))
		}
		for r, v := range vals {
			if strings.TrimSpace(v) != "" {
				out[r] = append(out[r], v)
			}
		}
	}
	return out, nil
}

// scorePools are each row's teacher scores, one per pool passage; a missing or non-finite score is refused.
func scorePools(df dataframe.DataFrame, cols []string, texts [][]string, list string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	for r := range texts {
		if len(texts[r]) > len(cols) {
			return nil, fmt.Errorf("row %d: %d %s passages but %d %s_scores", r+1, len(texts[r]), list, len(cols), list)
		}
	}
	for i, c := range cols {
		vals, err := datasets.Strings(df, c)
		if err != nil {
			return nil, err
		}
		for r, v := range vals {
			if i >= len(texts[r]) {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("row %d column %q: teacher score %q is not a finite number", r+1, c, v)
			}
			out[r] = append(out[r], x)
		}
	}
	return out, nil
}
