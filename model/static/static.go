// Package static is sentence-transformers' StaticEmbedding in GoMLX: one vector per token id, and a text's
// embedding is the mean of its tokens' vectors (torch.nn.EmbeddingBag, mode "mean", over ids tokenized
// without special tokens; an empty text gives the zero vector). It owns the weight tensor
// ("embedding.weight" [vocab, dim]), its initialisation (random, or IDF-scaled so that the untrained model
// already ranks like TF-IDF) and the differentiable graph. Tokenizing and directories live elsewhere.
//
// For a trainer: put InitRandom / InitIDF / a checkpoint's tensor into a Store with weights.ToStore(store,
// "/", ts), then build Embed(scope, ids, mask) inside model.NewExec; every vector is a trainable variable.
package static

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/ragnb/ragnb/model/safetensors"
)

// WeightName is the tensor name sentence-transformers saves in 0_StaticEmbedding/model.safetensors.
const WeightName = "embedding.weight"

// LegacyWeightName is the name model2vec checkpoints use; sentence-transformers reads it too.
const LegacyWeightName = "embeddings"

// InitRandom draws every vector from N(0, 1), as torch.nn.EmbeddingBag initialises itself. The draw is a
// deterministic function of seed.
func InitRandom(vocab, dim int, seed uint64) safetensors.Float32Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x737461746963)) // "static"
	data := make([]float32, vocab*dim)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return safetensors.Float32Tensor{Name: WeightName, Shape: []int{vocab, dim}, Data: data}
}

// IDF is scikit-learn's smoothed inverse document frequency over docs (token ids): idf(t) = ln((1+N) /
// (1+df(t))) + 1, where df(t) counts the documents containing t. Tokens never seen get the largest value,
// ln(1+N) + 1. Ids outside [0, vocab) are an error naming the document.
func IDF(vocab int, docs [][]int32) ([]float64, error) {
	df := make([]int, vocab)
	seen := make([]int, vocab) // last document index+1 that counted the token
	for d, doc := range docs {
		for _, id := range doc {
			if id < 0 || int(id) >= vocab {
				return nil, fmt.Errorf("document %d: token id %d outside the vocabulary of %d", d, id, vocab)
			}
			if seen[id] != d+1 {
				seen[id] = d + 1
				df[id]++
			}
		}
	}
	n := float64(len(docs))
	idf := make([]float64, vocab)
	for t := range idf {
		idf[t] = math.Log((1+n)/(1+float64(df[t]))) + 1
	}
	return idf, nil
}

// InitIDF draws InitRandom's Gaussian vectors (same seed, same draw) and scales each token's vector by its
// IDF over docs. Averaging such vectors weights a text's rare tokens up, so cosine similarity between two
// untrained embeddings behaves like TF-IDF overlap: the offline base model for demos and tests.
func InitIDF(vocab, dim int, seed uint64, docs [][]int32) (safetensors.Float32Tensor, error) {
	idf, err := IDF(vocab, docs)
	if err != nil {
		return safetensors.Float32Tensor{}, err
	}
	t := InitRandom(vocab, dim, seed)
	for tok, w := range idf {
		row := t.Data[tok*dim : (tok+1)*dim]
		for i := range row {
			row[i] = float32(float64(row[i]) * w)
		}
	}
	return t, nil
}

// Read takes the embedding matrix from a checkpoint ("embedding.weight", or model2vec's "embeddings"),
// checking that it has vocab rows (vocab <= 0 accepts any). Errors name the file and tensor.
func Read(f *safetensors.File, vocab int) (safetensors.Float32Tensor, error) {
	t, err := f.Lookup(WeightName, LegacyWeightName)
	if err != nil {
		return safetensors.Float32Tensor{}, err
	}
	data, shape, err := f.Float32(t.Name)
	if err != nil {
		return safetensors.Float32Tensor{}, err
	}
	if len(shape) != 2 || (vocab > 0 && shape[0] != vocab) {
		return safetensors.Float32Tensor{}, fmt.Errorf("safetensors %s: tensor %q has shape %v, want [%d, dim]", f.Path, t.Name, shape, vocab)
	}
	return safetensors.Float32Tensor{Name: WeightName, Shape: slices.Clone(shape), Data: data}, nil
}

// Embed builds the embedding-bag mean: ids [batch, seq] (integers), mask [batch, seq] (1 = token, 0 =
// padding) → [batch, dim] = Σ mask·E[ids] / max(Σ mask, 1). scope holds the variable embedding/weight.
func Embed(scope *model.Scope, ids, mask *Node) *Node {
	g := ids.Graph()
	v := scope.At("embedding").GetVariable("weight")
	if v == nil {
		panic(fmt.Errorf("static: variable %s/embedding/weight is not in the store (load weights or InitRandom first)", scope.Scope()))
	}
	table := v.NodeValue(g)
	vectors := Gather(table, ExpandAxes(ConvertDType(ids, dtypes.Int32), -1)) // [batch, seq, dim]
	m := ExpandAxes(ConvertDType(mask, table.DType()), -1)
	sum := ReduceSum(Mul(vectors, m), 1)
	return Div(sum, MaxScalar(ReduceSum(m, 1), 1))
}
