// Package cache memoises expensive steps on disk: a step's key is a hash of its name and version, its inputs'
// content hashes and its parameters (Key); a hit returns the stored result instead of recomputing it (Store.Do,
// Store.Value). Results are written to a temporary directory and renamed into place only when complete, so a
// failed or interrupted step leaves nothing behind, and concurrent processes asking for the same key compute
// it once. It also hashes artifacts (HashFile, HashDir, HashBytes) for use as inputs.
//
// It owns the on-disk layout and its bookkeeping (List, Remove, Clear); what a step stores in its directory,
// and how it loads it back, is the step's business.
package cache

import (
	"os"
	"path/filepath"
)

// EnvDir is the environment variable that overrides the cache location.
const EnvDir = "RAGNB_CACHE"

// DefaultDir is $RAGNB_CACHE when set, else .ragnb in the working directory (beside the notebook, since Jupyter
// starts kernels in the notebook's folder).
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ".ragnb"
	}
	return filepath.Join(wd, ".ragnb")
}
