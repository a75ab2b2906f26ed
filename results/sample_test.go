package results

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/strategies.txt from the generator")

// samplePath is the deterministic sample run that the equivalence test
// feeds to both this package and benchstat.
var samplePath = filepath.Join("testdata", "strategies.txt")

// A sampleCell describes one cell of the sample run.
type sampleCell struct {
	workload, params, strategy string
	nsPerTask                  float64 // true center
	noise                      float64 // relative standard deviation
	rounds                     int     // 0 means sampleRounds
	bytes                      float64 // B/op
}

const sampleRounds = 6

// sampleCells covers the cases benchstat formats differently: clear
// wins, differences within the noise ("~"), a row that lacks a strategy,
// a single-sample cell (no interval, a p-value of 1), values that need
// different SI prefixes in one row, and a zero B/op baseline.
var sampleCells = []sampleCell{
	{"Mandelbrot", "width=512/iter=64", "blocking", 52e3, 0.02, 0, 0},
	{"Mandelbrot", "width=512/iter=64", "goroutines", 27e3, 0.05, 0, 96},
	{"Mandelbrot", "width=512/iter=64", "pool(workers=8)", 26.5e3, 0.03, 0, 48},
	{"Mandelbrot", "width=512/iter=64", "simd", 900, 0.04, 0, 0},
	{"Mandelbrot", "width=1024/iter=256", "blocking", 420e3, 0.02, 0, 0},
	{"Mandelbrot", "width=1024/iter=256", "goroutines", 215e3, 0.06, 0, 96},
	{"Mandelbrot", "width=1024/iter=256", "pool(workers=8)", 212e3, 0.02, 0, 48},
	{"Mandelbrot", "width=1024/iter=256", "simd", 7.1e3, 0.05, 0, 0},
	{"Mandelbrot", "width=2048/iter=256", "blocking", 1.7e6, 0.03, 0, 0},
	{"Mandelbrot", "width=2048/iter=256", "goroutines", 1.71e6, 0.04, 0, 96},
	{"Mandelbrot", "width=2048/iter=256", "pool(workers=8)", 0.86e6, 0.03, 0, 48},
	{"Fanout", "latency=1ms/tasks=2000", "blocking", 1.05e6, 0.01, 0, 120},
	{"Fanout", "latency=1ms/tasks=2000", "goroutines", 1.9e3, 0.08, 0, 2200},
	{"Fanout", "latency=1ms/tasks=2000", "reactor(loops=1,offload=on)", 1.4e3, 0.05, 0, 310},
	{"Fanout", "latency=1ms/tasks=2000", "threads", 2.3e3, 0.1, 1, 4100},
	{"Fanout", "latency=5ms/tasks=2000", "blocking", 5.05e6, 0.01, 0, 120},
	{"Fanout", "latency=5ms/tasks=2000", "goroutines", 5.1e3, 0.08, 0, 2200},
	{"Fanout", "latency=5ms/tasks=2000", "reactor(loops=1,offload=on)", 5.0e3, 0.06, 0, 310},
}

// sampleFailure is a failed cell: benchstat ignores it, tables show it.
const sampleFailure = `--- FAIL: BenchmarkMandelbrot/width=1024/iter=256/strategy=broken-2
    digest mismatch: task 3: result differs from the scalar reference
`

// generateSample writes the sample run as the harness would: a header,
// unit metadata, then the cells round by round (interleaved), with
// normally distributed noise from a fixed seed.
func generateSample() []byte {
	rng := rand.New(rand.NewPCG(2026, 8))
	var b bytes.Buffer
	b.WriteString("goos: linux\ngoarch: amd64\ncpu: AMD EPYC 7B13\ngomaxprocs: 2\ngo: go1.26.8\ncommit: c80395f\n")
	b.WriteString("Unit tasks/s better=higher\n")
	for round := range sampleRounds {
		for _, c := range sampleCells {
			rounds := c.rounds
			if rounds == 0 {
				rounds = sampleRounds
			}
			if round >= rounds {
				continue
			}
			ns := c.nsPerTask * (1 + c.noise*rng.NormFloat64())
			// Round as a harness printing integers would, which
			// also produces the ties a rank test must handle.
			ns = math.Round(ns)
			p99 := ns * (1.2 + 0.1*rng.Float64()) / 1e9
			fmt.Fprintf(&b, "Benchmark%s/%s/strategy=%s-2\t%d\t%.0f ns/op\t%.4g tasks/s\t%.4g p99-sec/op\t%.0f B/op\n",
				c.workload, c.params, c.strategy, 2000, ns, 1e9/ns, p99, c.bytes)
		}
	}
	b.WriteString(sampleFailure)
	return b.Bytes()
}

func TestSampleIsCurrent(t *testing.T) {
	want := generateSample()
	if *update {
		if err := os.WriteFile(samplePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestSampleIsCurrent -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test -run TestSampleIsCurrent -update", samplePath)
	}
}
