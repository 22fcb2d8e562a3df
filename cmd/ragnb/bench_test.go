package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/kernel"
	"github.com/ragnb/ragnb/workflow"
)

// TestBenchQuickMeasuresEveryFigureBesideThePeer: `ragnb bench --quick --peer --json F` measures every
// contract key (the train step in a child process, with its peak memory), runs the PyTorch peer on the same
// shapes and prints both columns with a ratio per row. Without Debian's torch the peer fails with the
// package to install.
func TestBenchQuickMeasuresEveryFigureBesideThePeer(t *testing.T) {
	ragnb := filepath.Join(t.TempDir(), "ragnb")
	if out, err := exec.Command("go", "build", "-o", ragnb, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	js := filepath.Join(t.TempDir(), "bench.json")
	hasTorch := exec.Command(kernel.DebianPython, "-c", "import torch").Run() == nil
	cmd := exec.Command(ragnb, "bench", "--quick", "--repeat", "1", "--peer", "--json", js)
	out, err := cmd.CombinedOutput()
	if !hasTorch {
		if err == nil || !strings.Contains(string(out), "python3-torch") {
			t.Fatalf("without torch: %v\n%s", err, out)
		}
		t.Logf("Debian's python3-torch is not installed: checked the peer's error only")
		cmd = exec.Command(ragnb, "bench", "--quick", "--repeat", "1", "--json", js)
		if out, err = cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	} else if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{workflow.BenchTrainStep, workflow.BenchTrainRSS, workflow.BenchEmbed, workflow.BenchStaticStep, workflow.BenchSearch} {
		if got[k] <= 0 {
			t.Errorf("%s = %v", k, got[k])
		}
		if hasTorch && got["peer_"+k] <= 0 {
			t.Errorf("peer_%s = %v", k, got["peer_"+k])
		}
	}
	if hasTorch && (!strings.Contains(string(out), "pytorch") || strings.Count(string(out), "×\n") < 5) {
		t.Errorf("the table lacks the peer column or the ratios:\n%s", out)
	}
}
