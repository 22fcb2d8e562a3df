//go:build !noxla && cgo && linux && amd64

package gpu

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
)

// XLACompiledIn reports whether this binary can open XLA PJRT plugins (cgo, linux/amd64, no noxla tag).
const XLACompiledIn = true

func openXLA(plugin, options string) (compute.Backend, error) {
	// Never let go-xla fetch plugins from the network: a missing plugin must be reported, not downloaded.
	xla.EnableAutoInstall(false)
	cfg := plugin
	if options != "" {
		cfg += "," + options
	}
	return xla.New(cfg)
}

func setTF32(b compute.Backend, on bool) (func(), error) {
	xb, ok := b.(*xla.Backend)
	if !ok || !xb.IsCUDA() {
		return nil, fmt.Errorf("TF32 needs XLA on a CUDA GPU; this process computes on %s", b.Description())
	}
	prev := xb.DotGeneralUseTF32
	xb.DotGeneralUseTF32 = on
	return func() { xb.DotGeneralUseTF32 = prev }, nil
}
