package prelude

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb"
	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/workflow"
)

// DataEnv names the environment variable that points Load("financial") at real data: a CSV / JSONL /
// parquet file with the sample's columns (question, answer, context, ticker, filing), such as the 7,000-row
// financial-qa-10k set, or a BEIR folder.
const DataEnv = "RAGNB_DATA"

// Samples the prelude knows by name.
const (
	// Financial is question/passage pairs over 10-K filings: $RAGNB_DATA when set, else the embedded
	// sample of fourteen fictional companies (518 pairs over 223 passages).
	Financial = "financial"
	// FinancialFilings is the embedded sample's filings, one row per company (ticker, company, filing,
	// path, text): documents to generate questions from.
	FinancialFilings = "financial-filings"
	// FinancialCompanies is the embedded sample's company list.
	FinancialCompanies = "financial-companies"
)

// Load reads a dataset:
//   - "financial": $RAGNB_DATA when set, else the embedded financial sample (see Sample);
//   - "financial-filings", "financial-companies": the embedded sample's filings and company list;
//   - a .csv, .tsv, .jsonl, .json or .parquet file (columns typed: numbers become float columns, lists spread
//     into x_1 … x_n);
//   - a LlamaIndex EmbeddingQAFinetuneDataset JSON (queries, corpus, relevant_docs): its (query, relevant
//     node) pairs as anchor, positive (LoadLlamaIndex keeps its corpus for evaluation);
//   - a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): its relevant (query, passage) pairs,
//     from the test split when there is one (LoadBEIR gives the corpus, queries and qrels separately);
//   - "hf:org/name[@revision][:split]": a Hugging Face Hub dataset's data files (parquet, JSONL, JSON, CSV),
//     fetched once into the Hugging Face cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE) — the
//     split's files by the Hub's file naming (train-00000-of-00001.parquet, data/test.jsonl, …), "train" by
//     default, every data file when the names say no split.
func Load(pathOrName string) *Dataset {
	op := fmt.Sprintf("Load(%q)", pathOrName)
	d := &Dataset{name: pathOrName, chain: op}
	switch {
	case pathOrName == Financial:
		if p := os.Getenv(DataEnv); p != "" {
			real := loadPath(p, op)
			real.name = fmt.Sprintf("%s ($%s=%s)", Financial, DataEnv, p)
			return real
		}
		s := Sample(Financial)
		s.chain = op
		return s
	case pathOrName == FinancialFilings || pathOrName == FinancialCompanies:
		s := Sample(pathOrName)
		s.chain = op
		return s
	case strings.HasPrefix(pathOrName, "hf:"):
		return loadHub(strings.TrimPrefix(pathOrName, "hf:"), op)
	case pathOrName == "":
		return d.fail(op, errors.New("empty path"))
	}
	return loadPath(pathOrName, op)
}

func loadPath(path, op string) *Dataset {
	d := &Dataset{name: filepath.Base(path), chain: op}
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(path, `/\.`) {
			return d.fail(op, fmt.Errorf("no file %q, and no sample of that name (samples: %s, %s, %s)", path,
				Financial, FinancialFilings, FinancialCompanies))
		}
		return d.fail(op, err)
	}
	if info.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "corpus.jsonl")); err != nil {
			return d.fail(op, fmt.Errorf("%s is a folder without corpus.jsonl: want a table file or a BEIR folder", path))
		}
		p := LoadBEIR(path, "").Pairs()
		p.chain = op
		return p
	}
	td, err := workflow.LoadTrainingData(path)
	if err != nil {
		return d.fail(op, err)
	}
	d.df = td.Rows
	return d
}

// Sample returns one of the embedded samples by name (Financial, FinancialFilings, FinancialCompanies),
// ignoring $RAGNB_DATA.
func Sample(name string) *Dataset {
	op := fmt.Sprintf("Sample(%q)", name)
	d := &Dataset{name: name + " (embedded sample)", chain: op}
	fsys := ragnb.FinancialSample()
	switch name {
	case Financial, FinancialCompanies:
		file := "pairs.csv"
		if name == FinancialCompanies {
			file = "companies.csv"
		}
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return d.fail(op, err)
		}
		df, err := datasets.Read(bytes.NewReader(b), datasets.CSV, "financial-sample/"+file)
		if err != nil {
			return d.fail(op, err)
		}
		d.df = df
		return d
	case FinancialFilings:
		paths, err := fs.Glob(fsys, "filings/*.md")
		if err != nil {
			return d.fail(op, err)
		}
		sort.Strings(paths)
		var tickers, filings, files, texts []string
		for _, p := range paths {
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return d.fail(op, err)
			}
			base := strings.TrimSuffix(filepath.Base(p), ".md")
			ticker, filing, _ := strings.Cut(base, "_")
			tickers, filings, files, texts = append(tickers, ticker), append(filings, filing), append(files, p), append(texts, string(b))
		}
		d.df = dataframe.New(
			series.New(tickers, series.String, "ticker"),
			series.New(filings, series.String, "filing"),
			series.New(files, series.String, "path"),
			series.New(texts, series.String, "text"),
		)
		return d
	}
	return d.fail(op, fmt.Errorf("no sample %q (samples: %s, %s, %s)", name, Financial, FinancialFilings, FinancialCompanies))
}

// BEIR is a retrieval set in the BEIR layout: corpus.jsonl {"_id","title","text"}, queries.jsonl
// {"_id","text"} and qrels/<split>.tsv (query-id, corpus-id, score).
type BEIR struct {
	dir, split string
	err        error
}

// LoadBEIR opens a BEIR folder; split picks qrels/<split>.tsv ("" = test, or the only split there is).
func LoadBEIR(dir, split string) *BEIR {
	b := &BEIR{dir: dir, split: split}
	if split == "" {
		names, _ := filepath.Glob(filepath.Join(dir, "qrels", "*.tsv"))
		sort.Strings(names)
		switch {
		case fileExists(filepath.Join(dir, "qrels", "test.tsv")):
			b.split = "test"
		case len(names) == 1:
			b.split = strings.TrimSuffix(filepath.Base(names[0]), ".tsv")
		default:
			b.err = fmt.Errorf("BEIR %s: name a split (qrels files: %v)", dir, names)
		}
	}
	return b
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Dir and Split say which folder and qrels split b reads.
func (b *BEIR) Dir() string   { return b.dir }
func (b *BEIR) Split() string { return b.split }

func (b *BEIR) table(file, what string) *Dataset {
	op := fmt.Sprintf("LoadBEIR(%q, %q).%s()", b.dir, b.split, what)
	d := &Dataset{name: filepath.Base(b.dir) + " " + what, chain: op}
	if b.err != nil {
		return d.fail(op, b.err)
	}
	df, err := datasets.Load(filepath.Join(b.dir, file))
	if err != nil {
		return d.fail(op, err)
	}
	d.df = df
	return d
}

// Corpus is the passages: _id, title, text.
func (b *BEIR) Corpus() *Dataset { return b.table("corpus.jsonl", "Corpus") }

// Queries is the queries: _id, text.
func (b *BEIR) Queries() *Dataset { return b.table("queries.jsonl", "Queries") }

// Qrels is the split's judgements: query-id, corpus-id, score.
func (b *BEIR) Qrels() *Dataset { return b.table(filepath.Join("qrels", b.split+".tsv"), "Qrels") }

// Pairs joins the judgements with score > 0 to their texts: anchor (the query), positive (the passage's title
// and text joined by a space, as BEIR retrievers see it), query_id, corpus_id, score; in qrels order.
func (b *BEIR) Pairs() *Dataset {
	op := fmt.Sprintf("LoadBEIR(%q, %q).Pairs()", b.dir, b.split)
	d := &Dataset{name: filepath.Base(b.dir) + " pairs", chain: op}
	corpus, queries, qrels := b.Corpus(), b.Queries(), b.Qrels()
	for _, t := range []*Dataset{corpus, queries, qrels} {
		if t.err != nil {
			return d.fail(op, t.err)
		}
	}
	col := func(t *Dataset, name string) ([]string, error) { return t.Strings(name) }
	cid, err := col(corpus, "_id")
	if err != nil {
		return d.fail(op, fmt.Errorf("corpus.jsonl: %w", err))
	}
	ctext, err := col(corpus, "text")
	if err != nil {
		return d.fail(op, fmt.Errorf("corpus.jsonl: %w", err))
	}
	ctitle := make([]string, len(cid))
	if corpus.has("title") {
		ctitle = corpus.df.Col("title").Records()
	}
	qid, err := col(queries, "_id")
	if err != nil {
		return d.fail(op, fmt.Errorf("queries.jsonl: %w", err))
	}
	qtext, err := col(queries, "text")
	if err != nil {
		return d.fail(op, fmt.Errorf("queries.jsonl: %w", err))
	}
	rq, err := col(qrels, "query-id")
	if err != nil {
		return d.fail(op, fmt.Errorf("qrels: %w", err))
	}
	rc, err := col(qrels, "corpus-id")
	if err != nil {
		return d.fail(op, fmt.Errorf("qrels: %w", err))
	}
	rs, err := qrels.Floats("score")
	if err != nil {
		return d.fail(op, fmt.Errorf("qrels: %w", err))
	}
	passage := map[string]string{}
	for i, id := range cid {
		if ctitle[i] != "" && ctitle[i] != "NaN" {
			passage[id] = ctitle[i] + " " + ctext[i]
		} else {
			passage[id] = ctext[i]
		}
	}
	query := map[string]string{}
	for i, id := range qid {
		query[id] = qtext[i]
	}
	var anchors, positives, qids, cids []string
	var scores []float64
	for i := range rq {
		if !(rs[i] > 0) {
			continue
		}
		q, ok := query[rq[i]]
		if !ok {
			return d.fail(op, fmt.Errorf("qrels row %d: query %q is not in queries.jsonl", i+1, rq[i]))
		}
		p, ok := passage[rc[i]]
		if !ok {
			return d.fail(op, fmt.Errorf("qrels row %d: document %q is not in corpus.jsonl", i+1, rc[i]))
		}
		anchors, positives, qids, cids, scores = append(anchors, q), append(positives, p), append(qids, rq[i]), append(cids, rc[i]), append(scores, rs[i])
	}
	d.df = dataframe.New(
		series.New(anchors, series.String, "anchor"),
		series.New(positives, series.String, "positive"),
		series.New(qids, series.String, "query_id"),
		series.New(cids, series.String, "corpus_id"),
		series.New(scores, series.Float, "score"),
	)
	return d
}
