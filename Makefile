# Every target builds with GOEXPERIMENT=simd: GoMLX's pure-Go matmul is ~20× faster with it.
export GOEXPERIMENT := simd
export GOMLX_NO_AUTO_INSTALL := 1

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GOTEST_TIMEOUT ?= 25m

.PHONY: demo tools test build vet bench clean

# README command 1: the main job on the embedded default (no network, no GPU, no pretrained weights): the
# financial notebook, headless. The export needs goimports, which tools installs (idempotent: seconds when present).
demo: tools build
	./bin/ragnb doctor
	./bin/ragnb run notebooks/financial-sec.ipynb

tools:
	scripts/install-tools.sh --go-only

# README command 2: the tests. `go test -timeout` panics with every goroutine's stack when a package hangs,
# which is the watchdog for the pure-Go backend's rare hang.
test: vet
	go test -count=1 -timeout $(GOTEST_TIMEOUT) ./...

build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/ragnb ./cmd/ragnb

vet:
	go vet ./...

bench:
	go test -run '^$$' -bench . -benchtime 3x ./...

clean:
	rm -rf bin
