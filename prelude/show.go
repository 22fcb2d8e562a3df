package prelude

import (
	"fmt"
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
