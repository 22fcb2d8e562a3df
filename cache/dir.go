// Package cache memoises expensive steps on disk: a step's key is a hash of its name and version, its inputs'
// hashes and its parameters; a hit loads the stored result instead of recomputing it.
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
