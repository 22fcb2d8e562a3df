package notebook

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/kernel"
)

func TestReadBothTextFormsAndOutputs(t *testing.T) {
	nb, err := Read("testdata/outputs.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 3 || nb.Cells[0].Source != "# Title\nText" || nb.Cells[1].Source != "%%\nfmt.Println(\"a\")" {
		t.Fatalf("cells: %+v", nb.Cells)
	}
	c := nb.Cells[1]
	if c.ExecutionCount == nil || *c.ExecutionCount != 3 || nb.Cells[2].ExecutionCount != nil {
		t.Errorf("execution counts: %v %v", c.ExecutionCount, nb.Cells[2].ExecutionCount)
	}
	if c.Outputs[0].Text != "a\nb\n" || c.Outputs[1].DataText("text/html") != "<table>\n</table>" ||
		c.Outputs[1].DataText("text/plain") != "table" || c.Outputs[2].DataText("application/json") != `{"k": [1, 2]}` {
		t.Errorf("outputs: %+v", c.Outputs)
	}
	if got := nb.ErrorOutputs(); len(got) != 1 || got[0] != "cell 3: ERROR: exit status 2" {
		t.Errorf("errors %q", got)
	}
	for mime, want := range map[string]int{"text/html": 1, "image/png": 1, "image/svg+xml": 0, "error": 1, "stream:stdout": 1, "stream:stderr": 1} {
		if got := nb.CountOutputs(mime); got != want {
			t.Errorf("CountOutputs(%s) = %d, want %d", mime, got, want)
		}
	}
	wantText := "── cell 2 ──\na\nb\ntable\n[text/html, 16 bytes]\n[application/json, 13 bytes]\n[image/png, 12 bytes]\n── cell 3 ──\nERROR ERROR: exit status 2\nwarning\n"
	if got := nb.Text(); got != wantText {
		t.Errorf("Text:\n%s\nwant:\n%s", got, wantText)
	}
	if _, err := Parse([]byte(`{"cells": [], "nbformat": 3}`)); err == nil {
		t.Error("nbformat 3 must be refused")
	}
}

func TestWriteRoundTripsAndValidates(t *testing.T) {
	nb, err := Read("testdata/outputs.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.ipynb")
	if err := nb.Write(path); err != nil {
		t.Fatal(err)
	}
	again, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := nb.Marshal()
	b, _ := again.Marshal()
	if string(a) != string(b) {
		t.Errorf("round trip changed the notebook:\n%s\n----\n%s", a, b)
	}
	if !reflect.DeepEqual(nb.Cells[1].Source, again.Cells[1].Source) || again.Cells[2].Outputs[0].Traceback[0] != "panic: boom" {
		t.Error("round trip lost content")
	}
	// Jupyter's own validator accepts what we write.
	if !kernel.JupyterOK() {
		if os.Getenv("RAGNB_REQUIRE_JUPYTER") == "1" {
			t.Fatal("RAGNB_REQUIRE_JUPYTER=1 but Jupyter is missing")
		}
		t.Skip("nbformat validation needs Debian's Jupyter (ragnb kernel install)")
	}
	out, err := exec.Command(kernel.DebianPython, "-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], 4)); print('valid')", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "valid" {
		t.Errorf("nbformat.validate: %v\n%s", err, out)
	}
}
