package prelude

import (
	"fmt"
	"html"

	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/workflow"
)

// PushOptions configure Model.Push and Dataset.Push; zero values take workflow.DefaultPushOptions, the
// defaults `ragnb push` has too (a public repository, the main branch, the card's fields as training wrote
// them). The token and endpoint come from HF_TOKEN (or the token file `hf auth login` writes) and HF_ENDPOINT.
type PushOptions struct {
	// Private creates the repository private; an existing repository keeps its visibility.
	Private bool
	// Revision is the branch committed to (default main); CommitMessage the commit's summary.
	Revision, CommitMessage string
	// License, Language, Datasets (Hub dataset ids) and BaseModel (a Hub id) go into the card's front matter.
	License   string
	Language  []string
	Datasets  []string
	BaseModel string
}

// workflow turns the options into the workflow's for repo: every zero field takes workflow.DefaultPushOptions.
func (o PushOptions) workflow(repo string) workflow.PushOptions {
	w := workflow.DefaultPushOptions()
	w.Repo, w.Private = repo, o.Private
	for _, f := range []struct {
		dst *string
		v   string
	}{{&w.Revision, o.Revision}, {&w.CommitMessage, o.CommitMessage},
		{&w.License, o.License}, {&w.BaseModel, o.BaseModel}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	w.Language, w.Datasets = o.Language, o.Datasets
	return w
}

// Pushed is the outcome of a push: where it went and what was sent.
type Pushed struct {
	chain string
	r     *workflow.Pushed
	err   error
}

// Push publishes the model directory, with its model card (README.md, written by the training with its
// metrics), to the Hugging Face Hub repository repo ("org/name"), creating it when needed: the weights go
// through LFS, and files the Hub already has are not sent again (a push interrupted and run again resumes).
//
//	model.Push("acme/bge-fin-matryoshka", prelude.PushOptions{License: "apache-2.0", Language: []string{"en"}}).Display()
func (m *Model) Push(repo string, opts ...PushOptions) *Pushed {
	p := &Pushed{chain: fmt.Sprintf("%s.Push(%q)", m.Chain(), repo)}
	if m.Err() != nil {
		p.err = m.Err()
		return p
	}
	return p.run(workflow.PushInput{Dir: m.Dir()}, repo, opts)
}

// Push publishes the table as a Hub dataset repository: data/train-00000-of-00001.parquet and a dataset card
// that datasets.load_dataset and the dataset viewer read.
func (d *Dataset) Push(repo string, opts ...PushOptions) *Pushed {
	p := &Pushed{chain: fmt.Sprintf("%s.Push(%q)", d.Chain(), repo)}
	if d.Err() != nil {
		p.err = d.Err()
		return p
	}
	df := d.Frame()
	return p.run(workflow.PushInput{Table: &df, Source: d.Chain()}, repo, opts)
}

func (p *Pushed) run(in workflow.PushInput, repo string, opts []PushOptions) *Pushed {
	var o PushOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx, cancel := cellContext()
	defer cancel()
	p.r, p.err = workflow.Push(ctx, workflow.Env{Progress: display.Progress()}, in, o.workflow(repo))
	return p
}

// Err is the error met pushing, or nil.
func (p *Pushed) Err() error { return p.err }

// URL is the repository's page ("" after an error).
func (p *Pushed) URL() string {
	if p.r == nil {
		return ""
	}
	return p.r.URL
}

// Commit is the commit made ("" after an error, or when the Hub had every file already).
func (p *Pushed) Commit() string {
	if p.r == nil {
		return ""
	}
	return p.r.Commit
}

func (p *Pushed) summary() string {
	r := p.r
	if r.Commit == "" {
		return fmt.Sprintf("%s: nothing to commit, the Hub has all %d files", r.URL, len(r.Unchanged))
	}
	return fmt.Sprintf("%s: commit %s, %d files changed (%d unchanged); LFS: %d sent (%d bytes), %d already stored",
		r.URL, r.Commit, len(r.Committed), len(r.Unchanged), len(r.Uploaded), r.Bytes, len(r.Present))
}

// String is the outcome as text, or the error.
func (p *Pushed) String() string {
	if p.err != nil {
		return textError(p.chain, p.err)
	}
	return p.chain + "\n" + p.summary() + "\n"
}

// HTML is the outcome as HTML, with a link to the repository, or the error.
func (p *Pushed) HTML() string {
	if p.err != nil {
		return tableError(p.chain, p.err)
	}
	return fmt.Sprintf(`<div><b>%s</b><br><a href="%s">%s</a><pre>%s</pre></div>`, html.EscapeString(p.chain),
		html.EscapeString(p.r.URL), html.EscapeString(p.r.URL), html.EscapeString(p.summary()))
}

// Display shows the outcome.
func (p *Pushed) Display() { showHTML(p.HTML(), p.String()) }
