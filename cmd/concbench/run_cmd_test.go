package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/sys/cpu"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/placement"
	"github.com/concbench/concbench/results"
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
		{[]string{"--profile-time", "0s"}, "--profile-time must be positive (got 0s)"},
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
// time and the error limit, in fields of their own; at the end it holds
// each cell's result as the tables compute it (issue 17: "meta.json holds
// no results"), the run's placement and the machine check it started
// with, whose summary line is on stderr even with --quiet.
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
	var secs []float64
	r := benchfmt.NewReader(f, latest.Bench())
	for r.Scan() {
		if res, ok := r.Result().(*benchfmt.Result); ok {
			iters = append(iters, res.Iters)
			for _, unit := range []string{"faults/op", "ctxsw/op", "peak-goroutines"} {
				if _, ok := res.Value(unit); !ok {
					t.Errorf("no %s in %v", unit, res.Values)
				}
			}
			sec, _ := res.Value("sec/op")
			secs = append(secs, sec)
		}
	}
	if len(iters) != 3 || iters[0] <= 100 || iters[0]%100 != 0 || iters[1] != iters[0] || iters[2] != iters[0] {
		t.Fatalf("iteration counts %v: want 3 rounds of the same multiple of 100 tasks, above one pass", iters)
	}
	meta, err := latest.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Cells) != 1 {
		t.Fatalf("meta.json has %d cells, want 1: %+v", len(meta.Cells), meta)
	}
	c := meta.Cells[0]
	if c.Passes != iters[0]/100 {
		t.Errorf("meta.json: %d passes for %s, want %d", c.Passes, c.Name, iters[0]/100)
	}
	if meta.RoundTime != 30*time.Millisecond || meta.MaxErrors != 0.01 || meta.Count != 3 || c.Rounds != 3 {
		t.Errorf("meta.json: round time %v, max errors %v, count %d, rounds %d; want 30ms, 0.01, 3, 3",
			meta.RoundTime, meta.MaxErrors, meta.Count, c.Rounds)
	}
	for k := range meta.Notes {
		if strings.HasPrefix(k, "run: ") || strings.HasSuffix(k, ": repeat") {
			t.Errorf("meta.json still notes %q: %v", k, meta.Notes)
		}
	}
	slices.Sort(secs)
	if c.Result == nil || c.Result.N != 3 || math.Abs(c.Result.SecPerOp-secs[1]) > 1e-9*secs[1] || c.Result.CV <= 0 {
		t.Errorf("meta.json result %+v, want n=3 and the median sec/op of bench.txt, %g", c.Result, secs[1])
	}
	if meta.Placement != "none" {
		t.Errorf("meta.json placement %q, want none", meta.Placement)
	}
	line := machineLine(t, stderr)
	if meta.Machine == nil || meta.Machine.Summary != line || len(meta.Machine.Findings) == 0 {
		t.Errorf("meta.json machine %+v, want the summary printed, %q, with the findings", meta.Machine, line)
	}
	if strings.Contains(stderr, "] cell ") || strings.Contains(stderr, "\x1b[") {
		t.Errorf("--quiet printed progress:\n%s", stderr)
	}
}

// machineLine returns the machine check's line from a run's stderr.
func machineLine(t *testing.T, stderr string) string {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "machine: ") {
			return line
		}
	}
	t.Fatalf("no machine: line on stderr:\n%s", stderr)
	return ""
}

// Issue 17, part 3: when stderr is not a terminal, progress is sparse
// plain lines: one per cell when it finishes, one when a round of the
// matrix ends (the warm-up named apart, the last round not at all, as
// its cells' lines say it), no cursor movement.
func TestRunProgressWithoutATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--profile=false", "--count", "3", "--quick",
		"--workloads", "hash", "--strategies", "blocking,goroutines", "hash.tasks=50")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var progress []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "[") && strings.Contains(line, " elapsed, ETA ") {
			progress = append(progress, line[strings.Index(line, "] ")+2:])
		}
	}
	want := []string{"warm-up 1/1 done", "round 1/3 done", "round 2/3 done",
		"cell 1/2 done: Hash/tasks=50/size=64/strategy=blocking-", "cell 2/2 done: Hash/tasks=50/size=64/strategy=goroutines(conns=256)-"}
	if len(progress) != len(want) {
		t.Fatalf("progress lines:\n%s\nwant %d:\n%s", strings.Join(progress, "\n"), len(want), strings.Join(want, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(progress[i], w) {
			t.Errorf("progress line %d: %q, want it to start %q", i, progress[i], w)
		}
	}
	if !strings.Contains(progress[3], ": 3 rounds ×") || !strings.Contains(progress[3], ", median ") {
		t.Errorf("a cell's line does not give its rounds, passes and median: %q", progress[3])
	}
	if strings.Contains(stderr, "\x1b[") {
		t.Errorf("cursor movement on a stderr that is no terminal:\n%q", stderr)
	}
}

// Issue 17, part 4: run --json writes the results as JSON (docs/json.md)
// to stdout instead of the tables; --json=FILE writes them to FILE, the
// tables staying on stdout.
func TestRunJSON(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"run", "--quiet", "--profile=false", "--count", "2", "--warmup", "0",
		"--workloads", "hash", "--strategies", "blocking,pool", "hash.tasks=50"}
	stdout, stderr, code := concbench(t, dir, append(args[:1:1], append([]string{"--json"}, args[1:]...)...)...)
	if code != exitOK {
		t.Fatalf("--json: exit %d\nstderr:\n%s", code, stderr)
	}
	var doc results.JSONResults
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("--json: stdout is not one JSON document (%v):\n%s", err, stdout)
	}
	if doc.Schema != results.JSONSchema || len(doc.Cells) != 2 || doc.Cells[0].Results["sec/op"].N != 2 ||
		doc.Machine["placement"] != "none" {
		t.Errorf("--json: %+v", doc)
	}

	file := filepath.Join(dir, "results.json")
	stdout, stderr, code = concbench(t, dir, append(args[:1:1], append([]string{"--json=" + file}, args[1:]...)...)...)
	if code != exitOK {
		t.Fatalf("--json=FILE: exit %d\nstderr:\n%s", code, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc = results.JSONResults{}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Schema != results.JSONSchema || len(doc.Cells) != 2 {
		t.Errorf("--json=FILE: %v: %s", err, data)
	}
	if json.Valid([]byte(stdout)) || !strings.Contains(stdout, "pool") {
		t.Errorf("--json=FILE: stdout does not hold the tables:\n%s", stdout)
	}
}

// Issue 18, part 1: --placement puts the strategy (this process) and the
// backend children on CPUs of their own, and the run records it in
// bench.txt's header and meta.json; GOMAXPROCS follows the strategy's
// CPUs. A placement that cannot be honoured is a usage error.
func TestRunPlacement(t *testing.T) {
	t.Parallel()
	allowed, err := placement.Allowed()
	if err != nil || allowed.Count() < 2 {
		t.Skipf("needs 2 CPUs this process may use (have %v, %v)", allowed, err)
	}
	cpus := allowed.CPUs()
	spec := fmt.Sprintf("strategy=%d,backend=%d", cpus[0], cpus[1])
	dir := t.TempDir()
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--profile=false", "--count", "1", "--warmup", "0",
		"--placement", spec, "--workloads", "fanout", "--strategies", "blocking", "fanout.tasks=20", "fanout.latency=0s")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	latest := rundir.Latest(filepath.Join(dir, "out"))
	bench, err := os.ReadFile(latest.Bench())
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("\nplacement: strategy=%d backend=%d\n", cpus[0], cpus[1])
	if !strings.Contains(string(bench), want) || !strings.Contains(string(bench), "\ngomaxprocs: 1\n") ||
		!strings.Contains(string(bench), "strategy=blocking-1\t") {
		t.Errorf("bench.txt lacks %q, gomaxprocs 1 and cells named -1:\n%s", want, bench)
	}
	meta, err := latest.ReadMeta()
	if err != nil || meta.Placement != strings.TrimSpace(strings.TrimPrefix(want, "\nplacement: ")) {
		t.Errorf("meta.json placement %q (%v), want %q", meta.Placement, err, want)
	}

	// Without --placement: "none", always there.
	_, stderr, code = concbench(t, dir, "run", "--quiet", "--profile=false", "--count", "1", "--warmup", "0",
		"--workloads", "hash", "--strategies", "blocking", "hash.tasks=20")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if bench, _ := os.ReadFile(latest.Bench()); !strings.Contains(string(bench), "\nplacement: none\n") {
		t.Errorf("bench.txt of a run without --placement lacks placement: none:\n%s", bench)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--placement", "cpu=1"}, "bad placement"},
		{[]string{"--placement", "strategy=1023"}, "not among the CPUs this process may use"},
		{[]string{"--placement", fmt.Sprintf("backend=%d", cpus[1]), "--backend", "inprocess"}, "in-process backends run on the strategy's threads"},
	} {
		bad := t.TempDir()
		_, stderr, code := concbench(t, bad, append(append([]string{"run"}, tt.args...), "--workloads", "hash", "--count", "1")...)
		if code != exitUsage || !strings.Contains(stderr, "--placement") || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
		if _, err := os.Stat(filepath.Join(bad, "out")); err == nil {
			t.Errorf("%v: a refused run created a run folder", tt.args)
		}
	}
}

// Issue 18, part 1: compare refuses runs placed differently unless
// --allow-mismatch; a file from before placement was recorded counts as
// placed nowhere, "none", so old runs still compare with new ones.
func TestComparePlacement(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, placementLine string) string {
		var b strings.Builder
		b.WriteString("goos: linux\ngoarch: amd64\ncpu: AMD EPYC\ncpu-features: avx2\ngomaxprocs: 2\ngoexperiment: simd\n")
		b.WriteString(placementLine)
		for i := range 10 {
			fmt.Fprintf(&b, "BenchmarkHash/tasks=10/strategy=blocking-2\t1000\t%d ns/op\n", 100+i%3)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	old := write("old.txt", "")
	none := write("none.txt", "placement: none\n")
	placed := write("placed.txt", "placement: strategy=0 backend=1\n")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{old, none}, exitOK, ""},
		{[]string{none, placed}, exitUsage, "placement: none vs strategy=0 backend=1"},
		{[]string{old, placed}, exitUsage, "placement: none vs strategy=0 backend=1"},
		{[]string{"--allow-mismatch", none, placed}, exitOK, "placement"},
	} {
		stdout, stderr, code := concbench(t, dir, append([]string{"compare"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("compare %v: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, tt.want, stdout, stderr)
		}
	}
}

// Issue 17, part 6: --python chooses the interpreter of the py-*
// strategies; one that is not an executable is a usage error, and a
// strategy its interpreter cannot run says which interpreter it tried.
func TestRunPython(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, code := concbench(t, dir, "run", "--python", filepath.Join(dir, "no-python"), "--workloads", "hash")
	if code != exitUsage || !strings.Contains(stderr, "--python") || !strings.Contains(stderr, "no-python") {
		t.Errorf("--python to nothing: exit %d, stderr %q; want exit %d naming it", code, stderr, exitUsage)
	}
	notPython, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand for an interpreter that is not Python")
	}
	_, stderr, code = concbench(t, dir, "run", "--python", notPython, "--workloads", "hash", "--strategies", "py-blocking")
	if code != exitUsage || !strings.Contains(stderr, notPython) {
		t.Errorf("--python %s --strategies py-blocking: exit %d, stderr %q; want exit %d naming %s", notPython, code, stderr, exitUsage, notPython)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a refused run created a run folder")
	}
}

// Issue 14, item 8: with --backend redis://, the keys are loaded before
// the first cell, and a load that fails is the backend's error (exit 3,
// naming the server), not a failure of whichever strategy's cell came
// first; nothing is run or recorded.
func TestRunPreloadsRedisAndBlamesTheBackend(t *testing.T) {
	t.Parallel()
	full := testenv.RedisServer(t, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
	dir := t.TempDir()
	_, stderr, code := concbench(t, dir, "run", "--profile=false", "--count", "1", "--backend", "redis://"+full,
		"--workloads", "fanout", "--strategies", "blocking,pool", "fanout.tasks=20000", "fanout.size=1024")
	if code != exitError || !strings.Contains(stderr, "load the keys into the backend") ||
		!strings.Contains(stderr, "redis backend "+full+": ") || !strings.Contains(stderr, "OOM") {
		t.Errorf("a redis too small for the keys: exit %d, stderr:\n%s\nwant exit %d naming the backend", code, stderr, exitError)
	}
	if strings.Contains(stderr, "strategy=") {
		t.Errorf("the failed load is blamed on a cell:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a run whose keys could not be loaded created a run folder")
	}

	// A redis with room: loaded before the cells, which verify.
	roomy := testenv.RedisServer(t)
	stdout, stderr, code := concbench(t, dir, "run", "--quiet", "--profile=false", "--count", "1", "--warmup", "0",
		"--backend", "redis://"+roomy, "--workloads", "fanout", "--strategies", "blocking", "fanout.tasks=50")
	if code != exitOK {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// Issue 14, item 8: a backend child that dies is restarted once, and the
// restart is in the log (stderr) and in meta.json.
func TestRunRecordsBackendRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "run", "--quiet", "--profile=false", "--count", "60", "--round-time", "10ms", "--max-errors", "99%",
		"--workloads", "fanout", "--strategies", "blocking,goroutines", "fanout.tasks=50", "fanout.latency=0s")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once a counted round is in bench.txt, the children serve: kill one.
	bench := filepath.Join(dir, "out", "latest", "bench.txt")
	var child int
	for deadline := time.Now().Add(time.Minute); child == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no counted round with a backend child within a minute:\n%s", stderr.String())
		}
		if data, err := os.ReadFile(bench); err != nil || !strings.Contains(string(data), "\nBenchmarkFanout") {
			continue
		}
		child = backendChild(t, cmd.Process.Pid)
	}
	if p, err := os.FindProcess(child); err != nil || p.Kill() != nil {
		t.Fatalf("kill the backend child %d: %v", child, err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == exitCellsFailed) {
		t.Fatalf("run: %v\n%s", err, stderr.String()) // the cell whose round the kill cut may fail
	}
	if !regexp.MustCompile(`backend: backend \d at 127\.0\.0\.1:\d+ died \(signal: killed\) and was restarted at 127\.0\.0\.1:\d+`).MatchString(stderr.String()) ||
		!strings.Contains(stderr.String(), "1 backend restart(s) during the run") {
		t.Errorf("stderr does not report the restart:\n%s", stderr.String())
	}
	meta, err := rundir.Latest(filepath.Join(dir, "out")).ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.BackendRestarts) != 1 || meta.BackendRestarts[0].Exit != "signal: killed" || meta.BackendRestarts[0].NewAddr == "" {
		t.Errorf("meta.json backend_restarts: %+v, want the one restart", meta.BackendRestarts)
	}
}

// backendChild returns the pid of a 'concbench backend' child of pid, 0
// while there is none.
func backendChild(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find the backend children in: %v", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); bytes.Contains(cmdline, []byte("backend\x00--control-stdin")) {
			return child
		}
	}
	return 0
}

// Issue 14, item 8: the cells that fail because a backend died, and
// could not be restarted, share one line with the reason, not one line
// each.
func TestPrintFailuresGroupsBackendDeaths(t *testing.T) {
	t.Parallel()
	cells := []*harness.Cell{{Name: "BenchmarkHash/x-2"}, {Name: "BenchmarkFanout/a-2"}, {Name: "BenchmarkFanout/b-2"}, {Name: "BenchmarkMixed/c-2"}}
	died := fmt.Errorf("%w: backend: %w: backend 0 at 127.0.0.1:5 died again after its restart (signal: killed); the I/O cells cannot run",
		harness.ErrCellFailed, harness.ErrBackendDied)
	sum := &harness.Summary{Failed: map[*harness.Cell]error{
		cells[0]: errors.New("digest mismatch"), cells[1]: died, cells[2]: died, cells[3]: died}}
	var out bytes.Buffer
	printFailures(&out, &harness.Plan{Cells: cells}, sum)
	want := "4 cell(s) failed:\n  BenchmarkHash/x-2: digest mismatch\n  3 I/O cell(s) from BenchmarkFanout/a-2 on: " + died.Error() + "\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// Issue 17, part 7: a binary built without GOEXPERIMENT=simd warns once
// at the start of a run, and bench.txt's header says the simd cells ran
// the scalar fallback.
func TestRunWarnsOfTheScalarFallback(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no vector path here even with the experiment: nothing to fall back from")
	}
	bin := filepath.Join(t.TempDir(), "concbench-nosimd")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without the experiment: %v\n%s", err, out)
	}
	dir := t.TempDir()
	_, stderr, code := concbenchWith(t, bin, dir, nil, "run", "--quiet", "--profile=false", "--count", "1", "--warmup", "0",
		"--workloads", "hash", "--strategies", "blocking,simd", "hash.tasks=64")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, "warning: simd runs its scalar fallback (built without GOEXPERIMENT=simd)"); n != 1 {
		t.Errorf("the fallback warning is on stderr %d times, want once:\n%s", n, stderr)
	}
	bench, err := os.ReadFile(filepath.Join(dir, "out", "latest", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "\nsimd: scalar fallback (built without GOEXPERIMENT=simd)\n") {
		t.Errorf("bench.txt's header does not name the fallback:\n%s", bench)
	}
}
