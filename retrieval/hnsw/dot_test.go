package hnsw

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkDot: the dot product at common embedding sizes, SIMD (when built with it) against the scalar loop.
func BenchmarkDot(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{128, 384, 768} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = rng.Float32(), rng.Float32()
		}
		for _, f := range []struct {
			name string
			fn   func(a, b []float32) float32
		}{{"dot", dot}, {"scalar", dotScalar}} {
			b.Run(f.name+"-"+strconv.Itoa(n), func(b *testing.B) {
				var s float32
				for i := 0; i < b.N; i++ {
					s += f.fn(x, y)
				}
				b.ReportMetric(2*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
