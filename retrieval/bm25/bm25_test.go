package bm25

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/ragnb/ragnb/retrieval/search"
)

func TestTokenize(t *testing.T) {
	got := Tokenize("Q3's 10-K: ÜBER-Größe été_x  ", false)
	want := []string{"q3", "s", "10", "k", "über", "größe", "été", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tokenize = %q, want %q", got, want)
	}
	if got := Tokenize("The cat is NOT on the mat", true); !reflect.DeepEqual(got, []string{"cat", "mat"}) {
		t.Errorf("with stop words removed: %q", got)
	}
	if got := Tokenize("... --- !!!", false); len(got) != 0 {
		t.Errorf("punctuation only: %q", got)
	}
	if len(Stopwords()) != 33 {
		t.Errorf("%d stop words, Lucene's English set has 33", len(Stopwords()))
	}
}

func hitsNear(t *testing.T, got []search.Hit, want []search.Hit) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Index != want[i].Index || math.Abs(got[i].Score-want[i].Score) > 1e-12 {
			t.Fatalf("hit %d = %+v, want %+v (all: %v)", i, got[i], want[i], got)
		}
	}
}

func TestScoresByHand(t *testing.T) {
	docs := []string{"the cat sat on the mat", "The dog sat", "cat cat dog"}
	ix, err := New(docs, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	// Tokens: [cat sat mat], [dog sat], [cat cat dog]; N = 3, avgdl = 8/3; every term has df = 2.
	if ix.AvgLen() != 8.0/3 {
		t.Errorf("avgdl = %v", ix.AvgLen())
	}
	idf := math.Log(1 + (3-2+0.5)/(2+0.5))
	if math.Abs(ix.IDF("cat")-idf) > 1e-15 || ix.IDF("unicorn") != 0 {
		t.Errorf("idf(cat) = %v, want %v", ix.IDF("cat"), idf)
	}
	norm3 := 1.2 * (1 - 0.75 + 0.75*3/(8.0/3)) // |d| = 3
	norm2 := 1.2 * (1 - 0.75 + 0.75*2/(8.0/3)) // |d| = 2
	hitsNear(t, ix.Search("cat", 10), []search.Hit{
		{Index: 2, Score: idf * 2 * 2.2 / (2 + norm3)},
		{Index: 0, Score: idf * 1 * 2.2 / (1 + norm3)},
	})
	// Docs 0 and 2 tie on "dog sat" (one matching term each, same length): the lower index comes first.
	hitsNear(t, ix.Search("Dog, sat?", 10), []search.Hit{
		{Index: 1, Score: 2 * idf * 2.2 / (1 + norm2)},
		{Index: 0, Score: idf * 2.2 / (1 + norm3)},
		{Index: 2, Score: idf * 2.2 / (1 + norm3)},
	})
	hitsNear(t, ix.Search("dog sat", 2), ix.Search("dog sat", 10)[:2])
	// A repeated query term counts twice.
	one, two := ix.Scores("cat"), ix.Scores("cat cat")
	if math.Abs(two[2]-2*one[2]) > 1e-12 || one[1] != 0 {
		t.Errorf("scores(cat) %v, scores(cat cat) %v", one, two)
	}
	if got := ix.Search("the of unicorn", 10); len(got) != 0 {
		t.Errorf("stop words and unknown terms: %v", got)
	}

	// b = 0 ignores length, k1 = 0 makes tf binary: every matching document scores idf per term.
	flat, err := New(docs, Params{K1: 0, B: 0})
	if err != nil {
		t.Fatal(err)
	}
	idfThe := math.Log(1 + (3-2+0.5)/(2+0.5)) // "the" is kept without stop words, in 2 docs
	hitsNear(t, flat.Search("cat the", 10), []search.Hit{{Index: 0, Score: idf + idfThe}, {Index: 1, Score: idfThe}, {Index: 2, Score: idf}})
	for _, p := range []Params{{K1: -1, B: 0.5}, {K1: 1, B: 1.5}, {K1: math.NaN(), B: 0.5}} {
		if _, err := New(docs, p); err == nil {
			t.Errorf("%+v: want an error", p)
		}
	}
}

func TestSearchManyMatchesSearch(t *testing.T) {
	var docs []string
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
	for i := 0; i < 200; i++ {
		doc := ""
		for j := 0; j <= i%7; j++ {
			doc += words[(i*j+i/3)%len(words)] + " "
		}
		docs = append(docs, doc)
	}
	ix, err := New(docs, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	queries := []string{"alpha beta", "zeta", "", "omega", "theta eta delta gamma"}
	many, err := ix.SearchMany(context.Background(), queries, 15, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range queries {
		one := ix.Search(q, 15)
		if len(one) > 15 || !reflect.DeepEqual(many[i], one) {
			t.Errorf("query %q: SearchMany %v, Search %v", q, many[i], one)
		}
		// The heap selection keeps exactly the best of a full sort.
		all := ix.Search(q, len(docs))
		if len(all) > 15 && !reflect.DeepEqual(all[:15], one) {
			t.Errorf("query %q: top 15 differ from the full ranking's first 15", q)
		}
	}
	if len(many[2]) != 0 || len(many[3]) != 0 {
		t.Error("empty and unknown queries must return no hits")
	}
	if _, err := ix.SearchMany(context.Background(), queries, 0, nil); err == nil {
		t.Error("k=0: want an error")
	}
}
