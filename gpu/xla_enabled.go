//go:build !noxla && cgo && linux && amd64

package gpu

import (
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
