package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decode reads text as a benchmark file named "bench.txt".
func decode(t *testing.T, text string) *Set {
	t.Helper()
	set, err := Decode(strings.NewReader(text), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestParseFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input string
		want        []Failure
	}{
		{"none", "BenchmarkNoop/strategy=blocking-2 10 5 ns/op\n", nil},
		{
			"reason lines",
			"goos: linux\n--- FAIL: BenchmarkMandelbrot/width=8/strategy=broken-2\n    digest mismatch: task 3\n\tsecond line\nok\n",
			[]Failure{{Name: "Mandelbrot/width=8/strategy=broken-2", Reason: "digest mismatch: task 3\nsecond line", File: "bench.txt", Line: 2}},
		},
		{
			"elapsed suffix and params in parens",
			"--- FAIL: BenchmarkHash/strategy=pool(workers=8)-2 (0.25s)\n",
			[]Failure{{Name: "Hash/strategy=pool(workers=8)-2", File: "bench.txt", Line: 1}},
		},
		{
			"back to back, tests ignored",
			"--- FAIL: TestUnit (0.00s)\n    x_test.go:1: boom\n--- FAIL: BenchmarkDot/strategy=a-2\n--- FAIL: BenchmarkDot/strategy=b-2\n  why\n",
			[]Failure{
				{Name: "Dot/strategy=a-2", File: "bench.txt", Line: 3},
				{Name: "Dot/strategy=b-2", Reason: "why", File: "bench.txt", Line: 4},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decode(t, tt.input).Failures
			if len(got) != len(tt.want) {
				t.Fatalf("got %d failures %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("failure %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(good, []byte("BenchmarkNoop/strategy=blocking-2 10 5 ns/op\n"), 0o644)
	nan := filepath.Join(dir, "nan.txt")
	os.WriteFile(nan, []byte("BenchmarkNoop/strategy=blocking-2 10 NaN ns/op\n"), 0o644)
	inf := filepath.Join(dir, "inf.txt")
	os.WriteFile(inf, []byte("BenchmarkNoop/strategy=blocking-2 10 1 ns/op Inf B/op\n"), 0o644)
	os.WriteFile(bad, []byte("goos: linux\nBenchmarkNoop/strategy=blocking-2 10 five ns/op\n"), 0o644)
	tests := []struct {
		name  string
		paths []string
		want  string // substring of the error; "" for none
	}{
		{"good", []string{good}, ""},
		{"missing file", []string{good, filepath.Join(dir, "nope.txt")}, "nope.txt"},
		{"syntax error names file:line", []string{good, bad}, bad + ":2: parsing measurement"},
		{"NaN is an error", []string{nan}, nan + ":1: sec/op is NaN, not a measurement"},
		{"Inf is an error", []string{inf}, inf + ":1: B/op is +Inf, not a measurement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Read(tt.paths...)
			if tt.want == "" {
				if err != nil || len(set.Results) != 1 {
					t.Fatalf("Read = %v, %v; want one result", set, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadSetsFileKey(t *testing.T) {
	t.Parallel()
	set := decode(t, "BenchmarkNoop/strategy=blocking-2 10 5 ns/op\n")
	if got := set.Results[0].GetConfig(".file"); got != "bench.txt" {
		t.Errorf(".file = %q, want bench.txt", got)
	}
}
