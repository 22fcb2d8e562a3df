package gpu

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragnb/ragnb/internal/testkit/sharedtest"
)

// scripts/gpu-check.sh on the CPU (--backend go --tiny --no-peer): everything but the plugin search and the
// sentence-transformers peer runs as on a GPU — doctor, init-model, ragnb train with the recipe's flags and
// --bf16 on the shared financial pairs — and the JSON it writes carries the figures.
func TestGPUCheckScriptRunsOnTheCPU(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(filepath.Join("..", "scripts", "gpu-check.sh"), "--backend", "go", "--tiny", "--no-peer",
		"--steps", "2", "--out", out, "--data", sharedtest.FinancialQA(t))
	cmd.Env = append(os.Environ(), "RAGNB_SHARED="+sharedtest.Dir(t))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gpu-check.sh: %v\n%s", err, b)
	}
	var r struct {
		Backend      string `json:"backend"`
		Steps        int    `json:"steps"`
		PairsPerStep int    `json:"pairs_per_step"`
		Ragnb        struct {
			SPerStep   float64  `json:"s_per_step"`
			PairsPerS  float64  `json:"pairs_per_s"`
			PeakDevice *float64 `json:"peak_device_mb"`
		} `json:"ragnb"`
		Peer json.RawMessage `json:"peer"`
	}
	j, err := os.ReadFile(filepath.Join(out, "gpu-check.json"))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := json.Unmarshal(j, &r); err != nil {
		t.Fatal(err)
	}
	if r.Backend != "go" || r.Steps != 2 || r.PairsPerStep != 16 || !(r.Ragnb.SPerStep > 0) ||
		r.Ragnb.PairsPerS < float64(r.PairsPerStep)/r.Ragnb.SPerStep*0.999 || r.Ragnb.PeakDevice != nil || string(r.Peer) != "null" {
		t.Errorf("gpu-check.json:\n%s", j)
	}
	card, err := os.ReadFile(filepath.Join(out, "ragnb-trained", "README.md"))
	if err != nil || !strings.Contains(string(card), "`bf16`: true") || !strings.Contains(string(card), "`gradient_accumulation_steps`: 2") {
		t.Errorf("the trained model's card does not show the recipe's bf16 and accumulation (%v)", err)
	}
	if !strings.Contains(string(b), "s per optimizer step") {
		t.Errorf("no table printed:\n%s", b)
	}
}
