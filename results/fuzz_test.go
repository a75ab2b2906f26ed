package results

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// FuzzRead feeds arbitrary input through reading, table building and
// every format: none may panic, whatever the input.
func FuzzRead(f *testing.F) {
	if sample, err := os.ReadFile(samplePath); err == nil {
		f.Add(sample)
	}
	f.Add([]byte("BenchmarkNoop/strategy=blocking-2 1 NaN ns/op 0 B/op\nBenchmarkNoop/strategy=x-2 1 -Inf ns/op\n"))
	f.Add([]byte("Unit x better=higher\nBenchmark/strategy=(a=b-2 3 1 x\n--- FAIL: Benchmark\n\t\n--- FAIL: Benchmark-\n"))
	f.Add([]byte("BenchmarkA/strategy=a/strategy=b 1 1e308 sec/op\nBenchmarkA/=/strategy=-2 1 -1 sec/op\n"))
	f.Add([]byte("BenchmarkStream/op=sum/strategy=simd(p=1)-2 1 5e10 B/s\nBenchmarkDot/strategy=simd(p=2)-2 1 0 B/s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Decode(bytes.NewReader(data), "fuzz.txt")
		if err != nil {
			return
		}
		for _, f := range []Format{Text, ASCII, Markdown, CSV} {
			for _, compact := range []bool{false, true} {
				if err := WriteTables(io.Discard, set, Options{Format: f, AllUnits: true, Compact: compact}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
