package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// and names the two largest categories, unless too few samples back them.
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
		cell("dot", "pool(workers=8)", profiles.CPU, map[profiles.Category]int64{profiles.Scheduler: 2, profiles.Kernel: 1}),
	}
	if got, want := topShares(bs, "Fanout", "pool(workers=8)", 2), "scheduler & sync 35%, syscalls & netpoll 30%"; got != want {
		t.Errorf("topShares = %q, want %q", got, want)
	}
	// Below profiles.MinBreakdownSamples, no percentages: 2 of 3 samples
	// is not "scheduler & sync 67%".
	if got, want := topShares(bs, "Dot", "pool(workers=8)", 2), "too few samples (3)"; got != want {
		t.Errorf("topShares on 3 samples = %q, want %q", got, want)
	}
	if got := topShares(bs, "Mixed", "pool(workers=8)", 2); got != "" {
		t.Errorf("topShares of an unprofiled workload = %q", got)
	}
}

// machineRuns lays out two run folders of the same matrix measured on two
// machines (results/testdata/machines: an EPYC 7763 at GOMAXPROCS 2 and
// a Xeon 8370C at 4, where simd fails a Fanout cell) under dir/runs, the
// first with the meta.json a run writes, and returns their paths
// relative to dir.
func machineRuns(t *testing.T, dir string) (epyc, xeon string) {
	t.Helper()
	for _, name := range []string{"epyc", "xeon"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "results", "testdata", "machines", name, "bench.txt"))
		if err != nil {
			t.Fatal(err)
		}
		run := filepath.Join(dir, "runs", name)
		if err := os.MkdirAll(run, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(run, "bench.txt"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := `{"id": "20261130-101500", "placement": "none", "machine": {"summary": "machine: ok (11 checks)"}, "cells": []}`
	if err := os.WriteFile(filepath.Join(dir, "runs", "epyc", "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join("runs", "epyc"), filepath.Join("runs", "xeon")
}

// report A B makes the machine a column: the built binary prints the
// machines, who wins on each, and per workload the strategies as rows
// with a figure, a speedup and a rank per machine; every format carries
// the machine.
func TestReportMachines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	epyc, xeon := machineRuns(t, dir)
	stdout, stderr, code := concbench(t, dir, "report", epyc, xeon)
	if code != exitOK {
		t.Fatalf("report %s %s: exit %d\n%s", epyc, xeon, code, stderr)
	}
	for _, want := range []string{
		"EPYC 7763 = AMD EPYC 7763 64-Core Processor · linux/amd64 · GOMAXPROCS 2",
		"run 20261130-101500 (runs/epyc/bench.txt) · machine: ok (11 checks)",
		"Xeon 8370C = Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz · linux/amd64 · GOMAXPROCS 4",
		"Fanout: fastest: simd on EPYC 7763 (10.00× vs blocking), pool on Xeon 8370C (5.00× vs blocking)",
		"│ Hash     │    EPYC 7763 │ speedup │ rank │   Xeon 8370C │ speedup │ rank │",
		"│ Fanout   │ EPYC 7763 │ speedup │ rank │ Xeon 8370C │ speedup │ rank │",
		"│ pool     │   158.11µ │   2.00× │    2 │     126.5µ │   5.00× │    1 │",
		"│ simd     │    31.62µ │  10.00× │    1 │     FAILED │         │    - │",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report A B lacks %q:\n%s", want, stdout)
		}
	}
	if long := overWidth(stdout, 120); len(long) > 0 {
		t.Errorf("%d lines over 120 columns, such as:\n%s", len(long), long[0])
	}

	// --all: the tables of every default unit, then each run's own
	// report; --units: the tables of that unit.
	all, stderr, code := concbench(t, dir, "report", "--all", epyc, xeon)
	if code != exitOK || !strings.Contains(all, "Hash tasks=500/size=64 · tasks/s (higher is better)") ||
		!strings.Contains(all, "== EPYC 7763: runs/epyc/bench.txt ==") || !strings.Contains(all, "== Xeon 8370C: runs/xeon/bench.txt ==") {
		t.Errorf("report --all A B: exit %d, stderr %q, no tasks/s tables or no report of each run:\n%s", code, stderr, all)
	}
	// NAME=RUN names the machines.
	named, _, code := concbench(t, dir, "report", "laptop="+epyc, "ci="+xeon)
	if code != exitOK || !strings.Contains(named, "│ Hash     │       laptop │ speedup │ rank │           ci │") {
		t.Errorf("report laptop=A ci=B: exit %d:\n%s", code, named)
	}

	js, stderr, code := concbench(t, dir, "report", "--format", "json", epyc, xeon)
	if code != exitOK {
		t.Fatalf("--format json: exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema string
		Runs   []struct {
			Path    string
			Machine struct {
				Label, CPU string
				RunID      string `json:"run_id"`
				GOMAXPROCS int
			}
			Results struct{ Schema string }
		}
		Tables []struct {
			Workload, Unit string
			Machines       []string
		}
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "concbench.machines" || len(doc.Runs) != 2 || doc.Runs[0].Machine.Label != "EPYC 7763" ||
		doc.Runs[0].Machine.RunID != "20261130-101500" || doc.Runs[1].Machine.GOMAXPROCS != 4 ||
		doc.Runs[1].Results.Schema != "concbench.results" || len(doc.Tables) == 0 ||
		strings.Join(doc.Tables[0].Machines, ",") != "EPYC 7763,Xeon 8370C" {
		t.Errorf("--format json: %+v", doc)
	}
	csvOut, _, code := concbench(t, dir, "report", "--format", "csv", epyc, xeon)
	if code != exitOK || !strings.HasPrefix(csvOut, "machine,cpu,goarch,gomaxprocs,workload,") ||
		!strings.Contains(csvOut, "\nXeon 8370C,Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz,amd64,4,Hash,sec/op,") {
		t.Errorf("--format csv: exit %d:\n%s", code, csvOut)
	}
	md, _, code := concbench(t, dir, "report", "--format", "markdown", epyc, xeon)
	if code != exitOK || !strings.Contains(md, "| Hash     |    EPYC 7763 |") || !strings.Contains(md, "|   Xeon 8370C |") {
		t.Errorf("--format markdown: exit %d:\n%s", code, md)
	}

	// One run prints as it always has: no machine columns.
	one, _, code := concbench(t, dir, "report", epyc)
	if code != exitOK || strings.Contains(one, "Machines (") || strings.Contains(one, "by machine") ||
		!strings.Contains(one, "Hash: simd is fastest, 10.00× vs blocking (geomean sec/op over 1 row)") {
		t.Errorf("report A: exit %d:\n%s", code, one)
	}
}

// Runs report A B cannot use exit 2, each named on stderr, with nothing
// on stdout: a missing folder, an unreadable or malformed bench.txt, a
// run given twice (by another path or through out/latest's link) and a
// label given twice.
func TestReportMachinesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	epyc, xeon := machineRuns(t, dir)
	// A bench.txt that is a folder cannot be read.
	if err := os.MkdirAll(filepath.Join(dir, "runs", "unreadable", "bench.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "runs", "bad"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := "cpu: x\nBenchmarkHash/strategy=blocking-2 10 5 ns/op\nBenchmarkHash/strategy=pool-2 10 NaN ns/op\n"
	if err := os.WriteFile(filepath.Join(dir, "runs", "bad", "bench.txt"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("epyc", filepath.Join(dir, "runs", "latest")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"missing folder", []string{epyc, filepath.Join("runs", "nope")}, []string{"runs/nope: no such file or directory"}},
		{"two missing", []string{"gone1", xeon, "gone2"}, []string{"gone1: no such file", "gone2: no such file"}},
		{"unreadable bench.txt", []string{epyc, filepath.Join("runs", "unreadable")}, []string{"runs/unreadable/bench.txt: is a directory"}},
		{"malformed bench.txt", []string{filepath.Join("runs", "bad"), xeon}, []string{"runs/bad/bench.txt:3: sec/op is NaN"}},
		{"the same folder twice", []string{epyc, xeon, epyc}, []string{"runs/epyc and runs/epyc are the same run"}},
		{"a folder and its bench.txt", []string{epyc, filepath.Join(epyc, "bench.txt")}, []string{"are the same run"}},
		{"out/latest and its run", []string{filepath.Join("runs", "latest"), epyc}, []string{"runs/latest and runs/epyc are the same run"}},
		{"a label twice", []string{"a=" + epyc, "a=" + xeon}, []string{`label "a" names both a=runs/epyc and a=runs/xeon`}},
	}
	for _, tt := range tests {
		stdout, stderr, code := concbench(t, dir, append([]string{"report"}, tt.args...)...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want exit %d and nothing", tt.name, code, stdout, exitUsage)
		}
		for _, want := range tt.stderr {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr %q lacks %q", tt.name, stderr, want)
			}
		}
	}
}

// Serve runs from two machines: the summary adds each machine's
// saturation table under its label.
func TestReportMachinesServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var paths []string
	for _, cpu := range []string{"AMD EPYC 7763", "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"} {
		var b strings.Builder
		fmt.Fprintf(&b, "cpu: %s\ngomaxprocs: 2\nUnit req/s better=higher\n", cpu)
		for round := range 3 {
			for _, rate := range []int{1000, 2000} {
				for _, s := range []struct {
					name string
					p99  float64 // ms at 1000/s
				}{{"blocking", 6}, {"reactor", 1}} {
					fmt.Fprintf(&b, "BenchmarkServe/rate=%d/latency=1ms/slo=10ms/strategy=%s-2 %d %g ns/op %g req/s %g p99-sec/op 0 errors/op 0 under-offered\n",
						rate, s.name, rate, 1e9/float64(rate), 0.99*float64(rate), s.p99*float64(rate)/1e6*(1+0.01*float64(round)))
				}
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("serve%d.txt", len(paths)))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	var stdout, stderr bytes.Buffer
	if code := runReport(paths, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"== Serve mode on EPYC 7763: " + paths[0] + " ==", "== Serve mode on Xeon 8370C: " + paths[1] + " ==",
		"│ blocking │      1000/s │"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "sustainable throughput"); n != 2 {
		t.Errorf("%d saturation tables, want one per machine:\n%s", n, out)
	}
}
