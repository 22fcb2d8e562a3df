package workflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"

	"github.com/ragnb/ragnb/data/datasets"
	"github.com/ragnb/ragnb/internal/retry"
	"github.com/ragnb/ragnb/model/hub"
	"github.com/ragnb/ragnb/model/modelcard"
	"github.com/ragnb/ragnb/model/modeldir"
	"github.com/ragnb/ragnb/model/static"
)

// PushOptions configure Push.
type PushOptions struct {
	// Repo is the Hub repository, org/name (required).
	Repo string `json:"repo"`
	// Private creates the repository private; an existing repository keeps its visibility.
	Private bool `json:"private"`
	// Revision is the branch committed to.
	Revision string `json:"revision"`
	// CommitMessage is the commit's summary ("": "Upload model with ragnb" or "Upload dataset with ragnb").
	CommitMessage string `json:"commit_message"`
	// License, Language, Datasets and BaseModel go into the card's front matter, replacing what it says.
	License   string   `json:"license"`
	Language  []string `json:"language"`
	Datasets  []string `json:"datasets"`
	BaseModel string   `json:"base_model"`
	// Hub is the endpoint and token (nil: hub.FromEnv — HF_ENDPOINT, HF_TOKEN, the token file). Never part
	// of a key, never printed.
	Hub *hub.Client `json:"-"`
	// Retry is the policy for 429, 5xx and dropped connections (zero: 5 retries, Retry-After honoured).
	Retry retry.Policy `json:"-"`
}

// DefaultPushOptions are the defaults of `ragnb push` and Model.Push: the main branch, a public repository, the
// card's fields as training wrote them.
func DefaultPushOptions() PushOptions { return PushOptions{Revision: "main"} }

// PushInput is what Push publishes: a model directory, or a table.
type PushInput struct {
	// Dir is a model directory in the Hugging Face / sentence-transformers layout.
	Dir string
	// Table is a dataset table (generated, scored or mined pairs), written as parquet; Source names where it
	// came from, for the card.
	Table  *dataframe.DataFrame
	Source string
}

// Pushed is Push's outcome.
type Pushed struct {
	*hub.UploadResult
	// Repo and Type ("model" or "dataset") say where it went.
	Repo, Type string
}

// DatasetPath is where a pushed table lives in its dataset repository (Hugging Face datasets' layout).
const DatasetPath = "data/train-00000-of-00001.parquet"

// Push publishes a model directory (with its model card: the one training wrote, its front matter updated with
// the options' fields and its usage snippets with the repository id; or one written from the layout when the
// directory has none) or a table (as parquet with a dataset card) to the Hugging Face Hub, through the Hub's
// upload API (package hub): the weights through LFS, files the Hub already has not sent again. The directory
// itself is left as it is. Not memoised: it is an effect.
func Push(ctx context.Context, env Env, in PushInput, o PushOptions) (*Pushed, error) {
	if o.Repo == "" {
		return nil, errors.New("push: no repository (org/name)")
	}
	if (in.Dir == "") == (in.Table == nil) {
		return nil, errors.New("push: give a model directory or a table")
	}
	if o.Revision == "" {
		o.Revision = DefaultPushOptions().Revision
	}
	meta := modelcard.Meta{License: o.License, Language: o.Language, Datasets: o.Datasets, BaseModel: o.BaseModel}
	if meta.BaseModel != "" && !modelcard.IsHubID(meta.BaseModel) {
		return nil, fmt.Errorf("push: base model %q is not a Hub id (org/name)", meta.BaseModel)
	}
	c := hub.FromEnv()
	if o.Hub != nil {
		c = *o.Hub
	}
	uo := hub.UploadOptions{Private: o.Private, Revision: o.Revision, CommitMessage: o.CommitMessage, Retry: o.Retry, Progress: env.Progress}
	out := &Pushed{Repo: o.Repo, Type: hub.ModelRepo}
	var err error
	if in.Table != nil {
		out.Type, uo.Type = hub.DatasetRepo, hub.DatasetRepo
		if uo.CommitMessage == "" {
			uo.CommitMessage = "Upload dataset with ragnb"
		}
		if uo.Files, err = tableFiles(*in.Table, in.Source, o.Repo, meta); err != nil {
			return nil, err
		}
	} else {
		if uo.CommitMessage == "" {
			uo.CommitMessage = "Upload model with ragnb"
		}
		readme, err := modelReadme(in.Dir, o.Repo, meta)
		if err != nil {
			return nil, err
		}
		uo.Files = map[string][]byte{"README.md": readme}
	}
	if out.UploadResult, err = c.UploadFolder(ctx, o.Repo, in.Dir, uo); err != nil {
		return nil, err
	}
	return out, nil
}

// modelReadme is the card to publish with the model in dir.
func modelReadme(dir, repo string, meta modelcard.Meta) ([]byte, error) {
	l, err := modeldir.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if errors.Is(err, os.ErrNotExist) {
		readme, err = layoutCard(l, dir, meta), nil
	}
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	if readme, err = modelcard.SetMeta(readme, meta); err != nil {
		return nil, fmt.Errorf("push %s: %w", filepath.Join(dir, "README.md"), err)
	}
	return modelcard.ForRepo(readme, repo), nil
}

// layoutCard is the card of a model directory that has none (an untrained or imported model): what its layout
// says.
func layoutCard(l *modeldir.Layout, dir string, meta modelcard.Meta) []byte {
	dim := 0
	if l.Config != nil {
		dim = l.Config.HiddenSize
	} else if f, err := l.ReadWeights(dir); err == nil {
		if t := f.Tensor(static.WeightName); t != nil && len(t.Shape) == 2 {
			dim = t.Shape[1]
		}
	}
	m, base := modelcard.ModelOf(l, dir, dim, 0)
	c := modelcard.Card{Kind: modelcard.BiEncoder, Model: m, Meta: meta}
	if l.Kind == modeldir.CrossEncoder {
		c.Kind = modelcard.CrossEncoder
	}
	if c.Meta.BaseModel == "" {
		c.Meta.BaseModel = base
	}
	return c.Markdown()
}

// tableFiles are the files of a pushed table: the parquet file and the dataset card.
func tableFiles(df dataframe.DataFrame, source, repo string, meta modelcard.Meta) (map[string][]byte, error) {
	var pq bytes.Buffer
	if err := datasets.Write(&pq, df, datasets.Parquet); err != nil {
		return nil, fmt.Errorf("push %s: %w", source, err)
	}
	card := modelcard.DatasetCard{Meta: meta, Path: DatasetPath, Source: source, Rows: df.Nrow()}
	for _, n := range df.Names() {
		typ := "string"
		if df.Col(n).Type() == series.Float {
			typ = "float64"
		}
		card.Columns = append(card.Columns, [2]string{n, typ})
	}
	for r := 0; r < min(3, df.Nrow()); r++ {
		var row []string
		for _, n := range df.Names() {
			row = append(row, df.Col(n).Elem(r).String())
		}
		card.Samples = append(card.Samples, row)
	}
	return map[string][]byte{DatasetPath: pq.Bytes(), "README.md": modelcard.ForRepo(card.Markdown(), repo)}, nil
}
