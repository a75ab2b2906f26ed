package simd

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// The kernel micro-benchmarks: one sub-benchmark a path, plus "reference"
// for the single-accumulator code in workloads. Sizes are the workloads'
// defaults.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench . ./strategies/simd/

func benchPaths(b *testing.B, f func(b *testing.B, k workloads.Kernels)) {
	b.Run("reference", func(b *testing.B) { f(b, workloads.Scalar) })
	for _, p := range Paths() {
		k, _ := NewKernels(p)
		b.Run(string(p), func(b *testing.B) { f(b, k) })
	}
}

var sinkF float32
var sinkU uint64

func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := eighths(r, 4096), eighths(r, 4096)
	benchPaths(b, func(b *testing.B, k workloads.Kernels) {
		b.SetBytes(int64(8 * len(x)))
		for b.Loop() {
			sinkF += k.Dot(x, y)
		}
	})
}

// BenchmarkStream times the stream kernels on one in-cache chunk (16 Ki
// floats, 64 KiB an array): their arithmetic speed. Out of cache they run
// at memory bandwidth; the stream workload measures that.
func BenchmarkStream(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	x, y, out := eighths(r, 16384), eighths(r, 16384), make([]float32, 16384)
	b.Run("sum", func(b *testing.B) {
		benchPaths(b, func(b *testing.B, k workloads.Kernels) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				sinkF += k.Sum(x)
			}
		})
	})
	b.Run("triad", func(b *testing.B) {
		benchPaths(b, func(b *testing.B, k workloads.Kernels) {
			b.SetBytes(int64(12 * len(x)))
			for b.Loop() {
				sinkF += k.Triad(out, x, y, workloads.TriadScale)
			}
		})
	})
}

func BenchmarkMandelbrotRow(b *testing.B) {
	// The mandelbrot workload's default image; one op is the whole image.
	g := workloads.Mandelbrot{Width: 1024, Height: 512, MaxIter: 256, X0: -2, Y0: -1.25, DX: 3.0 / 1024, DY: 2.5 / 512}
	benchPaths(b, func(b *testing.B, k workloads.Kernels) {
		for b.Loop() {
			for y := range g.Height {
				sinkU += k.MandelbrotRow(&g, y)
			}
		}
	})
}

func BenchmarkFNV1a(b *testing.B) {
	// 256 messages of 64 bytes: a batch of the hash workload's tasks.
	const count, size = 256, 64
	msgs := make([][]byte, count)
	flat := workloads.Value("bench", count*size)
	for i := range msgs {
		msgs[i] = flat[i*size : (i+1)*size]
	}
	out := make([]uint64, count)
	benchPaths(b, func(b *testing.B, k workloads.Kernels) {
		b.SetBytes(count * size)
		many, ok := k.(Kernels)
		for b.Loop() {
			if ok {
				many.FNV1aMany(workloads.FNVOffset, msgs, out)
				continue
			}
			for i, m := range msgs {
				out[i] = k.FNV1a(workloads.FNVOffset, m)
			}
		}
	})
}

// BenchmarkStrategy runs the simd strategy on the CPU workloads' quick
// sizes, on every path, next to the pool strategy (scalar kernels): one op
// is the whole job.
func BenchmarkStrategy(b *testing.B) {
	cases := []struct {
		name string
		v    params.Values
	}{
		{"dot", params.Values{"tasks": "4096"}},
		{"mandelbrot", params.Values{"rows": "128"}},
		{"hash", params.Values{"tasks": "20000"}},
	}
	for _, c := range cases {
		def, _ := workloads.Lookup(c.name)
		spec, err := def.Build(c.v)
		if err != nil {
			b.Fatal(err)
		}
		run := func(b *testing.B, name string, v params.Values) {
			sdef, _ := strategies.Lookup(name)
			s, _, err := sdef.New(v)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				job := strategies.NewJob(spec, nil, time.Second)
				if err := s.Run(context.Background(), job); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(c.name+"/pool", func(b *testing.B) { run(b, "pool", nil) })
		for _, p := range Paths() {
			b.Run(c.name+"/simd-"+string(p), func(b *testing.B) { run(b, "simd", params.Values{"path": string(p)}) })
		}
	}
}
