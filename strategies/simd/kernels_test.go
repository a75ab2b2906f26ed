package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/workloads"
)

func TestMain(m *testing.M) {
	if err := DefaultErr(); err != nil {
		fmt.Fprintln(os.Stderr, "simd:", err)
	}
	goleak.VerifyTestMain(m)
}

// eachPath runs f as a subtest for every path this machine supports, so the
// scalar fallback is tested on AVX-512 machines too.
func eachPath(t *testing.T, f func(t *testing.T, k Kernels)) {
	t.Helper()
	for _, p := range Paths() {
		k, err := NewKernels(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// eighths returns n multiples of 1/8 in [0, 1): the dot workload's kind of
// input, on which every summation order gives the same bits.
func eighths(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.IntN(8)) / 8
	}
	return s
}

// testLengths returns the lengths the exactness tests try: every length
// 0..300 (each tail of every vector loop), then 20 random ones below limit.
func testLengths(r *rand.Rand, limit int) []int {
	lengths := make([]int, 0, 321)
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	for range 20 {
		lengths = append(lengths, r.IntN(limit))
	}
	return lengths
}

func TestPathsEndWithScalar(t *testing.T) {
	ps := Paths()
	if len(ps) == 0 || ps[len(ps)-1] != Scalar {
		t.Fatalf("Paths() = %v, want scalar last", ps)
	}
	if !Supported(Default()) || Path() != string(Default()) || DefaultKernels().Path() != Default() {
		t.Fatalf("Default() = %q, Path() = %q, DefaultKernels on %q, supported %v", Default(), Path(), DefaultKernels().Path(), ps)
	}
	if (Kernels{}).Path() != Scalar {
		t.Fatal("zero Kernels is not the scalar path")
	}
	for _, bad := range []string{"", "sse", "AVX1024"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) succeeded", bad)
		}
	}
	if p, err := choosePath("Scalar"); err != nil || p != Scalar {
		t.Errorf("choosePath(Scalar) = %q, %v", p, err)
	}
	if p, err := choosePath("bogus"); err == nil || p != ps[0] {
		t.Errorf("choosePath(bogus) = %q, %v; want %q and an error", p, err, ps[0])
	}
}

func TestDotExact(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		r := rand.New(rand.NewPCG(1, 2))
		a, b := eighths(r, 5000), eighths(r, 5000)
		for _, n := range testLengths(r, len(a)) {
			off := r.IntN(len(a) - n + 1) // unaligned windows too
			x, y := a[off:off+n], b[off:off+n]
			if got, want := k.Dot(x, y), workloads.DotScalar(x, y); got != want {
				t.Fatalf("len %d offset %d: Dot = %v, want %v", n, off, got, want)
			}
		}
	})
}

func TestDotRandom(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		r := rand.New(rand.NewPCG(3, 4))
		for n := 0; n <= 1100; n += 1 + n/16 {
			a, b := make([]float32, n), make([]float32, n)
			var mag float64 // sum of |products|: the scale of rounding error
			for i := range a {
				a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
				mag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			got, want := float64(k.Dot(a, b)), float64(workloads.DotScalar(a, b))
			// Both sums round at most n times by 2^-24 relative to the running magnitude.
			if tol := 2 * float64(n+1) * 0x1p-24 * mag; math.Abs(got-want) > tol {
				t.Fatalf("len %d: Dot = %v, scalar %v, |diff| %g > %g", n, got, want, math.Abs(got-want), tol)
			}
		}
	})
}

func TestStreamExact(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		b, c := eighths(r, 5000), eighths(r, 5000)
		got, want := make([]float32, 5000), make([]float32, 5000)
		for _, n := range testLengths(r, len(b)) {
			off := r.IntN(len(b) - n + 1) // unaligned windows too
			x, y := b[off:off+n], c[off:off+n]
			if s, ref := k.Sum(x), workloads.SumScalar(x); s != ref {
				t.Fatalf("len %d offset %d: Sum = %v, want %v", n, off, s, ref)
			}
			// The triad writes a window of its own output and nothing else.
			for i := range got {
				got[i], want[i] = -1, -1
			}
			s := k.Triad(got[off:off+n], x, y, workloads.TriadScale)
			ref := workloads.TriadScalar(want[off:off+n], x, y, workloads.TriadScale)
			if s != ref {
				t.Fatalf("len %d offset %d: Triad = %v, want %v", n, off, s, ref)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("len %d offset %d: a[%d] = %v, want %v", n, off, i, got[i], want[i])
				}
			}
		}
	})
}

func mandelbrotGeometries() []workloads.Mandelbrot {
	var gs []workloads.Mandelbrot
	for _, w := range []int{1, 7, 15, 16, 17, 31, 33, 100, 257} {
		gs = append(gs, workloads.Mandelbrot{Width: w, Height: 40, MaxIter: 200,
			X0: -2, Y0: -1.25, DX: 3 / float32(w), DY: 2.5 / 40})
	}
	return append(gs,
		// The workload's own geometry, and zooms near the boundary where
		// escape counts are long and float32 rounding decides them.
		workloads.Mandelbrot{Width: 1024, Height: 16, MaxIter: 256, X0: -2, Y0: -1.25, DX: 3.0 / 1024, DY: 2.5 / 16},
		workloads.Mandelbrot{Width: 203, Height: 16, MaxIter: 1000, X0: -0.7454, Y0: 0.1130, DX: 1e-5, DY: 1e-5},
		workloads.Mandelbrot{Width: 99, Height: 16, MaxIter: 500, X0: -1.7687, Y0: -0.0017, DX: 3e-6, DY: 3e-6},
		workloads.Mandelbrot{Width: 50, Height: 8, MaxIter: 50, X0: 3, Y0: 3, DX: 0.5, DY: 0.5}, // all escape at once
		workloads.Mandelbrot{Width: 0, Height: 4, MaxIter: 50, X0: -2, Y0: -1, DX: 0.1, DY: 0.1},
		workloads.Mandelbrot{Width: 40, Height: 4, MaxIter: 0, X0: -2, Y0: -1, DX: 0.1, DY: 0.1},
		workloads.Mandelbrot{Width: 40, Height: 4, MaxIter: 30, X0: float32(math.Inf(-1)), Y0: -1, DX: 0.1, DY: 0.1},
	)
}

func TestMandelbrotBitIdentical(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		for _, g := range mandelbrotGeometries() {
			for y := range g.Height {
				if got, want := k.MandelbrotRow(&g, y), workloads.MandelbrotRowScalar(&g, y); got != want {
					t.Fatalf("%+v row %d: %d, want %d", g, y, got, want)
				}
			}
		}
	})
}

func TestFNV1aMany(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		pool := make([]byte, 4096)
		for i := range pool {
			pool[i] = byte(r.Uint32())
		}
		for _, count := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100} {
			for _, size := range []int{0, 1, 7, 8, 9, 63, 64, 65, 300} {
				for _, ragged := range []bool{false, true} {
					msgs := make([][]byte, count)
					for i := range msgs {
						n := size
						if ragged {
							n = r.IntN(size + 1)
						}
						off := r.IntN(len(pool) - n + 1)
						msgs[i] = pool[off : off+n]
					}
					out := make([]uint64, count)
					k.FNV1aMany(workloads.FNVOffset, msgs, out)
					seeds := make([]uint64, count)
					for i := range seeds {
						seeds[i] = r.Uint64()
					}
					seeded := make([]uint64, count)
					k.FNV1aSeeded(seeds, msgs, seeded)
					for i, m := range msgs {
						if want := workloads.FNV1aScalar(workloads.FNVOffset, m); out[i] != want {
							t.Fatalf("count %d size %d ragged %v: FNV1aMany[%d] = %#x, want %#x", count, size, ragged, i, out[i], want)
						}
						if want := workloads.FNV1aScalar(seeds[i], m); seeded[i] != want {
							t.Fatalf("count %d size %d ragged %v: FNV1aSeeded[%d] = %#x, want %#x", count, size, ragged, i, seeded[i], want)
						}
						if got := k.FNV1a(seeds[i], m); got != seeded[i] {
							t.Fatalf("FNV1a = %#x, want %#x", got, seeded[i])
						}
					}
					k.FNV1aSeeded(seeds, msgs, seeds) // out aliasing seeds
					if fmt.Sprint(seeds) != fmt.Sprint(seeded) {
						t.Fatalf("count %d size %d: FNV1aSeeded in place differs", count, size)
					}
				}
			}
		}
	})
}

func TestNewKernelsRejectsUnsupported(t *testing.T) {
	if _, err := NewKernels("sse"); err == nil {
		t.Fatal("NewKernels(sse) succeeded")
	}
	if len(Paths()) < 3 {
		missing := AVX512
		if !Supported(AVX2) {
			missing = AVX2
		}
		if _, err := NewKernels(missing); err == nil {
			t.Fatalf("NewKernels(%s) succeeded on a machine without it", missing)
		}
	}
}

// FuzzKernels compares every path with the scalar reference on arbitrary
// data: dot products of arbitrary float32 bit patterns (within tolerance, or
// both non-finite), Mandelbrot rows of arbitrary geometry (bit for bit) and
// hashes of arbitrary bytes split into messages.
func FuzzKernels(f *testing.F) {
	f.Add([]byte("hello, fuzzer: some bytes to hash and read as floats"), uint16(37), uint8(3))
	f.Add(make([]byte, 300), uint16(0), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, geo uint16, parts uint8) {
		floats := make([]float32, len(data)/4)
		for i := range floats {
			bits := uint32(data[4*i]) | uint32(data[4*i+1])<<8 | uint32(data[4*i+2])<<16 | uint32(data[4*i+3])<<24
			floats[i] = math.Float32frombits(bits)
		}
		a, b := floats[:len(floats)/2], floats[len(floats)/2:]
		g := workloads.Mandelbrot{Width: int(geo % 70), Height: 3, MaxIter: int(geo>>7) % 300,
			X0: -2 + float32(geo%13)/7, Y0: -1.25 + float32(geo%11)/9, DX: 3 / float32(1+geo%70), DY: 0.8}
		if len(floats) >= 4 { // arbitrary (even non-finite) geometry
			g.X0, g.Y0, g.DX = floats[0], floats[1], floats[2]
		}
		n := int(parts%20) + 1
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = data[i*len(data)/n : (i+1)*len(data)/n]
		}
		out := make([]uint64, n)
		for _, p := range Paths() {
			k, _ := NewKernels(p)
			got, want := float64(k.Dot(a, b)), float64(workloads.DotScalar(a, b))
			if !closeDot(got, want, a, b) {
				t.Errorf("%s: Dot = %v, scalar %v", p, got, want)
			}
			if got, want := float64(k.Sum(a)), float64(workloads.SumScalar(a)); !closeDot(got, want, a, ones(len(a))) {
				t.Errorf("%s: Sum = %v, scalar %v", p, got, want)
			}
			checkTriad(t, k, b[:len(a)], a)
			for y := range g.Height {
				if got, want := k.MandelbrotRow(&g, y), workloads.MandelbrotRowScalar(&g, y); got != want {
					t.Errorf("%s: %+v row %d: %d, want %d", p, g, y, got, want)
				}
			}
			k.FNV1aMany(workloads.FNVOffset, msgs, out)
			for i, m := range msgs {
				if want := workloads.FNV1aScalar(workloads.FNVOffset, m); out[i] != want {
					t.Errorf("%s: FNV1aMany[%d] = %#x, want %#x", p, i, out[i], want)
				}
			}
		}
	})
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// checkTriad compares k's triad over arbitrary floats with the reference:
// each element within the rounding that a fused multiply-add saves (one
// float32 rounding of b + q·c), and the returned sums as dot products of
// the written values with ones.
func checkTriad(t *testing.T, k Kernels, b, c []float32) {
	t.Helper()
	q := workloads.TriadScale
	got, want := make([]float32, len(b)), make([]float32, len(b))
	gs := float64(k.Triad(got, b, c, q))
	ws := float64(workloads.TriadScalar(want, b, c, q))
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		mag := math.Abs(float64(b[i])) + math.Abs(float64(q)*float64(c[i]))
		switch {
		case g == w, math.IsNaN(g) && math.IsNaN(w):
		case math.IsInf(mag, 0) || mag > math.MaxFloat32/2 || math.IsNaN(mag):
			// near overflow, fused and unfused may disagree on infinity
		case math.Abs(g-w) > 0x1p-23*mag+0x1p-149:
			t.Errorf("%s: triad a[%d] = %v, scalar %v (b %v, c %v)", k.Path(), i, got[i], want[i], b[i], c[i])
		}
	}
	if !closeDot(gs, ws, want, ones(len(want))) && !closeDot(gs, ws, got, ones(len(got))) {
		t.Errorf("%s: Triad = %v, scalar %v", k.Path(), gs, ws)
	}
}

// closeDot reports whether two dot products of a and b agree within the
// rounding of float32 sums taken in different orders.
func closeDot(got, want float64, a, b []float32) bool {
	if got == want || math.IsNaN(got) && math.IsNaN(want) {
		return true
	}
	var mag float64
	for i, x := range a {
		mag += math.Abs(float64(x) * float64(b[i]))
	}
	if math.IsInf(mag, 0) || mag > math.MaxFloat32/4 || math.IsNaN(mag) {
		return true // overflow: which order overflows first is not specified
	}
	return math.Abs(got-want) <= 2*float64(len(a)+1)*0x1p-24*mag+0x1p-149*float64(len(a)+1)
}
