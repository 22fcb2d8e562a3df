// Package display puts rich output where the user sees it: in a GoNB notebook cell through gonbui (HTML,
// SVG, PNG, progress bars updated in place), elsewhere as text on stdout, a terminal progress bar on stderr
// and — when RAGNB_OUTPUT_DIR is set, as `ragnb run` does — the HTML/SVG/PNG written there as numbered files.
// It does not build tables or charts (the prelude and the plotting code do) and it keeps no package state:
// a Display is a value made from options or from the environment.
package display

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"golang.org/x/term"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// EnvOutputDir names the directory where displays are saved as files outside a notebook.
const EnvOutputDir = "RAGNB_OUTPUT_DIR"

// Notebook is the front-end of a running notebook cell. GoNB implements it (GoNB returns the gonbui one);
// tests record calls.
type Notebook interface {
	DisplayHTML(html string)
	// UpdateHTML shows html in the block named id, creating the block on first use.
	UpdateHTML(id, html string)
	DisplaySVG(svg string)
	DisplayPNG(png []byte)
	// DisplayImage shows one figure given in both forms as a single output holding both MIME types: the front
	// end picks SVG where it may and the PNG where it may not (an untrusted notebook, GitHub's renderer).
	DisplayImage(svg string, png []byte)
	// Sync waits until everything sent so far reached the front-end.
	Sync()
	// UniqueID returns a new id for UpdateHTML.
	UniqueID() string
}

// GoNB returns the gonbui front-end when this process was started by a GoNB kernel, else nil.
func GoNB() Notebook {
	if !gonbui.IsNotebook {
		return nil
	}
	return gonbuiNotebook{}
}

type gonbuiNotebook struct{}

func (gonbuiNotebook) DisplayHTML(html string)    { gonbui.DisplayHTML(html) }
func (gonbuiNotebook) UpdateHTML(id, html string) { gonbui.UpdateHTML(id, html) }
func (gonbuiNotebook) DisplayPNG(png []byte)      { gonbui.DisplayPNG(png) }
func (gonbuiNotebook) Sync()                      { gonbui.Sync() }
func (gonbuiNotebook) UniqueID() string           { return gonbui.UniqueID() }

// DisplaySVG sends the image as image/svg+xml (gonbui.DisplaySVG wraps it in HTML instead, which saved
// notebooks then do not hold as an image) with a text/plain alternative.
func (gonbuiNotebook) DisplaySVG(svg string) {
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		protocol.MIMEImageSVG:  svg,
		protocol.MIMETextPlain: fmt.Sprintf("[SVG image, %s]", sizeString(len(svg))),
	}})
}

// DisplayImage sends image/svg+xml and image/png (GoNB base64-encodes the bytes) in one display_data.
func (gonbuiNotebook) DisplayImage(svg string, png []byte) {
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{
		protocol.MIMEImageSVG:  svg,
		protocol.MIMEImagePNG:  png,
		protocol.MIMETextPlain: fmt.Sprintf("[chart: SVG %s, PNG %s]", sizeString(len(svg)), sizeString(len(png))),
	}})
}

// IgnoreMath wraps html in an element that MathJax skips (classic Notebook's tex2jax_ignore, JupyterLab's
// mathjax_ignore): filings quote dollar amounts, and "$2.7 billion of $5.5 billion" is otherwise typeset as
// inline TeX. Class attributes survive the sanitiser of untrusted notebooks, so this holds there too.
func IgnoreMath(html string) string {
	return `<div class="tex2jax_ignore mathjax_ignore">` + html + `</div>`
}

// Options configure a Display. The zero value writes text to os.Stdout and saves nothing.
type Options struct {
	// Notebook receives rich output when set; otherwise output is text (and files in OutputDir).
	Notebook Notebook
	// OutputDir, when set and not in a notebook, receives HTML/SVG/PNG displays as files 0001.html, 0002.svg, …
	OutputDir string
	// Stdout receives text (default os.Stdout); Stderr receives terminal progress bars (default os.Stderr).
	Stdout, Stderr io.Writer
	// StderrIsTerminal selects the redrawn `\r` progress bar; otherwise only a final line per stage is written.
	StderrIsTerminal bool
	// ProgressInterval is the least time between two redraws of a progress bar (default 250ms).
	ProgressInterval time.Duration
	// LineInterval, outside a notebook and a terminal (a headless run, a log), writes a progress line with the
	// count and the ETA at most this often while a stage runs, besides its final line; 0 writes final lines
	// only. New uses 10s, the command line 2s.
	LineInterval time.Duration
	// QuietUnder, outside a notebook and a terminal, leaves out the final line of a stage that completed in
	// less than this (0: every stage gets its line). A headless run of the financial notebook otherwise
	// printed 108 progress lines, 67 of them for searches of a few milliseconds.
	QuietUnder time.Duration
	// Now is the clock used for throttling (default time.Now).
	Now func() time.Time
}

// Display is where rich output goes. Its methods are safe to call from one goroutine at a time, except the
// progress functions, which may be called concurrently.
type Display struct {
	o Options
}

// New returns the Display for this process: GoNB's front-end when run by the kernel, else text on stdout, a
// terminal bar when stderr is a terminal, and files in $RAGNB_OUTPUT_DIR when it is set.
func New() *Display {
	return NewWith(Options{
		Notebook:         GoNB(),
		OutputDir:        os.Getenv(EnvOutputDir),
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		QuietUnder:       300 * time.Millisecond,
		LineInterval:     10 * time.Second,
	})
}

// NewWith returns a Display with the given options; unset writers and durations take their defaults.
func NewWith(o Options) *Display {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 250 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Display{o: o}
}

// InNotebook reports whether output goes to a notebook front-end.
func (d *Display) InNotebook() bool { return d.o.Notebook != nil }

// HTML shows html in a notebook; elsewhere it prints text (the plain rendering of the same content) and saves
// the HTML file when an output directory is set.
func (d *Display) HTML(html, text string) error {
	if nb := d.o.Notebook; nb != nil {
		nb.DisplayHTML(IgnoreMath(html))
		nb.Sync()
		return nil
	}
	if text != "" {
		if _, err := io.WriteString(d.o.Stdout, ensureNewline(text)); err != nil {
			return fmt.Errorf("display html: %w", err)
		}
	}
	if d.o.OutputDir == "" {
		return nil // the text says it all
	}
	return d.save("html", "html", []byte(html))
}

// Image shows a figure given as SVG and/or PNG: in a notebook one output holding both forms (the front end
// shows the SVG where it may, the PNG elsewhere); elsewhere text (its description) and, with an output
// directory, the SVG (or PNG) file.
func (d *Display) Image(svg, png []byte, text string) error {
	if nb := d.o.Notebook; nb != nil && len(svg) > 0 && len(png) > 0 {
		nb.DisplayImage(string(svg), png)
		nb.Sync()
		return nil
	}
	if d.o.Notebook == nil && text != "" {
		if _, err := io.WriteString(d.o.Stdout, ensureNewline(text)); err != nil {
			return fmt.Errorf("display image: %w", err)
		}
		if d.o.OutputDir == "" {
			return nil
		}
	}
	if len(svg) > 0 {
		return d.SVG(svg)
	}
	return d.PNG(png)
}

// SVG shows an SVG image; outside a notebook it is saved (with an output directory) and a line says where.
func (d *Display) SVG(svg []byte) error {
	if nb := d.o.Notebook; nb != nil {
		nb.DisplaySVG(string(svg))
		nb.Sync()
		return nil
	}
	return d.save("svg image", "svg", svg)
}

// PNG shows a PNG image; outside a notebook it is saved (with an output directory) and a line says where.
func (d *Display) PNG(png []byte) error {
	if nb := d.o.Notebook; nb != nil {
		nb.DisplayPNG(png)
		nb.Sync()
		return nil
	}
	return d.save("png image", "png", png)
}

// Text prints s (with a final newline) to stdout, which is the cell output in a notebook.
func (d *Display) Text(s string) error {
	if _, err := io.WriteString(d.o.Stdout, ensureNewline(s)); err != nil {
		return fmt.Errorf("display text: %w", err)
	}
	return nil
}

// Plot renders a gonum plot of the given size as SVG and PNG and shows it (see Image).
func (d *Display) Plot(p *plot.Plot, width, height vg.Length) error {
	var forms [2][]byte
	for i, format := range []string{"svg", "png"} {
		wt, err := p.WriterTo(width, height, format)
		if err != nil {
			return fmt.Errorf("display plot: %w", err)
		}
		var buf bytes.Buffer
		if _, err := wt.WriteTo(&buf); err != nil {
			return fmt.Errorf("display plot: render %s: %w", format, err)
		}
		forms[i] = buf.Bytes()
	}
	if d.o.Notebook != nil {
		return d.Image(forms[0], forms[1], "")
	}
	return d.SVG(forms[0])
}

// save writes data as the next numbered file in the output directory and prints a line naming it; without an
// output directory it prints a line saying the content was not saved.
func (d *Display) save(kind, ext string, data []byte) error {
	if d.o.OutputDir == "" {
		_, err := fmt.Fprintf(d.o.Stdout, "[%s, %s, not saved: set %s to keep it]\n", kind, sizeString(len(data)), EnvOutputDir)
		return err
	}
	path, err := writeNext(d.o.OutputDir, ext, data)
	if err != nil {
		return fmt.Errorf("display %s: %w", kind, err)
	}
	_, err = fmt.Fprintf(d.o.Stdout, "[%s: %s]\n", kind, path)
	return err
}

// writeNext creates dir/NNNN.ext with the next number after the largest one present, so files keep the order
// of the displays across processes (every notebook cell is one) without any counter held in memory.
func writeNext(dir, ext string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for attempt := 0; attempt < 100; attempt++ {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		next := 1
		for _, e := range entries {
			stem, _, _ := strings.Cut(e.Name(), ".")
			if n, err := strconv.Atoi(stem); err == nil && n >= next {
				next = n + 1
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("%04d.%s", next, ext))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue // another process took this number: look again
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("no free file number in %s after 100 attempts", dir)
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func sizeString(n int) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1000)
}

// Package-level shortcuts: each builds the process's Display with New and calls the method of the same name.

// HTML shows html (see Display.HTML).
func HTML(html, text string) error { return New().HTML(html, text) }

// SVG shows an SVG image (see Display.SVG).
func SVG(svg []byte) error { return New().SVG(svg) }

// PNG shows a PNG image (see Display.PNG).
func PNG(png []byte) error { return New().PNG(png) }

// Text prints s (see Display.Text).
func Text(s string) error { return New().Text(s) }

// Image shows a figure as SVG or PNG with a text description (see Display.Image).
func Image(svg, png []byte, text string) error { return New().Image(svg, png, text) }

// Plot shows a gonum plot as SVG and PNG (see Display.Plot).
func Plot(p *plot.Plot, width, height vg.Length) error { return New().Plot(p, width, height) }
