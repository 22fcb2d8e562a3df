package notebook

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/ragnb/ragnb/kernel"
)

// EnvHeadless is set in the environment of the kernels RunJupyter starts: no browser is attached, so live
// controls (the prelude's widgets) show their default values instead of waiting for a front end.
const EnvHeadless = "RAGNB_HEADLESS"

// Sign marks the notebook at path as trusted in the Jupyter data directory dataDir ("" = the user's), as
// Jupyter does after a run in the browser: a notebook executed headless is otherwise opened untrusted, and an
// untrusted notebook hides SVG charts and strips the tables' styles. It runs nbformat's own signer (an
// HMAC-SHA256 of the notebook under the data directory's notebook_secret, recorded in its nbsignatures.db),
// so the signature is the one the notebook server checks.
func Sign(ctx context.Context, path, dataDir string) error {
	if _, err := pythonNB(ctx, dataDir, "-m", "nbformat.sign", path); err != nil {
		return fmt.Errorf("sign %s: %w", path, err)
	}
	return nil
}

// Trusted reports whether the notebook at path carries a signature recorded in dataDir, as the notebook
// server decides when it opens it.
func Trusted(ctx context.Context, path, dataDir string) (bool, error) {
	const check = `import sys, nbformat
from nbformat.sign import NotebookNotary
nb = nbformat.read(sys.argv[1], as_version=4)
print("trusted" if NotebookNotary().check_signature(nb) else "untrusted")`
	out, err := pythonNB(ctx, dataDir, "-c", check, path)
	if err != nil {
		return false, fmt.Errorf("check signature of %s: %w", path, err)
	}
	return strings.TrimSpace(out) == "trusted", nil
}

func pythonNB(ctx context.Context, dataDir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, kernel.DebianPython, args...)
	cmd.Env = os.Environ()
	if dataDir != "" {
		cmd.Env = append(cmd.Env, "JUPYTER_DATA_DIR="+dataDir)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", kernel.DebianPython, args[0], err, tail(strings.TrimSpace(stderr.String()), 2000))
	}
	return stdout.String(), nil
}
