package prelude

import "fmt"

// The prelude's one edge to the outside world: everything it shows goes through these two functions.
// They print the text form to standard output, which GoNB shows as the cell's output and a terminal shows
// as is. When package display lands they hand the rich form to it instead (in GoNB: HTML, SVG or PNG output;
// elsewhere: the text, and the rich form written as a file under $RAGNB_OUTPUT_DIR).

// showHTML shows a rich HTML rendering, or its text equivalent.
func showHTML(html, text string) {
	_ = html
	fmt.Print(text)
}

// showImage shows a chart as SVG (PNG as an alternative form), or its text description.
func showImage(svg, png []byte, text string) {
	_, _ = svg, png
	fmt.Print(text)
}
