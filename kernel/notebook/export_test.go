package notebook

import (
	"strings"
	"testing"
)

func TestSplitCellHandlesGoNBSpecialLines(t *testing.T) {
	code, dropped, skip := splitCell(3, "//gonb:%%\n!ls \\\n -l\n%env A=1\nfmt.Println(1)")
	if skip != "" {
		t.Fatalf("skipped: %s", skip)
	}
	want := "package main\nfunc main() {\n\n\n\nfmt.Println(1)\n}\n"
	if code != want {
		t.Errorf("code %q, want %q", code, want)
	}
	if len(dropped) != 2 || dropped[0].Line != "!ls   -l" || dropped[0].Why != "shell command" ||
		dropped[1].Line != "%env A=1" || dropped[1].Why != "kernel command" || dropped[0].Cell != 3 {
		t.Errorf("dropped %+v", dropped)
	}
	if _, _, skip := splitCell(1, "%test\nfunc TestA(t *testing.T) {}"); skip != "%test" {
		t.Errorf("a %%test cell must be skipped, got %q", skip)
	}
	if _, d, _ := splitCell(2, "%% -n=3\nfmt.Println(1)"); len(d) != 1 || !strings.HasPrefix(d[0].Why, "program arguments") {
		t.Errorf("%%%% with arguments: %+v", d)
	}
	// "%%x" is not the main marker (GoNB requires %% alone or followed by a space).
	if _, d, _ := splitCell(1, "%%x"); len(d) != 1 {
		t.Errorf("%%%%x: %+v", d)
	}
}

func TestParseCellReportsCellLine(t *testing.T) {
	_, err := parseCell(4, "package main\nfunc f() {\n\tx := \n}\n")
	if err == nil || !strings.Contains(err.Error(), "cell 4: line 3") {
		t.Errorf("want the error at cell 4 line 3, got %v", err)
	}
}
