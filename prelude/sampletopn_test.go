package prelude

import (
	"reflect"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// SampleTopN with an embedder teacher and TopN 1 picks, for each query, the retrieved passage the teacher
// scores highest; zero options are workflow.DefaultSampleTopNOptions.
func TestSampleTopNPicksTheTeachersBest(t *testing.T) {
	t.Setenv("RAGNB_CACHE", t.TempDir())
	corpus := FromFrame("corpus", dataframe.New(series.New([]string{"revenue grew twelve percent", "the auditor is KPMG",
		"offices in Oslo", "revenue fell", "dividend of a quarter"}, series.String, "text")))
	queries := FromFrame("queries", dataframe.New(series.New([]string{"revenue grew", "who is the auditor"}, series.String, "anchor")))
	model := StaticModel(corpus, "text", StaticOptions{Dim: 32})
	picks := queries.SampleTopN(corpus, model, EmbedderTeacher(model), SampleTopNOptions{Retrieve: 3, TopN: 1})
	if picks.Err() != nil {
		t.Fatal(picks.Err())
	}
	if got := picks.Columns(); !reflect.DeepEqual(got, []string{"anchor", "positive", "score", "rank"}) {
		t.Fatalf("columns %v", got)
	}
	// The embedder teacher scores as the retriever ranks: its best is the nearest retrieved passage.
	ranked := queries.SampleTopN(corpus, model, EmbedderTeacher(model), SampleTopNOptions{Retrieve: 1})
	if !reflect.DeepEqual(picks.Column("positive"), ranked.Column("positive")) {
		t.Errorf("top-1 of 3 reranked %v, nearest %v", picks.Column("positive"), ranked.Column("positive"))
	}
	if picks.Column("positive")[1] != "the auditor is KPMG" {
		t.Errorf("picks %v", picks.Column("positive"))
	}
}
