// Package modelcard writes the README.md a trained model directory carries: the model card
// sentence-transformers writes, with YAML front matter the Hugging Face Hub reads (library_name, pipeline_tag,
// base_model, tags, datasets, language, license, model-index with the evaluation results) and the sections
// model details, usage, evaluation (one table per Matryoshka dimension, naming the split), training details
// (dataset size, columns and samples, loss and its parameters, non-default hyperparameters, the training log)
// and framework versions. It also edits the front matter of a card already written (SetMeta), for the fields
// a user knows better at publishing time (license, language, datasets, base model).
//
// It owns the card's text only: what goes into a Card is decided by the trainer (package train) that knows
// the model, the data and the run.
package modelcard

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kinds of model a card describes; they decide the pipeline tag and the usage snippets.
const (
	BiEncoder    = "bi-encoder"
	CrossEncoder = "cross-encoder"
)

// Card is what a model card says.
type Card struct {
	// Kind is BiEncoder or CrossEncoder.
	Kind string
	// Name is the model's name in model-index and the title ("" : a generic title).
	Name string
	// Meta are the front-matter fields a user knows better than the trainer.
	Meta Meta
	// Tags are added after the standard ones (sentence-transformers, sentence-similarity / cross-encoder, …).
	Tags []string
	// Model describes the architecture.
	Model Model
	// Evaluation is the last evaluation of the run (nil: the model was not evaluated).
	Evaluation *Evaluation
	// Training describes the run (nil: untrained).
	Training *Training
	// Versions are the frameworks that produced the model, in order (name, version).
	Versions [][2]string
}

// Meta are the front-matter fields that come from the user: "" and nil leave them out.
type Meta struct {
	// BaseModel is the Hub id the model was fine-tuned from (a local path is not a Hub id and is left out of
	// the front matter, which the Hub validates).
	BaseModel string
	License   string
	Language  []string
	// Datasets are Hub dataset ids the model was trained on.
	Datasets []string
}

// Model describes the architecture.
type Model struct {
	// Architecture is e.g. "BertModel", "BertForSequenceClassification" or "StaticEmbedding".
	Architecture string
	// BaseModelPath is where the base model was read from when it is not a Hub id ("" when unknown).
	BaseModelPath                    string
	Layers, Hidden, Heads, VocabSize int
	// MaxSeqLength is the truncation length in tokens (0: none).
	MaxSeqLength int
	// OutputDim is the embedding size (bi-encoders); MatryoshkaDims the truncations it was trained for.
	OutputDim      int
	MatryoshkaDims []int
	// Similarity is the similarity function (cosine, dot, …); Pooling the pooling mode; Normalize says the
	// embeddings are unit length.
	Similarity, Pooling string
	Normalize           bool
	// Prompts are the named prompts (query, document).
	Prompts map[string]string
}

// Evaluation is a run's evaluation: the metrics as the evaluator named them (dim_<d>_cosine_ndcg@10,
// bm25_rerank_ndcg@10, ndcg@10) and the split they were measured on.
type Evaluation struct {
	Split   string
	Metrics map[string]float64
}

// Training describes a run.
type Training struct {
	// Rows and Columns describe the training data; Samples are its first rows (Columns order).
	Rows    int
	Columns []string
	Samples [][]string
	// Lengths are each column's text lengths in characters: min, mean, max.
	Lengths [][3]float64
	// Loss names the loss (e.g. MatryoshkaLoss over MultipleNegativesRankingLoss) and LossParams its
	// parameters, in order.
	Loss       string
	LossParams [][2]string
	// Hyperparameters are those that differ from the trainer's defaults, in order (name, value).
	Hyperparameters [][2]string
	// Log is the training log: one row per logged step.
	Log []LogRow
	// Steps, Epochs and Seconds summarise the run.
	Steps   int
	Epochs  float64
	Seconds float64
}

// LogRow is one row of the training log; NaN fields are shown as "-".
type LogRow struct {
	Epoch float64
	Step  int
	Loss  float64
	Eval  map[string]float64
}

var dimKey = regexp.MustCompile(`^dim_([0-9]+)_(.+)$`)

// group is the metrics of one dimension (dim 0: the metrics without a dimension).
type group struct {
	dim     int
	names   []string
	metrics map[string]float64
}

// groups splits metric keys by dimension, largest first, the keys of each in a fixed order.
func groups(m map[string]float64) []group {
	by := map[int]*group{}
	for k, v := range m {
		dim, name := 0, k
		if s := dimKey.FindStringSubmatch(k); s != nil {
			dim, _ = strconv.Atoi(s[1])
			name = s[2]
		}
		g := by[dim]
		if g == nil {
			g = &group{dim: dim, metrics: map[string]float64{}}
			by[dim] = g
		}
		g.names = append(g.names, name)
		g.metrics[name] = v
	}
	var out []group
	for _, g := range by {
		slices.SortFunc(g.names, compareMetrics)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b group) int { return b.dim - a.dim })
	return out
}

// metricOrder is sentence-transformers' order of the IR metrics in a card.
var metricOrder = []string{"accuracy", "precision", "recall", "ndcg", "mrr", "map"}

// compareMetrics orders cosine_accuracy@1 < cosine_accuracy@3 < … < cosine_map@100 (unknown names last, by name).
func compareMetrics(a, b string) int {
	rank := func(s string) (int, int) {
		base, k, _ := strings.Cut(s, "@")
		kk, _ := strconv.Atoi(k)
		for i, m := range metricOrder {
			if strings.HasSuffix(base, m) {
				return i, kk
			}
		}
		return len(metricOrder), kk
	}
	ra, ka := rank(a)
	rb, kb := rank(b)
	if ra != rb {
		return ra - rb
	}
	if ka != kb {
		return ka - kb
	}
	return strings.Compare(a, b)
}

// prettyMetric is a metric's display name: cosine_ndcg@10 → Cosine Ndcg@10 (sentence-transformers' style).
func prettyMetric(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// Markdown renders the card: front matter, then the sections.
func (c Card) Markdown() []byte {
	var b strings.Builder
	b.WriteString("---\n")
	b.WriteString(c.frontMatter())
	b.WriteString("---\n\n")
	c.body(&b)
	return []byte(b.String())
}

func (c Card) pipelineTag() string {
	if c.Kind == CrossEncoder {
		return "text-ranking"
	}
	return "sentence-similarity"
}

func (c Card) tags() []string {
	tags := []string{"sentence-transformers"}
	if c.Kind == CrossEncoder {
		tags = append(tags, "cross-encoder", "reranker")
	} else {
		tags = append(tags, "sentence-similarity", "feature-extraction")
	}
	tags = append(tags, "ragnb", "generated_from_trainer")
	if t := c.Training; t != nil {
		tags = append(tags, fmt.Sprintf("dataset_size:%d", t.Rows))
		if strings.HasPrefix(t.Loss, "MatryoshkaLoss") {
			tags = append(tags, "loss:MatryoshkaLoss")
		}
		inner := t.Loss
		if i := strings.Index(inner, "("); i >= 0 {
			inner = strings.TrimSuffix(inner[i+1:], ")")
		}
		if inner != "" {
			tags = append(tags, "loss:"+inner)
		}
	}
	for _, t := range c.Tags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// Placeholder stands for the repository id in the usage snippets of a card written before the model has one;
// ForRepo puts the id in when the model is pushed.
const Placeholder = "ORG/NAME"

// ForRepo writes the repository id into a card's usage snippets in place of Placeholder.
func ForRepo(readme []byte, repo string) []byte {
	return bytes.ReplaceAll(readme, []byte(Placeholder), []byte(repo))
}

// IsHubID reports whether s has the form of a Hub model id (name or org/name), not a local path.
func IsHubID(s string) bool {
	return hubID.MatchString(s) && !strings.Contains(s, "--") && !strings.Contains(s, "..")
}

var hubID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (c Card) frontMatter() string {
	var y yamlWriter
	if c.Meta.BaseModel != "" && IsHubID(c.Meta.BaseModel) {
		y.scalar(0, "base_model", c.Meta.BaseModel)
	}
	y.list(0, "datasets", c.Meta.Datasets)
	y.list(0, "language", c.Meta.Language)
	if c.Meta.License != "" {
		y.scalar(0, "license", c.Meta.License)
	}
	y.scalar(0, "library_name", "sentence-transformers")
	y.scalar(0, "pipeline_tag", c.pipelineTag())
	y.list(0, "tags", c.tags())
	if c.Evaluation != nil && len(c.Evaluation.Metrics) > 0 {
		c.modelIndex(&y)
	}
	return y.String()
}

func (c Card) modelIndex(y *yamlWriter) {
	name := c.Name
	if name == "" {
		name = "ragnb fine-tuned " + c.Kind
	}
	y.line(0, "model-index:")
	y.line(0, "- name: "+quote(name))
	y.line(2, "results:")
	taskType, taskName := "information-retrieval", "Information Retrieval"
	if c.Kind == CrossEncoder {
		taskType, taskName = "cross-encoder-reranking", "Cross Encoder Reranking"
	}
	for _, g := range groups(c.Evaluation.Metrics) {
		y.line(2, "- task:")
		y.scalar(6, "type", taskType)
		y.scalar(6, "name", taskName)
		y.line(4, "dataset:")
		dsName, dsType := c.split(), "eval"
		if g.dim > 0 {
			dsName, dsType = fmt.Sprintf("dim %d", g.dim), fmt.Sprintf("dim_%d", g.dim)
		}
		y.scalar(6, "name", dsName)
		y.scalar(6, "type", dsType)
		y.line(4, "metrics:")
		for _, n := range g.names {
			y.line(4, "- type: "+quote(n))
			y.line(6, "value: "+number(g.metrics[n]))
			y.scalar(6, "name", prettyMetric(n))
		}
	}
}

func (c Card) split() string {
	if c.Evaluation == nil || c.Evaluation.Split == "" {
		return "held-out evaluation set"
	}
	return c.Evaluation.Split
}

// number writes a metric as YAML: up to 4 significant decimals, like sentence-transformers; NaN as .nan.
func number(v float64) string {
	switch {
	case math.IsNaN(v):
		return ".nan"
	case math.IsInf(v, 1):
		return ".inf"
	case math.IsInf(v, -1):
		return "-.inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (c Card) body(b *strings.Builder) {
	title := c.Name
	if title == "" {
		if c.Kind == CrossEncoder {
			title = "Cross-encoder reranker trained with ragnb"
		} else {
			title = "Sentence embedding model trained with ragnb"
		}
	}
	fmt.Fprintf(b, "# %s\n\n", title)
	what := "a [sentence-transformers](https://www.SBERT.net) model: it maps sentences and paragraphs to a " +
		fmt.Sprintf("%d-dimensional dense vector space for semantic search and retrieval", c.Model.OutputDim)
	if c.Kind == CrossEncoder {
		what = "a [sentence-transformers](https://www.SBERT.net) cross-encoder: it scores (query, passage) pairs for reranking"
	}
	fmt.Fprintf(b, "This is %s. It was fine-tuned with [ragnb](https://github.com/ragnb/ragnb)", what)
	if c.Meta.BaseModel != "" {
		fmt.Fprintf(b, " from %s", c.baseLink())
	}
	b.WriteString(".\n\n")
	c.details(b)
	c.usage(b)
	c.evaluation(b)
	c.training(b)
	if len(c.Versions) > 0 {
		b.WriteString("### Framework Versions\n\n")
		for _, v := range c.Versions {
			fmt.Fprintf(b, "- %s: %s\n", v[0], v[1])
		}
		b.WriteString("\n")
	}
}

func (c Card) baseLink() string {
	if IsHubID(c.Meta.BaseModel) {
		return fmt.Sprintf("[%s](https://huggingface.co/%s)", c.Meta.BaseModel, c.Meta.BaseModel)
	}
	return "`" + c.Meta.BaseModel + "`"
}

func (c Card) details(b *strings.Builder) {
	m := c.Model
	b.WriteString("## Model Details\n\n### Model Description\n\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "- **%s:** %s\n", k, v)
		}
	}
	if c.Kind == CrossEncoder {
		row("Model Type", "Cross Encoder")
	} else {
		row("Model Type", "Sentence Transformer")
	}
	if c.Meta.BaseModel != "" {
		row("Base model", c.baseLink())
	} else if m.BaseModelPath != "" {
		row("Base model", "`"+m.BaseModelPath+"` (a local directory)")
	}
	row("Architecture", m.Architecture)
	if m.Layers > 0 {
		row("Size", fmt.Sprintf("%d layers, hidden size %d, %d attention heads, vocabulary %d", m.Layers, m.Hidden, m.Heads, m.VocabSize))
	} else if m.VocabSize > 0 {
		row("Size", fmt.Sprintf("vocabulary %d", m.VocabSize))
	}
	if m.MaxSeqLength > 0 {
		row("Maximum Sequence Length", fmt.Sprintf("%d tokens", m.MaxSeqLength))
	} else if c.Kind == BiEncoder {
		row("Maximum Sequence Length", "none (static embeddings)")
	}
	if c.Kind == BiEncoder {
		dims := fmt.Sprintf("%d dimensions", m.OutputDim)
		if len(m.MatryoshkaDims) > 0 {
			dims += fmt.Sprintf(" (Matryoshka: also %s)", ints(m.MatryoshkaDims))
		}
		row("Output Dimensionality", dims)
		row("Similarity Function", m.Similarity)
		row("Pooling", m.Pooling)
		if m.Normalize {
			row("Normalized", "yes (unit-length embeddings)")
		}
	} else {
		row("Number of Output Labels", "1 (a relevance logit)")
	}
	for _, k := range slices.Sorted(maps.Keys(m.Prompts)) {
		if m.Prompts[k] == "" {
			continue
		}
		row(fmt.Sprintf("Prompt %q", k), "`"+m.Prompts[k]+"`")
	}
	row("Training Dataset Size", trainingSize(c.Training))
	row("Language", strings.Join(c.Meta.Language, ", "))
	row("License", c.Meta.License)
	b.WriteString("\n")
}

func trainingSize(t *Training) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("%d rows", t.Rows)
}

func (c Card) usage(b *strings.Builder) {
	id := Placeholder
	if c.Name != "" && IsHubID(c.Name) {
		id = c.Name
	}
	b.WriteString("## Usage\n\n### sentence-transformers\n\n```bash\npip install -U sentence-transformers\n```\n\n```python\n")
	if c.Kind == CrossEncoder {
		fmt.Fprintf(b, "from sentence_transformers import CrossEncoder\n\nmodel = CrossEncoder(%q)\n", id)
		b.WriteString("scores = model.predict([\n    (\"What was the revenue in 2023?\", \"Revenue grew to $2.1 billion in 2023.\"),\n" +
			"    (\"What was the revenue in 2023?\", \"The board met four times.\"),\n])\nprint(scores)\n")
	} else {
		fmt.Fprintf(b, "from sentence_transformers import SentenceTransformer\n\nmodel = SentenceTransformer(%q", id)
		if len(c.Model.MatryoshkaDims) > 0 {
			fmt.Fprintf(b, ", truncate_dim=%d", slices.Min(c.Model.MatryoshkaDims))
		}
		b.WriteString(")\nqueries = model.encode_query([\"What was the revenue in 2023?\"])\n" +
			"docs = model.encode_document([\"Revenue grew to $2.1 billion in 2023.\", \"The board met four times.\"])\n" +
			"print(model.similarity(queries, docs))\n")
	}
	b.WriteString("```\n\n### ragnb\n\n```bash\n")
	if c.Kind == CrossEncoder {
		fmt.Fprintf(b, "ragnb score --teacher cross-encoder --model-dir %s --in pairs.jsonl --out scored.jsonl\n", id)
	} else {
		fmt.Fprintf(b, "ragnb embed --model %s --in texts.jsonl --out vectors.npy\n", id)
		fmt.Fprintf(b, "ragnb eval --model %s --corpus corpus.jsonl --queries queries.jsonl --qrels qrels/test.tsv\n", id)
	}
	b.WriteString("```\n\n")
}

func (c Card) evaluation(b *strings.Builder) {
	e := c.Evaluation
	if e == nil || len(e.Metrics) == 0 {
		return
	}
	b.WriteString("## Evaluation\n\n### Metrics\n\n")
	for _, g := range groups(e.Metrics) {
		if g.dim > 0 {
			fmt.Fprintf(b, "#### Information Retrieval: dim %d\n\n", g.dim)
		} else if c.Kind == CrossEncoder {
			b.WriteString("#### Cross Encoder Reranking\n\n")
		} else {
			b.WriteString("#### Information Retrieval\n\n")
		}
		fmt.Fprintf(b, "Measured on %s.\n\n| Metric | Value |\n|:--|--:|\n", c.split())
		for _, n := range g.names {
			fmt.Fprintf(b, "| %s | %s |\n", n, fixed(g.metrics[n]))
		}
		b.WriteString("\n")
	}
}

func fixed(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func (c Card) training(b *strings.Builder) {
	t := c.Training
	if t == nil {
		return
	}
	b.WriteString("## Training Details\n\n### Training Dataset\n\n")
	fmt.Fprintf(b, "- Size: %d training rows\n- Columns: %s\n", t.Rows, strings.Join(backticked(t.Columns), ", "))
	if len(t.Lengths) == len(t.Columns) && len(t.Columns) > 0 {
		b.WriteString("- Approximate statistics (characters):\n\n  | | " + strings.Join(backticked(t.Columns), " | ") + " |\n  |:--|" + strings.Repeat(":--|", len(t.Columns)) + "\n")
		b.WriteString("  | type |" + strings.Repeat(" string |", len(t.Columns)) + "\n  | details |")
		for _, l := range t.Lengths {
			fmt.Fprintf(b, " min: %.0f, mean: %.1f, max: %.0f |", l[0], l[1], l[2])
		}
		b.WriteString("\n")
	}
	if len(t.Samples) > 0 {
		b.WriteString("- Samples:\n\n  | " + strings.Join(t.Columns, " | ") + " |\n  |" + strings.Repeat(":--|", len(t.Columns)) + "\n")
		for _, s := range t.Samples {
			cells := make([]string, len(s))
			for i, v := range s {
				cells[i] = cell(v)
			}
			b.WriteString("  | " + strings.Join(cells, " | ") + " |\n")
		}
	}
	if t.Loss != "" {
		fmt.Fprintf(b, "- Loss: `%s`", t.Loss)
		if len(t.LossParams) > 0 {
			b.WriteString(" with these parameters:\n\n  ```json\n  {\n")
			for i, p := range t.LossParams {
				sep := ","
				if i == len(t.LossParams)-1 {
					sep = ""
				}
				fmt.Fprintf(b, "      %q: %s%s\n", p[0], p[1], sep)
			}
			b.WriteString("  }\n  ```\n")
		} else {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n### Training Hyperparameters\n\n#### Non-Default Hyperparameters\n\n")
	if len(t.Hyperparameters) == 0 {
		b.WriteString("None: the trainer's defaults.\n")
	}
	for _, h := range t.Hyperparameters {
		fmt.Fprintf(b, "- `%s`: %s\n", h[0], h[1])
	}
	b.WriteString("\n")
	if len(t.Log) > 0 {
		c.log(b)
	}
	fmt.Fprintf(b, "Trained %d steps (%.3g epochs) in %.0f s.\n\n", t.Steps, t.Epochs, t.Seconds)
}

func (c Card) log(b *strings.Builder) {
	keys := map[string]bool{}
	for _, r := range c.Training.Log {
		for k := range r.Eval {
			if strings.HasSuffix(k, "ndcg@10") {
				keys[k] = true
			}
		}
	}
	cols := slices.Sorted(maps.Keys(keys))
	slices.SortStableFunc(cols, func(a, b string) int {
		da, db := dimOf(a), dimOf(b)
		return db - da
	})
	b.WriteString("### Training Logs\n\n| Epoch | Step | Training Loss |")
	for _, k := range cols {
		fmt.Fprintf(b, " %s |", k)
	}
	b.WriteString("\n|:--|:--|:--|" + strings.Repeat(":--|", len(cols)) + "\n")
	for _, r := range c.Training.Log {
		fmt.Fprintf(b, "| %.4g | %d | %s |", r.Epoch, r.Step, fixed(r.Loss))
		for _, k := range cols {
			v, ok := r.Eval[k]
			if !ok {
				v = math.NaN()
			}
			fmt.Fprintf(b, " %s |", fixed(v))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func dimOf(k string) int {
	if s := dimKey.FindStringSubmatch(k); s != nil {
		d, _ := strconv.Atoi(s[1])
		return d
	}
	return 0
}

// cell is a sample as a Markdown table cell: one line, pipes escaped, at most 160 characters.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:157]) + "..."
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

func backticked(xs []string) []string {
	out := make([]string, len(xs))
	for i, s := range xs {
		out[i] = "`" + s + "`"
	}
	return out
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
