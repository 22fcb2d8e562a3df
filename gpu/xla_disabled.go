//go:build noxla || !cgo || !linux || !amd64

package gpu

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute"
)

// XLACompiledIn reports whether this binary can open XLA PJRT plugins (cgo, linux/amd64, no noxla tag).
const XLACompiledIn = false

func openXLA(plugin, options string) (compute.Backend, error) {
	return nil, errors.New("this binary was built without XLA support (noxla tag or CGO_ENABLED=0)")
}

func setTF32(b compute.Backend, _ bool) (func(), error) {
	return nil, fmt.Errorf("TF32 needs XLA on a CUDA GPU; this binary was built without XLA and computes on %s", b.Description())
}
