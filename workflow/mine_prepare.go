package workflow

import (
	"context"
	"fmt"

	"github.com/ragnb/ragnb/retrieval/mining"
)

// PrepareMine is the expensive half of Mine on its own: the embeddings and each anchor's top-k, memoised as
// steps "embed" and "mine-topk" (so after a Mine with the same input and top-k it loads them without
// loading the model). Live controls run mining.Select on it as a window is moved.
func PrepareMine(ctx context.Context, env Env, in MineInput, o MineOptions) (*mining.Prepared, error) {
	if in.Model == nil {
		return nil, fmt.Errorf("mine: no bi-encoder")
	}
	mo, err := o.Check()
	if err != nil {
		return nil, err
	}
	set, err := mining.NewSet(in.Anchors, in.Positives, in.Corpus)
	if err != nil {
		return nil, err
	}
	return mining.Prepare(ctx, set, in.Model.Embedder, mining.PrepareOptions{TopK: mo.TopK, Cache: env.Cache,
		ModelID: in.Model.EmbedID(), DocumentsModelID: in.Model.baseEmbedID()}, env.Progress)
}
