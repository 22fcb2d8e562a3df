package prelude

import "github.com/ragnb/ragnb/gpu"

// BackendInfo is the one line naming the compute backend this process runs on (the notebook's first cell
// usually shows it), or the error that kept the backend from opening.
func BackendInfo() string {
	b, err := gpu.Shared()
	if err != nil {
		return "backend error: " + err.Error()
	}
	return b.Summary()
}
