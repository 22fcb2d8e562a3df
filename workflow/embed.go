package workflow

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/vector"
)

// EmbedOptions configure Embed.
type EmbedOptions struct {
	// Queries embeds with the model's query prompt (config_sentence_transformers.json), else its document
	// prompt (usually none).
	Queries bool `json:"queries"`
	// Prompt, when set, is put before every text instead of the model's prompt.
	Prompt *string `json:"prompt,omitempty"`
}

// DefaultEmbedOptions are the embedding defaults of `ragnb embed` and the prelude's Model.Embed: texts embedded
// as documents, with the model's own document prompt.
func DefaultEmbedOptions() EmbedOptions { return EmbedOptions{} }

// EmbedInput is what Embed embeds, with which model.
type EmbedInput struct {
	Texts []string
	// TextsID is the texts' content identity ("": cache.HashStrings of the texts, what mining uses).
	TextsID string
	Model   *Model
}

// Embedded is Embed's outcome.
type Embedded struct {
	// Vectors holds one row per text, in input order.
	Vectors *vector.Matrix
	// Cached says the vectors came from the step cache.
	Cached bool
}

// Embed embeds the texts with the model, memoised under step "embed" with mining.EmbedKey — the key mining and
// evaluation use — so the same model and texts are embedded once, whichever step or face asks first. A
// literal Prompt has its own key (the same step, the prompt among the parameters). A model with an adapter
// embeds as its base model (the same entries) and applies the adapter to queries after the cache.
func Embed(ctx context.Context, env Env, in EmbedInput, o EmbedOptions) (*Embedded, error) {
	if in.Model == nil {
		return nil, fmt.Errorf("embed: no model")
	}
	textsID := in.TextsID
	if textsID == "" {
		textsID = cache.HashStrings(in.Texts...)
	}
	key := mining.EmbedKey(in.Model.baseEmbedID(), textsID, o.Queries)
	if o.Prompt != nil {
		key.Params = map[string]any{"queries": o.Queries, "prompt": *o.Prompt}
	}
	out := &Embedded{}
	compute := func(ctx context.Context, dir string) error {
		bi, err := in.Model.BiEncoder()
		if err != nil {
			return err
		}
		prompt := bi.DocumentPrompt()
		switch {
		case o.Prompt != nil:
			prompt = *o.Prompt
		case o.Queries:
			prompt = bi.QueryPrompt()
		}
		if out.Vectors, err = bi.Embed(ctx, in.Texts, prompt, env.Progress); err != nil {
			return err
		}
		if dir == "" {
			return nil
		}
		return vector.SaveNPY(filepath.Join(dir, "embeddings.npy"), out.Vectors)
	}
	var err error
	out.Cached, err = env.memo(ctx, key, compute, func(dir string) (err error) {
		out.Vectors, err = vector.LoadNPY(filepath.Join(dir, "embeddings.npy"))
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.Vectors.Rows != len(in.Texts) {
		return nil, fmt.Errorf("embed: %d embeddings for %d texts", out.Vectors.Rows, len(in.Texts))
	}
	if o.Queries && in.Model.Adapter != nil {
		if out.Vectors, err = in.Model.Adapter.Apply(out.Vectors); err != nil {
			return nil, fmt.Errorf("embed: adapter: %w", err)
		}
	}
	return out, nil
}
