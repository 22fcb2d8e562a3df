package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// The helper drives a real page: JavaScript results come back typed, keys move a range input as a user's
// would (firing its input events), clicks land, and a screenshot is a PNG file.
func TestBrowserMovesASliderAndTakesAScreenshot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><input type="range" id="s" min="0" max="200" value="120">
<span id="v">120</span><button id="b" onclick="this.dataset.clicked='yes'">Done</button>
<script>s.addEventListener('input', () => v.textContent = s.value)</script>`)
	}))
	defer srv.Close()
	b := Start(t, 800, 600)
	b.Open(srv.URL)
	if _, err := b.Wait("the page", `return document.readyState === 'complete'`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	s, err := b.Find("#s")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Type(s, strings.Repeat(KeyLeft, 25)); err != nil {
		t.Fatal(err)
	}
	var shown string
	if err := b.JS(&shown, `return document.getElementById('v').textContent`); err != nil || shown != "95" {
		t.Errorf("after 25 left-arrow presses the page shows %q (%v), want 95", shown, err)
	}
	btn, err := b.Find("#b")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Click(btn); err != nil {
		t.Fatal(err)
	}
	var clicked string
	if err := b.JS(&clicked, `return document.getElementById('b').dataset.clicked || ''`); err != nil || clicked != "yes" {
		t.Errorf("click not received: %q %v", clicked, err)
	}
	if _, err := b.Find("#missing"); err == nil {
		t.Error("found an element that is not there")
	}
	png, err := os.ReadFile(b.Screenshot("page"))
	if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot is not a PNG (%d bytes, %v)", len(png), err)
	}
}
