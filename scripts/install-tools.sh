#!/usr/bin/env bash
# Installs the notebook tools at the versions verified together (shared/ENV.md): Jupyter from Debian, and
# GoNB, goimports and gopls with `go install`. Idempotent: what is already there at the right version is kept.
#   scripts/install-tools.sh            everything
#   scripts/install-tools.sh --go-only  only the Go tools (no root needed)
set -euo pipefail

want_jupyter=1
[ "${1:-}" = "--go-only" ] && want_jupyter=0

if [ "$want_jupyter" = 1 ]; then
  if [ -x /usr/bin/jupyter ] && /usr/bin/python3 -c 'import nbclient, nbconvert, ipykernel' 2>/dev/null; then
    echo "jupyter: already installed"
  else
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "jupyter: installing Debian packages"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      jupyter-notebook python3-nbclient python3-nbconvert python3-ipykernel jupyter-client jupyter-nbconvert \
      python3-numpy >/dev/null
  fi
fi

# The module proxy here answers `@latest` and version lists with 403, and `go install M@v` can trip on that;
# resolving the exact versions inside a throwaway module and installing from it works.
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
install_go_tool() { # name module version
  local name=$1 module=$2 version=$3
  if [ -x "$gobin/$name" ] && go version -m "$gobin/$name" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]].*[[:space:]]$version"; then
    echo "$name: $version already installed"
    return
  fi
  echo "$name: installing $module@$version"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init ragnb-tools >/dev/null 2>&1 && GOFLAGS=-mod=mod go get "$module@$version" >/dev/null && go install "$module")
  rm -rf "$tmp"
}
install_go_tool gonb github.com/janpfeifer/gonb v0.11.4
install_go_tool goimports golang.org/x/tools/cmd/goimports v0.47.0
install_go_tool gopls golang.org/x/tools/gopls v0.23.0
echo "tools in $gobin"
