package notebook_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragnb/ragnb/internal/testkit/browser"
	"github.com/ragnb/ragnb/internal/testkit/nbtest"
)

// loaded is true once the classic notebook has opened the notebook and rendered its outputs.
const loaded = `return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded)`

// chartsJS counts the rendered charts of the page: SVG elements with a size, PNG images that decoded to a
// non-zero natural size, and charts shown as the bare "[SVG image …]" label of an untrusted notebook.
const chartsJS = `
const svg = [...document.querySelectorAll('.output_svg svg')].filter(e => e.getBoundingClientRect().width > 0).length;
const png = [...document.querySelectorAll('.output_png img')].filter(e => e.complete && e.naturalWidth > 0 && e.naturalHeight > 0).length;
const label = [...document.querySelectorAll('.output_text')].filter(e => e.innerText.includes('[SVG image')).length;
return {svg, png, label};`

// pageJS reads what the display checks need: whether MathJax ran on the page and typeset anything inside an
// output, a literal dollar amount in the outputs, and the alignment of text and number cells in tables.
const pageJS = `
const outputs = [...document.querySelectorAll('.output_area')];
const typeset = document.querySelectorAll('.output_area .MathJax, .output_area .MathJax_Display, .output_area .MathJax_Preview, .output_area mjx-container').length;
const dollar = outputs.map(e => e.innerText).join('\n').match(/\$\d[\d.,]*( [mb]illion)?/);
const text = document.querySelector('.ragnb-table td:not(.num):not(.idx):not(.na)');
const num = document.querySelector('.ragnb-table td.num');
return {mathjax: typeof MathJax !== 'undefined', typeset, dollar: dollar ? dollar[0] : '',
  textAlign: text ? getComputedStyle(text).textAlign : '', numAlign: num ? getComputedStyle(num).textAlign : '',
  trusted: Jupyter.notebook.trusted};`

// windowJS is the window explorer's state: its counts line and its histogram's data URL.
const windowJS = `
const c = document.querySelector('.ragnb-window-counts'), img = document.querySelector('.ragnb-window-histogram');
return {counts: c ? c.innerText : '', src: img ? img.src : '', ok: !!(img && img.complete && img.naturalWidth > 0)};`

type charts struct{ SVG, PNG, Label int }

type page struct {
	MathJax   bool
	Typeset   int
	Dollar    string
	TextAlign string
	NumAlign  string
	Trusted   bool
}

type windowState struct {
	Counts, Src string
	OK          bool
}

// TestFinancialNotebookInBrowser opens the executed financial notebook in headless Chromium on a live Jupyter
// server: it is trusted, its charts render (SVG; PNG in an untrusted copy), MathJax leaves the dollar amounts
// alone, text columns are left-aligned; then it runs the notebook's cells in the browser, moves the mining
// window slider and sees the counts and the histogram redrawn.
func TestFinancialNotebookInBrowser(t *testing.T) {
	browser.Require(t)
	nbtest.RequireTools(t)
	offlineDefault(t)
	start := time.Now()
	res := nbtest.RunJupyter(t, financial)
	dir := filepath.Dir(res.Path)
	// A copy with other metadata is no longer the signed notebook: it opens untrusted, as a colleague's would.
	raw, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["metadata"].(map[string]any)["copied"] = true
	untrusted, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy.ipynb"), untrusted, 0o644); err != nil {
		t.Fatal(err)
	}
	j := browser.StartJupyter(t, dir, res.DataDir, "TMPDIR="+t.TempDir())
	b := browser.Start(t, 1400, 1000)
	t.Logf("executed and served in %.1fs", time.Since(start).Seconds())

	browsed := time.Now()
	b.Open(j.NotebookURL("copy.ipynb"))
	if _, err := b.Wait("the untrusted copy to load", loaded, time.Minute); err != nil {
		b.Screenshot("untrusted")
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // images decode and MathJax runs after the load
	var c charts
	if err := b.JS(&c, chartsJS); err != nil {
		t.Fatal(err)
	}
	b.Screenshot("untrusted")
	if c.PNG < 3 || c.Label > 0 {
		t.Errorf("untrusted copy: %d PNG charts rendered, %d shown as a bare label; want the PNGs of all 3+ charts", c.PNG, c.Label)
	}

	b.Open(j.NotebookURL(filepath.Base(res.Path)))
	if _, err := b.Wait("the executed notebook to load", loaded, time.Minute); err != nil {
		b.Screenshot("executed")
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	var p page
	if err := b.JS(&c, chartsJS); err != nil {
		t.Fatal(err)
	}
	if err := b.JS(&p, pageJS); err != nil {
		t.Fatal(err)
	}
	b.Screenshot("executed")
	t.Logf("executed notebook: %+v, charts %+v", p, c)
	if !p.Trusted {
		t.Error("the executed notebook opened untrusted")
	}
	if c.SVG < 3 || c.Label > 0 {
		t.Errorf("executed notebook: %d SVG charts rendered, %d bare labels", c.SVG, c.Label)
	}
	if !p.MathJax {
		t.Error("MathJax is not loaded on the page, so the typesetting check proves nothing")
	}
	if p.Typeset > 0 || p.Dollar == "" {
		t.Errorf("MathJax typeset %d passages inside outputs; literal dollar amount found: %q", p.Typeset, p.Dollar)
	}
	if p.TextAlign != "left" || p.NumAlign != "right" {
		t.Errorf("table cells: text %q, numbers %q; want left and right", p.TextAlign, p.NumAlign)
	}
	t.Logf("browser checks of the saved outputs: %.1fs", time.Since(browsed).Seconds())

	live := time.Now()
	if err := b.JS(nil, `Jupyter.notebook.execute_all_cells(); return true`); err != nil {
		t.Fatal(err)
	}
	took, err := b.Wait("the window sliders", `const w = document.querySelector('.ragnb-window-counts');
		return !!(document.querySelector('input[id^="ragnb-window-max"]') && w && w.innerText.length > 0)`, 20*time.Minute)
	if err != nil {
		b.Screenshot("run-all")
		t.Fatal(err)
	}
	t.Logf("all cells ran in the browser up to the window explorer in %.1fs", took.Seconds())
	var before, after windowState
	if err := b.JS(&before, `document.querySelector('input[id^="ragnb-window-max"]').scrollIntoView({block: 'start'});`+windowJS); err != nil {
		t.Fatal(err)
	}
	b.Screenshot("window-before")
	slider, err := b.Find(`input[id^="ragnb-window-max"]`)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Type(slider, strings.Repeat(browser.KeyLeft, 25)); err != nil { // upper bound 1.20 → about 0.95
		t.Fatal(err)
	}
	// The counts follow the slider down from 1.2 (the first press may only focus it). They are checked against
	// a moved upper bound rather than the slider's last value: when 25 key presses arrive faster than the
	// kernel redraws, the last event can be the one still in flight (seen: slider at 0.95, counts at 0.96).
	if _, err := b.Wait("the counts to follow the slider", `const c = document.querySelector('.ragnb-window-counts');
		const v = Number(document.querySelector('input[id^="ragnb-window-max"]').value);
		const m = c && c.innerText.match(/≤ ([0-9.]+):/);
		return !!m && v < 110 && Number(m[1]) < 1.1`, time.Minute); err != nil {
		b.Screenshot("window-after")
		t.Fatal(err)
	}
	if err := b.JS(&after, windowJS); err != nil {
		t.Fatal(err)
	}
	b.Screenshot("window-after")
	t.Logf("window explorer: %q → %q", before.Counts, after.Counts)
	if !before.OK || !after.OK || before.Src == after.Src || before.Counts == after.Counts {
		t.Errorf("moving the slider did not redraw: histogram rendered %v → %v, changed %v; counts %q → %q",
			before.OK, after.OK, before.Src != after.Src, before.Counts, after.Counts)
	}
	if done, err := b.Find(`button[id^="ragnb-control-done"]`); err == nil {
		b.Click(done)
	}
	t.Logf("live part %.1fs; browser test %.1fs in all", time.Since(live).Seconds(), time.Since(start).Seconds())
}
