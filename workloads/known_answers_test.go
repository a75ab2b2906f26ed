package workloads

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/concbench/concbench/params"
)

// The tests here hold the scalar kernels and the references built from
// them to answers that do not come from them: published FNV-1a vectors,
// Go's hash/fnv, closed forms, escape counts worked out by hand, and a
// task executor written from PROTOCOL.md's definitions (the one every
// out-of-process strategy implements) rather than from this package's
// code.

// fnvVectors are published FNV-1a 64-bit test vectors (the FNV reference
// test suite).
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

// stdFNV is FNV-1a by the standard library, continuing from the hash of
// prefix: a seeded hash is the hash of prefix+msg.
func stdFNV(prefix, msg []byte) uint64 {
	h := fnv.New64a()
	h.Write(prefix)
	h.Write(msg)
	return h.Sum64()
}

func TestFNV1aScalarKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, v := range fnvVectors {
		if got := stdFNV(nil, []byte(v.msg)); got != v.sum {
			t.Fatalf("hash/fnv(%q) = %#x, published %#x: the vector table is wrong", v.msg, got, v.sum)
		}
		if got := FNV1aScalar(FNVOffset, []byte(v.msg)); got != v.sum {
			t.Errorf("FNV1aScalar(%q) = %#x, want %#x", v.msg, got, v.sum)
		}
	}
	if FNVOffset != 14695981039346656037 || FNVPrime != 1099511628211 {
		t.Errorf("FNV-1a 64 parameters %d, %d: not the published offset basis and prime", FNVOffset, FNVPrime)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		prefix, msg := make([]byte, r.IntN(40)), make([]byte, r.IntN(300))
		for i := range prefix {
			prefix[i] = byte(r.Uint32())
		}
		for i := range msg {
			msg[i] = byte(r.Uint32())
		}
		seed := stdFNV(nil, prefix)
		if got, want := FNV1aScalar(seed, msg), stdFNV(prefix, msg); got != want {
			t.Fatalf("FNV1aScalar(hash of %d bytes, %d bytes) = %#x, hash/fnv %#x", len(prefix), len(msg), got, want)
		}
	}
}

// TestScalarArithmeticKnownAnswers checks DotScalar, SumScalar and
// TriadScalar against closed forms on integer inputs (exact in float32
// below 2^24): Σi = n(n-1)/2, Σi² = n(n-1)(2n-1)/6, Σ(-1)^i·i.
func TestScalarArithmeticKnownAnswers(t *testing.T) {
	t.Parallel()
	const most = 70
	ramp, ones, signs := make([]float32, most), make([]float32, most), make([]float32, most)
	for i := range most {
		ramp[i], ones[i], signs[i] = float32(i), 1, float32(1-2*(i%2))
	}
	for n := 0; n <= most; n++ {
		x, y, z := ramp[:n], ones[:n], signs[:n]
		tri := float32(n * (n - 1) / 2)
		alt := float32(-n / 2)
		if n%2 == 1 {
			alt = float32((n - 1) / 2)
		}
		for _, c := range []struct {
			name      string
			got, want float32
		}{
			{"DotScalar(i, 1)", DotScalar(x, y), tri},
			{"DotScalar(i, i)", DotScalar(x, x), float32(n * (n - 1) * (2*n - 1) / 6)},
			{"DotScalar(i, ±1)", DotScalar(x, z), alt},
			{"SumScalar(i)", SumScalar(x), tri},
		} {
			if c.got != c.want {
				t.Fatalf("len %d: %s = %v, want %v", n, c.name, c.got, c.want)
			}
		}
		out := make([]float32, n)
		// a[i] = i + 3·(±1); the sum is Σi + 3·Σ(±1), Σ(±1) being n mod 2.
		if got, want := TriadScalar(out, x, z, TriadScale), tri+TriadScale*float32(n%2); got != want {
			t.Fatalf("len %d: TriadScalar = %v, want %v", n, got, want)
		}
		for i := range n {
			if want := float32(i) + TriadScale*z[i]; out[i] != want {
				t.Fatalf("len %d: TriadScalar a[%d] = %v, want %v", n, i, out[i], want)
			}
		}
	}
	if TriadScale != 3 {
		t.Errorf("TriadScale = %v: PROTOCOL.md and the stream workload's exactness argument say 3", TriadScale)
	}
}

// TestMandelbrotRowScalarKnownAnswers checks the reference kernel against
// escape counts worked out by hand: the n of the first iterate z_n (z_0 =
// 0, z_n+1 = z_n² + c) with |z_n|² > 4, or MaxIter, weighted by x+1.
func TestMandelbrotRowScalarKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		cr, ci float32
		want   uint64 // of 50 iterations at most
	}{
		{"0 stays", 0, 0, 50},
		{"-1 cycles 0, -1", -1, 0, 50},
		{"-2 reaches 2 and stays", -2, 0, 50},
		{"i cycles -1+i, -i", 0, 1, 50},
		{"0.5: 0.5, 0.75, 1.0625, 1.6289, 3.1533", 0.5, 0, 5},
		{"1: 1, 2, 5", 1, 0, 3},
		{"2: 2, 6", 2, 0, 2},
		{"-2+i: |c|² = 5", -2, 1, 1},
		{"2+2i: |c|² = 8", 2, 2, 1},
	} {
		g := Mandelbrot{Width: 1, Height: 1, MaxIter: 50, X0: c.cr, Y0: c.ci, DX: 1, DY: 1}
		if got := MandelbrotRowScalar(&g, 0); got != c.want {
			t.Errorf("c = %v%+vi (%s): %d, want %d", c.cr, c.ci, c.name, got, c.want)
		}
	}
	// A row weighs each count by x+1: counts 50, 3 and 2 (c = 0, 1, 2).
	g := Mandelbrot{Width: 3, Height: 1, MaxIter: 50, X0: 0, Y0: 0, DX: 1, DY: 1}
	if got, want := MandelbrotRowScalar(&g, 0), uint64(50*1+3*2+2*3); got != want {
		t.Errorf("row c = 0, 1, 2: %d, want %d", got, want)
	}
	// Row y maps to ci = y·DY + Y0: row 2 of DY 0.5, Y0 0 is ci = 1.
	g = Mandelbrot{Width: 1, Height: 3, MaxIter: 50, X0: -2, Y0: 0, DX: 1, DY: 0.5}
	if got := MandelbrotRowScalar(&g, 2); got != 1 {
		t.Errorf("row 2 at c = -2+i: %d, want 1", got)
	}
}

// Independent implementations of PROTOCOL.md's definitions.

func fnvRef(h uint64, msg []byte) uint64 {
	for _, c := range msg {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func mixRef(h, v uint64) uint64 {
	h = (h ^ v) * 1099511628211
	return h ^ h>>29
}

// mandelbrotRef computes a row in float64, rounding every operation to
// float32 (a float64 result of +, - or × of two float32 values rounded to
// float32 is the float32 operation's result): the float32 arithmetic the
// reference does, by another route.
func mandelbrotRef(g *Mandelbrot, y int) uint64 {
	r := func(x float64) float64 { return float64(float32(x)) }
	ci := r(r(float64(y)*float64(g.DY)) + float64(g.Y0))
	var sum uint64
	for x := range g.Width {
		cr := r(r(float64(x)*float64(g.DX)) + float64(g.X0))
		zr, zi := 0.0, 0.0
		n := 0
		for ; n < g.MaxIter; n++ {
			zr2, zi2 := r(zr*zr), r(zi*zi)
			if r(zr2+zi2) > 4 {
				break
			}
			zi = r(r(r(zr+zr)*zi) + ci)
			zr = r(r(zr2-zi2) + cr)
		}
		sum += uint64(n) * uint64(x+1)
	}
	return sum
}

// resultRef executes task i of s as PROTOCOL.md defines it, fetching from
// a backend holding secret.
func resultRef(t *testing.T, s *Spec, secret uint64, i int) Result {
	t.Helper()
	const offset = 14695981039346656037
	var sum, last uint64
	var value float64
	in := &s.Input
	for _, st := range s.Tasks[i].Steps {
		if st.Kind == StepFetch {
			key := st.Key
			if st.KeyFromReply {
				key = "user:" + strconv.FormatUint(last, 16)
			}
			h := fnvRef(offset, SecretValue(secret, key, s.Backend.ValueSize))
			sum, last = mixRef(sum, h), h
			continue
		}
		switch st.Kernel {
		case KernelNoop:
			sum = mixRef(sum, uint64(i))
		case KernelDot: // the inputs make every partial sum exact
			for j := st.Lo; j < st.Hi; j++ {
				value += float64(in.A[j]) * float64(in.B[j])
			}
		case KernelMandelbrot:
			sum = mixRef(sum, mandelbrotRef(in.Mandelbrot, st.Lo))
		case KernelHash:
			msg := in.Messages[st.Lo*in.MessageSize : (st.Lo+1)*in.MessageSize]
			sum = mixRef(sum, fnvRef(offset, msg))
		case KernelRender:
			head := fmt.Sprintf("HTTP/1.1 200 OK\r\nX-Request: %d\r\nETag: %x%x\r\n\r\n", i, sum, last)
			sum = mixRef(sum, fnvRef(fnvRef(offset, []byte(head)), renderBody))
		case KernelBurst:
			h := sum
			for range st.Lo {
				h = fnvRef(h, burstBlock[:])
			}
			sum = mixRef(sum, h)
		case KernelSum:
			for j := st.Lo; j < st.Hi; j++ {
				value += float64(in.Stream.B[j])
			}
		case KernelTriad:
			for j := st.Lo; j < st.Hi; j++ {
				value += float64(in.Stream.B[j]) + 3*float64(in.Stream.C[j])
			}
		default:
			t.Fatalf("%s: kernel %v has no independent reference here: add one", s.Workload, st.Kernel)
		}
	}
	return Result{Sum: sum, Value: value}
}

// referenceParams keep each workload small for TestReferencesFromIndependentKernels.
var referenceParams = map[string]params.Values{
	"noop":       {"tasks": "50"},
	"dot":        {"tasks": "32", "size": "100", "span": "1000"},
	"mandelbrot": {"width": "45", "rows": "6", "iter": "120"},
	"hash":       {"tasks": "40", "size": "29"},
	"fanout":     {"tasks": "20", "backends": "3", "size": "77"},
	"webrequest": {"tasks": "12"},
	"mixed":      {"tasks": "6", "cpu": "20us"},
	"stream":     {"op": "triad", "bytes": "12000", "chunk": "300"},
	"serve":      {"pages": "5", "latency": "0s"},
}

// TestReferencesFromIndependentKernels checks every workload's reference
// results, built with the scalar kernels, against the independent
// executor, for a backend with a secret: a wrong kernel, a wrong fold, a
// fetch of the wrong key or the wrong value, in the reference or in what
// every strategy is checked against, shows here.
func TestReferencesFromIndependentKernels(t *testing.T) {
	t.Parallel()
	for _, d := range All() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			v, ok := referenceParams[d.Name]
			if !ok {
				t.Fatalf("no small parameters for workload %s: add them to referenceParams", d.Name)
			}
			s, err := d.Build(v)
			if err != nil {
				t.Fatal(err)
			}
			const secret = 0x7e57ab1e
			s.UseSecret(secret)
			for i := range s.Tasks {
				if err := s.Check(i, resultRef(t, s, secret, i)); err != nil {
					t.Fatalf("independent executor: %v", err)
				}
			}
		})
	}
}
