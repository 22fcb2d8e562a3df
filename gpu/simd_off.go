//go:build !goexperiment.simd

package gpu

// SIMD reports whether this binary was built with GOEXPERIMENT=simd, which the pure-Go backend's matmul
// needs to be fast (~20× on AVX-512).
const SIMD = false
