package prelude

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/data/llm"
	"github.com/ragnb/ragnb/internal/testkit/llmtest"
	"github.com/ragnb/ragnb/ir"
	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/retrieval/bm25"
)

type recordingNotebook struct {
	updates []string
	synced  int
}

func (r *recordingNotebook) DisplayHTML(h string)        { r.updates = append(r.updates, h) }
func (r *recordingNotebook) UpdateHTML(id, h string)     { r.updates = append(r.updates, id+"|"+h) }
func (r *recordingNotebook) DisplaySVG(string)           {}
func (r *recordingNotebook) DisplayPNG([]byte)           {}
func (r *recordingNotebook) DisplayImage(string, []byte) {}
func (r *recordingNotebook) Sync()                       { r.synced++ }
func (r *recordingNotebook) UniqueID() string            { return "blk" }

func askPipeline(t *testing.T) *pipeline.Pipeline {
	srv := llmtest.New(func(llmtest.Request, int) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Dividends ", "rose [1]."}}
	})
	t.Cleanup(srv.Close)
	c, err := llm.New(llm.Config{BaseURL: srv.BaseURL(), Model: "fake", NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pipeline.Lexical([]ir.Document{{ID: "div", Text: "The quarterly dividend rose."}, {ID: "tax", Text: "Tax rate fell."}}, bm25.DefaultParams())
	p, err := pipeline.Build(pipeline.Config{Retriever: r, TopK: 2, TopN: 2, LLM: c})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAskStreamsToTerminalAndNotebook(t *testing.T) {
	p := askPipeline(t)
	var out bytes.Buffer
	a := askTo(context.Background(), p, "dividend", nil, &out)
	if a.Text != "Dividends rose [1]." || !strings.HasPrefix(out.String(), "Q: dividend\nDividends rose [1].\nsources (1 of 1 retrieved):\n *[1] div") {
		t.Errorf("terminal output:\n%s", out.String())
	}
	nb := &recordingNotebook{}
	a = askTo(context.Background(), p, "dividend", nb, &out)
	last := nb.updates[len(nb.updates)-1]
	if !strings.HasPrefix(nb.updates[0], "blk|") || !strings.HasPrefix(last, "blk|") || !strings.Contains(last, "<b>[1]</b>") ||
		!strings.Contains(last, "src-1") || nb.synced != 1 {
		t.Errorf("notebook updates %q", nb.updates)
	}
}
