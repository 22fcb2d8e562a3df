package encoder

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/ragnb/ragnb/model/bert"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/safetensors"
	"github.com/ragnb/ragnb/model/static"
	"github.com/ragnb/ragnb/model/weights"
	"github.com/ragnb/ragnb/progress"
	"github.com/ragnb/ragnb/vector"
)

// BiEncoder embeds texts one at a time into vectors: a BERT encoder with pooling, or static token
// embeddings. It implements vector.Embedder. Methods may be called from several goroutines; runs are
// serialised.
type BiEncoder struct {
	layout   *modeldir.Layout
	tok      Tokenizer
	tokFiles map[string][]byte
	store    *model.Store
	opts     Options
	backend  compute.Backend
	dim      int
	padID    int32

	saved

	mu   sync.Mutex
	exec *model.Exec
}

var _ vector.Embedder = (*BiEncoder)(nil)

// LoadBiEncoder loads a bi-encoder (BERT, XLM-RoBERTa / RoBERTa, ModernBERT, or static) from a model
// directory.
func LoadBiEncoder(dir string, opts Options) (*BiEncoder, error) {
	l, tokFiles, f, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	if l.Kind != modeldir.BiEncoder && l.Kind != modeldir.Static {
		return nil, fmt.Errorf("model %s is a %s, not a bi-encoder", dir, l.Kind)
	}
	tok, err := loadTokenizer(l.TokenizerDir(dir))
	if err != nil {
		return nil, err
	}
	ts, err := biEncoderWeights(l, f, tok.VocabSize(), opts.Seed)
	if err != nil {
		return nil, err
	}
	m, err := newBiEncoder(l, tok, tokFiles, ts, opts)
	if err != nil {
		return nil, err
	}
	m.dir = dir
	return m, nil
}

// readDir reads a model directory's layout, tokenizer files and weights file.
func readDir(dir string) (*modeldir.Layout, map[string][]byte, *safetensors.File, error) {
	l, err := modeldir.Read(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	tokFiles, err := modeldir.ReadTokenizerFiles(l.TokenizerDir(dir))
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := l.ReadWeights(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	return l, tokFiles, f, nil
}

// biEncoderWeights takes a bi-encoder's tensors from its checkpoint; vocab is the tokenizer's size.
func biEncoderWeights(l *modeldir.Layout, f *safetensors.File, vocab int, seed uint64) ([]safetensors.Float32Tensor, error) {
	if l.Kind == modeldir.Static {
		t, err := static.Read(f, vocab)
		if err != nil {
			return nil, err
		}
		return []safetensors.Float32Tensor{t}, nil
	}
	if l.VocabSize() < vocab {
		return nil, fmt.Errorf("%s: tokenizer has %d ids, config.json vocab_size is %d", f.Path, vocab, l.VocabSize())
	}
	return readWeights(l, f, false, seed)
}

func newBiEncoder(l *modeldir.Layout, tok Tokenizer, tokFiles map[string][]byte, ts []safetensors.Float32Tensor, opts Options) (*BiEncoder, error) {
	backend, err := opts.backend()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := weights.ToStore(store, "/", ts); err != nil {
		return nil, err
	}
	if len(opts.Prompts) > 0 {
		merged := maps.Clone(l.Prompts)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, opts.Prompts)
		copied := *l
		copied.Prompts = merged
		l = &copied
	}
	m := &BiEncoder{layout: l, tok: tok, tokFiles: tokFiles, store: store, opts: opts, backend: backend, padID: 0}
	if tok != nil {
		m.padID = tok.PadID()
	} else if l.Kind != modeldir.Static {
		m.padID = int32(l.PadTokenID())
	}
	if l.Kind == modeldir.Static {
		m.dim = ts[0].Shape[1]
	} else {
		m.dim = l.HiddenSize()
	}
	if opts.Dim < 0 || opts.Dim > m.dim {
		return nil, fmt.Errorf("dimension %d: the model's embeddings have %d", opts.Dim, m.dim)
	}
	return m, nil
}

// Layout is what the model directory says about the model (kind, pooling, prompts, max length, config).
func (m *BiEncoder) Layout() *modeldir.Layout { return m.layout }

// Store holds the weights as variables named after their HF tensors ("/embeddings/word_embeddings/weight",
// ..., or "/embedding/weight" for static models).
func (m *BiEncoder) Store() *model.Store { return m.store }

// Tokenizer is the model's tokenizer.
func (m *BiEncoder) Tokenizer() Tokenizer { return m.tok }

// Dim is the full embedding dimension (before any Matryoshka truncation).
func (m *BiEncoder) Dim() int { return m.dim }

// PadID is the token id batches are padded with.
func (m *BiEncoder) PadID() int32 { return m.padID }

// IsStatic reports whether this is a static embedding model.
func (m *BiEncoder) IsStatic() bool { return m.layout.Kind == modeldir.Static }

// MaxLength is the number of tokens a text is truncated to (0: none).
func (m *BiEncoder) MaxLength() int {
	if m.opts.MaxLength > 0 {
		return m.opts.MaxLength
	}
	return m.layout.MaxSeqLength
}

// QueryPrompt is the prompt EmbedQueries puts before each query (config_sentence_transformers.json).
func (m *BiEncoder) QueryPrompt() string { return m.layout.QueryPrompt() }

// DocumentPrompt is the prompt EmbedDocuments puts before each document.
func (m *BiEncoder) DocumentPrompt() string { return m.layout.DocumentPrompt() }

// EmbedGraph builds the model's sentence embedding [batch, dim] from ids, typeIDs and mask [batch, seq]
// inside scope (the Store's root scope, or model.Exec's): the differentiable forward a trainer puts its
// loss on. It includes the Normalize module when the model has one; it does not truncate (Matryoshka losses
// slice the result themselves).
func (m *BiEncoder) EmbedGraph(scope *model.Scope, ids, typeIDs, mask *graph.Node) *graph.Node {
	return m.EmbedGraphPoolMask(scope, ids, typeIDs, mask, mask)
}

// EmbedGraphPoolMask is EmbedGraph with a separate pooling mask (1 = token pooled), for prompts left out of
// pooling (Sequence.SkipPool).
func (m *BiEncoder) EmbedGraphPoolMask(scope *model.Scope, ids, typeIDs, mask, poolMask *graph.Node) *graph.Node {
	var out *graph.Node
	if m.IsStatic() {
		out = static.Embed(scope, ids, poolMask)
	} else {
		out = byRowChunks(scope, func(in ...*graph.Node) *graph.Node {
			return bert.Pool(encodeGraph(m.layout, scope, in[0], in[1], in[2]), in[3], m.layout.Pooling)
		}, ids, typeIDs, mask, poolMask)
	}
	if m.layout.Normalize {
		out = L2Normalize(out)
	}
	return out
}

// L2Normalize is torch.nn.functional.normalize(x, dim=-1): x / max(‖x‖, 1e-12), computed as
// x / √max(‖x‖², 1e-24) — the same values — so that the gradient of a zero vector (an empty text in a static
// model) is 0 as in torch, not the NaN of √'s derivative at 0.
func L2Normalize(x *graph.Node) *graph.Node {
	sq := graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, -1)
	return graph.Div(x, graph.Sqrt(graph.MaxScalar(sq, 1e-24)))
}

// Tokenize turns texts into sequences the way sentence-transformers does for this model: prompt + text,
// [CLS] … [SEP] truncated to MaxLength for BERT models, no special tokens for static ones. When the pooling
// leaves the prompt out (include_prompt false), SkipPool is set to the prompt's length.
func (m *BiEncoder) Tokenize(texts []string, prompt string) []Sequence {
	maxLen := m.MaxLength()
	out := make([]Sequence, len(texts))
	skip := 0
	if prompt != "" && !m.layout.IncludePrompt && !m.IsStatic() {
		// sentence-transformers: the prompt's token count without its final [SEP].
		skip = len(m.tok.Encode(prompt, maxLen).IDs) - 1
	}
	parallel(len(texts), func(i int) {
		if m.IsStatic() {
			out[i] = m.tok.EncodeNoSpecial(prompt+texts[i], maxLen)
		} else {
			out[i] = m.tok.Encode(prompt+texts[i], maxLen)
		}
		out[i].SkipPool = skip
	})
	return out
}

// Embed embeds texts with the given prompt put before each ("" for none), in input order, as float32
// [len(texts), Dim] (or Options.Dim, truncated and renormalised).
func (m *BiEncoder) Embed(ctx context.Context, texts []string, prompt string, report progress.Func) (*vector.Matrix, error) {
	return m.EmbedSequences(ctx, m.Tokenize(texts, prompt), report)
}

// EmbedQueries embeds queries with the model's query prompt.
func (m *BiEncoder) EmbedQueries(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	return m.Embed(ctx, texts, m.QueryPrompt(), report)
}

// EmbedDocuments embeds documents with the model's document prompt.
func (m *BiEncoder) EmbedDocuments(ctx context.Context, texts []string, report progress.Func) (*vector.Matrix, error) {
	return m.Embed(ctx, texts, m.DocumentPrompt(), report)
}

// EmbedSequences embeds already tokenized sequences (in input order).
func (m *BiEncoder) EmbedSequences(ctx context.Context, seqs []Sequence, report progress.Func) (*vector.Matrix, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exec == nil {
		exec, err := model.NewExec(m.backend, m.store, func(scope *model.Scope, ids, types, mask, poolMask *graph.Node) *graph.Node {
			return m.EmbedGraphPoolMask(scope, ids, types, mask, poolMask)
		})
		if err != nil {
			return nil, err
		}
		m.exec = exec.SetMaxCache(-1)
	}
	maxLen := m.MaxLength()
	if m.IsStatic() {
		maxLen = 0 // no position limit; the tokenizer truncated if the model says so
	}
	flat, err := runBatches(ctx, seqs, m.opts.batch(maxLen, m.padID), m.dim, report, "embed",
		func(ids, types, mask, poolMask *tensors.Tensor) (*tensors.Tensor, error) {
			outs, err := m.exec.Exec(ids, types, mask, poolMask)
			if err != nil {
				return nil, err
			}
			return outs[0], nil
		})
	if err != nil {
		return nil, err
	}
	out := &vector.Matrix{Rows: len(seqs), Dim: m.dim, Data: flat}
	if m.opts.Dim > 0 && m.opts.Dim < m.dim {
		return out.Truncate(m.opts.Dim)
	}
	return out, nil
}

// Weights reads the current weights back from the Store, named as the model file stores them.
func (m *BiEncoder) Weights() ([]safetensors.Float32Tensor, error) {
	var names []string
	if m.IsStatic() {
		names = []string{static.WeightName}
	} else {
		names = weightNames(m.layout, false)
	}
	return weights.FromStore(m.store, "/", names)
}

// Save writes the model (current Store weights, layout, tokenizer) to dir atomically, in the layout it was
// loaded from: loadable by sentence-transformers and by LoadBiEncoder.
func (m *BiEncoder) Save(dir string) error {
	ts, err := m.Weights()
	if err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return modeldir.Write(dir, modeldir.Contents{Layout: m.layout, Weights: ts, Tokenizer: m.tokFiles, Files: m.files()})
}
