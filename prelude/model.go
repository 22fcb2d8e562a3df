package prelude

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/train/adapter"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/vector"
	"github.com/ragnb/ragnb/workflow"
)

// EnvModel names the environment variable that replaces the offline default base model with a model directory
// or a Hub id (e.g. BAAI/bge-base-en-v1.5).
const EnvModel = "RAGNB_MODEL"

// Model is a model directory in the Hugging Face / sentence-transformers layout — a bi-encoder, a static
// embedding model or a cross-encoder — loaded from a path or the Hub, made by StaticModel, or produced by a
// training step. Its ID is its content identity in cache keys: steps that consume the same model hit the same
// entries wherever the directory lives. Like a Dataset, a Model carries the error of the call that made it.
type Model struct {
	name  string
	chain string
	dir   string
	id    string
	err   error
	notes []string

	// prompts override the directory's prompts (WithQueryInstruction).
	prompts map[string]string
	// adapter, when set, is applied to the query embeddings (TrainAdapter, WithAdapter); adapterID is its
	// identity in cache keys, adapterDir where it is saved.
	adapter               *adapter.Adapter
	adapterID, adapterDir string
	// h loads the model on first use in this process (every notebook cell is a new process).
	h *workflow.Model
}

// handle is the model as the workflow layer takes it, loaded at most once per process.
func (m *Model) handle() *workflow.Model {
	if m.h == nil {
		m.h = &workflow.Model{Dir: m.dir, ID: m.id, Options: encoder.Options{Prompts: m.prompts},
			Adapter: m.adapter, AdapterID: m.adapterID}
	}
	return m.h
}

func failedModel(chain string, err error) *Model {
	return &Model{name: chain, chain: chain, err: err}
}

// LoadModel opens a model: a local directory, or a Hub id ("org/name", "org/name@revision") downloaded
// through the Hugging Face cache (HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE apply; nothing is fetched when
// the files are cached). "" means $RAGNB_MODEL.
func LoadModel(nameOrDir string) *Model {
	chain := fmt.Sprintf("LoadModel(%q)", nameOrDir)
	if nameOrDir == "" {
		nameOrDir = os.Getenv(EnvModel)
		if nameOrDir == "" {
			return failedModel(chain, fmt.Errorf("no model named and $%s is not set", EnvModel))
		}
	}
	ctx, cancel := cellContext()
	defer cancel()
	dir, err := hub.Resolve(ctx, nameOrDir, hub.FromEnv(), display.Progress())
	if err != nil {
		return failedModel(chain, err)
	}
	if _, err := modeldir.Read(dir); err != nil {
		return failedModel(chain, err)
	}
	id, err := dirIdentity(dir)
	if err != nil {
		return failedModel(chain, err)
	}
	return &Model{name: filepath.Base(nameOrDir), chain: chain, dir: dir, id: id}
}

// StaticOptions configure StaticModel. Zero values take workflow.DefaultStaticOptions, the defaults of
// `ragnb init-model --arch static` too: 256 dimensions, IDF-weighted init, seed 42, a 30,000-token
// vocabulary.
type StaticOptions struct {
	// Dim is the embedding dimension (default 256, DESIGN.md's measured recipe: Matryoshka 256/128/64).
	Dim int
	// Tokenizer is a tokenizer.json (or a folder holding one) to use; "" trains a WordPiece vocabulary on the
	// corpus (tokenizer.TrainWordPiece), so no downloaded file is needed.
	Tokenizer string
	// VocabSize bounds a trained vocabulary (default 30000).
	VocabSize int
	// Init is "idf" (default: Gaussian vectors scaled by each token's IDF on the corpus, which ranks like
	// TF-IDF before training) or "random".
	Init string
	// Seed makes the initialisation reproducible (default 42).
	Seed int
}

// workflow turns the prelude's options into the workflow's: every zero field takes
// workflow.DefaultStaticOptions.
func (o StaticOptions) workflow() workflow.InitModelOptions {
	w := workflow.DefaultInitModelOptions(workflow.ArchStatic)
	if o.Dim != 0 {
		w.Static.Dim = o.Dim
	}
	if o.VocabSize != 0 {
		w.Static.VocabSize = o.VocabSize
	}
	if o.Init != "" {
		w.Static.Init = o.Init
	}
	if o.Seed != 0 {
		w.Static.Seed = uint64(o.Seed)
	}
	return w
}

// StaticModel makes a static embedding model (sentence-transformers StaticEmbedding: token vectors averaged):
// the offline base model, which needs no pretrained weights and learns fast on a CPU. Its IDF is counted on
// the passages in data's column. A trained vocabulary is learnt from every text column of data — anchors
// too, since a vocabulary of passages alone spells question words ("how", "does") out in single characters,
// whose random vectors drown the signal. It is memoised: the same data and options give the same model
// from the cache.
func StaticModel(corpus *Dataset, column string, opts StaticOptions) *Model {
	chain := fmt.Sprintf("StaticModel(%s, %q)", corpus.Chain(), column)
	if corpus.Err() != nil {
		return failedModel(chain, corpus.Err())
	}
	texts, err := corpus.Strings(column)
	if err != nil {
		return failedModel(chain, err)
	}
	in := workflow.InitModelInput{Tokenizer: opts.Tokenizer, Corpus: texts, CorpusID: corpus.Hash(), CorpusColumn: column}
	if opts.Tokenizer == "" {
		in.VocabTexts = textColumns(corpus)
	}
	return initModel(chain, "static", in, opts.workflow())
}

// initModel runs workflow.InitModel in the notebook's Env and wraps the model as name.
func initModel(chain, name string, in workflow.InitModelInput, o workflow.InitModelOptions) *Model {
	env, err := stepEnv()
	if err != nil {
		return failedModel(chain, err)
	}
	ctx, cancel := cellContext()
	defer cancel()
	r, err := workflow.InitModel(ctx, env, in, o)
	if err != nil {
		return failedModel(chain, err)
	}
	m := &Model{name: name, chain: chain, dir: r.Dir, id: r.ID}
	if r.Cached {
		m.notes = append(m.notes, "from cache")
	}
	return m
}

// textColumns is every value of every text column of d.
func textColumns(d *Dataset) []string {
	var out []string
	for _, name := range d.Columns() {
		if d.Frame().Col(name).Type() == series.String {
			out = append(out, d.Column(name)...)
		}
	}
	return out
}

// BaseModel is the model a notebook starts from: $RAGNB_MODEL when set (a directory or a Hub id such as
// BAAI/bge-base-en-v1.5), else StaticModel over corpus's column with the default options.
func BaseModel(corpus *Dataset, column string) *Model {
	if os.Getenv(EnvModel) != "" {
		return LoadModel("").Named("base")
	}
	return StaticModel(corpus, column, StaticOptions{}).Named("base")
}

// Named returns the model with a label for tables and charts ("base", "fine-tuned").
func (m *Model) Named(name string) *Model {
	c := *m
	c.name = name
	return &c
}

// WithQueryInstruction returns the model with instruction before every query instead of its directory's query
// prompt, for training, evaluation and mining (as --query-instruction); "" with none true removes it (as
// --no-query-instruction). Embeddings and trainings are keyed by it.
func (m *Model) WithQueryInstruction(instruction string, none bool) *Model {
	c := *m
	c.h = nil
	c.chain = fmt.Sprintf("%s.WithQueryInstruction(%q, %v)", m.chain, instruction, none)
	p, err := workflow.QueryInstruction(instruction, none)
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("%s: %w", c.chain, err)
	}
	c.prompts = p
	return &c
}

// Name is the model's label.
func (m *Model) Name() string { return m.name }

// Chain is the call that made the model.
func (m *Model) Chain() string { return m.chain }

// Dir is the model directory ("" after an error).
func (m *Model) Dir() string { return m.dir }

// ID is the model directory's content identity, used in cache keys ("" after an error); an adapter's identity
// is added to the keys of the steps that embed queries, not to this.
func (m *Model) ID() string { return m.id }

// Err is the error met making the model, or nil.
func (m *Model) Err() error { return m.err }

// Must panics with the model's error, for exported programs that should stop there.
func (m *Model) Must() *Model {
	if m.err != nil {
		panic(fmt.Errorf("%s: %w", m.chain, m.err))
	}
	return m
}

// embedder is the model as retrieval embeds with it: the bi-encoder, with its adapter on the queries.
func (m *Model) embedder() (vector.Embedder, error) {
	if m.err != nil {
		return nil, m.err
	}
	return m.handle().Embedder()
}

// BiEncoder loads the model for embedding (once per process), without its adapter (see TrainAdapter).
func (m *Model) BiEncoder() (*encoder.BiEncoder, error) {
	if m.err != nil {
		return nil, m.err
	}
	return m.handle().BiEncoder()
}

// CrossEncoder loads the model as a reranker (once per process).
func (m *Model) CrossEncoder() (*encoder.CrossEncoder, error) {
	if m.err != nil {
		return nil, m.err
	}
	return m.handle().CrossEncoder()
}

// Embed embeds texts as queries (with the model's query prompt) or as documents, memoised on disk: the same
// model and texts are embedded once, whichever step (evaluation, mining, the pipeline) asks first.
func (m *Model) Embed(texts []string, queries bool) (*vector.Matrix, error) {
	if m.err != nil {
		return nil, m.err
	}
	env, err := stepEnv()
	if err != nil {
		return nil, err
	}
	ctx, cancel := cellContext()
	defer cancel()
	o := workflow.DefaultEmbedOptions()
	o.Queries = queries
	e, err := workflow.Embed(ctx, env, workflow.EmbedInput{Texts: texts, Model: m.handle()}, o)
	if err != nil {
		return nil, err
	}
	return e.Vectors, nil
}

// describe lists what the model directory says about itself.
func (m *Model) describe() [][2]string {
	rows := [][2]string{{"name", m.name}, {"directory", m.dir}, {"id", shortID(m.id)}}
	l, err := modeldir.Read(m.dir)
	if err != nil {
		return append(rows, [2]string{"layout", err.Error()})
	}
	rows = append(rows, [2]string{"kind", string(l.Kind)})
	if layers, hidden, heads := l.Shape(); layers > 0 {
		rows = append(rows, [2]string{"shape", fmt.Sprintf("%s, %d layers, hidden %d, %d heads", l.Architecture(), layers, hidden, heads)})
	}
	if l.Pooling != "" {
		rows = append(rows, [2]string{"pooling", l.Pooling})
	}
	if p := l.QueryPrompt(); p != "" {
		rows = append(rows, [2]string{"query prompt", p})
	}
	if m.adapter != nil {
		c := m.adapter.Config()
		shape := fmt.Sprintf("%s %d → %d", c.Kind, c.In, c.Out)
		if c.Kind == adapter.TwoLayer {
			shape = fmt.Sprintf("%s %d → %d → %d (%s, residual %v)", c.Kind, c.In, c.Hidden, c.Out, c.Activation, c.AddResidual)
		}
		rows = append(rows, [2]string{"adapter", shape + ", on queries"}, [2]string{"adapter dir", m.adapterDir})
	}
	for _, n := range m.notes {
		rows = append(rows, [2]string{"note", n})
	}
	return rows
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// HTML renders the model card, or the error.
func (m *Model) HTML() string {
	if m.err != nil {
		return tableError(m.chain, m.err)
	}
	var b strings.Builder
	b.WriteString(titleHTML(m.name, m.chain))
	b.WriteString(`<table class="ragnb-model">`)
	for _, r := range m.describe() {
		fmt.Fprintf(&b, "<tr><th style=\"text-align:left\">%s</th><td style=\"text-align:left\">%s</td></tr>",
			html.EscapeString(r[0]), html.EscapeString(r[1]))
	}
	b.WriteString("</table>")
	return b.String()
}

// String renders the model card as text, or the error.
func (m *Model) String() string {
	if m.err != nil {
		return textError(m.chain, m.err)
	}
	var b strings.Builder
	b.WriteString(m.chain + "\n")
	for _, r := range m.describe() {
		fmt.Fprintf(&b, "  %-13s %s\n", r[0], r[1])
	}
	return b.String()
}

// Display shows the model card.
func (m *Model) Display() { showHTML(m.HTML(), m.String()) }

// dirIdentity is a model directory's content hash. Hashing a large model in every cell would cost seconds, so
// the hash is memoised under a fingerprint of the files' names, sizes and modification times: an unchanged
// directory is hashed once, a rewritten one again.
func dirIdentity(dir string) (string, error) {
	var fp []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := os.Stat(p) // follows the Hub cache's symlinks
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fp = append(fp, fmt.Sprintf("%s\x00%d\x00%d", rel, info.Size(), info.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(fp)
	abs, _ := filepath.Abs(dir)
	s, err := store()
	if err != nil {
		return "", err
	}
	var id string
	_, err = s.Value(context.Background(), cache.Key{Step: "model-id", Version: 1, Params: map[string]any{
		"dir": abs, "files": cache.HashStrings(fp...)}}, &id, func(ctx context.Context) (any, error) {
		return cache.HashDir(dir)
	})
	return id, err
}
