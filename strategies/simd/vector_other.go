//go:build !(goexperiment.simd && amd64)

package simd

import "github.com/concbench/concbench/workloads"

// The fallback twin of vector_amd64.go: without GOEXPERIMENT=simd (or off
// amd64) only the scalar path exists, and these stand-ins, which no
// supported path reaches, keep the dispatch in kernels.go compiling.

func hardwarePaths() []KernelPath { return []KernelPath{Scalar} }

func dot16(a, b []float32) float32 { return dotUnrolled(a, b) }
func dot8(a, b []float32) float32  { return dotUnrolled(a, b) }

func sum16(b []float32) float32 { return sumUnrolled(b) }
func sum8(b []float32) float32  { return sumUnrolled(b) }

func triad16(a, b, c []float32, q float32) float32 { return triadUnrolled(a, b, c, q) }
func triad8(a, b, c []float32, q float32) float32  { return triadUnrolled(a, b, c, q) }

func mandelbrot16(g *workloads.Mandelbrot, y int) uint64 { return workloads.MandelbrotRowScalar(g, y) }
func mandelbrot8(g *workloads.Mandelbrot, y int) uint64  { return workloads.MandelbrotRowScalar(g, y) }

func fnvGroup16(h *[16]uint64, m *[16][]byte, n int) {
	for l := range h {
		h[l] = workloads.FNV1aScalar(h[l], m[l][:n])
	}
}
