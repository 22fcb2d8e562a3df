//go:build goexperiment.simd && amd64

package hnsw

import (
	"simd/archsimd"
	"unsafe"
)

// haveAVX2 is fixed at start-up: the CPU does not change under a running program.
var haveAVX2 = archsimd.X86.AVX2() && archsimd.X86.FMA()

// dot is the float32 dot product of a and b (len(b) ≥ len(a)); AVX2 with FMA when the CPU has them.
func dot(a, b []float32) float32 {
	if !haveAVX2 || len(a) < 32 {
		return dotScalar(a, b)
	}
	b = b[:len(a)]
	var acc0, acc1, acc2, acc3 archsimd.Float32x8
	// The loop reads a[i:i+32] and b[i:i+32] with i+32 ≤ len(a) = len(b): in bounds, so the loads skip the
	// per-load bounds checks of LoadFloat32x8Slice.
	pa, pb := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	load := func(p unsafe.Pointer, i int) archsimd.Float32x8 {
		return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(p, 4*i)))
	}
	i := 0
	for ; i+32 <= len(a); i += 32 {
		acc0 = load(pa, i).MulAdd(load(pb, i), acc0)
		acc1 = load(pa, i+8).MulAdd(load(pb, i+8), acc1)
		acc2 = load(pa, i+16).MulAdd(load(pb, i+16), acc2)
		acc3 = load(pa, i+24).MulAdd(load(pb, i+24), acc3)
	}
	var lanes [8]float32
	acc0.Add(acc1).Add(acc2.Add(acc3)).Store(&lanes)
	// Without VZEROUPPER the scalar (SSE) code that follows pays for false dependencies on the upper halves
	// of the YMM registers: 4.5× slower on this machine's EPYC.
	archsimd.ClearAVXUpperBits()
	s := ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}
