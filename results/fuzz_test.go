package results

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// FuzzRead checks a property of reading, on any input: a Set that Decode
// accepts, written back with Set.Write and read again, is the same Set
// (cells, configurations, rounds, failures, unit metadata), and every
// value in it is one a benchmark can produce. Whatever it reads, table
// building and every format must not fail or panic.
func FuzzRead(f *testing.F) {
	for _, path := range []string{samplePath, matrixPath} {
		if sample, err := os.ReadFile(path); err == nil {
			f.Add(sample)
		}
	}
	f.Add([]byte("BenchmarkNoop/strategy=blocking-2 1 NaN ns/op 0 B/op\nBenchmarkNoop/strategy=x-2 1 -Inf ns/op\n"))
	f.Add([]byte("Unit x better=higher\nBenchmark/strategy=(a=b-2 3 1 x\n--- FAIL: Benchmark\n\t\n--- FAIL: Benchmark-\n"))
	f.Add([]byte("BenchmarkA/strategy=a/strategy=b 1 1e308 sec/op\nBenchmarkA/=/strategy=-2 1 -1 sec/op\n"))
	f.Add([]byte("BenchmarkStream/op=sum/strategy=simd(p=1)-2 1 5e10 B/s\nBenchmarkDot/strategy=simd(p=2)-2 1 0 B/s\n"))
	f.Add([]byte("commit: a\nBenchmarkX-2 2 1 ns/op 3 B/op\ncommit: b\nBenchmarkX-2 2 1 ns/op\ncommit: a\nBenchmarkX-2 4 2 ns/op\n" +
		"--- FAIL: BenchmarkX-2 (0.01s)\n    why\n\tBenchmarkY 1 1 ns/op\nBenchmarkZ 1 2 MB/s\nBenchmarkZ 1 3 ns/op -2 d"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Decode(bytes.NewReader(data), "fuzz.txt")
		if err != nil {
			return
		}
		for r, rs := range set.cells() {
			if r.Iters < 1 || len(rs.Iters) == 0 {
				t.Fatalf("%s: %d rounds, first with %d iterations", r.Name, len(rs.Iters), r.Iters)
			}
			for u, unit := range rs.Units {
				for _, v := range rs.Values[u] {
					if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 && cannotBeNegative(unit) {
						t.Fatalf("%s: %v %s was read", r.Name, v, unit)
					}
				}
			}
		}
		var out bytes.Buffer
		if err := set.Write(&out); err != nil {
			t.Fatal(err)
		}
		again, err := Decode(bytes.NewReader(out.Bytes()), "again.txt")
		if err != nil {
			t.Fatalf("reading what Write wrote: %v\ninput:\n%q\nwritten:\n%s", err, data, out.String())
		}
		if diff := setDiff(set, again); diff != "" {
			t.Fatalf("write → read changed the set: %s\ninput:\n%q\nwritten:\n%s", diff, data, out.String())
		}
		for _, f := range []Format{Text, ASCII, Markdown, CSV, JSON} {
			for _, compact := range []bool{false, true} {
				opts := Options{Format: f, AllUnits: true, Compact: compact}
				if err := WriteTables(io.Discard, set, opts); err != nil {
					t.Fatal(err)
				}
				opts.Summary = true
				if err := WriteTables(io.Discard, set, opts); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := WriteUnstable(io.Discard, set, Options{Compact: true}); err != nil {
			t.Fatal(err)
		}
	})
}

// setDiff describes the first difference between two sets, or returns ""
// when they hold the same cells, configurations (file keys; ".file"
// names the stream), rounds, failures and unit metadata.
func setDiff(a, b *Set) string {
	if len(a.Results) != len(b.Results) {
		return fmt.Sprintf("%d cells, then %d", len(a.Results), len(b.Results))
	}
	fileConfig := func(r *benchfmt.Result) map[string]string {
		m := map[string]string{}
		for _, c := range r.Config {
			if c.File {
				m[c.Key] = string(c.Value)
			}
		}
		return m
	}
	for i, ra := range a.Results {
		rb := b.Results[i]
		if !bytes.Equal(ra.Name, rb.Name) {
			return fmt.Sprintf("cell %d: %q, then %q", i, ra.Name, rb.Name)
		}
		if ca, cb := fileConfig(ra), fileConfig(rb); fmt.Sprint(ca) != fmt.Sprint(cb) {
			return fmt.Sprintf("cell %s: configuration %v, then %v", ra.Name, ca, cb)
		}
		sa, sb := a.Rounds(ra), b.Rounds(rb)
		if !slices.Equal(sa.Units, sb.Units) {
			return fmt.Sprintf("cell %s: units %q, then %q", ra.Name, sa.Units, sb.Units)
		}
		ragged := false
		for u := range sa.Units {
			if !slices.Equal(sa.Values[u], sb.Values[u]) {
				return fmt.Sprintf("cell %s %s: %v, then %v", ra.Name, sa.Units[u], sa.Values[u], sb.Values[u])
			}
			ragged = ragged || len(sa.Values[u]) != len(sa.Iters)
		}
		// Write puts a unit that fewer rounds reported on the first
		// rounds, so only a cell whose rounds all report every unit
		// keeps each round's iteration count.
		if !ragged && !slices.Equal(sa.Iters, sb.Iters) {
			return fmt.Sprintf("cell %s: iterations %v, then %v", ra.Name, sa.Iters, sb.Iters)
		}
	}
	if len(a.Failures) != len(b.Failures) {
		return fmt.Sprintf("%d failures, then %d", len(a.Failures), len(b.Failures))
	}
	for i, fa := range a.Failures {
		if fb := b.Failures[i]; fa.Name != fb.Name || fa.Reason != fb.Reason {
			return fmt.Sprintf("failure %d: %q (%q), then %q (%q)", i, fa.Name, fa.Reason, fb.Name, fb.Reason)
		}
	}
	if len(a.Units) != len(b.Units) {
		return fmt.Sprintf("%d unit declarations, then %d", len(a.Units), len(b.Units))
	}
	for k, ma := range a.Units {
		if mb, ok := b.Units[k]; !ok || ma.Value != mb.Value {
			return fmt.Sprintf("unit %v: %v, then %v", k, ma, mb)
		}
	}
	return ""
}

// Writing a set and reading it back gives the same set: the samples of
// this package, and a file whose configuration changes back and forth.
func TestWriteReadRoundTrip(t *testing.T) {
	t.Parallel()
	for _, path := range []string{samplePath, matrixPath, "testdata/compare/old.txt"} {
		set, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := set.Write(&out); err != nil {
			t.Fatal(err)
		}
		again, err := Decode(&out, path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := setDiff(set, again); diff != "" {
			t.Errorf("%s: %s", path, diff)
		}
		if len(set.Failures) == 0 && path != "testdata/compare/old.txt" {
			t.Errorf("%s: no failure to round-trip", path)
		}
	}
}
