package prelude

import (
	"fmt"
	"html"
	"os"

	"github.com/ragnb/ragnb/ui/display"
)

// The prelude's one edge to the outside world: everything it shows goes through these two functions, which
// hand it to package display: in GoNB the rich form (HTML, SVG) in the cell; elsewhere the text form on
// standard output and, under $RAGNB_OUTPUT_DIR (set by `ragnb run`), the rich form as a numbered file.

// showHTML shows a rich HTML rendering, or its text equivalent.
func showHTML(html, text string) {
	if err := display.HTML(html, text); err != nil {
		fmt.Fprintln(os.Stderr, "display:", err)
	}
}

// showImage shows a chart as SVG (PNG as an alternative form), or its text description.
func showImage(svg, png []byte, text string) {
	if err := display.Image(svg, png, text); err != nil {
		fmt.Fprintln(os.Stderr, "display:", err)
	}
}

// titleHTML is a display's heading: the short name, with the chain that made it (which grows to a paragraph:
// TrainMatryoshka(StaticModel(Load(…).Rename(…)…), …)) folded into a details element beneath.
func titleHTML(name, chain string) string {
	if name == "" || name == chain {
		return `<div class="ragnb-caption">` + html.EscapeString(chain) + `</div>`
	}
	return `<div class="ragnb-caption">` + html.EscapeString(name) + `</div>` + lineageHTML(name, chain)
}

// lineageHTML is the chain folded into a details element, or nothing when the name already says it all.
func lineageHTML(name, chain string) string {
	if chain == "" || chain == name {
		return ""
	}
	return `<details class="ragnb-lineage"><summary>lineage</summary><code>` + html.EscapeString(chain) + `</code></details>`
}
