package display

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ragnb/ragnb/progress"
)

// recorder is a fake notebook front-end that records calls in order.
type recorder struct {
	mu    sync.Mutex
	calls []string
	ids   int
}

func (r *recorder) add(s string)               { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }
func (r *recorder) DisplayHTML(html string)    { r.add("html:" + html) }
func (r *recorder) UpdateHTML(id, html string) { r.add("update:" + id + ":" + html) }
func (r *recorder) DisplaySVG(svg string)      { r.add("svg:" + svg) }
func (r *recorder) DisplayPNG(png []byte)      { r.add(fmt.Sprintf("png:%d", len(png))) }
func (r *recorder) DisplayImage(svg string, png []byte) {
	r.add(fmt.Sprintf("image:%s|png:%d", svg, len(png)))
}
func (r *recorder) Sync()            { r.add("sync") }
func (r *recorder) UniqueID() string { r.ids++; return fmt.Sprintf("id%d", r.ids) }

func TestNotebookDisplaysThenSyncs(t *testing.T) {
	nb := &recorder{}
	var out bytes.Buffer
	d := NewWith(Options{Notebook: nb, Stdout: &out, OutputDir: t.TempDir()})
	if err := d.HTML("<b>x</b>", "x"); err != nil {
		t.Fatal(err)
	}
	d.SVG([]byte("<svg/>"))
	d.PNG([]byte{1, 2, 3})
	want := []string{`html:<div class="tex2jax_ignore mathjax_ignore"><b>x</b></div>`, "sync", "svg:<svg/>", "sync", "png:3", "sync"}
	if strings.Join(nb.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls %q, want %q", nb.calls, want)
	}
	if out.Len() != 0 {
		t.Errorf("a notebook display must not also print its text fallback: %q", out.String())
	}
	if entries, _ := os.ReadDir(d.o.OutputDir); len(entries) != 0 {
		t.Errorf("a notebook display must not write files: %d written", len(entries))
	}
}

func TestOutsideNotebookPrintsTextAndSavesNumberedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	var out bytes.Buffer
	d := NewWith(Options{Stdout: &out, OutputDir: dir})
	if err := d.HTML("<table></table>", "a table"); err != nil {
		t.Fatal(err)
	}
	if err := d.SVG([]byte("<svg></svg>")); err != nil {
		t.Fatal(err)
	}
	// A second Display (another cell, another process) continues the numbering from the files on disk.
	d2 := NewWith(Options{Stdout: &out, OutputDir: dir})
	if err := d2.PNG([]byte("png-bytes")); err != nil {
		t.Fatal(err)
	}
	d2.Text("done")
	for name, want := range map[string]string{"0001.html": "<table></table>", "0002.svg": "<svg></svg>", "0003.png": "png-bytes"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	wantOut := "a table\n[html: " + filepath.Join(dir, "0001.html") + "]\n[svg image: " + filepath.Join(dir, "0002.svg") +
		"]\n[png image: " + filepath.Join(dir, "0003.png") + "]\ndone\n"
	if out.String() != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), wantOut)
	}
}

func TestWithoutOutputDir(t *testing.T) {
	var out bytes.Buffer
	d := NewWith(Options{Stdout: &out})
	d.HTML("<b>x</b>", "x") // the text is the whole display
	d.SVG(make([]byte, 2500))
	d.Image([]byte("<svg/>"), nil, "a chart")
	if want := "x\n[svg image, 2.5 kB, not saved: set RAGNB_OUTPUT_DIR to keep it]\na chart\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestImagePrefersSVGAndSavesIt(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := NewWith(Options{Stdout: &out, OutputDir: dir}).Image([]byte("<svg/>"), []byte("png"), "a chart"); err != nil {
		t.Fatal(err)
	}
	if want := "a chart\n[svg image: " + filepath.Join(dir, "0001.svg") + "]\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
	nb := &recorder{}
	NewWith(Options{Notebook: nb}).Image(nil, []byte("png"), "a chart")
	if strings.Join(nb.calls, "|") != "png:3|sync" {
		t.Errorf("notebook calls %q", nb.calls)
	}
}

func TestImageWithBothFormsIsOneNotebookOutput(t *testing.T) {
	nb := &recorder{}
	if err := NewWith(Options{Notebook: nb}).Image([]byte("<svg/>"), []byte("png"), "a chart"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(nb.calls, " "); got != "image:<svg/>|png:3 sync" {
		t.Errorf("notebook calls %q, want one image output holding the SVG and the PNG, then sync", got)
	}
}

func TestHTMLOptsOutOfMathJax(t *testing.T) {
	nb := &recorder{}
	const passage = "revenue of $2.7 billion of $5.5 billion"
	if err := NewWith(Options{Notebook: nb}).HTML("<td>"+passage+"</td>", passage); err != nil {
		t.Fatal(err)
	}
	got := nb.calls[0]
	if !strings.HasPrefix(got, `html:<div class="tex2jax_ignore mathjax_ignore">`) || !strings.Contains(got, passage) {
		t.Errorf("HTML not wrapped in a MathJax opt-out with its text intact: %q", got)
	}
	f := NewWith(Options{Notebook: nb}).Progress()
	f(progress.Report{Stage: "embed $1 of $2", Done: 1, Total: 2})
	if last := nb.calls[len(nb.calls)-1]; !strings.Contains(last, "tex2jax_ignore mathjax_ignore") {
		t.Errorf("progress block without a MathJax opt-out: %q", last)
	}
}

func TestWriteNextConcurrentNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := writeNext(dir, "txt", []byte(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		seen[string(b)] = true
	}
	if len(entries) != 20 || len(seen) != 20 || entries[19].Name() != "0020.txt" {
		t.Errorf("%d files, %d distinct contents, last %s", len(entries), len(seen), entries[len(entries)-1].Name())
	}
}

func TestPlotRendersSVGAndPNG(t *testing.T) {
	p := plot.New()
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(line)
	nb := &recorder{}
	if err := NewWith(Options{Notebook: nb}).Plot(p, 4*vg.Inch, 3*vg.Inch); err != nil {
		t.Fatal(err)
	}
	if len(nb.calls) != 2 || !strings.HasPrefix(nb.calls[0], "image:<?xml") || !strings.Contains(nb.calls[0], "<svg") {
		t.Fatalf("want one image display then sync, got %.80q", nb.calls)
	}
	var n int
	if _, err := fmt.Sscanf(nb.calls[0][strings.LastIndex(nb.calls[0], "|png:"):], "|png:%d", &n); err != nil || n < 1000 {
		t.Errorf("the image carries no real PNG beside the SVG (%d bytes, %v)", n, err)
	}
}

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestNotebookProgressUpdatesInPlaceThrottled(t *testing.T) {
	nb := &recorder{}
	clock := &fakeClock{t: time.Unix(0, 0)}
	f := NewWith(Options{Notebook: nb, ProgressInterval: time.Second, Now: clock.now}).Progress()
	f(progress.Report{Stage: "embed", Done: 0, Total: 4, Unit: "texts"})
	clock.t = clock.t.Add(100 * time.Millisecond)
	f(progress.Report{Stage: "embed", Done: 1, Total: 4, Unit: "texts", Elapsed: time.Second}) // throttled
	clock.t = clock.t.Add(time.Second)
	f(progress.Report{Stage: "embed", Done: 2, Total: 4, Unit: "texts", Elapsed: 2 * time.Second})
	f(progress.Report{Stage: "embed", Done: 4, Total: 4, Unit: "texts", Elapsed: 4 * time.Second}) // final: always drawn
	f(progress.Report{Stage: "train", Done: 0, Total: 10, Unit: "steps"})
	if len(nb.calls) != 5 {
		t.Fatalf("want 3 updates of embed, a sync, 1 of train; got %d:\n%s", len(nb.calls), strings.Join(nb.calls, "\n"))
	}
	for i, want := range []string{"update:id1:", "update:id1:", "update:id1:", "sync", "update:id2:"} {
		if !strings.HasPrefix(nb.calls[i], want) {
			t.Errorf("call %d = %.40q, want prefix %q", i, nb.calls[i], want)
		}
	}
	// 2 of 4 done in 2s: 50%, 1 text/s, 2 s left.
	for _, want := range []string{`<progress value="2" max="4"`, " 50%", "2/4 texts", "2.0s", "1 texts/s", "ETA 2.0s"} {
		if !strings.Contains(nb.calls[1], want) {
			t.Errorf("bar %q lacks %q", nb.calls[1], want)
		}
	}
	if !strings.Contains(nb.calls[2], "100%") || strings.Contains(nb.calls[2], "ETA") {
		t.Errorf("final bar: %q", nb.calls[2])
	}
}

func TestTerminalProgressRedrawsInPlace(t *testing.T) {
	var errb bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0)}
	f := NewWith(Options{Stderr: &errb, StderrIsTerminal: true, ProgressInterval: time.Nanosecond, Now: clock.now}).Progress()
	for i := 0; i <= 2; i++ {
		clock.t = clock.t.Add(time.Second)
		f(progress.Report{Stage: "train", Done: i, Total: 2, Unit: "steps", Elapsed: time.Duration(i) * time.Second,
			Values: map[string]float64{"loss": 1 / float64(i+1)}})
	}
	got := errb.String()
	if n := strings.Count(got, "\r"); n != 3 {
		t.Errorf("want 3 redraws, got %d: %q", n, got)
	}
	if !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
		t.Errorf("want exactly one newline, at the end: %q", got)
	}
	last := got[strings.LastIndex(got, "\r")+1:]
	for _, want := range []string{"train [", "100%", "2/2 steps", "loss 0.3333"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame %q lacks %q", last, want)
		}
	}
}

func TestNonTerminalProgressPrintsOnlyFinalLines(t *testing.T) {
	var errb bytes.Buffer
	f := NewWith(Options{Stderr: &errb, ProgressInterval: time.Nanosecond}).Progress()
	tr := progress.Start(f, "mine", 3, "queries")
	tr.Add(1)
	tr.Add(1)
	tr.Add(1)
	tr.Finish() // the last Add already reached the total: one final line, not two
	// A stage with an unknown total ends when the next stage starts.
	tr = progress.Start(f, "generate", 0, "chunks")
	tr.Add(5)
	progress.Start(f, "score", 1, "pairs").Finish()
	// The same stage run again (a second Ask) is a new bar with its own final line.
	progress.Start(f, "score", 2, "pairs").Finish()
	lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[3], "score 100% · 2/2 pairs") || !strings.HasPrefix(lines[0], "mine 100% · 3/3 queries") ||
		!strings.HasPrefix(lines[1], "generate 5 chunks") || !strings.HasPrefix(lines[2], "score 100% · 1/1 pairs") {
		t.Errorf("got:\n%s", errb.String())
	}
}

// TestNonTerminalProgressQuietUnder: headless, a stage that completes quickly gets no line; a slow one, or
// one that stopped short of its total, does.
func TestNonTerminalProgressQuietUnder(t *testing.T) {
	var errb bytes.Buffer
	now := time.Unix(0, 0)
	f := NewWith(Options{Stderr: &errb, QuietUnder: time.Second, Now: func() time.Time { return now }}).Progress()
	f(progress.Report{Stage: "search", Done: 1, Total: 1, Unit: "blocks", Elapsed: 5 * time.Millisecond})
	f(progress.Report{Stage: "train", Done: 10, Total: 10, Unit: "steps", Elapsed: 3 * time.Second})
	f(progress.Report{Stage: "embed", Done: 2, Total: 5, Unit: "texts", Elapsed: time.Millisecond})
	f(progress.Report{Stage: "next", Done: 0, Total: 1})
	got := errb.String()
	if strings.Contains(got, "search") || !strings.Contains(got, "train 100% · 10/10 steps") || !strings.Contains(got, "embed  40% · 2/5 texts") {
		t.Errorf("got:\n%s", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{850 * time.Millisecond: "850ms", 12300 * time.Millisecond: "12.3s",
		185 * time.Second: "3m05s", 62 * time.Minute: "1h02m"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestHeadlessProgressLinesCarryTheETA: outside a notebook and a terminal, a long stage writes a line with its
// count and ETA every LineInterval (not on every report), then its final line.
func TestHeadlessProgressLinesCarryTheETA(t *testing.T) {
	var errb bytes.Buffer
	now := time.Unix(0, 0)
	f := NewWith(Options{Stderr: &errb, LineInterval: 10 * time.Second, Now: func() time.Time { return now }}).Progress()
	for i := 0; i <= 100; i++ {
		f(progress.Report{Stage: "rerank", Done: i, Total: 100, Unit: "pairs", Elapsed: time.Duration(i) * time.Second})
		now = now.Add(time.Second)
	}
	lines := strings.Split(strings.TrimSuffix(errb.String(), "\n"), "\n")
	// Lines at 10, 20, …, 90 s and the final one at 100.
	if len(lines) != 10 || !strings.Contains(lines[0], "10/100 pairs") || !strings.Contains(lines[0], "ETA 1m30s") ||
		!strings.Contains(lines[9], "100/100 pairs") || strings.Contains(lines[9], "ETA") {
		t.Errorf("got %d lines:\n%s", len(lines), errb.String())
	}
}

// TestStoppedStageEndsWhereItGot: an interrupted stage draws its final line at the count done, at once,
// not at its total and not only when the next stage starts.
func TestStoppedStageEndsWhereItGot(t *testing.T) {
	var errb bytes.Buffer
	f := NewWith(Options{Stderr: &errb, ProgressInterval: time.Hour}).Progress()
	tr := progress.Start(f, "generate", 142, "chunks")
	tr.Add(32)
	tr.End(context.Canceled)
	if got := errb.String(); !strings.Contains(got, "32/142 chunks") || strings.Contains(got, "142/142") {
		t.Errorf("got:\n%s", got)
	}
}
