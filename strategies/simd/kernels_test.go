package simd

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/cpu"

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

// wantPaths works out, independently of the package's own detection, the
// paths this test binary should run here, widest first: the vector paths
// need amd64, a binary built with GOEXPERIMENT=simd (its build settings
// say so) and the CPU features (golang.org/x/sys/cpu): AVX-512 F, CD, BW,
// DQ and VL for avx512, AVX2 with FMA for avx2.
func wantPaths(t *testing.T) []KernelPath {
	t.Helper()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	experiment := false
	for _, s := range bi.Settings {
		if s.Key == "GOEXPERIMENT" && slices.Contains(strings.Split(s.Value, ","), "simd") {
			experiment = true
		}
	}
	x := cpu.X86
	var want []KernelPath
	if experiment && runtime.GOARCH == "amd64" {
		if x.HasAVX512F && x.HasAVX512CD && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL {
			want = append(want, AVX512)
		}
		if x.HasAVX2 && x.HasFMA {
			want = append(want, AVX2)
		}
	}
	return append(want, Scalar)
}

// TestEveryPathThisMachineHas checks each path, AVX-512 included: the
// paths the CPU and build offer are exactly the supported ones, each can
// be made and runs its own code (Path), and every other path is refused
// with a reason.
func TestEveryPathThisMachineHas(t *testing.T) {
	want := wantPaths(t)
	if got := Paths(); !slices.Equal(got, want) {
		t.Fatalf("Paths() = %v; this CPU and build offer %v", got, want)
	}
	t.Logf("paths here: %v", want)
	for _, p := range []KernelPath{AVX512, AVX2, Scalar} {
		k, err := NewKernels(p)
		if slices.Contains(want, p) {
			if err != nil || k.Path() != p || !Supported(p) {
				t.Errorf("%s: NewKernels = %v on %q, Supported %v; want it made", p, err, k.Path(), Supported(p))
			}
			if _, err := ParsePath(string(p)); err != nil {
				t.Errorf("ParsePath(%s) = %v", p, err)
			}
			continue
		}
		if err == nil || Supported(p) {
			t.Errorf("%s: NewKernels succeeded (supported %v) on a CPU or build without it", p, Supported(p))
		}
		if _, err := ParsePath(string(p)); err == nil || !strings.Contains(err.Error(), "not supported here") {
			t.Errorf("ParsePath(%s) = %v, want not supported here with a reason", p, err)
		}
	}
	if _, err := NewKernels("sse"); err == nil {
		t.Error("NewKernels(sse) succeeded")
	}
}

// fnvVectors are published FNV-1a 64-bit test vectors (the FNV reference
// test suite); TestFNV1aKnownAnswers checks them against hash/fnv too.
var fnvVectors = []struct {
	msg string
	sum uint64
}{
	{"", 0xcbf29ce484222325},
	{"a", 0xaf63dc4c8601ec8c},
	{"b", 0xaf63df4c8601f1a5},
	{"c", 0xaf63de4c8601eff2},
	{"foo", 0xdcb27518fed9d577},
	{"foobar", 0x85944171f73967e8},
}

// fnvStd is FNV-1a of msg by the standard library: an implementation
// independent of this module's. The hash continues from a prefix, so a
// seeded hash is checked as the hash of prefix+msg.
func fnvStd(prefix, msg []byte) uint64 {
	h := fnv.New64a()
	h.Write(prefix)
	h.Write(msg)
	return h.Sum64()
}

// TestFNV1aKnownAnswers checks every path's FNV-1a, one message at a time
// and in batches as wide as the widest vector and beyond (equal lengths
// and ragged), against the published vectors and against hash/fnv.
func TestFNV1aKnownAnswers(t *testing.T) {
	for _, v := range fnvVectors {
		if got := fnvStd(nil, []byte(v.msg)); got != v.sum {
			t.Fatalf("hash/fnv(%q) = %#x, published %#x: the vector table is wrong", v.msg, got, v.sum)
		}
	}
	eachPath(t, func(t *testing.T, k Kernels) {
		for _, v := range fnvVectors {
			if got := k.FNV1a(workloads.FNVOffset, []byte(v.msg)); got != v.sum {
				t.Errorf("FNV1a(%q) = %#x, want %#x", v.msg, got, v.sum)
			}
		}
		r := rand.New(rand.NewPCG(7, 8))
		prefix := []byte("a seed is the hash of what came before")
		seed := fnvStd(nil, prefix)
		for _, count := range []int{1, 6, 8, 15, 16, 17, 33} {
			for _, ragged := range []bool{false, true} {
				msgs := make([][]byte, count)
				size := 1 + r.IntN(100)
				for i := range msgs {
					if i < len(fnvVectors) && !ragged {
						msgs[i] = []byte(fnvVectors[i].msg)
						continue
					}
					n := size
					if ragged {
						n = r.IntN(2 * size)
					}
					msgs[i] = make([]byte, n)
					for j := range msgs[i] {
						msgs[i][j] = byte(r.Uint32())
					}
				}
				out := make([]uint64, count)
				k.FNV1aMany(workloads.FNVOffset, msgs, out)
				seeds := make([]uint64, count)
				for i := range seeds {
					seeds[i] = seed
				}
				seeded := make([]uint64, count)
				k.FNV1aSeeded(seeds, msgs, seeded)
				for i, m := range msgs {
					if want := fnvStd(nil, m); out[i] != want {
						t.Fatalf("count %d ragged %v: FNV1aMany[%d] (%d bytes) = %#x, hash/fnv %#x", count, ragged, i, len(m), out[i], want)
					}
					if want := fnvStd(prefix, m); seeded[i] != want || k.FNV1a(seed, m) != want {
						t.Fatalf("count %d ragged %v: seeded hash of message %d = %#x (FNV1a %#x), hash/fnv of prefix+message %#x",
							count, ragged, i, seeded[i], k.FNV1a(seed, m), want)
					}
				}
			}
		}
	})
}

// TestArithmeticKernelsKnownAnswers checks every path's Dot, Sum and
// Triad against closed forms on integer inputs, whose every product and
// partial sum is exact in float32 below 2^24, at every length up to 100
// (each vector loop's every tail): Σi = n(n-1)/2, Σi² = n(n-1)(2n-1)/6,
// and an alternating sum that a lane mix-up would change.
func TestArithmeticKernelsKnownAnswers(t *testing.T) {
	eachPath(t, func(t *testing.T, k Kernels) {
		const most = 100
		ramp, ones, signs := make([]float32, most), make([]float32, most), make([]float32, most)
		for i := range most {
			ramp[i], ones[i], signs[i] = float32(i), 1, float32(1-2*(i%2))
		}
		for n := 0; n <= most; n++ {
			x, y, z := ramp[:n], ones[:n], signs[:n]
			tri := float32(n * (n - 1) / 2)
			// Σ (-1)^i i over i < n: -n/2 for even n, (n-1)/2 for odd n.
			alt := float32(-n / 2)
			if n%2 == 1 {
				alt = float32((n - 1) / 2)
			}
			for _, c := range []struct {
				name      string
				got, want float32
			}{
				{"Dot(i, 1)", k.Dot(x, y), tri},
				{"Dot(i, i)", k.Dot(x, x), float32(n * (n - 1) * (2*n - 1) / 6)},
				{"Dot(i, ±1)", k.Dot(x, z), alt},
				{"Sum(i)", k.Sum(x), tri},
			} {
				if c.got != c.want {
					t.Fatalf("len %d: %s = %v, want %v", n, c.name, c.got, c.want)
				}
			}
			out := make([]float32, n+1)
			out[n] = -7 // past the end: must stay
			q := workloads.TriadScale
			if got, want := k.Triad(out[:n], x, z, q), tri+q*float32(alt2(n)); got != want {
				t.Fatalf("len %d: Triad sum = %v, want %v", n, got, want)
			}
			for i := range n {
				if want := float32(i) + q*z[i]; out[i] != want {
					t.Fatalf("len %d: Triad a[%d] = %v, want %v", n, i, out[i], want)
				}
			}
			if out[n] != -7 {
				t.Fatalf("len %d: Triad wrote past its output", n)
			}
		}
	})
}

// alt2 is Σ (-1)^i over i < n: 1 for odd n, 0 for even.
func alt2(n int) int { return n % 2 }

// TestMandelbrotKnownAnswers checks every path against escape counts
// worked out by hand, pixel by pixel, on rows of 17 pixels (a full AVX-512
// vector and a tail): c = -2 + 0.25x + iy, at most 50 iterations. A
// pixel's count is the n of the first iterate z_n (z_0 = 0, z_n+1 =
// z_n² + c) with |z_n|² > 4, or 50. On the real axis, c in [-2, 0.25]
// stays bounded (50); c = 0.5 counts 5 (z_1..z_5 = 0.5, 0.75, 1.0625,
// 1.6289, 3.1533), 0.75 and 1 count 3 (1 gives 1, 2, 5), 1.25 to 2 count
// 2 (|c|² ≤ 4 < |c² + c|²). At y = 1, -2+i counts 1 (|c|² = 5) and i
// stays bounded (i, -1+i, -i, -1+i, ...). The other counts came from
// iterating in float32 by hand-written code outside this module.
func TestMandelbrotKnownAnswers(t *testing.T) {
	rows := []struct {
		y0     float32
		counts [17]uint64
	}{
		{0, [17]uint64{50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 5, 3, 3, 2, 2, 2, 2}},
		{1, [17]uint64{1, 1, 2, 3, 3, 3, 4, 6, 50, 4, 2, 2, 2, 2, 2, 1, 1}},
		{0.5, [17]uint64{1, 3, 3, 4, 5, 6, 50, 50, 50, 50, 5, 3, 2, 2, 2, 2, 1}},
	}
	eachPath(t, func(t *testing.T, k Kernels) {
		for _, r := range rows {
			var want uint64
			for x, c := range r.counts {
				want += c * uint64(x+1)
			}
			g := workloads.Mandelbrot{Width: 17, Height: 1, MaxIter: 50, X0: -2, Y0: r.y0, DX: 0.25, DY: 1}
			if got := k.MandelbrotRow(&g, 0); got != want {
				t.Errorf("row y=%v: %d, want %d (counts %v)", r.y0, got, want, r.counts)
			}
			// Each pixel alone, so a wrong count shows where it is.
			for x, c := range r.counts {
				one := workloads.Mandelbrot{Width: 1, Height: 1, MaxIter: 50, X0: -2 + 0.25*float32(x), Y0: r.y0, DX: 0.25, DY: 1}
				if got := k.MandelbrotRow(&one, 0); got != c {
					t.Errorf("c = %v%+vi: %d iterations, want %d", one.X0, r.y0, got, c)
				}
			}
		}
	})
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
