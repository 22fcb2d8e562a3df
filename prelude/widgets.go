package prelude

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"math"
	"os"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/widgets"

	"github.com/ragnb/ragnb/cache"
	"github.com/ragnb/ragnb/retrieval/mining"
	"github.com/ragnb/ragnb/ui/display"
	"github.com/ragnb/ragnb/workflow"
)

// Live controls. A GoNB widget needs a browser: its builder waits for the front end's first message, and a
// headless run (ragnb run --jupyter, nbconvert, an exported program) has none. So a control is drawn only in
// a notebook with a front end (one that answers within widgetWait); otherwise the cell shows what the
// control's default value gives, and the run goes on.

// envHeadless is set by `ragnb run --jupyter` (kernel/notebook.EnvHeadless) for the kernels it starts.
const envHeadless = "RAGNB_HEADLESS"

// widgetWait is how long a control waits for the front end; GoNB itself waits 3s for its websocket.
const widgetWait = 10 * time.Second

// ControlOptions configure the live controls.
type ControlOptions struct {
	// Idle ends the control when nobody moved it for this long (default 10 minutes), so a notebook run to its
	// end in the browser does not wait forever; the Done button ends it at once.
	Idle time.Duration
}

func (o ControlOptions) idle() time.Duration {
	if o.Idle <= 0 {
		return 10 * time.Minute
	}
	return o.Idle
}

// liveFrontEnd reports whether widgets can be drawn: a GoNB cell not started headless.
func liveFrontEnd() bool { return gonbui.IsNotebook && os.Getenv(envHeadless) == "" }

// built runs a widget builder's Done, which blocks until the front end answers; false when it did not in time.
func built(done func()) bool {
	ok := make(chan struct{})
	go func() { done(); close(ok) }()
	select {
	case <-ok:
		return true
	case <-time.After(widgetWait):
		return false
	}
}

// ExploreWindow shows sliders for the mining window's bounds (distance × 100) over the cached top-k, and
// below them the counts and the distance histogram of the selection they give, redrawn as a slider moves
// (mining.Select on the embeddings and hits memoised by MineNegatives: milliseconds, no model). Headless, it
// shows the selection at the window MineNegatives used.
func (m *Mined) ExploreWindow(opts ControlOptions) {
	if m.err != nil {
		showError(m.chain, m.err)
		return
	}
	env, err := stepEnv()
	if err != nil {
		showError(m.chain, err)
		return
	}
	ctx, cancel := cellContext()
	defer cancel()
	env.Progress = nil // loading the cached top-k is quick; a bar per move would bury the chart
	p, err := workflow.PrepareMine(ctx, env, m.in, m.o)
	if err != nil {
		showError(m.chain, err)
		return
	}
	w := m.r.Options.Window
	if !w.Enabled() {
		w = mining.DefaultWindow()
	}
	lo, hi := int(math.Round(w.Min*100)), int(math.Round(w.Max*100))
	if !liveFrontEnd() {
		h, text := m.windowView(ctx, p, w)
		showHTML(h, text)
		return
	}
	minS, maxS := widgets.Slider(0, 200, lo), widgets.Slider(0, 200, hi)
	gonbui.DisplayHTML(display.IgnoreMath(`<div class="ragnb-caption">Mining window (` + html.EscapeString(w.Kind().Label()) + ` × 100): lower, upper bound</div>`))
	if !built(func() { minS.WithHtmlId("ragnb-window-min-" + gonbui.UniqueID()).Done() }) ||
		!built(func() { maxS.WithHtmlId("ragnb-window-max-" + gonbui.UniqueID()).Done() }) {
		h, text := m.windowView(ctx, p, w)
		showHTML(h, text)
		return
	}
	block := gonbui.UniqueID()
	redraw := func(lo, hi int) {
		w.Min, w.Max = float64(lo)/100, float64(hi)/100
		h, _ := m.windowView(ctx, p, w)
		gonbui.UpdateHTML(block, display.IgnoreMath(h))
	}
	redraw(lo, hi)
	listen(ctx, opts, []*comms.AddressChan[int]{minS.Listen().LatestOnly(), maxS.Listen().LatestOnly()},
		[]int{lo, hi}, func(v []int) { redraw(v[0], v[1]) })
}

// windowView renders the selection at window w: its counts and its distance histogram (PNG, inline).
func (m *Mined) windowView(ctx context.Context, p *mining.Prepared, w mining.Window) (htmlView, text string) {
	o := m.r.Options
	o.Window = w
	r, err := mining.Select(ctx, p, o, nil)
	if err != nil {
		return tableError(m.chain, err), textError(m.chain, err)
	}
	counts := fmt.Sprintf("window %s: %d negatives for %d anchors, %d with an empty window", w, r.Stats.Negatives,
		r.Stats.Queries, r.Stats.EmptyWindow)
	h := `<div class="ragnb-window"><div class="ragnb-window-counts">` + html.EscapeString(counts) + `</div>`
	if c, err := workflow.MineHistogram(r, nil, 0); err == nil {
		if png, err := c.PNG(); err == nil {
			h += `<img class="ragnb-window-histogram" alt="distance histogram" src="data:image/png;base64,` +
				base64.StdEncoding.EncodeToString(png) + `">`
		}
	}
	return h + `</div>`, counts + "\n"
}

// listen calls draw with the controls' latest values whenever one changes, until the Done button is pressed,
// the cell is interrupted, or nothing moved for the idle time.
func listen(ctx context.Context, o ControlOptions, chans []*comms.AddressChan[int], values []int, draw func([]int)) {
	done := widgets.Button("Done")
	if !built(func() { done.WithHtmlId("ragnb-control-done-" + gonbui.UniqueID()).Done() }) {
		return
	}
	clicks := done.Listen()
	defer clicks.Close()
	updates := make(chan [2]int, 16)
	for i, c := range chans {
		go func() {
			for v := range c.C {
				updates <- [2]int{i, v}
			}
		}()
		defer c.Close()
	}
	idle := time.NewTimer(o.idle())
	defer idle.Stop()
	for {
		select {
		case u := <-updates:
			if values[u[0]] != u[1] {
				values[u[0]] = u[1]
				draw(values)
			}
			idle.Reset(o.idle())
		case <-clicks.C:
			return
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// ChooseBatchSize shows a selector of batch sizes for TrainMatryoshka(base, data, opts): for a size already
// trained (a step-cache entry with these inputs and options but that batch size) the trained model and its
// training time; for one not trained, what a run would cost (optimizer steps, and the time at the speed of a
// trained size). Nothing is trained from here. Headless, it shows opts.BatchSize (or the first size).
func ChooseBatchSize(base *Model, data *Dataset, opts TrainOptions, sizes []int, copts ControlOptions) {
	if len(sizes) == 0 {
		showError("ChooseBatchSize", fmt.Errorf("no batch sizes to choose from"))
		return
	}
	def := 0
	for i, s := range sizes {
		if s == opts.BatchSize {
			def = i
		}
	}
	view := func(i int) (string, string) { return batchView(base, data, opts, sizes, sizes[i]) }
	if !liveFrontEnd() {
		h, text := view(def)
		showHTML(h, text)
		return
	}
	labels := make([]string, len(sizes))
	for i, s := range sizes {
		labels[i] = fmt.Sprintf("batch %d", s)
	}
	sel := widgets.Select(labels).SetDefault(def)
	if !built(func() { sel.WithHtmlId("ragnb-batch-" + gonbui.UniqueID()).Done() }) {
		h, text := view(def)
		showHTML(h, text)
		return
	}
	block := gonbui.UniqueID()
	redraw := func(v []int) {
		h, _ := view(v[0])
		gonbui.UpdateHTML(block, display.IgnoreMath(h))
	}
	redraw([]int{def})
	ctx, cancel := cellContext()
	defer cancel()
	listen(ctx, copts, []*comms.AddressChan[int]{sel.Listen().LatestOnly()}, []int{def}, redraw)
}

// batchView describes TrainMatryoshka at batch size b: the cached model, or the cost of a run.
func batchView(base *Model, data *Dataset, opts TrainOptions, sizes []int, b int) (string, string) {
	chain := fmt.Sprintf("ChooseBatchSize(%d)", b)
	s, err := store()
	if err != nil {
		return tableError(chain, err), textError(chain, err)
	}
	opts.BatchSize = b
	key, err := matryoshkaKey(base, data, opts)
	if err != nil {
		return tableError(chain, err), textError(chain, err)
	}
	e, hit, err := s.Lookup(key)
	if err != nil {
		return tableError(chain, err), textError(chain, err)
	}
	var text string
	if hit {
		text = fmt.Sprintf("batch %d: trained (from the step cache; the run took %s), model in %s", b,
			display.FormatDuration(time.Duration(e.Seconds*float64(time.Second))), e.Dir)
	} else {
		steps := trainSteps(base, data.Len(), opts)
		text = fmt.Sprintf("batch %d: not trained yet; a run would take %d optimizer steps over %d rows", b, steps, data.Len())
		if per, from := secondsPerStep(s, base, data, opts, sizes); per > 0 {
			text += fmt.Sprintf(", about %s at the speed of the batch-%d run", display.FormatDuration(time.Duration(per*float64(steps)*float64(time.Second))), from)
		}
		text += fmt.Sprintf(" (run TrainMatryoshka with BatchSize: %d to train it)", b)
	}
	return `<div class="ragnb-batch">` + html.EscapeString(text) + `</div>`, text + "\n"
}

// trainSteps is the number of optimizer steps of a run of base: epochs × batches (a last partial batch is
// one), capped by MaxSteps, over gradient accumulation, zero options taking base's recipe.
func trainSteps(base *Model, rows int, o TrainOptions) int {
	c, err := workflow.TrainSettings(base.handle(), o.workflow())
	if err != nil {
		c = o.workflow().WithDefaults()
	}
	epochs, batch, accum := c.Epochs, c.BatchSize, c.GradAccum
	if epochs <= 0 {
		epochs = 1 // package train's defaults (see TrainOptions)
	}
	if batch <= 0 {
		batch = 32
	}
	if accum <= 0 {
		accum = 1
	}
	steps := epochs * ((rows + batch - 1) / batch) / accum
	if c.MaxSteps > 0 && c.MaxSteps < steps {
		steps = c.MaxSteps
	}
	return max(steps, 1)
}

// secondsPerStep is the training time per optimizer step of the first of sizes already trained on the same
// inputs and options (0 when none is): a larger batch's step costs more, so this is a rough guide.
func secondsPerStep(s *cache.Store, base *Model, data *Dataset, opts TrainOptions, sizes []int) (float64, int) {
	for _, b := range sizes {
		o := opts
		o.BatchSize = b
		key, err := matryoshkaKey(base, data, o)
		if err != nil {
			continue
		}
		if e, hit, err := s.Lookup(key); err == nil && hit && e.Seconds > 0 {
			return e.Seconds / float64(trainSteps(base, data.Len(), o)), b
		}
	}
	return 0, 0
}
