#!/usr/bin/env bash
# Installs the notebook environment: Jupyter and, for the browser tests, headless Chromium with chromedriver
# from Debian (each when missing), GoNB, goimports and gopls at the
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
if [ "${1:-}" != "--go-only" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
go build -o bin/ragnb ./cmd/ragnb
exec bin/ragnb kernel install "${args[@]}"
