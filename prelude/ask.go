package prelude

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ragnb/ragnb/pipeline"
	"github.com/ragnb/ragnb/ui/display"
)

// Ask answers a question with an answer pipeline (package pipeline) and shows it: in a notebook the answer
// grows in place as the model streams it, then becomes the answer with its sources table (cited passages
// highlighted) and per-stage timings; elsewhere the answer streams to standard output, followed by the
// sources and timings. A failed stage shows its error with the passages found before it. The Answer is
// returned either way (Answer.Error holds the failure).
//
//	var p, _ = pipeline.Build(pipeline.Config{Retriever: pipeline.Dense(ix), Reranker: ce, LLM: client})
//
//	%%
//	prelude.Ask(p, "What drove revenue growth in 2023?")
func Ask(p *pipeline.Pipeline, question string) pipeline.Answer {
	return askTo(context.Background(), p, question, display.GoNB(), os.Stdout)
}

// askTo is Ask with the front-end and the text writer given (tests record them).
func askTo(ctx context.Context, p *pipeline.Pipeline, question string, nb display.Notebook, w io.Writer) pipeline.Answer {
	if nb == nil {
		fmt.Fprintf(w, "Q: %s\n", question)
		a, _ := p.AskStream(ctx, question, func(d string) { io.WriteString(w, d) })
		if a.Text != "" {
			fmt.Fprintln(w)
		}
		if a.Error != "" {
			fmt.Fprintf(w, "error: %s\n", a.Error)
		}
		fmt.Fprint(w, pipeline.SourcesText(a))
		fmt.Fprintf(w, "timings: %s\n", pipeline.TimingsText(a.Timings))
		return a
	}
	id := nb.UniqueID()
	var mu sync.Mutex
	var text strings.Builder
	var last time.Time
	nb.UpdateHTML(id, display.IgnoreMath(fmt.Sprintf(`<div style="color:#666">retrieving passages for %q…</div>`, question)))
	a, _ := p.AskStream(ctx, question, func(d string) {
		mu.Lock()
		defer mu.Unlock()
		text.WriteString(d)
		if time.Since(last) >= 100*time.Millisecond { // at most 10 redraws a second
			last = time.Now()
			nb.UpdateHTML(id, display.IgnoreMath(`<div style="white-space:pre-wrap">`+pipeline.AnswerHTML(text.String(), 1<<30)+`▌</div>`))
		}
	})
	nb.UpdateHTML(id, display.IgnoreMath(a.HTML())) // answers quote filings' dollar amounts
	nb.Sync()
	return a
}

// ShowAnswer shows an answer (from pipeline.Pipeline.Ask or AskMany) with its sources and timings.
func ShowAnswer(a pipeline.Answer) { showHTML(a.HTML(), a.String()) }

// ShowComparison shows the same questions through a base and a fine-tuned pipeline side by side
// (pipeline.Compare): sources of each, the gold passage's rank when known, answers.
func ShowComparison(c *pipeline.Comparison) { showHTML(c.HTML(), c.Text()) }
