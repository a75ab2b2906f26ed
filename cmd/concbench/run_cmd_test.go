package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/concbench/concbench/rundir"
)

// Issue 14, item 1: a failed task is not finished work. Every fetch times
// out here; each cell is recorded failed with how many of its tasks
// failed, no result is written for it (so no table or verdict can name
// it), and the run exits 1.
func TestFailedTasksFailTheirCellsAndTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--profile=false", "--count", "2", "--fetch-timeout", "10ms",
		"--workloads", "fanout", "--strategies", "blocking,goroutines", "fanout.tasks=100", "fanout.latency=50ms")
	if code != exitCellsFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitCellsFailed, stdout, stderr)
	}
	if strings.Contains(stdout, "fastest") {
		t.Errorf("stdout names a winner among cells whose every task failed:\n%s", stdout)
	}
	bench, err := os.ReadFile(filepath.Join(dir, "out", "latest", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, strategy := range []string{"blocking", "goroutines(conns=256)"} {
		rec := "--- FAIL: BenchmarkFanout/latency=50ms/tasks=100/size=64/backends=2/strategy=" + strategy + "-"
		i := strings.Index(string(bench), rec)
		if i < 0 {
			t.Errorf("bench.txt has no failure record of %s:\n%s", strategy, bench)
			continue
		}
		if reason := string(bench[i:]); !strings.Contains(reason, "of 100 tasks failed") || !strings.Contains(reason, "first: ") {
			t.Errorf("the failure record of %s does not say how many tasks failed and the first error:\n%s", strategy, reason)
		}
	}
	if strings.Contains(string(bench), "\nBenchmark") {
		t.Errorf("bench.txt has results of cells whose tasks failed:\n%s", bench)
	}
}

// Issue 14, item 8, and issue 13's bad input: values a run cannot honour
// are refused with the reason (exit 2), never replaced by a default.
func TestRunRefusesValuesItCannotHonour(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--count", "1000000"}, "--count must be between 1 and 1000 (got 1000000)"},
		{[]string{"--count", "1001"}, "--count must be between 1 and 1000"},
		{[]string{"--warmup", "-1"}, "--warmup must be between 0 and 100"},
		{[]string{"--timeout", "-1s"}, "--timeout must be positive (got -1s)"},
		{[]string{"--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"--fetch-timeout", "-5s"}, "--fetch-timeout must be positive (got -5s)"},
		{[]string{"--round-time", "0s"}, "--round-time must be positive (got 0s)"},
		{[]string{"--round-time", "-200ms"}, "--round-time must be positive"},
		{[]string{"--round-time", "2m"}, "--round-time 2m0s must be below --timeout 1m0s"},
		{[]string{"--quick", "--timeout", "10ms"}, "--round-time 20ms must be below --timeout 10ms"},
		{[]string{"--max-errors", "2"}, "want a fraction in [0, 1) or a percentage below 100%"},
		{[]string{"--max-errors", "lots"}, "want a fraction (0.01) or a percentage (1%)"},
		{[]string{"--workloads", ",,,"}, `--workloads ",,," names nothing`},
		{[]string{"--strategies", " , "}, `--strategies " , " names nothing`},
		{[]string{"--workloads", "hash,hash"}, "--workloads names hash twice"},
	} {
		_, stderr, code := concbench(t, dir, append([]string{"run"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a refused run created a run folder")
	}
}

// Issue 13: a round repeats its task set to last --round-time. The
// iteration count is the tasks it ran (tasks × passes), every round of a
// cell runs as many passes, and meta.json records them with the round
// time and the error limit.
func TestRoundsAreSizedByTime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--profile=false", "--count", "3", "--round-time", "30ms",
		"--max-errors", "1%", "--workloads", "hash", "--strategies", "blocking", "hash.tasks=100")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	latest := rundir.Latest(filepath.Join(dir, "out"))
	f, err := os.Open(latest.Bench())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var iters []int
	r := benchfmt.NewReader(f, latest.Bench())
	for r.Scan() {
		if res, ok := r.Result().(*benchfmt.Result); ok {
			iters = append(iters, res.Iters)
			for _, unit := range []string{"faults/op", "ctxsw/op", "peak-goroutines"} {
				if _, ok := res.Value(unit); !ok {
					t.Errorf("no %s in %v", unit, res.Values)
				}
			}
		}
	}
	if len(iters) != 3 || iters[0] <= 100 || iters[0]%100 != 0 || iters[1] != iters[0] || iters[2] != iters[0] {
		t.Fatalf("iteration counts %v: want 3 rounds of the same multiple of 100 tasks, above one pass", iters)
	}
	meta, err := latest.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	cell := meta.Cells[0].Name
	if got := meta.Notes[cell+": repeat"]; got != strconv.Itoa(iters[0]/100) {
		t.Errorf("meta.json notes %q passes for %s, want %d: %v", got, cell, iters[0]/100, meta.Notes)
	}
	if meta.Notes["run: round-time"] != "30ms" || meta.Notes["run: max-errors"] != "0.01" || meta.Count != 3 || meta.Cells[0].Rounds != 3 {
		t.Errorf("meta.json: %+v", meta)
	}
}
