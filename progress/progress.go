// Package progress carries progress reports from long-running library work (embedding, training, generation,
// mining) to whoever shows them: a notebook bar updated in place, a terminal bar, a log line. Library code
// only sends reports; it never prints.
package progress

import "time"

// Report is one progress update.
type Report struct {
	// Stage names the work ("embed corpus", "train", "generate").
	Stage string
	// Done and Total count units of work; Total is 0 when unknown.
	Done, Total int
	// Unit names what is counted ("texts", "steps", "chunks").
	Unit string
	// Elapsed is the time since the stage started.
	Elapsed time.Duration
	// Values are figures worth showing beside the bar (loss, learning rate, requests failed), by name.
	Values map[string]float64
	// Stopped marks the last report of a stage that ended before its total (an interrupt, an error): Done
	// is how far it got, so a bar can end there instead of claiming the work was done.
	Stopped bool
}

// Fraction is Done/Total in [0, 1], or 0 when Total is unknown.
func (r Report) Fraction() float64 {
	if r.Total <= 0 {
		return 0
	}
	f := float64(r.Done) / float64(r.Total)
	if f > 1 {
		return 1
	}
	return f
}

// ETA estimates the time left assuming the rate so far holds; 0 when unknown or finished.
func (r Report) ETA() time.Duration {
	if r.Total <= 0 || r.Done <= 0 || r.Done >= r.Total {
		return 0
	}
	perUnit := float64(r.Elapsed) / float64(r.Done)
	return time.Duration(perUnit * float64(r.Total-r.Done))
}

// Func receives reports. A nil Func ignores them, so callers can pass nil.
type Func func(Report)

// Send delivers r to f when f is not nil.
func (f Func) Send(r Report) {
	if f != nil {
		f(r)
	}
}

// Tracker is the producer's side: it stamps Elapsed and the stage name on each report.
type Tracker struct {
	f     Func
	start time.Time
	r     Report
}

// Start begins a stage of total units (0 if unknown) and sends a first report at 0.
func Start(f Func, stage string, total int, unit string) *Tracker {
	t := &Tracker{f: f, start: time.Now(), r: Report{Stage: stage, Total: total, Unit: unit}}
	t.send()
	return t
}

// Add records n more units done and reports.
func (t *Tracker) Add(n int) {
	t.r.Done += n
	t.send()
}

// Set records the absolute count done and the current values (nil keeps the previous ones), and reports.
func (t *Tracker) Set(done int, values map[string]float64) {
	t.r.Done = done
	if values != nil {
		t.r.Values = values
	}
	t.send()
}

// Finish reports the stage as complete. A stage that was cancelled or failed ends with Stop instead, or
// with End, which picks between the two.
func (t *Tracker) Finish() {
	if t.r.Total > 0 {
		t.r.Done = t.r.Total
	}
	t.send()
}

// Stop ends the stage where it got to: the last report keeps the count done and carries Stopped, so an
// interrupted run never shows 142/142 when 32 were done.
func (t *Tracker) Stop() {
	t.r.Stopped = true
	t.send()
}

// End ends the stage: Finish when err is nil, Stop otherwise. Callers pass ctx.Err() after a loop that an
// interrupt may have cut short.
func (t *Tracker) End(err error) {
	if err != nil {
		t.Stop()
		return
	}
	t.Finish()
}

func (t *Tracker) send() {
	if t.f == nil {
		return
	}
	r := t.r
	r.Elapsed = time.Since(t.start)
	t.f(r)
}
