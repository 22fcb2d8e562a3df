#!/usr/bin/env bash
# Installs the notebook environment: Jupyter and, for the browser tests, headless Chromium with chromedriver
# from Debian (each when missing), GoNB, goimports and gopls at the
# versions verified together (kernel.Tools, see shared/ENV.md), and the "Go (ragnb)" kernelspec for this
# checkout. It builds ragnb and runs `ragnb kernel install`, which holds the versions; idempotent. It also builds
# the pinned weaviate-server (for `ragnb index push` and the Weaviate tests; ~9 min cold) into the ragnb tools
# cache, skipped when that binary already reports the version; --no-weaviate leaves it out.
#   scripts/install-tools.sh            everything (the Debian step needs root or sudo)
#   scripts/install-tools.sh --go-only  no Debian packages (no root needed)
#   scripts/install-tools.sh [--go-only] --no-weaviate
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1
args=()
weaviate=yes
for a in "$@"; do
  case "$a" in
    --go-only) args+=(--no-jupyter) ;;
    --no-weaviate) weaviate=no ;;
    *) echo "install-tools.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

# The pinned Weaviate server (kept in step with weaviate.ServerVersion in retrieval/weaviate).
WEAVIATE_VERSION=v1.35.2
weaviate_dir="${XDG_CACHE_HOME:-$HOME/.cache}/ragnb/tools/weaviate-${WEAVIATE_VERSION}"
if [ "$weaviate" = yes ]; then
  if [ -x "$weaviate_dir/weaviate-server" ] &&
     go version -m "$weaviate_dir/weaviate-server" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/weaviate/weaviate[[:space:]]+${WEAVIATE_VERSION}([[:space:]]|$)"; then
    echo "weaviate-server ${WEAVIATE_VERSION} present in $weaviate_dir"
  else
    echo "building weaviate-server ${WEAVIATE_VERSION} into $weaviate_dir (about 9 minutes on 2 cores)"
    mkdir -p "$weaviate_dir"
    GOBIN="$weaviate_dir" GOEXPERIMENT= go install "github.com/weaviate/weaviate/cmd/weaviate-server@${WEAVIATE_VERSION}"
  fi
fi
if [ "${1:-}" != "--go-only" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi
go build -o bin/ragnb ./cmd/ragnb
exec bin/ragnb kernel install "${args[@]}"
