#!/usr/bin/env bash
# Installs the notebook environment: Jupyter from Debian (when missing), GoNB, goimports and gopls at the
# versions verified together (kernel.Tools, see shared/ENV.md), and the "Go (ragnb)" kernelspec for this
# checkout. It builds ragnb and runs `ragnb kernel install`, which holds the versions; idempotent.
#   scripts/install-tools.sh            everything (the Debian step needs root or sudo)
#   scripts/install-tools.sh --go-only  no Debian packages (no root needed)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1
args=()
if [ "${1:-}" = "--go-only" ]; then
  args+=(--no-jupyter)
fi
go build -o bin/ragnb ./cmd/ragnb
exec bin/ragnb kernel install "${args[@]}"
