package modelcard

import (
	"path/filepath"
	"strings"

	"github.com/ragnb/ragnb/model/modeldir"
)

// ModelOf describes a model directory's architecture for the card from its layout (dim: the embedding size,
// vocab: the tokenizer's size, 0 when unknown), and returns the Hub id of the directory when it is a snapshot
// in the Hugging Face cache ("" otherwise, and the path is kept in Model.BaseModelPath).
func ModelOf(l *modeldir.Layout, dir string, dim int, vocab int) (Model, string) {
	m := Model{Similarity: l.SimilarityFn, Pooling: l.Pooling, Normalize: l.Normalize,
		MaxSeqLength: l.MaxSeqLength, Prompts: l.Prompts, OutputDim: dim, VocabSize: vocab}
	if m.Similarity == "" {
		m.Similarity = "cosine"
	}
	switch {
	case l.Kind == modeldir.Static:
		m.Architecture, m.Pooling = "StaticEmbedding", "mean"
	case l.Config != nil:
		m.Architecture = "BertModel"
		if l.Kind == modeldir.CrossEncoder {
			m.Architecture, m.Pooling, m.Similarity = "BertForSequenceClassification", "", ""
		}
		m.Layers, m.Hidden, m.Heads, m.VocabSize = l.Config.NumHiddenLayers, l.Config.HiddenSize, l.Config.NumAttentionHeads, l.Config.VocabSize
	}
	base := HubIDOfSnapshot(dir)
	if base == "" {
		m.BaseModelPath = dir
	}
	return m, base
}

// HubIDOfSnapshot reads the Hub id back from a directory in the Hugging Face cache
// (…/models--org--name/snapshots/<commit>); "" for any other directory.
func HubIDOfSnapshot(dir string) string {
	if dir == "" {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	parent := filepath.Dir(abs)
	if filepath.Base(parent) != "snapshots" {
		return ""
	}
	repo := filepath.Base(filepath.Dir(parent))
	name, ok := strings.CutPrefix(repo, "models--")
	if !ok {
		return ""
	}
	id := strings.Replace(name, "--", "/", 1)
	if !IsHubID(id) {
		return ""
	}
	return id
}
