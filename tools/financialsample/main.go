// Command financialsample writes ragnb's offline financial sample: 10-K–style filings of fourteen fictional
// companies and question/passage pairs over them, in the schema of the shared financial QA set
// (question,answer,context,ticker,filing). The prelude embeds the result as prelude.Load("financial").
//
//	go run ./tools/financialsample -out testdata/financial-sample   (or: go generate github.com/ragnb/ragnb)
//
// The output depends only on the seed and this program: every run with the same seed writes byte-identical
// files (a test checks the committed copy against a fresh run). All text is written from templates in this
// directory about invented companies; nothing is taken from real filings or from the shared data set.
//
// How the retrieval task is made realistic: every passage answers two or three questions; the questions
// paraphrase the passage ("top line" for revenue, "headcount" for employees, "rivals" for competitors,
// "R&D budget" for research and development expense), and many passages say "we" rather than the company's
// name, while the same templates recur across companies. A lexical retriever (BM25) therefore ranks many
// right passages below the same topic of another company; a trained embedding model can learn both the
// paraphrases and which products, places and people belong to which company.
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const filing = "2023_10K"

// sample is everything the generator writes, as file name → content.
type sample map[string][]byte

// Options fix the output.
type options struct {
	Seed     uint64
	NameRate float64
}

var defaults = options{Seed: 20231231, NameRate: 0.8}

type row struct{ question, answer, context, ticker string }

func generate(o options) (sample, error) {
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, 0x10c)), nameRate: o.NameRate}
	out := sample{}
	var rows []row
	var companiesCSV bytes.Buffer
	cw := csv.NewWriter(&companiesCSV)
	cw.Write([]string{"ticker", "company", "sector", "industry", "headquarters", "founded", "employees", "revenue_musd", "filing"})
	seenQ := map[string]bool{}
	passages := 0
	for _, c := range companies {
		ps := g.topics(c)
		var md strings.Builder
		fmt.Fprintf(&md, "# %s — Annual Report on Form 10-K, fiscal year 2023\n\n", c.Name)
		fmt.Fprintf(&md, "_Fictional company written by ragnb's sample generator (tools/financialsample); not a real filing._\n\n")
		fmt.Fprintf(&md, "Ticker: %s · Sector: %s · Industry: %s\n", c.Ticker, c.Sector, c.Industry)
		section := ""
		for _, p := range ps {
			if p.Section != section {
				section = p.Section
				fmt.Fprintf(&md, "\n## %s\n", section)
			}
			fmt.Fprintf(&md, "\n%s\n", p.Text)
			passages++
			// Two or three questions per passage, chosen at random from those written for it.
			k := 2
			if g.r.Float64() < 0.3 {
				k = 3
			}
			// The first question written for a passage stays closest to its wording; always ask it, so a
			// lexical retriever has a fair share of easy questions, and pick the rest among the paraphrases.
			order := append([]int{0}, g.r.Perm(len(p.QAs)-1)...)
			for i := 1; i < len(order); i++ {
				order[i]++
			}
			taken := 0
			for _, i := range order {
				if taken == k {
					break
				}
				q := p.QAs[i]
				if q.Q == "" || seenQ[q.Q] {
					continue
				}
				seenQ[q.Q] = true
				rows = append(rows, row{q.Q, q.A, p.Text, c.Ticker})
				taken++
			}
		}
		out[filepath.ToSlash(filepath.Join("filings", c.Ticker+"_"+filing+".md"))] = []byte(md.String())
		cw.Write([]string{c.Ticker, c.Name, c.Sector, c.Industry, c.City + ", " + c.State, fmt.Sprint(c.Founded),
			fmt.Sprint(c.Employees), fmt.Sprintf("%.0f", c.Rev23), filing})
	}
	cw.Flush()
	out["companies.csv"] = companiesCSV.Bytes()

	var qa bytes.Buffer
	w := csv.NewWriter(&qa)
	w.Write([]string{"question", "answer", "context", "ticker", "filing"})
	for _, r := range rows {
		w.Write([]string{r.question, r.answer, r.context, r.ticker, filing})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	out["pairs.csv"] = qa.Bytes()
	out["README.md"] = []byte(fmt.Sprintf(`# Financial filings sample (fictional)

Written by `+"`go run ./tools/financialsample -out testdata/financial-sample`"+` (seed %d); do not edit by hand.
Every company, person, product and number here is invented. The prelude loads it with
`+"`prelude.Load(\"financial\")`"+` (embedded in the binary; `+"`RAGNB_DATA`"+` switches to a real set).

- pairs.csv — %d question/passage pairs over %d passages, columns question,answer,context,ticker,filing
  (the schema of the shared financial-qa-10k set).
- filings/ — one 10-K–style Markdown filing per company (%d companies), made of the same passages, for
  synthetic question generation demos.
- companies.csv — ticker, name, sector, industry, headquarters, founded, employees, revenue ($ millions).
`, o.Seed, len(rows), passages, len(companies)))
	return out, nil
}

func main() {
	dir := flag.String("out", "testdata/financial-sample", "output directory")
	seed := flag.Uint64("seed", defaults.Seed, "random seed (the committed sample uses the default)")
	flag.Parse()
	o := defaults
	o.Seed = *seed
	s, err := generate(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "financialsample:", err)
		os.Exit(1)
	}
	if err := s.write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "financialsample:", err)
		os.Exit(1)
	}
}

// write replaces dir's content with the sample.
func (s sample) write(dir string) error {
	if err := os.RemoveAll(filepath.Join(dir, "filings")); err != nil {
		return err
	}
	for name, b := range s {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
