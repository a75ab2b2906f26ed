package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rounds returns eight values spread ±1.75% around base: one cell's rounds.
func rounds(base float64) []float64 {
	out := make([]float64, 8)
	for i := range out {
		out[i] = base * (0.9825 + 0.005*float64(i))
	}
	return out
}

// noisy returns eight values that interleave with rounds(base).
func noisy(base float64) []float64 {
	out := make([]float64, 8)
	for i := range out {
		out[i] = base * (0.985 + 0.005*float64(i))
	}
	return out
}

// synthBench writes a bench file: a machine header (cpu overridable),
// unit lines, and per cell name one line a round in unit.
func synthBench(t *testing.T, dir, name, cpu, unit string, declare []string, cells map[string][]float64) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "goos: linux\ngoarch: amd64\ncpu: %s\ncpu-features: avx2\ngomaxprocs: 2\ngoexperiment: simd\n", cpu)
	for _, d := range declare {
		fmt.Fprintf(&b, "Unit %s\n", d)
	}
	for cell, vs := range cells {
		for _, v := range vs {
			fmt.Fprintf(&b, "Benchmark%s\t1\t%g %s\n", cell, v, unit)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompareExitCodes(t *testing.T) {
	t.Parallel()
	const cell = "Hash/tasks=100/strategy=pool-2"
	one := func(vs []float64) map[string][]float64 { return map[string][]float64{cell: vs} }
	// Four cells, one 7% slower at a raw p of 0.021: significant alone,
	// not after Benjamini–Hochberg's or Holm's correction over four.
	marginal := func(shift float64) map[string][]float64 {
		m := map[string][]float64{}
		for i := range 3 {
			vs := rounds(100)
			if shift != 0 {
				vs = noisy(100)
			}
			m[fmt.Sprintf("Mixed/cpu=%dus/strategy=pool-2", 100*(i+1))] = vs
		}
		var vs []float64
		for i := range 8 {
			vs = append(vs, 100+2*float64(i)+shift)
		}
		m["Mixed/cpu=50us/strategy=pool-2"] = vs
		return m
	}
	tests := []struct {
		name       string
		oldCPU     string
		unit       string
		declare    []string
		old, new   map[string][]float64
		flags      []string
		want       int
		wantStderr string
		wantStdout string
	}{
		{name: "clear regression", old: one(rounds(100)), new: one(rounds(120)), want: 1,
			wantStderr: cell + " sec/op: 100.0n → 120.0n (+20.00%, p=0.000155)"},
		{name: "noise", old: one(rounds(100)), new: one(noisy(100)), want: 0, wantStdout: "No regressions"},
		{name: "improvement", old: one(rounds(100)), new: one(rounds(80)), want: 0, wantStdout: "1 improvement(s)"},
		{name: "below threshold", old: one(rounds(100)), new: one(rounds(104)), want: 0, wantStdout: "within threshold"},
		{name: "threshold lowered", old: one(rounds(100)), new: one(rounds(104)), flags: []string{"--threshold", "2%"}, want: 1},
		{name: "better=higher decreasing", unit: "frobs/op", declare: []string{"frobs/op better=higher"},
			old: one(rounds(100)), new: one(rounds(80)), flags: []string{"--units", "frobs/op"}, want: 1},
		{name: "marginal change in one cell of four (bh)", old: marginal(0), new: marginal(7.5), want: 0},
		{name: "holm", old: marginal(0), new: marginal(7.5), flags: []string{"--correction", "holm"}, want: 0},
		{name: "no correction", old: marginal(0), new: marginal(7.5), flags: []string{"--correction", "none"}, want: 1},
		{name: "mismatched cpu", oldCPU: "Intel Xeon", old: one(rounds(100)), new: one(rounds(120)), want: 2,
			wantStderr: "cpu: Intel Xeon vs AMD EPYC"},
		{name: "allow mismatch", oldCPU: "Intel Xeon", old: one(rounds(100)), new: one(rounds(120)),
			flags: []string{"--allow-mismatch"}, want: 1, wantStdout: "different machines"},
		{name: "too few samples", old: one(rounds(100)[:3]), new: one(rounds(120)[:3]), want: 2, wantStderr: "needs ≥4 each"},
		{name: "bad flag", old: one(rounds(100)), new: one(rounds(100)), flags: []string{"--bogus"}, want: 2},
		{name: "bad format", old: one(rounds(100)), new: one(rounds(100)), flags: []string{"--format", "xml"}, want: 2},
		{name: "json", old: one(rounds(100)), new: one(rounds(120)), flags: []string{"--format", "json"}, want: 1,
			wantStdout: `"regressions": 1`},
		{name: "calibrate", old: one(rounds(100)), new: one(noisy(100)), flags: []string{"--calibrate"}, want: 0,
			wantStdout: "smallest --threshold that held"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cpu, unit := "AMD EPYC", "ns/op"
			if tt.oldCPU != "" {
				cpu = tt.oldCPU
			}
			if tt.unit != "" {
				unit = tt.unit
			}
			oldPath := synthBench(t, dir, "old.txt", cpu, unit, tt.declare, tt.old)
			newPath := synthBench(t, dir, "new.txt", "AMD EPYC", unit, tt.declare, tt.new)
			var stdout, stderr bytes.Buffer
			args := append(append([]string{}, tt.flags...), "base="+oldPath, "head="+newPath)
			code := runCompare(args, &stdout, &stderr)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, stdout.String())
			}
		})
	}
}

func TestCompareFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := synthBench(t, dir, "good.txt", "AMD EPYC", "ns/op", nil, map[string][]float64{"Noop-2": rounds(1)})
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("goos: linux\nBenchmarkNoop-2\t1\t12 ns/op\nBenchmarkNoop-2\tone\t12 ns/op\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	slower := synthBench(t, dir, "slower.txt", "AMD EPYC", "ns/op", nil, map[string][]float64{"Noop-2": rounds(1.07)})
	empty := filepath.Join(dir, "empty.txt")
	negative := filepath.Join(dir, "negative.txt")
	torn := filepath.Join(dir, "torn.txt")
	goodText, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for path, text := range map[string]string{empty: "", negative: "goos: linux\nBenchmarkNoop-2\t1\t-1 ns/op\n",
		torn: string(goodText) + "BenchmarkNoop-2\t1\t1.0"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "nope", "bench.txt")
	// A run folder stands for its bench.txt.
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	synthBench(t, run, "bench.txt", "AMD EPYC", "ns/op", nil, map[string][]float64{"Noop-2": rounds(1)})
	for _, tt := range []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"missing", []string{good, missing}, 2, missing},
		{"malformed", []string{bad, good}, 2, bad + ":3"},
		{"one argument", []string{good}, 2, "want OLD and NEW"},
		{"run folder", []string{good, run}, 0, ""},
		// slower is 7% slower than good: a regression at the default
		// 5%, none at 10%, so this fails if a flag after the paths
		// is ignored.
		{"regression at the default threshold", []string{good, slower}, 1, "regression"},
		{"flags after paths", []string{good, slower, "--units", "sec/op", "--threshold", "10%"}, 0, ""},
		{"empty file", []string{good, empty}, 2, empty + ": no benchmark results"},
		{"negative value", []string{good, negative}, 2, negative + ":2: sec/op is -1e-09"},
		{"torn last line", []string{good, torn}, 0, "warning: " + torn + ":15: ignored a torn last line"},
		{"three paths", []string{good, run, good}, 2, "got 3 arguments"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runCompare(tt.args, &stdout, &stderr); code != tt.want {
			t.Errorf("%s: exit %d, want %d\n%s", tt.name, code, tt.want, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.wantStderr) {
			t.Errorf("%s: stderr lacks %q:\n%s", tt.name, tt.wantStderr, stderr.String())
		}
	}
}

// A cell that fails only in NEW fails the gate (exit 1) and says why;
// cells that vanished from NEW are reported, on stdout and stderr, whatever
// the format.
func TestCompareNewFailureAndMissingCells(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cells := map[string][]float64{"Hash/strategy=pool-2": rounds(100), "Hash/strategy=blocking-2": rounds(200),
		"Dot/strategy=pool-2": rounds(50)}
	old := synthBench(t, dir, "old.txt", "AMD EPYC", "ns/op", nil, cells)
	// NEW: pool fails on Hash, Dot is gone, blocking is unchanged.
	newPath := synthBench(t, dir, "new.txt", "AMD EPYC", "ns/op", nil, map[string][]float64{"Hash/strategy=blocking-2": noisy(200)})
	f, err := os.OpenFile(newPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "--- FAIL: BenchmarkHash/strategy=pool-2\n    digest mismatch: task 3\n")
	f.Close()
	for _, format := range []string{"text", "markdown", "csv", "json"} {
		var stdout, stderr bytes.Buffer
		code := runCompare([]string{"--format", format, "base=" + old, "head=" + newPath}, &stdout, &stderr)
		if code != exitRegressions {
			t.Errorf("%s: exit %d, want %d (a cell failed in head)\n%s", format, code, exitRegressions, stderr.String())
		}
		for _, want := range []string{"Hash/strategy=pool-2: failed in head: digest mismatch: task 3",
			"1 cell(s) of base missing from head, not judged:\n  Dot/strategy=pool-2"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: stderr lacks %q:\n%s", format, want, stderr.String())
			}
		}
		if !strings.Contains(stdout.String(), "Dot/strategy=pool-2") {
			t.Errorf("%s: stdout does not list the missing cell:\n%s", format, stdout.String())
		}
	}
}

// --simulate-slowdown reports the gate's power on an A/A pair, the same
// every time; --calibrate what each cell can resolve.
func TestCompareSimulateAndCalibrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := map[string][]float64{}, map[string][]float64{}
	for i := range 4 {
		a[fmt.Sprintf("Hash/size=%d/strategy=pool-2", i)] = rounds(100)
		b[fmt.Sprintf("Hash/size=%d/strategy=pool-2", i)] = noisy(100)
	}
	aPath := synthBench(t, dir, "a.txt", "AMD EPYC", "ns/op", nil, a)
	bPath := synthBench(t, dir, "b.txt", "AMD EPYC", "ns/op", nil, b)
	run := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := runCompare(append(args, aPath, bPath), &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}
	out, code := run("--simulate-slowdown", "2%,10%")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"│      10% │  8 of 8 │  100% │", "│       2% │  0 of 8 │  0.0% │",
		"0 false regressions of 8 cells judged", "Benjamini–Hochberg over 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulation lacks %q:\n%s", want, out)
		}
	}
	if again, _ := run("--simulate-slowdown", "2%,10%"); again != out {
		t.Errorf("not deterministic:\n%s\n%s", out, again)
	}
	if out, _ := run("--simulate-slowdown", "2%", "--threshold", "1%"); !strings.Contains(out, "│       2% │  8 of 8 │") {
		t.Errorf("a 2%% slowdown against a 1%% threshold is not flagged everywhere:\n%s", out)
	}
	for _, bad := range []string{"0", "-5%", "fast"} {
		if out, code := run("--simulate-slowdown", bad); code != exitCompareError || !strings.Contains(out, "--simulate-slowdown") {
			t.Errorf("--simulate-slowdown %s: exit %d\n%s", bad, code, out)
		}
	}
	out, code = run("--calibrate")
	if code != exitOK || !strings.Contains(out, "detectable") || !strings.Contains(out, "rounds for 5%") {
		t.Errorf("calibrate: exit %d\n%s", code, out)
	}
	if out, code := run("--correction", "fdr", "--threshold", "0"); code != exitOK || !strings.Contains(out, "Benjamini–Hochberg") {
		t.Errorf("--correction fdr: exit %d\n%s", code, out)
	}
}
