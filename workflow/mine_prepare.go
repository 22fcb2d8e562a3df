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
	p, _, err := prepareMine(ctx, env, in, o)
	return p, err
}

// prepareMine is PrepareMine, with how the Weaviate search went when in.Weaviate is set.
func prepareMine(ctx context.Context, env Env, in MineInput, o MineOptions) (*mining.Prepared, *WeaviateMined, error) {
	if in.Model == nil {
		return nil, nil, fmt.Errorf("mine: no bi-encoder")
	}
	mo, err := o.Check()
	if err != nil {
		return nil, nil, err
	}
	if in.Weaviate != nil {
		return prepareWeaviate(ctx, env, in, mo.TopK)
	}
	set, err := mining.NewSet(in.Anchors, in.Positives, in.Corpus)
	if err != nil {
		return nil, nil, err
	}
	p, err := mining.Prepare(ctx, set, in.Model.Embedder, mining.PrepareOptions{TopK: mo.TopK, Cache: env.Cache,
		ModelID: in.Model.EmbedID(), DocumentsModelID: in.Model.baseEmbedID()}, env.Progress)
	return p, nil, err
}
