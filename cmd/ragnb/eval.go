package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/search"
	"github.com/ragnb/ragnb/workflow"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type evalFlags struct {
	models                                 listFlag
	run                                    string
	corpus, queries, qrels, beir, split    string
	pairs, anchor, positive                string
	llamaIndex                             string
	testFraction                           float64
	seed                                   uint64
	dims, similarity                       string
	k1, b                                  float64
	stopwords                              bool
	accuracyAt, prAt, mrrAt, ndcgAt, mapAt string
	jsonOut, saveRun                       string
	compare                                bool
	query                                  queryInstructionFlags
}

func evalCmd() *command {
	return &command{
		name: "eval",
		summary: "evaluate retrieval with sentence-transformers' IR metrics: BM25, a model at every Matryoshka " +
			"dimension, or a TREC run; compare two results",
		usage: "--model bm25|DIR (--corpus C --queries Q --qrels R | --beir DIR | --pairs FILE | --llamaindex FILE) [flags]\n" +
			"       ragnb eval --run RUN.trec --qrels R [--json OUT]\n" +
			"       ragnb eval --compare BASE.json TUNED.json",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			f := &evalFlags{}
			f.register(fs)
			return func(ctx context.Context, std *stdio, args []string) error {
				return runEval(ctx, std, f, args)
			}
		},
	}
}

// register defines eval's flags on fs, their defaults read from workflow.DefaultEvalOptions.
func (f *evalFlags) register(fs *flag.FlagSet) {
	def := workflow.DefaultEvalOptions()
	fs.Var(&f.models, "model", "system to evaluate: `bm25` or a model directory (repeatable: --model bm25 --model DIR)")
	fs.StringVar(&f.run, "run", "", "evaluate a TREC run `file` (qid Q0 docid rank score tag) against --qrels")
	fs.StringVar(&f.corpus, "corpus", "", "BEIR corpus.jsonl `file` ({\"_id\",\"title\",\"text\"} per line)")
	fs.StringVar(&f.queries, "queries", "", "BEIR queries.jsonl `file` ({\"_id\",\"text\"} per line)")
	fs.StringVar(&f.qrels, "qrels", "", "judgements `file`: BEIR TSV (query-id corpus-id score) or TREC qrels")
	fs.StringVar(&f.beir, "beir", "", "BEIR `folder` holding corpus.jsonl, queries.jsonl and qrels/<split>.tsv")
	fs.StringVar(&f.split, "split", "test", "qrels split read from a --beir folder")
	fs.StringVar(&f.pairs, "pairs", "", "pairs table `file` (CSV, TSV, JSONL, JSON, parquet): queries are the test split's "+
		"anchors, the corpus is every distinct positive of the file")
	fs.StringVar(&f.llamaIndex, "llamaindex", "", "LlamaIndex EmbeddingQAFinetuneDataset JSON `file` (queries, corpus, relevant_docs): its corpus "+
		"is the search corpus; hit_rate@k is reported beside accuracy@k")
	fs.StringVar(&f.anchor, "anchor", def.Anchor, "query `column` of --pairs")
	fs.StringVar(&f.positive, "positive", def.Positive, "passage `column` of --pairs")
	fs.Float64Var(&f.testFraction, "test-fraction", 0.1, "fraction of --pairs rows used as queries (seeded split; 0 uses every row)")
	fs.Uint64Var(&f.seed, "seed", 42, "seed of the --pairs split")
	fs.StringVar(&f.dims, "dims", "", "Matryoshka `dimensions` for model evaluation, e.g. 768,512,256,128,64 (default: the full dimension)")
	fs.StringVar(&f.similarity, "similarity", joinSims(def.Similarities), "model score `functions`: cosine, dot, or cosine,dot")
	fs.Float64Var(&f.k1, "k1", def.BM25.K1, "BM25 term-frequency saturation k1")
	fs.Float64Var(&f.b, "b", def.BM25.B, "BM25 length normalisation b")
	fs.BoolVar(&f.stopwords, "stopwords", def.BM25.Stopwords, "BM25: drop Lucene's 33 English stop words")
	fs.StringVar(&f.accuracyAt, "accuracy-at", joinInts(def.Metrics.AccuracyAtK), "cut-offs `k` of accuracy@k")
	fs.StringVar(&f.prAt, "precision-recall-at", joinInts(def.Metrics.PrecisionRecallAtK), "cut-offs `k` of precision@k and recall@k")
	fs.StringVar(&f.mrrAt, "mrr-at", joinInts(def.Metrics.MRRAtK), "cut-offs `k` of mrr@k")
	fs.StringVar(&f.ndcgAt, "ndcg-at", joinInts(def.Metrics.NDCGAtK), "cut-offs `k` of ndcg@k")
	fs.StringVar(&f.mapAt, "map-at", joinInts(def.Metrics.MAPAtK), "cut-offs `k` of map@k")
	fs.StringVar(&f.jsonOut, "json", "", "write the metrics as a flat JSON object to `file` (keys dim_<d>_cosine_<metric>@k, bm25_<metric>@k, or <metric>@k for --run)")
	fs.StringVar(&f.saveRun, "save-run", "", "write the retrieval run of the (single) --model to `file` in TREC format")
	f.query.register(fs)
	fs.BoolVar(&f.compare, "compare", false, "compare two metrics JSON files given as arguments (base, then fine-tuned): absolute and % change")
}

// options are the workflow's evaluation options the flags describe.
func (f *evalFlags) options() (workflow.EvalOptions, error) {
	o := workflow.DefaultEvalOptions()
	var err error
	if o.Metrics, err = f.config(); err != nil {
		return o, err
	}
	if o.Dims, err = parseInts("dims", f.dims); err != nil {
		return o, err
	}
	o.Similarities = nil
	for _, s := range strings.Split(f.similarity, ",") {
		o.Similarities = append(o.Similarities, search.Similarity(strings.TrimSpace(s)))
	}
	o.Anchor, o.Positive = f.anchor, f.positive
	o.BM25 = bm25.Params{K1: f.k1, B: f.b, Stopwords: f.stopwords}
	if f.llamaIndex != "" {
		o = o.WithHitRate()
	}
	return o, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinSims(v []search.Similarity) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, usagef("--%s: %q is not a positive integer", name, part)
		}
		out = append(out, n)
	}
	return out, nil
}

func (f *evalFlags) config() (ir.Config, error) {
	var c ir.Config
	var err error
	for _, x := range []struct {
		name string
		val  string
		dst  *[]int
	}{{"accuracy-at", f.accuracyAt, &c.AccuracyAtK}, {"precision-recall-at", f.prAt, &c.PrecisionRecallAtK},
		{"mrr-at", f.mrrAt, &c.MRRAtK}, {"ndcg-at", f.ndcgAt, &c.NDCGAtK}, {"map-at", f.mapAt, &c.MAPAtK}} {
		if *x.dst, err = parseInts(x.name, x.val); err != nil {
			return c, err
		}
	}
	if err := c.Validate(); err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

func runEval(ctx context.Context, std *stdio, f *evalFlags, args []string) error {
	if f.compare {
		if len(args) != 2 {
			return usagef("--compare takes two metrics JSON files: BASE TUNED")
		}
		return evalCompare(std, args[0], args[1])
	}
	if err := noArgs("eval", args); err != nil {
		return err
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	switch {
	case f.run != "" && len(f.models) > 0:
		return usagef("give either --run or --model, not both")
	case f.run != "":
		return evalRun(std, f, o.Metrics)
	case len(f.models) > 0:
		return evalModels(ctx, std, f, o)
	default:
		return usagef("nothing to evaluate: give --model bm25|DIR, --run FILE or --compare")
	}
}

func evalRun(std *stdio, f *evalFlags, cfg ir.Config) error {
	if f.qrels == "" {
		return usagef("--run needs --qrels")
	}
	run, err := ir.LoadRun(f.run)
	if err != nil {
		return err
	}
	qrels, err := ir.LoadQrels(f.qrels)
	if err != nil {
		return err
	}
	m, err := ir.Evaluate(run, qrels, cfg)
	if err != nil {
		return fmt.Errorf("%s against %s: %w", f.run, f.qrels, err)
	}
	r := &evaluate.Report{Columns: []evaluate.Column{{Metrics: m}}}
	fmt.Fprintf(std.out, "run %s: %d queries with a relevant document evaluated (%d in the run)\n\n", f.run, m.Queries, len(run))
	return finishReport(std, f, r)
}

func finishReport(std *stdio, f *evalFlags, r *evaluate.Report) error {
	fmt.Fprint(std.out, r.Table())
	if f.jsonOut != "" {
		if err := r.SaveJSON(f.jsonOut); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "\nmetrics written to %s\n", f.jsonOut)
	}
	return nil
}

// loadEvalSet builds the evaluation set from --pairs, --beir or --corpus/--queries/--qrels, and describes it.
func loadEvalSet(f *evalFlags) (*ir.Dataset, string, error) {
	sources := 0
	for _, s := range []string{f.pairs, f.beir, f.llamaIndex, f.corpus + f.queries + f.qrels} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return nil, "", usagef("give exactly one data source: --pairs FILE, --beir DIR, --llamaindex FILE, or --corpus C --queries Q --qrels R")
	}
	switch {
	case f.llamaIndex != "":
		set, err := workflow.LlamaIndexEvalSet(f.llamaIndex)
		if err != nil {
			return nil, "", err
		}
		return set.Dataset, set.Name, nil
	case f.pairs != "":
		df, err := datasets.Load(f.pairs)
		if err != nil {
			return nil, "", err
		}
		corpus, err := datasets.Strings(df, f.positive)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
		}
		test := df
		desc := fmt.Sprintf("%s: all %d rows as queries", f.pairs, df.Nrow())
		if f.testFraction != 0 {
			if _, test, err = datasets.Split(df, f.testFraction, f.seed); err != nil {
				return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
			}
			desc = fmt.Sprintf("%s: test split of %d rows (fraction %g, seed %d) as queries", f.pairs, test.Nrow(), f.testFraction, f.seed)
		}
		anchors, err := datasets.Strings(test, f.anchor)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
		}
		positives, err := datasets.Strings(test, f.positive)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
		}
		ds, skipped, err := ir.FromPairs(anchors, positives, corpus)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
		}
		if len(skipped) > 0 {
			desc += fmt.Sprintf(", %d rows with an empty %q skipped", len(skipped), f.positive)
		}
		return ds, desc + fmt.Sprintf(", corpus = the %d distinct %q passages of the file", len(ds.Corpus), f.positive), nil
	case f.beir != "":
		ds, err := ir.LoadBEIR(f.beir, f.split)
		return ds, fmt.Sprintf("BEIR %s (split %s)", f.beir, f.split), err
	default:
		if f.corpus == "" || f.queries == "" || f.qrels == "" {
			return nil, "", usagef("--corpus, --queries and --qrels go together")
		}
		corpus, err := ir.LoadCorpus(f.corpus)
		if err != nil {
			return nil, "", err
		}
		queries, err := ir.LoadQueries(f.queries)
		if err != nil {
			return nil, "", err
		}
		qrels, err := ir.LoadQrels(f.qrels)
		if err != nil {
			return nil, "", err
		}
		ds := &ir.Dataset{Corpus: corpus, Queries: queries, Qrels: qrels}
		return ds, fmt.Sprintf("%s, %s, %s", f.corpus, f.queries, f.qrels), ds.Validate()
	}
}

func evalModels(ctx context.Context, std *stdio, f *evalFlags, o workflow.EvalOptions) error {
	if f.saveRun != "" && len(f.models) != 1 {
		return usagef("--save-run needs exactly one --model")
	}
	ds, desc, err := loadEvalSet(f)
	if err != nil {
		return err
	}
	set := &workflow.EvalSet{Dataset: ds}
	ev, err := evaluate.NewIR(ds, evaluate.Options{Config: o.Metrics})
	if err != nil {
		return err
	}
	ev.Close()
	fmt.Fprintf(std.out, "data     %s\n", desc)
	fmt.Fprintf(std.out, "queries  %d evaluated (of %d; queries without a relevant document are skipped)\n", len(ev.Queries()), len(ds.Queries))
	fmt.Fprintf(std.out, "corpus   %d documents\n", len(ev.Corpus()))
	env, err := stepEnv(std, "")
	if err != nil {
		return err
	}
	prompts, err := f.query.prompts()
	if err != nil {
		return err
	}
	report := &evaluate.Report{}
	dense := 0
	for _, m := range f.models {
		if m != "bm25" {
			dense++
		}
	}
	for _, m := range f.models {
		start := time.Now()
		if m != "bm25" {
			model, err := workflow.OpenModel(ctx, env, m, encoder.Options{Prompts: prompts})
			if err != nil {
				return fmt.Errorf("--model %s: %w", m, err)
			}
			r, err := workflow.EvaluateModel(ctx, env, set, model, o)
			if err != nil {
				return fmt.Errorf("--model %s: %w", m, err)
			}
			rep := r.Report
			if dense > 1 { // keys would collide: name each model's columns
				rep = rep.WithPrefix(filepath.Base(strings.TrimRight(m, "/")) + "_")
			}
			fmt.Fprintf(std.out, "%-8s embedded and searched in %.2fs\n", m, time.Since(start).Seconds())
			if f.saveRun != "" {
				label, err := r.Report.SaveRun(f.saveRun, filepath.Base(strings.TrimRight(m, "/")))
				if err != nil {
					return err
				}
				fmt.Fprintf(std.out, "run      %s written to %s\n", label, f.saveRun)
			}
			report = evaluate.Merge(report, rep)
			continue
		}
		r, err := workflow.EvaluateBM25(ctx, env, set, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(std.out, "%-8s k1=%g b=%g stopwords=%v, indexed and searched in %.2fs\n", m, o.BM25.K1, o.BM25.B, o.BM25.Stopwords, time.Since(start).Seconds())
		if f.saveRun != "" {
			if err := ir.SaveRun(f.saveRun, r.Run, "bm25"); err != nil {
				return err
			}
			fmt.Fprintf(std.out, "run      written to %s\n", f.saveRun)
		}
		report = evaluate.Merge(report, r.Report)
	}
	fmt.Fprintln(std.out)
	return finishReport(std, f, report)
}

func evalCompare(std *stdio, basePath, tunedPath string) error {
	base, err := evaluate.LoadFlatJSON(basePath)
	if err != nil {
		return err
	}
	tuned, err := evaluate.LoadFlatJSON(tunedPath)
	if err != nil {
		return err
	}
	changes, err := evaluate.Compare(base, tuned)
	if err != nil {
		return fmt.Errorf("%s vs %s: %w", filepath.Base(basePath), filepath.Base(tunedPath), err)
	}
	fmt.Fprintf(std.out, "base %s, fine-tuned %s\n\n", basePath, tunedPath)
	fmt.Fprint(std.out, evaluate.ChangesTable(changes))
	return nil
}
