//go:build goexperiment.simd && amd64

package simd

import (
	"encoding/binary"
	"math"
	"simd/archsimd"

	"github.com/concbench/concbench/workloads"
)

// hardwarePaths returns the paths this CPU can run, widest first. The AVX2
// path also needs FMA (its dot product uses VFMADD); every AVX2 CPU we know
// of has it, but the check costs nothing.
func hardwarePaths() []KernelPath {
	var ps []KernelPath
	if archsimd.X86.AVX512() {
		ps = append(ps, AVX512)
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		ps = append(ps, AVX2)
	}
	return append(ps, Scalar)
}

// dot16 is the AVX-512 dot product: four Float32x16 accumulators, loads
// through array pointers over re-sliced windows (no bounds check inside a
// load; measured about 1.7× faster in cache than LoadFloat32x16Slice).
func dot16(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 archsimd.Float32x16
	for len(a) >= 64 && len(b) >= 64 {
		s0 = archsimd.LoadFloat32x16((*[16]float32)(a[0:16])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(b[0:16])), s0)
		s1 = archsimd.LoadFloat32x16((*[16]float32)(a[16:32])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(b[16:32])), s1)
		s2 = archsimd.LoadFloat32x16((*[16]float32)(a[32:48])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(b[32:48])), s2)
		s3 = archsimd.LoadFloat32x16((*[16]float32)(a[48:64])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(b[48:64])), s3)
		a, b = a[64:], b[64:]
	}
	for len(a) >= 16 && len(b) >= 16 {
		s0 = archsimd.LoadFloat32x16((*[16]float32)(a[0:16])).MulAdd(archsimd.LoadFloat32x16((*[16]float32)(b[0:16])), s0)
		a, b = a[16:], b[16:]
	}
	s := s0.Add(s1).Add(s2.Add(s3))
	return reduce8(s.GetLo().Add(s.GetHi())) + dotUnrolled(a, b)
}

// dot8 is the AVX2 dot product: four Float32x8 accumulators.
func dot8(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 archsimd.Float32x8
	for len(a) >= 32 && len(b) >= 32 {
		s0 = archsimd.LoadFloat32x8((*[8]float32)(a[0:8])).MulAdd(archsimd.LoadFloat32x8((*[8]float32)(b[0:8])), s0)
		s1 = archsimd.LoadFloat32x8((*[8]float32)(a[8:16])).MulAdd(archsimd.LoadFloat32x8((*[8]float32)(b[8:16])), s1)
		s2 = archsimd.LoadFloat32x8((*[8]float32)(a[16:24])).MulAdd(archsimd.LoadFloat32x8((*[8]float32)(b[16:24])), s2)
		s3 = archsimd.LoadFloat32x8((*[8]float32)(a[24:32])).MulAdd(archsimd.LoadFloat32x8((*[8]float32)(b[24:32])), s3)
		a, b = a[32:], b[32:]
	}
	for len(a) >= 8 && len(b) >= 8 {
		s0 = archsimd.LoadFloat32x8((*[8]float32)(a[0:8])).MulAdd(archsimd.LoadFloat32x8((*[8]float32)(b[0:8])), s0)
		a, b = a[8:], b[8:]
	}
	return reduce8(s0.Add(s1).Add(s2.Add(s3))) + dotUnrolled(a, b)
}

// sum16 is the AVX-512 sum: four Float32x16 accumulators.
func sum16(b []float32) float32 {
	var s0, s1, s2, s3 archsimd.Float32x16
	for len(b) >= 64 {
		s0 = s0.Add(archsimd.LoadFloat32x16((*[16]float32)(b[0:16])))
		s1 = s1.Add(archsimd.LoadFloat32x16((*[16]float32)(b[16:32])))
		s2 = s2.Add(archsimd.LoadFloat32x16((*[16]float32)(b[32:48])))
		s3 = s3.Add(archsimd.LoadFloat32x16((*[16]float32)(b[48:64])))
		b = b[64:]
	}
	for len(b) >= 16 {
		s0 = s0.Add(archsimd.LoadFloat32x16((*[16]float32)(b[0:16])))
		b = b[16:]
	}
	s := s0.Add(s1).Add(s2.Add(s3))
	return reduce8(s.GetLo().Add(s.GetHi())) + sumUnrolled(b)
}

// sum8 is the AVX2 sum: four Float32x8 accumulators.
func sum8(b []float32) float32 {
	var s0, s1, s2, s3 archsimd.Float32x8
	for len(b) >= 32 {
		s0 = s0.Add(archsimd.LoadFloat32x8((*[8]float32)(b[0:8])))
		s1 = s1.Add(archsimd.LoadFloat32x8((*[8]float32)(b[8:16])))
		s2 = s2.Add(archsimd.LoadFloat32x8((*[8]float32)(b[16:24])))
		s3 = s3.Add(archsimd.LoadFloat32x8((*[8]float32)(b[24:32])))
		b = b[32:]
	}
	for len(b) >= 8 {
		s0 = s0.Add(archsimd.LoadFloat32x8((*[8]float32)(b[0:8])))
		b = b[8:]
	}
	return reduce8(s0.Add(s1).Add(s2.Add(s3))) + sumUnrolled(b)
}

// triad16 is the AVX-512 triad: c·q + b fused, 32 elements a step, the
// written values summed in two Float32x16 accumulators.
func triad16(a, b, c []float32, q float32) float32 {
	b, c = b[:len(a)], c[:len(a)]
	qv := archsimd.BroadcastFloat32x16(q)
	var s0, s1 archsimd.Float32x16
	for len(a) >= 32 && len(b) >= 32 && len(c) >= 32 {
		x0 := archsimd.LoadFloat32x16((*[16]float32)(c[0:16])).MulAdd(qv, archsimd.LoadFloat32x16((*[16]float32)(b[0:16])))
		x1 := archsimd.LoadFloat32x16((*[16]float32)(c[16:32])).MulAdd(qv, archsimd.LoadFloat32x16((*[16]float32)(b[16:32])))
		x0.Store((*[16]float32)(a[0:16]))
		x1.Store((*[16]float32)(a[16:32]))
		s0, s1 = s0.Add(x0), s1.Add(x1)
		a, b, c = a[32:], b[32:], c[32:]
	}
	s := s0.Add(s1)
	return reduce8(s.GetLo().Add(s.GetHi())) + triadUnrolled(a, b, c, q)
}

// triad8 is the AVX2 triad: 16 elements a step, two Float32x8 accumulators.
func triad8(a, b, c []float32, q float32) float32 {
	b, c = b[:len(a)], c[:len(a)]
	qv := archsimd.BroadcastFloat32x8(q)
	var s0, s1 archsimd.Float32x8
	for len(a) >= 16 && len(b) >= 16 && len(c) >= 16 {
		x0 := archsimd.LoadFloat32x8((*[8]float32)(c[0:8])).MulAdd(qv, archsimd.LoadFloat32x8((*[8]float32)(b[0:8])))
		x1 := archsimd.LoadFloat32x8((*[8]float32)(c[8:16])).MulAdd(qv, archsimd.LoadFloat32x8((*[8]float32)(b[8:16])))
		x0.Store((*[8]float32)(a[0:8]))
		x1.Store((*[8]float32)(a[8:16]))
		s0, s1 = s0.Add(x0), s1.Add(x1)
		a, b, c = a[16:], b[16:], c[16:]
	}
	return reduce8(s0.Add(s1)) + triadUnrolled(a, b, c, q)
}

// reduce8 adds the eight lanes of v, pairwise.
func reduce8(v archsimd.Float32x8) float32 {
	var t [8]float32
	v.Store(&t)
	return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]))
}

// lanes32 holds each lane's offset from the first pixel of a 32-pixel block.
var lanes32 = [32]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}

// vectorSafe reports whether the vector Mandelbrot kernels agree with the
// scalar one on g. They test "zr²+zi² <= 4" where the reference tests
// "not > 4"; the two differ only on NaN, which needs a non-finite
// coordinate. float32(x)*DX + X0 is monotone in x, so finite ends mean
// finite coordinates everywhere. Lane indices are int32.
func vectorSafe(g *workloads.Mandelbrot, ci float32) bool {
	if g.Width <= 0 || g.Width > math.MaxInt32-64 || g.MaxIter <= 0 {
		return false
	}
	first := float32(float32(0)*g.DX) + g.X0
	last := float32(float32(g.Width-1)*g.DX) + g.X0
	return finite(ci) && finite(first) && finite(last)
}

func finite(f float32) bool { return !math.IsInf(float64(f), 0) && !math.IsNaN(float64(f)) }

// mandelbrot16 is the AVX-512 row kernel: two Float32x16 vectors (32
// pixels) in flight.
func mandelbrot16(g *workloads.Mandelbrot, y int) uint64 {
	ci := float32(float32(y)*g.DY) + g.Y0
	if !vectorSafe(g, ci) {
		return workloads.MandelbrotRowScalar(g, y)
	}
	civ := archsimd.BroadcastFloat32x16(ci)
	dx, x0 := archsimd.BroadcastFloat32x16(g.DX), archsimd.BroadcastFloat32x16(g.X0)
	four := archsimd.BroadcastFloat32x16(4)
	width := archsimd.BroadcastInt32x16(int32(g.Width))
	lane0 := archsimd.LoadInt32x16((*[16]int32)(lanes32[0:16]))
	lane1 := archsimd.LoadInt32x16((*[16]int32)(lanes32[16:32]))
	var counts [32]int32
	var sum uint64
	for x := 0; x < g.Width; x += 32 {
		base := archsimd.BroadcastInt32x16(int32(x))
		px0, px1 := lane0.Add(base), lane1.Add(base)
		// float32(x)*DX + X0, rounded after each operation like the reference.
		cr0 := px0.ConvertToFloat32().Mul(dx).Add(x0)
		cr1 := px1.ConvertToFloat32().Mul(dx).Add(x0)
		live0, live1 := px0.Less(width), px1.Less(width)
		var zr0, zi0, zr1, zi1 archsimd.Float32x16
		var n0, n1 archsimd.Int32x16
		for range g.MaxIter {
			zr2a, zi2a := zr0.Mul(zr0), zi0.Mul(zi0)
			zr2b, zi2b := zr1.Mul(zr1), zi1.Mul(zi1)
			live0 = live0.And(zr2a.Add(zi2a).LessEqual(four))
			live1 = live1.And(zr2b.Add(zi2b).LessEqual(four))
			if live0.Or(live1).ToBits() == 0 {
				break
			}
			// A live lane counts this iteration (mask true is -1).
			n0, n1 = n0.Sub(live0.ToInt32x16()), n1.Sub(live1.ToInt32x16())
			zi0 = zr0.Add(zr0).Mul(zi0).Add(civ)
			zi1 = zr1.Add(zr1).Mul(zi1).Add(civ)
			zr0 = zr2a.Sub(zi2a).Add(cr0)
			zr1 = zr2b.Sub(zi2b).Add(cr1)
		}
		n0.Store((*[16]int32)(counts[0:16]))
		n1.Store((*[16]int32)(counts[16:32]))
		sum += weigh(&counts, x, g.Width)
	}
	return sum
}

// mandelbrot8 is the AVX2 row kernel: two Float32x8 vectors (16 pixels) in
// flight.
func mandelbrot8(g *workloads.Mandelbrot, y int) uint64 {
	ci := float32(float32(y)*g.DY) + g.Y0
	if !vectorSafe(g, ci) {
		return workloads.MandelbrotRowScalar(g, y)
	}
	civ := archsimd.BroadcastFloat32x8(ci)
	dx, x0 := archsimd.BroadcastFloat32x8(g.DX), archsimd.BroadcastFloat32x8(g.X0)
	four := archsimd.BroadcastFloat32x8(4)
	width := archsimd.BroadcastInt32x8(int32(g.Width))
	lane0 := archsimd.LoadInt32x8((*[8]int32)(lanes32[0:8]))
	lane1 := archsimd.LoadInt32x8((*[8]int32)(lanes32[8:16]))
	var counts [32]int32
	var sum uint64
	for x := 0; x < g.Width; x += 16 {
		base := archsimd.BroadcastInt32x8(int32(x))
		px0, px1 := lane0.Add(base), lane1.Add(base)
		cr0 := px0.ConvertToFloat32().Mul(dx).Add(x0)
		cr1 := px1.ConvertToFloat32().Mul(dx).Add(x0)
		live0, live1 := width.Greater(px0), width.Greater(px1)
		var zr0, zi0, zr1, zi1 archsimd.Float32x8
		var n0, n1 archsimd.Int32x8
		for range g.MaxIter {
			zr2a, zi2a := zr0.Mul(zr0), zi0.Mul(zi0)
			zr2b, zi2b := zr1.Mul(zr1), zi1.Mul(zi1)
			live0 = live0.And(zr2a.Add(zi2a).LessEqual(four))
			live1 = live1.And(zr2b.Add(zi2b).LessEqual(four))
			if live0.Or(live1).ToBits() == 0 {
				break
			}
			n0, n1 = n0.Sub(live0.ToInt32x8()), n1.Sub(live1.ToInt32x8())
			zi0 = zr0.Add(zr0).Mul(zi0).Add(civ)
			zi1 = zr1.Add(zr1).Mul(zi1).Add(civ)
			zr0 = zr2a.Sub(zi2a).Add(cr0)
			zr1 = zr2b.Sub(zi2b).Add(cr1)
		}
		n0.Store((*[8]int32)(counts[0:8]))
		n1.Store((*[8]int32)(counts[8:16]))
		sum += weigh(&counts, x, min(g.Width, x+16))
	}
	return sum
}

// weigh returns the row value of the pixels x.. of a block: count × (x+1),
// for the pixels below end.
func weigh(counts *[32]int32, x, end int) uint64 {
	var sum uint64
	for l := range min(32, end-x) {
		sum += uint64(counts[l]) * uint64(x+l+1)
	}
	return sum
}

// fnvGroup16 hashes the first n bytes of m[0:16] into h[0:16] on AVX-512:
// two Uint64x8 lanes of hash state, eight bytes of every message loaded at
// a time and fed one byte a round (VPMULLQ multiplies 64-bit lanes).
func fnvGroup16(h *[16]uint64, m *[16][]byte, n int) {
	prime := archsimd.BroadcastUint64x8(workloads.FNVPrime)
	low := archsimd.BroadcastUint64x8(0xff)
	h0 := archsimd.LoadUint64x8((*[8]uint64)(h[0:8]))
	h1 := archsimd.LoadUint64x8((*[8]uint64)(h[8:16]))
	var w [16]uint64
	j := 0
	for ; j+8 <= n; j += 8 {
		for l := range w {
			w[l] = binary.LittleEndian.Uint64(m[l][j : j+8])
		}
		w0 := archsimd.LoadUint64x8((*[8]uint64)(w[0:8]))
		w1 := archsimd.LoadUint64x8((*[8]uint64)(w[8:16]))
		for range 8 {
			h0 = h0.Xor(w0.And(low)).Mul(prime)
			h1 = h1.Xor(w1.And(low)).Mul(prime)
			w0, w1 = w0.ShiftAllRight(8), w1.ShiftAllRight(8)
		}
	}
	for ; j < n; j++ {
		for l := range w {
			w[l] = uint64(m[l][j])
		}
		h0 = h0.Xor(archsimd.LoadUint64x8((*[8]uint64)(w[0:8]))).Mul(prime)
		h1 = h1.Xor(archsimd.LoadUint64x8((*[8]uint64)(w[8:16]))).Mul(prime)
	}
	h0.Store((*[8]uint64)(h[0:8]))
	h1.Store((*[8]uint64)(h[8:16]))
}
