package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-gota/gota/dataframe"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/retrieval/bm25"
	"github.com/ragnb/ragnb/retrieval/evaluate"
	"github.com/ragnb/ragnb/retrieval/hybrid"
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
	hybrid                                 string
	hybridAlpha                            setFloat
	devFraction                            float64
	devQueries, devQrels                   string
	query                                  queryInstructionFlags
	weaviate                               weaviateFlags
	adapter                                string
}

// setFloat is a float flag that knows whether it was given.
type setFloat struct {
	v   float64
	set bool
}

func (f *setFloat) String() string { return strconv.FormatFloat(f.v, 'g', -1, 64) }
func (f *setFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	f.v, f.set = v, true
	return nil
}

func evalCmd() *command {
	return &command{
		name: "eval",
		summary: "evaluate retrieval with sentence-transformers' IR metrics: BM25, a model at every Matryoshka " +
			"dimension, or a TREC run; compare two results",
		usage: "--model bm25|DIR|hybrid:DIR (--corpus C --queries Q --qrels R | --beir DIR | --pairs FILE | --llamaindex FILE) [flags]\n" +
			"       ragnb eval --model DIR --weaviate URL --collection NAME (data flags as above) [--api-key-env VAR]\n" +
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
	hdef := workflow.DefaultHybridOptions()
	fs.Var(&f.models, "model", "system to evaluate: `bm25`, a model directory, or hybrid:DIR (BM25 fused with that model; keys hybrid_dim_<d>_<metric>@k) (repeatable: --model bm25 --model DIR --model hybrid:DIR)")
	fs.StringVar(&f.hybrid, "hybrid", hdef.Fusion.Method, "hybrid:DIR fusion: convex (normalised scores, weight --hybrid-alpha or chosen on the dev set) or rrf (reciprocal rank fusion)")
	f.hybridAlpha.v = hdef.Fusion.Alpha
	fs.Var(&f.hybridAlpha, "hybrid-alpha", "convex fusion's weight on the dense scores, in [0, 1]; given, it is used as is, else it is chosen on the dev set when there is one (default "+f.hybridAlpha.String()+")")
	fs.Float64Var(&f.devFraction, "dev-fraction", 0, "--pairs: carve this fraction of all rows from the training side as the dev set that hybrid:DIR chooses its weight on (the test split is unchanged)")
	fs.StringVar(&f.devQueries, "dev-queries", "", "dev queries.jsonl `file` for choosing hybrid:DIR's weight (default: --queries, or the --beir folder's)")
	fs.StringVar(&f.devQrels, "dev-qrels", "", "dev judgements `file` (BEIR TSV or TREC qrels) for choosing hybrid:DIR's weight; with --beir, a split name such as dev works too")
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
	f.weaviate.register(fs, "with --weaviate: also search the `collection` (written by `ragnb index push` with the --model's model) and score "+
		"that run (keys weaviate_cosine_<metric>@k) and its agreement with the exact search at the stored dimension (weaviate_agreement@k)", "api-key-env")
	fs.StringVar(&f.adapter, "adapter", "", "adapter `directory` from `ragnb train-adapter`, applied to the query embeddings of every --model DIR and hybrid:DIR (passages keep the base model's vectors); evaluate the base model in a run without it")
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

// hybridOptions are the workflow's hybrid options the flags describe.
func (f *evalFlags) hybridOptions() (workflow.HybridOptions, error) {
	h := workflow.DefaultHybridOptions()
	switch f.hybrid {
	case hybrid.Convex, hybrid.RRF:
		h.Fusion.Method = f.hybrid
	default:
		return h, usagef("--hybrid %q: want convex or rrf", f.hybrid)
	}
	h.Fusion.Alpha = f.hybridAlpha.v
	if f.hybridAlpha.set {
		h.Tune = false
	}
	if _, err := hybrid.Fuse(nil, nil, h.Fusion); err != nil {
		return h, usagef("%v", err)
	}
	return h, nil
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

// loadEvalSets builds the evaluation set and, when one is asked for, the dev set (--dev-fraction of a pairs
// table, or --dev-qrels over the same corpus), and describes them.
func loadEvalSets(f *evalFlags) (test, dev *ir.Dataset, desc string, err error) {
	if test, desc, err = loadEvalSet(f); err != nil {
		return nil, nil, "", err
	}
	switch {
	case f.devFraction != 0 && f.devQrels != "":
		return nil, nil, "", usagef("give --dev-fraction (with --pairs) or --dev-qrels, not both")
	case f.devFraction != 0:
		if f.pairs == "" || f.testFraction == 0 {
			return nil, nil, "", usagef("--dev-fraction carves dev from a --pairs table's training side: it needs --pairs and a --test-fraction")
		}
		df, err := datasets.Load(f.pairs)
		if err != nil {
			return nil, nil, "", err
		}
		_, devDF, _, err := datasets.SplitDevTest(df, f.devFraction, f.testFraction, f.seed)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: %w", f.pairs, err)
		}
		if dev, _, err = pairsSet(f, df, devDF); err != nil {
			return nil, nil, "", err
		}
		desc += fmt.Sprintf("; dev: %d rows (fraction %g, carved from the training side, seed %d)", devDF.Nrow(), f.devFraction, f.seed)
	case f.devQrels != "":
		if f.pairs != "" {
			return nil, nil, "", usagef("--dev-qrels goes with --beir or --corpus/--queries/--qrels; a --pairs table takes --dev-fraction")
		}
		if dev, err = loadDevSet(f, test.Corpus); err != nil {
			return nil, nil, "", err
		}
		if err := disjointQueries(dev, test); err != nil {
			return nil, nil, "", err
		}
		desc += fmt.Sprintf("; dev: qrels %s", f.devQrels)
	case f.devQueries != "":
		return nil, nil, "", usagef("--dev-queries goes with --dev-qrels")
	}
	return test, dev, desc, nil
}

// loadDevSet is the dev queries and judgements (--dev-queries, --dev-qrels: a file, or a split of --beir)
// over the test set's corpus.
func loadDevSet(f *evalFlags, corpus []ir.Document) (*ir.Dataset, error) {
	qpath, rpath := f.devQueries, f.devQrels
	if qpath == "" {
		qpath = f.queries
		if f.beir != "" {
			qpath = filepath.Join(f.beir, "queries.jsonl")
		}
	}
	if f.beir != "" && !strings.ContainsAny(rpath, `/\.`) {
		rpath = filepath.Join(f.beir, "qrels", rpath+".tsv")
	}
	queries, err := ir.LoadQueries(qpath)
	if err != nil {
		return nil, err
	}
	qrels, err := ir.LoadQrels(rpath)
	if err != nil {
		return nil, err
	}
	ds := &ir.Dataset{Corpus: corpus, Queries: queries, Qrels: qrels}
	return ds, ds.Validate()
}

// disjointQueries refuses a dev set that judges a query the test set judges too: a weight chosen on it would
// be reported on the queries it was chosen on.
func disjointQueries(dev, test *ir.Dataset) error {
	for q, rel := range dev.Qrels {
		if len(rel) > 0 && len(test.Qrels[q]) > 0 {
			return usagef("--dev-qrels judges query %q, which the test qrels judge too: dev and test must be disjoint", q)
		}
	}
	return nil
}

// pairsSet is the IR set whose queries are rows' anchors, relevant to their positives, searched against
// every distinct positive of df; it also returns how many rows were skipped for an empty positive.
func pairsSet(f *evalFlags, df, rows dataframe.DataFrame) (*ir.Dataset, int, error) {
	corpus, err := datasets.Strings(df, f.positive)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.pairs, err)
	}
	anchors, err := datasets.Strings(rows, f.anchor)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.pairs, err)
	}
	positives, err := datasets.Strings(rows, f.positive)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.pairs, err)
	}
	ds, skipped, err := ir.FromPairs(anchors, positives, corpus)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.pairs, err)
	}
	return ds, len(skipped), nil
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
		test := df
		desc := fmt.Sprintf("%s: all %d rows as queries", f.pairs, df.Nrow())
		if f.testFraction != 0 {
			if _, test, err = datasets.Split(df, f.testFraction, f.seed); err != nil {
				return nil, "", fmt.Errorf("%s: %w", f.pairs, err)
			}
			desc = fmt.Sprintf("%s: test split of %d rows (fraction %g, seed %d) as queries", f.pairs, test.Nrow(), f.testFraction, f.seed)
		}
		ds, skipped, err := pairsSet(f, df, test)
		if err != nil {
			return nil, "", err
		}
		if skipped > 0 {
			desc += fmt.Sprintf(", %d rows with an empty %q skipped", skipped, f.positive)
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
	h, err := f.hybridOptions()
	if err != nil {
		return err
	}
	src, err := f.weaviate.source()
	if err != nil {
		return err
	}
	if src != nil && (len(f.models) != 1 || f.models[0] == "bm25" || strings.HasPrefix(f.models[0], hybridPrefix)) {
		return usagef("--weaviate evaluates the collection of one bi-encoder: give exactly one --model DIR")
	}
	ds, devDS, desc, err := loadEvalSets(f)
	if err != nil {
		return err
	}
	set := &workflow.EvalSet{Dataset: ds}
	var dev *workflow.EvalSet
	if devDS != nil {
		dev = &workflow.EvalSet{Dataset: devDS}
	}
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
	dense, hybrids := 0, 0
	for _, m := range f.models {
		switch {
		case strings.HasPrefix(m, hybridPrefix):
			hybrids++
		case m != "bm25":
			dense++
		}
	}
	for _, m := range f.models {
		start := time.Now()
		if dir, ok := strings.CutPrefix(m, hybridPrefix); ok {
			if f.saveRun != "" {
				return usagef("--save-run writes a model's or BM25's run, not a hybrid's")
			}
			model, err := workflow.OpenAdapted(ctx, env, dir, f.adapter, encoder.Options{})
			if err != nil {
				return fmt.Errorf("--model %s: %w", m, err)
			}
			r, err := workflow.EvaluateHybrid(ctx, env, set, dev, model, o, h)
			if err != nil {
				return fmt.Errorf("--model %s: %w", m, err)
			}
			rep := r.Report
			if hybrids > 1 {
				rep = rep.WithPrefix(filepath.Base(strings.TrimRight(dir, "/")) + "_")
			}
			fmt.Fprintf(std.out, "%-8s %s; fused and searched in %.2fs\n", m, r.Describe(h.Metric), time.Since(start).Seconds())
			report = evaluate.Merge(report, rep)
			continue
		}
		if m != "bm25" {
			model, err := workflow.OpenAdapted(ctx, env, m, f.adapter, encoder.Options{Prompts: prompts})
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
			if src != nil {
				start := time.Now()
				w, err := workflow.EvaluateWeaviate(ctx, env, set, model, o, *src)
				if err != nil {
					return fmt.Errorf("--weaviate %s: %w", f.weaviate.url, err)
				}
				fmt.Fprintf(std.out, "weaviate %s; with the exact search at dim %d in %.2fs\n", w.Describe(), w.Dim, time.Since(start).Seconds())
				report = evaluate.Merge(report, w.Report)
			}
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

// hybridPrefix marks a --model that is BM25 fused with the bi-encoder after it.
const hybridPrefix = "hybrid:"

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
