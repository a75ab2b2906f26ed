package simd

import (
	"fmt"

	"github.com/concbench/concbench/workloads"
)

// Kernels implements [workloads.Kernels] with the vector kernels of one
// path, plus multi-buffer hashing ([Kernels.FNV1aMany]). The zero Kernels
// runs the scalar path. A Kernels is a small value, safe for concurrent use.
type Kernels struct{ path KernelPath }

var _ workloads.Kernels = Kernels{}

// NewKernels returns the kernels of path p, or an error when p cannot run
// here (see [Paths]).
func NewKernels(p KernelPath) (Kernels, error) {
	if !Supported(p) {
		return Kernels{}, fmt.Errorf("simd: kernel path %q is not supported here (supported: %s)", p, pathList(supported))
	}
	return Kernels{path: p}, nil
}

// DefaultKernels returns the kernels of the [Default] path.
func DefaultKernels() Kernels { return Kernels{path: defaultPath} }

// Path returns the kernels' path.
func (k Kernels) Path() KernelPath {
	if k.path == "" {
		return Scalar
	}
	return k.path
}

// Dot returns the dot product of a and b; b must be at least as long as a.
// The vector paths keep four independent vector accumulators (a vector
// FMA's latency is about 4 cycles, so one accumulator would leave the FMA
// units three quarters idle) and sum them at the end: the order of the
// additions differs from [workloads.DotScalar], which gives the same bits
// on the dot workload's exact inputs and agrees within rounding otherwise.
func (k Kernels) Dot(a, b []float32) float32 {
	switch k.path {
	case AVX512:
		return dot16(a, b)
	case AVX2:
		return dot8(a, b)
	}
	return dotUnrolled(a, b)
}

// Sum returns the sum of b: four vector accumulators on the vector paths
// (eight scalar ones on the scalar path), so that the loads, not the
// latency of one chain of additions, set the pace. Exact, hence equal to
// [workloads.SumScalar], on the stream workload's inputs.
func (k Kernels) Sum(b []float32) float32 {
	switch k.path {
	case AVX512:
		return sum16(b)
	case AVX2:
		return sum8(b)
	}
	return sumUnrolled(b)
}

// Triad sets a[i] = b[i] + q·c[i] and returns the sum of the values
// written. The vector paths use a fused multiply-add (one rounding where the
// reference has two: the same bits on the stream workload's exact inputs)
// and sum in four vector accumulators.
func (k Kernels) Triad(a, b, c []float32, q float32) float32 {
	switch k.path {
	case AVX512:
		return triad16(a, b, c, q)
	case AVX2:
		return triad8(a, b, c, q)
	}
	return triadUnrolled(a, b, c, q)
}

// MandelbrotRow returns [workloads.MandelbrotRowScalar](g, y) bit for bit:
// one vector lane a pixel, the same float32 operations in the same order
// (separate multiplies and adds, never fused), a lane mask retiring pixels
// as they escape and two vectors in flight to hide the latency of the
// dependent multiply-add chain. Geometries whose coordinates are not finite
// take the scalar reference.
func (k Kernels) MandelbrotRow(g *workloads.Mandelbrot, y int) uint64 {
	switch k.path {
	case AVX512:
		return mandelbrot16(g, y)
	case AVX2:
		return mandelbrot8(g, y)
	}
	return workloads.MandelbrotRowScalar(g, y)
}

// FNV1a returns the seeded FNV-1a hash of one message. Each byte's step
// depends on the previous one, so one message cannot use vector lanes: it
// is the scalar loop on every path. Hash many messages at once with
// [Kernels.FNV1aMany].
func (k Kernels) FNV1a(seed uint64, msg []byte) uint64 {
	return workloads.FNV1aScalar(seed, msg)
}

// FNV1aMany sets out[i] to the FNV-1a hash of msgs[i] seeded with seed, for
// every i (out must be at least as long as msgs). See [Kernels.FNV1aSeeded].
func (k Kernels) FNV1aMany(seed uint64, msgs [][]byte, out []uint64) {
	out = out[:len(msgs)]
	for i := range out {
		out[i] = seed
	}
	k.FNV1aSeeded(out, msgs, out)
}

// FNV1aSeeded sets out[i] to the FNV-1a hash of msgs[i] seeded with
// seeds[i]; out may be seeds. It hashes messages in groups, one message a
// lane: 16 lanes on AVX-512 (two Uint64x8 in flight, since a 64-bit vector
// multiply has a latency of several cycles), 4 interleaved scalar chains on
// the other paths. AVX2 has no 64-bit lane multiply (VPMULLQ is AVX-512);
// emulated with shifts and adds on two Uint64x4 it measured 2.3× slower
// than the four scalar chains, so the AVX2 path uses those. Messages of a
// group may differ in length: the lanes run over the shortest, and each
// message's remaining bytes finish on the scalar loop from its lane's state.
func (k Kernels) FNV1aSeeded(seeds []uint64, msgs [][]byte, out []uint64) {
	seeds, out = seeds[:len(msgs)], out[:len(msgs)]
	lanes, group := 4, fnvGroupScalar
	switch k.path {
	case AVX512:
		lanes, group = 16, fnvGroup16
	}
	var h [16]uint64
	var m [16][]byte
	for i := 0; i < len(msgs); i += lanes {
		n := min(lanes, len(msgs)-i)
		if n == 1 {
			out[i] = workloads.FNV1aScalar(seeds[i], msgs[i])
			break
		}
		shortest := len(msgs[i])
		for l := range lanes {
			if l < n {
				h[l], m[l] = seeds[i+l], msgs[i+l]
				shortest = min(shortest, len(m[l]))
			} else {
				// A partial last group fills its idle lanes with its first
				// message; their hashes are discarded.
				h[l], m[l] = seeds[i], msgs[i]
			}
		}
		group(&h, &m, shortest)
		for l := range n {
			out[i+l] = workloads.FNV1aScalar(h[l], m[l][shortest:])
		}
	}
}

// fnvGroupScalar hashes the first n bytes of m[0:4] into h[0:4]: four
// independent multiply chains, so the CPU overlaps the 3-4 cycle latency of
// each 64-bit multiply.
func fnvGroupScalar(h *[16]uint64, m *[16][]byte, n int) {
	h0, h1, h2, h3 := h[0], h[1], h[2], h[3]
	m0, m1, m2, m3 := m[0][:n], m[1][:n], m[2][:n], m[3][:n]
	for j := range m0 {
		h0 = (h0 ^ uint64(m0[j])) * workloads.FNVPrime
		h1 = (h1 ^ uint64(m1[j])) * workloads.FNVPrime
		h2 = (h2 ^ uint64(m2[j])) * workloads.FNVPrime
		h3 = (h3 ^ uint64(m3[j])) * workloads.FNVPrime
	}
	h[0], h[1], h[2], h[3] = h0, h1, h2, h3
}

// dotUnrolled is the scalar path's dot product: eight independent
// accumulators (measured 2× the single-accumulator loop on this project's
// VMs; ../shared/MEASURED.md in the project's shared notes).
func dotUnrolled(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for len(a) >= 8 && len(b) >= 8 {
		x, y := (*[8]float32)(a), (*[8]float32)(b)
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
		a, b = a[8:], b[8:]
	}
	sum := ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
	for i, x := range a {
		sum += x * b[i]
	}
	return sum
}

// sumUnrolled is the scalar path's sum: eight independent accumulators.
func sumUnrolled(b []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	for len(b) >= 8 {
		x := (*[8]float32)(b)
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
		s4 += x[4]
		s5 += x[5]
		s6 += x[6]
		s7 += x[7]
		b = b[8:]
	}
	sum := ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
	for _, x := range b {
		sum += x
	}
	return sum
}

// triadUnrolled is the scalar path's triad: four elements a step, four
// independent accumulators.
func triadUnrolled(a, b, c []float32, q float32) float32 {
	b, c = b[:len(a)], c[:len(a)]
	var s0, s1, s2, s3 float32
	for len(a) >= 4 && len(b) >= 4 && len(c) >= 4 {
		x, y, z := (*[4]float32)(a), (*[4]float32)(b), (*[4]float32)(c)
		x[0] = y[0] + q*z[0]
		x[1] = y[1] + q*z[1]
		x[2] = y[2] + q*z[2]
		x[3] = y[3] + q*z[3]
		s0 += x[0]
		s1 += x[1]
		s2 += x[2]
		s3 += x[3]
		a, b, c = a[4:], b[4:], c[4:]
	}
	sum := (s0 + s1) + (s2 + s3)
	for i := range a {
		a[i] = b[i] + q*c[i]
		sum += a[i]
	}
	return sum
}
