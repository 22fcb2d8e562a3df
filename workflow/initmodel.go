package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/model/encoder"
	"github.com/ragnb/ragnb/model/tokenizer"
)

// Architectures InitModel draws.
const (
	ArchStatic       = "static"
	ArchBert         = "bert"
	ArchCrossEncoder = "cross-encoder"
	// ArchXLMRoberta and ArchModernBERT are bi-encoders, or cross-encoders with InitModelOptions.CrossEncoder.
	ArchXLMRoberta = encoder.ArchXLMRoberta
	ArchModernBERT = encoder.ArchModernBERT
)

// StaticInitAuto is StaticOptions.Init's default: IDF-weighted vectors when a corpus is given, random ones
// without.
const StaticInitAuto = "auto"

// StaticOptions shape a static embedding model (sentence-transformers StaticEmbedding: token vectors
// averaged). The json names are those of the prelude's "static-model" cache key.
type StaticOptions struct {
	// Dim is the embedding dimension.
	Dim int `json:"dim"`
	// VocabSize bounds a vocabulary trained on the corpus (when no tokenizer is given).
	VocabSize int `json:"vocab_size"`
	// Init is encoder.InitIDF (Gaussian × each token's IDF over the corpus, which ranks like TF-IDF before any
	// training), encoder.InitRandom, or StaticInitAuto.
	Init string `json:"init"`
	Seed uint64 `json:"seed"`
	// Normalize adds a Normalize module; QueryPrompt is put before queries. Both are keyed only when set, so
	// the keys of models made before they existed stay valid.
	Normalize   bool   `json:"normalize,omitempty"`
	QueryPrompt string `json:"query_prompt,omitempty"`
}

// DefaultStaticOptions are the static model's defaults on the command line (`ragnb init-model --arch static`)
// and in the prelude (StaticModel, BaseModel): 256 dimensions — DESIGN.md's measured recipe, whose
// Matryoshka dimensions 256/128/64 all exist, at a third of 768's cost per step on a CPU — IDF-weighted
// initialisation whenever a corpus is given (it ranks like TF-IDF untrained; random vectors rank like
// chance), seed 42, a 30,000-token vocabulary when one is trained, and no Normalize module (the similarity
// is cosine, as in sentence-transformers' static recipe).
func DefaultStaticOptions() StaticOptions {
	return StaticOptions{Dim: 256, VocabSize: 30000, Init: StaticInitAuto, Seed: 42}
}

// BertOptions shape a randomly initialised BERT model. The json names are those of the prelude's
// "init-bert" / "init-cross-encoder" cache keys (its struct's field names).
type BertOptions struct {
	Layers int `json:"Layers"`
	Hidden int `json:"Hidden"`
	Heads  int `json:"Heads"`
	// Intermediate is the feed-forward size; 0 means 4 × Hidden (BERT's ratio).
	Intermediate int `json:"Intermediate"`
	// MaxLength is the position embeddings' count and the truncation length.
	MaxLength int `json:"MaxLength"`
	// Pooling (bi-encoders): mean, cls, max or mean_sqrt_len_tokens.
	Pooling string `json:"Pooling"`
	Seed    uint64 `json:"Seed"`
	// Arch is the transformer family: "" (BERT), encoder.ArchXLMRoberta or encoder.ArchModernBERT; keyed only
	// when set, so BERT's keys are those the prelude has always used.
	Arch string `json:"Arch,omitempty"`
	// Normalize and QueryPrompt (bi-encoders) as in StaticOptions, keyed only when set.
	Normalize   bool   `json:"Normalize,omitempty"`
	QueryPrompt string `json:"QueryPrompt,omitempty"`
}

// DefaultBertOptions are a random BERT's defaults on the command line (`ragnb init-model --arch
// bert|cross-encoder`) and in the prelude (NewBertBiEncoder, NewCrossEncoder, BaseReranker): the small shape
// the prelude has drawn from the start — 2 layers, hidden 128, 4 heads, feed-forward 4 × hidden, 256
// positions, mean pooling, seed 42. A random transformer is trained from scratch, on a CPU, on a few
// thousand pairs: a MiniLM-sized one (6 × 384) would take hours there and overfit; pass --layers 6 --hidden
// 384 --heads 12 for that shape.
func DefaultBertOptions() BertOptions {
	return BertOptions{Layers: 2, Hidden: 128, Heads: 4, MaxLength: 256, Pooling: "mean", Seed: 42}
}

// InitModelOptions configure InitModel: the architecture and its shape (only the arch's own options are
// read).
type InitModelOptions struct {
	Arch string `json:"arch"`
	// CrossEncoder draws the sequence classifier (one logit) of a transformer Arch (bert is then
	// cross-encoder).
	CrossEncoder bool          `json:"cross_encoder,omitempty"`
	Static       StaticOptions `json:"static"`
	Bert         BertOptions   `json:"bert"`
}

// DefaultInitModelOptions are DefaultStaticOptions and DefaultBertOptions for arch.
func DefaultInitModelOptions(arch string) InitModelOptions {
	return InitModelOptions{Arch: arch, Static: DefaultStaticOptions(), Bert: DefaultBertOptions()}
}

// InitModelInput is what InitModel reads.
type InitModelInput struct {
	// Tokenizer is a tokenizer.json or a folder holding one (a model directory's tokenizer folder); TokenizerID
	// is its content identity for the cache key ("" hashes the path). Static models may leave it "" to train a
	// WordPiece vocabulary on VocabTexts.
	Tokenizer, TokenizerID string
	VocabTexts             []string
	// Corpus are the texts a static model's IDF is counted on, CorpusID their table's content identity, and
	// CorpusColumn the column they came from (keyed as the prelude keys it).
	Corpus                 []string
	CorpusID, CorpusColumn string
	// Out is the directory written when the Env has no cache (replaced atomically if it exists).
	Out string
}

// Initialised is InitModel's outcome.
type Initialised struct {
	// Dir is the model directory (the cache entry, or InitModelInput.Out) and ID its identity (the key's hash,
	// or the directory's content hash without a cache).
	Dir, ID string
	// VocabSize is the tokenizer's; What describes the model ("BERT bi-encoder (2 layers, …)").
	VocabSize int
	What      string
	Cached    bool
}

// arch is one architecture InitModel can draw.
type arch struct {
	// key is its cache key (step, version, inputs, params) for the resolved options.
	key func(in InitModelInput, o InitModelOptions) (cache.Key, error)
	// draw makes the model and returns a saver and a description.
	draw func(ctx context.Context, env Env, tok encoder.Tokenizer, files map[string][]byte, in InitModelInput, o InitModelOptions) (save func(string) error, what string, err error)
	// needsTokenizer is false when a vocabulary can be trained on the data instead.
	needsTokenizer bool
}

// architectures is the one table of what InitModel draws: a new architecture is one entry.
func architectures() map[string]arch {
	bertKey := func(name string) func(InitModelInput, InitModelOptions) (cache.Key, error) {
		return func(in InitModelInput, o InitModelOptions) (cache.Key, error) {
			id, err := tokenizerID(in)
			return cache.Key{Step: "init-" + name, Version: 1, Inputs: []string{id}, Params: o.Bert}, err
		}
	}
	return map[string]arch{
		ArchStatic:       {key: staticKey, draw: drawStatic},
		ArchBert:         {key: bertKey(ArchBert), needsTokenizer: true, draw: drawBert(false)},
		ArchCrossEncoder: {key: bertKey(ArchCrossEncoder), needsTokenizer: true, draw: drawBert(true)},
		// XLM-R and ModernBERT reuse BERT's keys with Bert.Arch set (see Resolve), so their entries are BERT's.
		ArchXLMRoberta: {key: bertKey(ArchBert), needsTokenizer: true, draw: drawBert(false)},
		ArchModernBERT: {key: bertKey(ArchBert), needsTokenizer: true, draw: drawBert(false)},
	}
}

// Architectures are the names InitModel accepts, sorted.
func Architectures() []string {
	var names []string
	for n := range architectures() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Resolve fills what the defaults leave to the input: the feed-forward size 4 × hidden, and a static model's
// init from whether a corpus is given. It is what InitModel keys and draws.
func (o InitModelOptions) Resolve(haveCorpus bool) InitModelOptions {
	switch o.Arch {
	case ArchXLMRoberta, ArchModernBERT:
		o.Bert.Arch = o.Arch
		o.Arch = ArchBert
	}
	if o.CrossEncoder && o.Arch == ArchBert {
		o.Arch = ArchCrossEncoder
	}
	o.CrossEncoder = false
	if o.Bert.Intermediate == 0 {
		o.Bert.Intermediate = 4 * o.Bert.Hidden
	}
	if o.Static.Init == StaticInitAuto || o.Static.Init == "" {
		o.Static.Init = encoder.InitRandom
		if haveCorpus {
			o.Static.Init = encoder.InitIDF
		}
	}
	return o
}

// Check validates the options and the input before anything is read or drawn.
func (o InitModelOptions) Check(in InitModelInput) error {
	a, ok := architectures()[o.Arch]
	if !ok {
		return fmt.Errorf("unknown architecture %q (want %s)", o.Arch, strings.Join(Architectures(), ", "))
	}
	if a.needsTokenizer && in.Tokenizer == "" {
		return fmt.Errorf("%s: a tokenizer is needed", o.Arch)
	}
	if o.Arch == ArchStatic {
		init := o.Resolve(len(in.Corpus) > 0).Static.Init
		if !slices.Contains([]string{encoder.InitIDF, encoder.InitRandom}, init) {
			return fmt.Errorf("static init %q: want %s, %s or %s", init, encoder.InitIDF, encoder.InitRandom, StaticInitAuto)
		}
		if init == encoder.InitIDF && len(in.Corpus) == 0 {
			return fmt.Errorf("static init idf needs a corpus")
		}
		if in.Tokenizer == "" && len(in.VocabTexts) == 0 {
			return fmt.Errorf("static: give a tokenizer or texts to train a vocabulary on")
		}
	}
	return nil
}

// InitModel draws a randomly initialised model in the Hugging Face / sentence-transformers layout: a static
// embedding model (its vocabulary trained on the data when no tokenizer is given), a BERT bi-encoder or a
// BERT cross-encoder. With a cache it is memoised under the keys the prelude has always used ("static-model",
// "init-bert", "init-cross-encoder"); without one it is written to in.Out.
func InitModel(ctx context.Context, env Env, in InitModelInput, o InitModelOptions) (*Initialised, error) {
	if err := o.Check(in); err != nil {
		return nil, err
	}
	o = o.Resolve(len(in.Corpus) > 0)
	a := architectures()[o.Arch]
	key, err := a.key(in, o)
	if err != nil {
		return nil, err
	}
	out := &Initialised{}
	compute := func(ctx context.Context, dir string) error {
		if dir == "" {
			if dir = in.Out; dir == "" {
				return fmt.Errorf("init %s: no output directory", o.Arch)
			}
		}
		tok, files, err := initTokenizer(in, o.Static.VocabSize)
		if err != nil {
			return err
		}
		save, what, err := a.draw(ctx, env, tok, files, in, o)
		if err != nil {
			return err
		}
		out.VocabSize, out.What = tok.VocabSize(), what
		return save(dir)
	}
	if env.Cache == nil {
		if err := compute(ctx, ""); err != nil {
			return nil, err
		}
		out.Dir = in.Out
		if out.ID, err = cache.HashDir(in.Out); err != nil {
			return nil, err
		}
		return out, nil
	}
	if out.ID, err = key.Hash(); err != nil {
		return nil, err
	}
	dir, hit, err := env.Cache.Do(ctx, key, compute)
	if err != nil {
		return nil, err
	}
	out.Dir, out.Cached = dir, hit
	return out, nil
}

func tokenizerID(in InitModelInput) (string, error) {
	if in.TokenizerID != "" || in.Tokenizer == "" {
		return in.TokenizerID, nil
	}
	return cache.HashPath(in.Tokenizer)
}

// initTokenizer loads the input's tokenizer or trains a WordPiece vocabulary of vocabSize on its texts.
func initTokenizer(in InitModelInput, vocabSize int) (encoder.Tokenizer, map[string][]byte, error) {
	if in.Tokenizer != "" {
		return encoder.LoadTokenizer(in.Tokenizer)
	}
	data, err := tokenizer.TrainWordPiece(in.VocabTexts, tokenizer.TrainOptions{VocabSize: vocabSize})
	if err != nil {
		return nil, nil, err
	}
	t, err := tokenizer.Parse(data)
	if err != nil {
		return nil, nil, err
	}
	return encoder.FromTokenizer(t), map[string][]byte{"tokenizer.json": data}, nil
}

// staticKey is the prelude's "static-model" key: the corpus (and tokenizer) identities, the column, the
// options and how the vocabulary was made.
func staticKey(in InitModelInput, o InitModelOptions) (cache.Key, error) {
	inputs := []string{in.CorpusID}
	if in.Tokenizer != "" {
		id, err := tokenizerID(in)
		if err != nil {
			return cache.Key{}, err
		}
		inputs = append(inputs, id)
	}
	params, err := flatParams(o.Static)
	if err != nil {
		return cache.Key{}, err
	}
	params["column"], params["tokenizer"], params["vocab"] = in.CorpusColumn, in.Tokenizer != "", "all text columns"
	return cache.Key{Step: "static-model", Version: 1, Inputs: inputs, Params: params}, nil
}

func drawStatic(ctx context.Context, env Env, tok encoder.Tokenizer, files map[string][]byte, in InitModelInput, o InitModelOptions) (func(string) error, string, error) {
	s := o.Static
	m, err := encoder.NewStatic(ctx, tok, files, encoder.StaticSpec{Dim: s.Dim, Init: s.Init, Corpus: in.Corpus,
		Normalize: s.Normalize, Prompts: prompts(s.QueryPrompt), Seed: s.Seed}, encoder.Options{}, env.Progress)
	if err != nil {
		return nil, "", err
	}
	return m.Save, fmt.Sprintf("static embeddings (dim %d, %s init)", s.Dim, s.Init), nil
}

func prompts(query string) map[string]string {
	if query == "" {
		return nil
	}
	return map[string]string{"query": query, "document": ""}
}

// drawBert draws a BERT bi-encoder, or a cross-encoder (BertForSequenceClassification, one logit).
func drawBert(cross bool) func(context.Context, Env, encoder.Tokenizer, map[string][]byte, InitModelInput, InitModelOptions) (func(string) error, string, error) {
	return func(ctx context.Context, env Env, tok encoder.Tokenizer, files map[string][]byte, in InitModelInput, o InitModelOptions) (func(string) error, string, error) {
		b := o.Bert
		shape := fmt.Sprintf("%d layers, hidden %d, %d heads, FF %d", b.Layers, b.Hidden, b.Heads, b.Intermediate)
		family := map[string]string{"": "BERT", encoder.ArchXLMRoberta: "XLM-RoBERTa", encoder.ArchModernBERT: "ModernBERT"}[b.Arch]
		if cross {
			m, err := encoder.NewBERTCrossEncoder(tok, files, b.spec(), encoder.Options{})
			if err != nil {
				return nil, "", err
			}
			return m.Save, fmt.Sprintf("%s cross-encoder (%s, max length %d)", family, shape, b.MaxLength), nil
		}
		m, err := encoder.NewBERTBiEncoder(tok, files, b.spec(), encoder.Options{})
		if err != nil {
			return nil, "", err
		}
		return m.Save, fmt.Sprintf("%s bi-encoder (%s, %s pooling, max length %d)", family, shape, b.Pooling, b.MaxLength), nil
	}
}

func (o BertOptions) spec() encoder.BERTSpec {
	return encoder.BERTSpec{Layers: o.Layers, Hidden: o.Hidden, Heads: o.Heads, Intermediate: o.Intermediate,
		MaxLength: o.MaxLength, Pooling: o.Pooling, Normalize: o.Normalize, Prompts: prompts(o.QueryPrompt), Seed: o.Seed, Arch: o.Arch}
}

// flatParams is v's JSON object as a map, to key it beside other params at the same level.
func flatParams(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	return m, json.Unmarshal(b, &m)
}
