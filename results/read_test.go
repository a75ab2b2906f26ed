package results

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
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

// Values no benchmark can produce are errors with file:line, as NaN and
// Inf are: negative times, counts and rates, more errors than tasks, no
// iterations. A signed custom unit may be negative.
func TestReadRejectsImpossibleValues(t *testing.T) {
	t.Parallel()
	const head = "goos: linux\nBenchmarkNoop/strategy=blocking-2 10 5 ns/op\n"
	tests := []struct {
		name, line, want string
	}{
		{"negative ns/op", "BenchmarkNoop/strategy=pool-2 10 -5 ns/op", "bench.txt:3: sec/op is -5e-09: a time, count or rate cannot be negative"},
		{"negative tasks/s", "BenchmarkNoop/strategy=pool-2 10 5 ns/op -7733.5 tasks/s", "bench.txt:3: tasks/s is -7733.5"},
		{"negative B/s", "BenchmarkDot/strategy=pool-2 10 5 ns/op -1 B/s", "bench.txt:3: B/s is -1"},
		{"negative %bound", "BenchmarkNoop/strategy=pool-2 10 5 ns/op -1 %bound", "bench.txt:3: %bound is -1"},
		{"negative peak", "BenchmarkNoop/strategy=pool-2 10 5 ns/op -3 peak-threads", "bench.txt:3: peak-threads is -3"},
		{"errors above one", "BenchmarkNoop/strategy=pool-2 10 5 ns/op 1.5 errors/op", "bench.txt:3: errors/op is 1.5: more failed tasks than tasks"},
		{"zero iterations", "BenchmarkNoop/strategy=pool-2 0 5 ns/op", "bench.txt:3: 0 iterations"},
		{"negative iterations", "BenchmarkNoop/strategy=pool-2 -4 5 ns/op", "bench.txt:3: -4 iterations"},
		{"a unit twice", "BenchmarkNoop/strategy=pool-2 10 5 ns/op 1 B/s 2 B/s", "bench.txt:3: B/s twice on one line"},
		{"ns/op and sec/op are one unit", "BenchmarkNoop/strategy=pool-2 10 5 ns/op 1 sec/op", "bench.txt:3: sec/op twice"},
		{"signed custom unit", "BenchmarkNoop/strategy=pool-2 10 5 ns/op -3 delta", ""},
		{"all errors is possible", "BenchmarkNoop/strategy=pool-2 10 5 ns/op 1 errors/op", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Decode(strings.NewReader(head+tt.line+"\n"), "bench.txt")
			if tt.want == "" {
				if err != nil || len(set.Results) != 2 {
					t.Fatalf("Decode = %v; want two cells", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A killed append-only writer leaves a last line without its newline: Read
// ignores it with a warning, even where it would parse ("12" of "1234").
func TestReadIgnoresTornLastLine(t *testing.T) {
	t.Parallel()
	const whole = "goos: linux\nBenchmarkNoop/strategy=blocking-2 10 1234 sec/op\n"
	tests := []struct {
		name, input  string
		cells, fails int
		warning      string
	}{
		{"torn number", whole + "BenchmarkNoop/strategy=blocking-2 10 12", 1, 0, "bench.txt:3: ignored a torn last line (39 bytes"},
		{"torn unit", whole + "BenchmarkNoop/strategy=pool-2 10 1234 ns/", 1, 0, "bench.txt:3: ignored a torn last line"},
		{"torn FAIL record", whole + "--- FAIL: BenchmarkNoop/strategy=pool-2", 1, 0, "bench.txt:3: ignored a torn last line"},
		{"torn reason keeps its record", whole + "--- FAIL: BenchmarkNoop/strategy=pool-2\n    digest mis", 1, 1, "bench.txt:4: ignored"},
		{"trailing blanks are no line", whole + "  \t", 1, 0, ""},
		{"whole file", whole, 1, 0, ""},
		{"only a torn line", "BenchmarkNoop/strategy=blocking-2 10 1234 ns/op", 0, 0, "bench.txt:1: ignored a torn last line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Decode(strings.NewReader(tt.input), "bench.txt")
			if err != nil {
				t.Fatalf("Decode: %v (a torn last line must never be an error)", err)
			}
			if len(set.Results) != tt.cells || len(set.Failures) != tt.fails {
				t.Errorf("%d cells and %d failures, want %d and %d", len(set.Results), len(set.Failures), tt.cells, tt.fails)
			}
			if tt.cells == 1 {
				if got := set.Rounds(set.Results[0]).Of(TimeUnit); len(got) != 1 || got[0] != 1234 {
					t.Errorf("blocking's rounds %v, want the whole line's 1234 alone", got)
				}
			}
			switch {
			case tt.warning == "" && len(set.Warnings) > 0:
				t.Errorf("warnings %q, want none", set.Warnings)
			case tt.warning != "" && (len(set.Warnings) != 1 || !strings.Contains(set.Warnings[0], tt.warning)):
				t.Errorf("warnings %q, want one with %q", set.Warnings, tt.warning)
			}
		})
	}
}

// oneByteReader hands out its input a byte at a time, as a pipe may.
type oneByteReader struct{ s string }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0], r.s = r.s[0], r.s[1:]
	return 1, nil
}

// Read streams: whatever the chunks its source hands out, it finds the
// same results, failures and line numbers; lines across its own buffer's
// boundary included.
func TestReadStreams(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("goos: linux\nUnit tasks/s better=higher\n")
	for i := range 3000 { // about 200 KB: several of the reader's chunks
		fmt.Fprintf(&b, "BenchmarkNoop/tasks=%d/strategy=blocking-2 10 %d ns/op %d tasks/s\n", i%7, 100+i, 1000+i)
		if i%1000 == 999 {
			fmt.Fprintf(&b, "--- FAIL: BenchmarkNoop/tasks=%d/strategy=broken-2 (0.01s)\n    reason %d\n", i, i)
		}
	}
	text := b.String()
	whole, err := Decode(strings.NewReader(text), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	dribbled, err := Decode(&oneByteReader{text}, "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]*Set{"whole": whole, "a byte at a time": dribbled} {
		if len(set.Results) != 7 || len(set.Failures) != 3 {
			t.Fatalf("%s: %d cells and %d failures, want 7 and 3", name, len(set.Results), len(set.Failures))
		}
		n := 0
		for _, r := range set.Results {
			n += len(set.Rounds(r).Of(TimeUnit))
		}
		if n != 3000 {
			t.Errorf("%s: %d rounds, want 3000", name, n)
		}
		// Line 3 is the first result; each FAIL record follows its
		// 1000th result and adds two lines.
		if f := set.Failures[1]; f.Line != 2+2000+2+1 || f.Reason != "reason 1999" || f.Name != "Noop/tasks=1999/strategy=broken-2" {
			t.Errorf("%s: second failure %+v, want line 2005, reason 1999", name, f)
		}
		if got := set.Rounds(set.Results[3]).Of("tasks/s")[2]; got != 1000+3+2*7 {
			t.Errorf("%s: cell 3, round 3: %v tasks/s, want %d", name, got, 1000+3+2*7)
		}
	}
}

// A set keeps each cell once, with every round, and its first line's
// position for errors.
func TestReadKeepsOneResultPerCell(t *testing.T) {
	t.Parallel()
	set := decode(t, "commit: a\nBenchmarkX/strategy=p-2 10 1 sec/op\nBenchmarkX/strategy=q-2 10 2 sec/op\n"+
		"BenchmarkX/strategy=p-2 20 3 sec/op 7 B/op\ncommit: b\nBenchmarkX/strategy=p-2 30 4 sec/op\n")
	if len(set.Results) != 3 {
		t.Fatalf("%d results, want 3: p and q at commit a, p at commit b", len(set.Results))
	}
	p := set.Rounds(set.Results[0])
	if !slices.Equal(p.Iters, []int{10, 20}) || !slices.Equal(p.Of(TimeUnit), []float64{1, 3}) ||
		!slices.Equal(p.Of("B/op"), []float64{7}) {
		t.Errorf("p at commit a: %+v", p)
	}
	if _, line := set.Results[0].Pos(); line != 2 {
		t.Errorf("p's position: line %d, want 2", line)
	}
	if got := set.Results[2].GetConfig("commit"); got != "b" {
		t.Errorf("third cell at commit %q, want b", got)
	}
	if got := set.UnitNames(); !slices.Equal(got, []string{TimeUnit, "B/op"}) {
		t.Errorf("units %q", got)
	}
	// A hand-made result counts as one round, as a line would.
	set.Results = append(set.Results, &benchfmt.Result{Name: benchfmt.Name("X/strategy=r-2"), Iters: 1,
		Values: []benchfmt.Value{{Value: 5, Unit: TimeUnit}}})
	tabs := set.Tables(Options{Units: []string{TimeUnit}})
	if len(tabs) != 1 || len(tabs[0].Columns) != 3 {
		t.Fatalf("tables %+v", tabs)
	}
	kept := set.Filter(func(name string) bool { return strings.Contains(name, "strategy=p") })
	if len(kept.Results) != 2 || len(kept.Rounds(kept.Results[0]).Iters) != 2 {
		t.Errorf("Filter kept %d cells, first with %d rounds; want 2 and 2", len(kept.Results), len(kept.Rounds(kept.Results[0]).Iters))
	}
}
