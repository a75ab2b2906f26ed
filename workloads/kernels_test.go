package workloads_test

import (
	"testing"

	"github.com/concbench/concbench/workloads"
)

// mandelbrotRowThroughPointer is MandelbrotRowScalar as it was before its
// fields were copied into locals: every loop condition reads through g.
// It is the reference the hoisted kernel must match bit for bit, and the
// A side of BenchmarkMandelbrotRow.
func mandelbrotRowThroughPointer(g *workloads.Mandelbrot, y int) uint64 {
	ci := float32(float32(y)*g.DY) + g.Y0
	var sum uint64
	for x := 0; x < g.Width; x++ {
		cr := float32(float32(x)*g.DX) + g.X0
		var zr, zi float32
		i := 0
		for ; i < g.MaxIter; i++ {
			zr2 := float32(zr * zr)
			zi2 := float32(zi * zi)
			if float32(zr2+zi2) > 4 {
				break
			}
			zi = float32(float32((zr+zr)*zi) + ci)
			zr = float32(float32(zr2-zi2) + cr)
		}
		sum += uint64(i) * uint64(x+1)
	}
	return sum
}

// geometries are images the tests and benchmarks use: the workload's own
// (width 1024, 256 iterations) and odd shapes.
var geometries = []workloads.Mandelbrot{
	{Width: 1024, Height: 64, MaxIter: 256, X0: -2, Y0: -1.25, DX: 3.0 / 1024, DY: 2.5 / 64},
	{Width: 7, Height: 5, MaxIter: 1, X0: -2, Y0: -1.25, DX: 3.0 / 7, DY: 2.5 / 5},
	{Width: 33, Height: 17, MaxIter: 1000, X0: -0.75, Y0: -0.1, DX: 0.01, DY: 0.0125},
	{Width: 0, Height: 1, MaxIter: 10, X0: 0, Y0: 0, DX: 1, DY: 1},
}

func TestMandelbrotRowScalarMatchesThroughPointer(t *testing.T) {
	t.Parallel()
	for _, g := range geometries {
		for y := range g.Height {
			if got, want := workloads.MandelbrotRowScalar(&g, y), mandelbrotRowThroughPointer(&g, y); got != want {
				t.Fatalf("%+v row %d: %d, want %d", g, y, got, want)
			}
		}
	}
}

var rowSink uint64

// BenchmarkMandelbrotRow compares the kernel with its fields in locals
// against the same kernel reading them through the pointer, on the
// workload's geometry: an A/B of one kernel on one machine, to be read as
// a ratio (go test -bench MandelbrotRow -count 10 | benchstat).
func BenchmarkMandelbrotRow(b *testing.B) {
	g := geometries[0]
	for _, k := range []struct {
		name string
		row  func(*workloads.Mandelbrot, int) uint64
	}{
		{"through-pointer", mandelbrotRowThroughPointer},
		{"locals", workloads.MandelbrotRowScalar},
	} {
		b.Run(k.name, func(b *testing.B) {
			var sum uint64
			for i := 0; b.Loop(); i++ {
				sum += k.row(&g, i%g.Height)
			}
			rowSink = sum
		})
	}
}
