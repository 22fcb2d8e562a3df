//go:build noxla || !cgo || !linux || !amd64

package gpu

import (
	"errors"

	"github.com/gomlx/compute"
)

// XLACompiledIn reports whether this binary can open XLA PJRT plugins (cgo, linux/amd64, no noxla tag).
const XLACompiledIn = false

func openXLA(plugin, options string) (compute.Backend, error) {
	return nil, errors.New("this binary was built without XLA support (noxla tag or CGO_ENABLED=0)")
}
