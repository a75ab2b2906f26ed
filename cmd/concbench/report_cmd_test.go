package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/concbench/concbench/profiles"
)

// matrixBench is a realistic run of the whole matrix with 14 strategies,
// the Python ones included (results/matrix_test.go writes it).
var matrixBench = filepath.Join("..", "..", "results", "testdata", "matrix.txt")

// overWidth returns the lines of out wider than width columns.
func overWidth(out string, width int) []string {
	var long []string
	for _, l := range strings.Split(out, "\n") {
		if utf8.RuneCountInString(l) > width {
			long = append(long, l)
		}
	}
	return long
}

// What make bench and report print fits a 120-column terminal, with 14
// strategies: the run's summary, report's summary and --all, in text and
// ASCII, and the unstable-cells warning that ends a run.
func TestReportFits120Columns(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"--all"}, {"--format", "ascii"}, {"--all", "--format", "ascii"}, {"--units", "all"}} {
		var stdout, stderr bytes.Buffer
		if code := runReport(append(args, matrixBench), &stdout, &stderr); code != exitOK {
			t.Fatalf("report %v: exit %d\n%s", args, code, stderr.String())
		}
		if long := overWidth(stdout.String(), 120); len(long) > 0 {
			t.Errorf("report %v: %d lines over 120 columns, such as:\n%s", args, len(long), long[0])
		}
		for _, want := range []string{"py-twisted", "py-uvloop", "Webrequest: trade-off:", "FAILED", "! unstable", "✗ tasks failed"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("report %v lacks %q", args, want)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := printTables(&stdout, &stderr, matrixBench, "text", false); code != exitOK {
		t.Fatalf("printTables: exit %d\n%s", code, stderr.String())
	}
	if code := printUnstable(&stdout, &stderr, matrixBench, false); code != exitOK {
		t.Fatalf("printUnstable: exit %d\n%s", code, stderr.String())
	}
	if long := overWidth(stdout.String(), 120); len(long) > 0 {
		t.Errorf("the run's output: %d lines over 120 columns, such as:\n%s", len(long), long[0])
	}
	if !strings.Contains(stdout.String(), "Warning: 4 of 181 cells seem unstable") {
		t.Errorf("the run's output lacks the unstable-cells warning:\n%s", stdout.String())
	}
	// --wide is the full form, wider than a terminal.
	stdout.Reset()
	if code := runReport([]string{"--wide", matrixBench}, &stdout, &stderr); code != exitOK || len(overWidth(stdout.String(), 120)) == 0 {
		t.Errorf("report --wide: exit %d, and fits 120 columns: is it still the full form?", code)
	}
}

// report prints a summary by default: the verdicts and one table per
// workload on sec/op; --all and --units print the other tables.
func TestReportSummaryAndAll(t *testing.T) {
	t.Parallel()
	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runReport(append(args, matrixBench), &stdout, &stderr); code != exitOK {
			t.Fatalf("report %v: exit %d\n%s", args, code, stderr.String())
		}
		return stdout.String()
	}
	summary, all, p99 := run(), run("--all"), run("--units", "p99-sec/op")
	count := func(out, unit string) int { return strings.Count(out, "· "+unit+" (") }
	if count(summary, "sec/op") != 8 || count(summary, "tasks/s") != 0 || count(summary, "p99-sec/op") != 0 {
		t.Errorf("summary: %d sec/op tables, %d tasks/s, %d p99; want 8, 0, 0", count(summary, "sec/op"),
			count(summary, "tasks/s"), count(summary, "p99-sec/op"))
	}
	if count(all, "sec/op") != 8 || count(all, "tasks/s") != 8 || count(all, "errors/op") != 8 {
		t.Errorf("--all lacks tables: %d sec/op, %d tasks/s, %d errors/op", count(all, "sec/op"), count(all, "tasks/s"), count(all, "errors/op"))
	}
	if count(p99, "p99-sec/op") != 8 || count(p99, "sec/op") != 0 {
		t.Errorf("--units p99-sec/op: %d p99 tables, %d sec/op", count(p99, "p99-sec/op"), count(p99, "sec/op"))
	}
	for _, out := range []string{summary, all} {
		if !strings.Contains(out, "Fanout: not ranked: py-asyncio (tasks failed: errors/op up to 2.5%)") {
			t.Errorf("no verdict that leaves out the strategy with errors:\n%s", out)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := runReport([]string{"--max-cv", "off", matrixBench}, &stdout, &stderr); code != exitOK ||
		strings.Contains(stdout.String(), "unstable") {
		t.Errorf("--max-cv off: exit %d, still marks cells unstable", code)
	}
	if code := runReport([]string{"--max-cv", "0", matrixBench}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--max-cv 0: exit %d, want %d", code, exitUsage)
	}
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := runReport([]string{"--format", "json", matrixBench}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var doc struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
		Machine map[string]string
		Cells   []struct {
			Strategy string
			Results  map[string]struct{ Median float64 }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "concbench.results" || doc.Version != 1 || doc.Machine["cpu"] != "AMD EPYC" || len(doc.Cells) != 182 {
		t.Errorf("schema %q v%d, machine %v, %d cells", doc.Schema, doc.Version, doc.Machine, len(doc.Cells))
	}
	// Every unit, unless --units says otherwise.
	if r := doc.Cells[0].Results; len(r) != 15 {
		t.Errorf("first cell has %d units, want all 15", len(r))
	}
	stdout.Reset()
	if code := writeResultsJSON(&stdout, &stderr, matrixBench); code != exitOK || !strings.Contains(stdout.String(), `"schema": "concbench.results"`) {
		t.Errorf("writeResultsJSON: exit %d", code)
	}
}

// Input report cannot use exits 2 with the reason; a torn last line is a
// warning, not an error.
func TestReportBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := "goos: linux\nBenchmarkNoop/strategy=blocking-2 10 5 ns/op\n"
	tests := []struct {
		name, path string
		want       int
		stderr     string
	}{
		{"empty", file("empty.txt", ""), exitUsage, "empty.txt: no benchmark results"},
		{"garbage", file("garbage.txt", "hello\nworld\x00\x01\n"), exitUsage, "garbage.txt: no benchmark results"},
		{"negative ns/op", file("neg.txt", good+"BenchmarkNoop/strategy=pool-2 10 -5 ns/op\n"), exitUsage, "neg.txt:3: sec/op is -5e-09"},
		{"negative tasks/s", file("negrate.txt", good+"BenchmarkNoop/strategy=pool-2 10 5 ns/op -7733.5 tasks/s\n"), exitUsage, "negrate.txt:3: tasks/s is -7733.5"},
		{"NaN", file("nan.txt", good+"BenchmarkNoop/strategy=pool-2 10 NaN ns/op\n"), exitUsage, "nan.txt:3: sec/op is NaN"},
		{"malformed", file("bad.txt", good+"BenchmarkNoop/strategy=pool-2 ten 5 ns/op\n"), exitUsage, "bad.txt:3: parsing iteration count"},
		{"missing", filepath.Join(dir, "nope", "bench.txt"), exitUsage, "no such file"},
		{"torn last line", file("torn.txt", good+"BenchmarkNoop/strategy=blocking-2 10 4"), exitOK, "warning: " + filepath.Join(dir, "torn.txt") + ":3: ignored a torn last line"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := runReport([]string{tt.path}, &stdout, &stderr)
		if code != tt.want || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, code, stderr.String(), tt.want, tt.stderr)
		}
		if tt.want == exitOK && !strings.Contains(stdout.String(), "5.000n") {
			t.Errorf("%s: the whole line's 5ns is not in the table:\n%s", tt.name, stdout.String())
		}
	}
	// The binary says the same.
	_, stderr, code := concbench(t, dir, "report", filepath.Join(dir, "empty.txt"))
	if code != exitUsage || !strings.Contains(stderr, "no benchmark results") {
		t.Errorf("concbench report empty.txt: exit %d, %q", code, stderr)
	}
}

// The short breakdown sums a strategy's CPU samples over a workload's rows
// and names the two largest categories.
func TestTopShares(t *testing.T) {
	t.Parallel()
	cell := func(workload, strategy string, kind profiles.Kind, samples map[profiles.Category]int64) *profiles.Breakdown {
		b := &profiles.Breakdown{Cell: profiles.Cell{Workload: workload, Strategy: strategy}, Kind: kind}
		for c, n := range samples {
			b.By[c] += n
			b.Total += n
		}
		return b
	}
	bs := []*profiles.Breakdown{
		cell("fanout", "pool(workers=8)", profiles.CPU, map[profiles.Category]int64{profiles.Syscall: 50, profiles.Scheduler: 30, profiles.GC: 20}),
		cell("fanout", "pool(workers=8)", profiles.CPU, map[profiles.Category]int64{profiles.Syscall: 10, profiles.Scheduler: 40, profiles.Kernel: 50}),
		cell("fanout", "pool(workers=8)", profiles.Wall, map[profiles.Category]int64{profiles.Other: 1000}),
		cell("fanout", "blocking", profiles.CPU, map[profiles.Category]int64{profiles.Kernel: 1000}),
		cell("hash", "pool(workers=8)", profiles.CPU, map[profiles.Category]int64{profiles.Kernel: 1000}),
	}
	if got, want := topShares(bs, "Fanout", "pool(workers=8)", 2), "scheduler & sync 35%, syscalls & netpoll 30%"; got != want {
		t.Errorf("topShares = %q, want %q", got, want)
	}
	if got := topShares(bs, "Mixed", "pool(workers=8)", 2); got != "" {
		t.Errorf("topShares of an unprofiled workload = %q", got)
	}
}
