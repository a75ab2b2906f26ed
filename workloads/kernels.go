package workloads

// Kernels computes the CPU steps. [Scalar] is the reference implementation;
// the simd strategy supplies vectorized kernels that must agree with it
// exactly (see the contract on each method).
type Kernels interface {
	// Dot returns the dot product of a and b (equal lengths). The dot
	// workload's inputs are multiples of 1/8 in [0, 1) and chunk sums stay
	// below 2^18, so every partial sum is exact in float32: any summation
	// order yields the same bits.
	Dot(a, b []float32) float32
	// MandelbrotRow returns the position-weighted sum of escape counts of
	// row y of the image g, as [MandelbrotRowScalar] defines it bit for bit.
	MandelbrotRow(g *Mandelbrot, y int) uint64
	// FNV1a returns the 64-bit FNV-1a hash of msg, starting from seed instead
	// of the standard offset basis (pass [FNVOffset] for the standard hash).
	FNV1a(seed uint64, msg []byte) uint64
	// Sum returns the sum of b: the stream workload's read kernel. Its
	// inputs are multiples of 1/8 in [0, 1) and a chunk holds at most
	// [MaxStreamChunk] of them, so every partial sum is exact in float32.
	Sum(b []float32) float32
	// Triad sets a[i] = b[i] + q·c[i] for every i of a (b and c at least as
	// long) and returns the sum of the values it wrote: the stream
	// workload's read-read-write kernel. On its inputs (multiples of 1/8
	// below 1, q = [TriadScale]) every product, element and partial sum is
	// exact in float32, so a fused multiply-add and any summation order
	// give the same bits.
	Triad(a, b, c []float32, q float32) float32
}

// FNV-1a 64-bit parameters.
const (
	FNVOffset uint64 = 14695981039346656037
	FNVPrime  uint64 = 1099511628211
)

// Scalar is the reference kernel set: plain Go loops, one accumulator, the
// code a Go programmer writes first.
var Scalar Kernels = scalarKernels{}

type scalarKernels struct{}

func (scalarKernels) Dot(a, b []float32) float32                { return DotScalar(a, b) }
func (scalarKernels) MandelbrotRow(g *Mandelbrot, y int) uint64 { return MandelbrotRowScalar(g, y) }
func (scalarKernels) FNV1a(seed uint64, msg []byte) uint64      { return FNV1aScalar(seed, msg) }
func (scalarKernels) Sum(b []float32) float32                   { return SumScalar(b) }
func (scalarKernels) Triad(a, b, c []float32, q float32) float32 {
	return TriadScalar(a, b, c, q)
}

// SumScalar is the reference sum: one float32 accumulator.
func SumScalar(b []float32) float32 {
	var sum float32
	for _, x := range b {
		sum += x
	}
	return sum
}

// TriadScalar is the reference triad: a[i] = b[i] + q·c[i], one element at
// a time, returning the sum of the values written.
func TriadScalar(a, b, c []float32, q float32) float32 {
	b, c = b[:len(a)], c[:len(a)]
	var sum float32
	for i := range a {
		x := b[i] + q*c[i]
		a[i] = x
		sum += x
	}
	return sum
}

// DotScalar is the reference dot product: one float32 accumulator.
func DotScalar(a, b []float32) float32 {
	b = b[:len(a)]
	var sum float32
	for i, x := range a {
		sum += x * b[i]
	}
	return sum
}

// FNV1aScalar is the reference FNV-1a hash, seeded.
func FNV1aScalar(seed uint64, msg []byte) uint64 {
	h := seed
	for _, c := range msg {
		h ^= uint64(c)
		h *= FNVPrime
	}
	return h
}

// Mandelbrot is the geometry of the mandelbrot workload's image. Pixel (x, y)
// maps to c = (float32(x)*DX + X0) + i(float32(y)*DY + Y0), each product and
// sum rounded to float32 separately.
type Mandelbrot struct {
	Width, Height int
	MaxIter       int
	X0, Y0        float32
	DX, DY        float32
}

// MandelbrotRowScalar is the reference kernel. The iteration is, with every
// operation rounded to float32 on its own (no fused multiply-add, so that a
// vector kernel doing the same operations gets the same bits):
//
//	zr2, zi2 := zr*zr, zi*zi
//	if zr2+zi2 > 4 { escaped at i }
//	zi = (zr+zr)*zi + ci
//	zr = (zr2 - zi2) + cr
//
// A pixel that never escapes counts MaxIter. The row's value is
// sum over x of count(x) * (x+1), so a count in the wrong place shows.
//
// The geometry's fields are copied into locals first. Read through g in
// the loop conditions, they were loaded from memory on every iteration (Go
// 1.26 does not move loads out of loops: the inner loop compared its
// counter with 16(AX), g.MaxIter in memory), and under -race each such
// read was a runtime.raceread call, which made the kernel a minority of
// its own CPU profile (13–58 % of the samples).
func MandelbrotRowScalar(g *Mandelbrot, y int) uint64 {
	width, maxIter := g.Width, g.MaxIter
	x0, dx := g.X0, g.DX
	ci := float32(float32(y)*g.DY) + g.Y0
	var sum uint64
	for x := 0; x < width; x++ {
		cr := float32(float32(x)*dx) + x0
		var zr, zi float32
		i := 0
		for ; i < maxIter; i++ {
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
