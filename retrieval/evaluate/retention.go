package evaluate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// Retained is one Matryoshka dimension's score and the share of the full dimension's score it keeps.
type Retained struct {
	Dim   int
	Score float64
	// Share is Score / the full (largest) dimension's score.
	Share float64
}

var dimLabel = regexp.MustCompile(`^(?:(.+)_)?dim_(\d+)_(cosine|dot)$`)

// Retention reads the bge Matryoshka recipe's retention view off a report: for the model columns labelled
// [prefix_]dim_<d>_<similarity>, the metric at every dimension and its share of the largest dimension's
// score, largest dimension first. prefix selects one model of a merged report ("" for an unprefixed one,
// e.g. "base" or "tuned").
func Retention(r *Report, prefix, similarity, metric string) ([]Retained, error) {
	var out []Retained
	for _, c := range r.Columns {
		m := dimLabel.FindStringSubmatch(c.Label)
		if m == nil || m[1] != prefix || m[3] != similarity {
			continue
		}
		v, ok := c.Metrics.Values[metric]
		if !ok {
			return nil, fmt.Errorf("evaluate: retention: column %s has no %s", c.Label, metric)
		}
		d, _ := strconv.Atoi(m[2])
		out = append(out, Retained{Dim: d, Score: v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("evaluate: retention: no %q model columns at any dimension (prefix %q)", similarity, prefix)
	}
	slices.SortFunc(out, func(a, b Retained) int { return b.Dim - a.Dim })
	for i := range out {
		if out[0].Score != 0 {
			out[i].Share = out[i].Score / out[0].Score
		}
	}
	return out, nil
}

// RetentionFrame is Retention as a table: dim, metric, share of the full dimension.
func RetentionFrame(rs []Retained, metric string) dataframe.DataFrame {
	dims, scores, shares := make([]int, len(rs)), make([]float64, len(rs)), make([]float64, len(rs))
	for i, r := range rs {
		dims[i], scores[i], shares[i] = r.Dim, r.Score, r.Share
	}
	return dataframe.New(series.New(dims, series.Int, "dim"), series.New(scores, series.Float, metric),
		series.New(shares, series.Float, "share of full dim"))
}
