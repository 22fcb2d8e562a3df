package train

import (
	"math"
	"strings"
	"testing"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/train/losses"
)

// table reads JSONL content as the loader reads a file of that name.
func table(t *testing.T, name, content string) dataframe.DataFrame {
	t.Helper()
	df, err := datasets.Read(strings.NewReader(content), datasets.JSONL, name)
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// TestRaggedNegativesAreRefusedNotTrainedOnAsEmptyText: FlagEmbedding JSONL whose rows have fewer "neg"
// than others spreads into neg_1 … neg_n with "" fillers; training refuses them naming the row and column
// instead of training on "", and a missing or null positive is refused the same way.
func TestRaggedNegativesAreRefusedNotTrainedOnAsEmptyText(t *testing.T) {
	for _, c := range []struct{ name, content, want string }{
		{"ragged.jsonl", `{"query": "q1", "pos": "p1", "neg": ["a", "b", "c"]}` + "\n" + `{"query": "q2", "pos": "p2", "neg": ["d"]}` + "\n",
			`row 2 column "neg_2" is empty: 1 of 2 rows have fewer negatives than the 3 columns neg_1…neg_3`},
		{"nullpos.jsonl", `{"query": "q1", "pos": "p1", "neg": ["a"]}` + "\n" + `{"query": "q2", "pos": null, "neg": ["d"]}` + "\n",
			`row 2 column "pos" is empty (missing or null)`},
		{"nopos.jsonl", `{"query": "q1", "pos": "p1", "neg": ["a"]}` + "\n" + `{"query": "q2", "neg": ["d"]}` + "\n",
			`row 2 column "pos" is empty`},
	} {
		df := table(t, c.name, c.content)
		_, err := BiEncoderExamples(df, "query", "pos", []string{"neg_1", "neg_2", "neg_3"}[:len(df.Names())-2])
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if _, err := LabeledPairs(df, "query", "pos", []string{"neg_1"}); c.name != "ragged.jsonl" && err == nil {
			t.Errorf("%s: labeled pairs accepted an empty positive", c.name)
		}
	}
	// A full table passes.
	df := table(t, "ok.jsonl", `{"query": "q1", "pos": "p1", "neg": ["a", "b"]}`+"\n")
	if ex, err := BiEncoderExamples(df, "query", "pos", nil); err != nil || ex.Rows() != 1 {
		t.Errorf("full table: %v", err)
	}
}

// TestLabelsTheLossCannotTrainOnAreRefusedNamingTheRow: a null or NaN score is not a label; Inf is refused at
// load, not when the loss explodes; scores outside [0, 1] are refused for mse through a sigmoid (and bce),
// accepted for mse on raw scores; rows are counted from 1.
func TestLabelsTheLossCannotTrainOnAreRefusedNamingTheRow(t *testing.T) {
	df := table(t, "s.jsonl", `{"q": "a", "p": "x", "score": 0.5}`+"\n"+`{"q": "b", "p": "y", "score": null}`+"\n")
	if _, err := CrossEncoderExamples(df, "q", "p", "score"); err == nil || !strings.Contains(err.Error(), `row 2 column "score": no label`) {
		t.Errorf("null score: %v", err)
	}
	ex := &Examples{Names: []string{"q", "p"}, Columns: [][]string{{"a", "b", "c"}, {"x", "y", "z"}}, Labels: []float64{0.2, 1.7, 0}}
	sigmoid := Config{Loss: LossMSE, MSEActivation: losses.ActivationSigmoid}
	if err := checkLabels(ex, sigmoid); err == nil || !strings.Contains(err.Error(), "row 2: label 1.7 outside [0, 1]") {
		t.Errorf("mse sigmoid, 1.7: %v", err)
	}
	if err := checkLabels(ex, Config{Loss: LossBCE}); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("bce, 1.7: %v", err)
	}
	if err := checkLabels(ex, Config{Loss: LossMSE, MSEActivation: losses.ActivationIdentity}); err != nil {
		t.Errorf("mse identity, 1.7: %v", err)
	}
	ex.Labels[2] = math.Inf(1)
	if err := checkLabels(ex, Config{Loss: LossMSE, MSEActivation: losses.ActivationIdentity}); err == nil || !strings.Contains(err.Error(), "row 3: label +Inf is not a finite number") {
		t.Errorf("Inf: %v", err)
	}
}
