package display

import (
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ragnb/ragnb/progress"
)

// Progress returns a progress.Func that draws one bar per stage with the count, the percentage, the time
// spent, the ETA and the reported values: in a notebook an HTML bar updated in place (at most once per
// ProgressInterval, always on the last report of a stage), in a terminal a bar redrawn with `\r` on stderr,
// and otherwise one final line per stage on stderr. The returned function may be called from several
// goroutines.
func (d *Display) Progress() progress.Func {
	p := &bar{d: d}
	return p.report
}

// Progress returns the progress bar of the process's Display (see Display.Progress).
func Progress() progress.Func { return New().Progress() }

// bar is the state of the bars drawn by one progress.Func: the stage being drawn and when it was last drawn.
type bar struct {
	d        *Display
	mu       sync.Mutex
	stage    string
	id       string // notebook block of the current stage
	started  bool
	last     progress.Report
	finished bool // the current stage's final state was drawn
	lastDraw time.Time
	lastLine time.Time // when the current stage last wrote a headless line (its start at first)
}

func (b *bar) report(r progress.Report) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.d.o.Now()
	force := false
	done := r.Total > 0 && r.Done >= r.Total || r.Stopped // a stopped stage ends where it got to
	if b.started && r.Stage == b.stage && b.finished && done {
		b.last = r // a repeated final report (a loop's last Add and its Finish): drawn once
		return
	}
	// A stage that finished and reports again under the same name is a new run of it (a second Ask).
	if !b.started || r.Stage != b.stage || b.finished {
		if b.started && !b.finished {
			b.finish() // the previous stage ended without reaching its total: show where it stopped
		}
		b.started, b.stage, b.finished = true, r.Stage, false
		b.id = ""
		b.lastLine = now
		if nb := b.d.o.Notebook; nb != nil {
			b.id = nb.UniqueID()
		}
		force = true
	}
	b.last = r
	if done {
		b.finish()
		return
	}
	if force || now.Sub(b.lastDraw) >= b.d.o.ProgressInterval {
		b.draw(false)
		b.lastDraw = now
	}
}

// finish draws the stage's last report as final.
func (b *bar) finish() {
	b.draw(true)
	b.finished = true
}

func (b *bar) draw(final bool) {
	r := b.last
	switch {
	case b.d.o.Notebook != nil:
		b.d.o.Notebook.UpdateHTML(b.id, barHTML(r))
		if final {
			b.d.o.Notebook.Sync()
		}
	case b.d.o.StderrIsTerminal:
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(b.d.o.Stderr, "\r%s\x1b[K%s", barLine(r, 30), end)
	case final && (r.Elapsed >= b.d.o.QuietUnder || r.Total <= 0 || r.Done < r.Total):
		io.WriteString(b.d.o.Stderr, barLine(r, 0)+"\n")
	case !final && b.d.o.LineInterval > 0 && b.d.o.Now().Sub(b.lastLine) >= b.d.o.LineInterval:
		b.lastLine = b.d.o.Now()
		io.WriteString(b.d.o.Stderr, barLine(r, 0)+"\n")
	}
}

// barLine renders r as one line; width is the bar's width in characters (0 leaves the bar out).
func barLine(r progress.Report, width int) string {
	var sb strings.Builder
	if r.Stage != "" {
		sb.WriteString(r.Stage)
		sb.WriteString(" ")
	}
	if width > 0 && r.Total > 0 {
		full := int(r.Fraction() * float64(width))
		sb.WriteString("[")
		sb.WriteString(strings.Repeat("█", full))
		sb.WriteString(strings.Repeat("░", width-full))
		sb.WriteString("] ")
	}
	sb.WriteString(strings.Join(barFacts(r), " · "))
	return sb.String()
}

// barHTML renders r as a notebook block: an HTML progress element and the same facts as barLine.
func barHTML(r progress.Report) string {
	bar := `<progress style="width:40%;vertical-align:middle"></progress>` // indeterminate when the total is unknown
	if r.Total > 0 {
		bar = fmt.Sprintf(`<progress value="%d" max="%d" style="width:40%%;vertical-align:middle"></progress>`, min(r.Done, r.Total), r.Total)
	}
	return fmt.Sprintf(`<div class="ragnb-progress tex2jax_ignore mathjax_ignore" style="font-family:monospace"><b>%s</b> %s %s</div>`,
		html.EscapeString(r.Stage), bar, html.EscapeString(strings.Join(barFacts(r), " · ")))
}

// barFacts are the parts shown beside the bar: percentage, count, elapsed time, ETA, values by name.
func barFacts(r progress.Report) []string {
	var facts []string
	unit := ""
	if r.Unit != "" {
		unit = " " + r.Unit
	}
	if r.Total > 0 {
		facts = append(facts, fmt.Sprintf("%3.0f%%", 100*r.Fraction()), fmt.Sprintf("%d/%d%s", r.Done, r.Total, unit))
	} else {
		facts = append(facts, fmt.Sprintf("%d%s", r.Done, unit))
	}
	facts = append(facts, FormatDuration(r.Elapsed))
	if r.Done > 0 && r.Elapsed > 0 {
		facts = append(facts, fmt.Sprintf("%.3g%s/s", float64(r.Done)/r.Elapsed.Seconds(), unit))
	}
	if eta := r.ETA(); eta > 0 {
		facts = append(facts, "ETA "+FormatDuration(eta))
	}
	names := make([]string, 0, len(r.Values))
	for k := range r.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		facts = append(facts, fmt.Sprintf("%s %.4g", k, r.Values[k]))
	}
	return facts
}

// FormatDuration writes d the way the bars show it: 850ms, 12.3s, 3m05s, 1h02m.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		s := int(d.Round(time.Second).Seconds())
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		m := int(d.Round(time.Minute).Minutes())
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
}
