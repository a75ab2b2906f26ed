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
	// not after Holm's correction over four.
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
		{name: "holm", old: marginal(0), new: marginal(7.5), want: 0},
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
		{"flags after paths", []string{good, run, "--units", "sec/op", "--threshold", "10%"}, 0, ""},
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
