package weaviate

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
)

// ServerVersion is the weaviate-server release ragnb is tested against; scripts/install-tools.sh builds it.
const ServerVersion = "v1.35.2"

// EnvServerBinary overrides where the pinned server binary is looked for.
const EnvServerBinary = "RAGNB_WEAVIATE_SERVER"

// ServerBinary is where scripts/install-tools.sh puts the pinned server:
// $XDG_CACHE_HOME/ragnb/tools/weaviate-<version>/weaviate-server (default ~/.cache), or $RAGNB_WEAVIATE_SERVER.
func ServerBinary() string {
	if p := os.Getenv(EnvServerBinary); p != "" {
		return p
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "ragnb", "tools", "weaviate-"+ServerVersion, "weaviate-server")
}

// BinaryVersion reads the weaviate module version a server binary was built from (its Go build info), without
// running it.
func BinaryVersion(path string) (string, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", err
	}
	if bi.Main.Path == "github.com/weaviate/weaviate" {
		return bi.Main.Version, nil
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/weaviate/weaviate" {
			return d.Version, nil
		}
	}
	return "", fmt.Errorf("%s was not built from github.com/weaviate/weaviate", path)
}
