//go:build goexperiment.simd && amd64

package hnsw

import "simd/archsimd"

// haveAVX2 is fixed at start-up: the CPU does not change under a running program.
var haveAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// dot is the float32 dot product of a and b (len(b) ≥ len(a)); AVX2 with FMA when the CPU has them.
func dot(a, b []float32) float32 {
	if !haveAVX2 || len(a) < 16 {
		return dotScalar(a, b)
	}
	b = b[:len(a)]
	var acc0, acc1 archsimd.Float32x8
	i := 0
	for ; i+16 <= len(a); i += 16 {
		acc0 = archsimd.LoadFloat32x8Slice(a[i:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:]), acc0)
		acc1 = archsimd.LoadFloat32x8Slice(a[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(b[i+8:]), acc1)
	}
	var lanes [8]float32
	acc0.Add(acc1).Store(&lanes)
	s := ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}
