package harness

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/concbench/concbench/workloads"
)

// parseLine reads one benchmark line as benchfmt does (what benchstat and
// concbench's own reader see): its iterations and its values by unit.
func parseLine(t *testing.T, line string) (int, map[string]float64) {
	t.Helper()
	r := benchfmt.NewReader(strings.NewReader(line+"\n"), "line")
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		values := map[string]float64{}
		for _, v := range res.Values {
			if _, dup := values[v.Unit]; dup {
				t.Fatalf("unit %s twice in %q", v.Unit, line)
			}
			values[v.Unit] = v.Value
		}
		return res.Iters, values
	}
	t.Fatalf("no benchmark result in %q (%v)", line, r.Err())
	return 0, nil
}

// figuresSpec is a hand-made spec of 500 tasks whose rounds stream 3 MB
// a pass.
func figuresSpec() *workloads.Spec {
	tasks := make([]workloads.Task, 500)
	for i := range tasks {
		tasks[i].Steps = []workloads.Step{{Kind: workloads.StepCompute, Kernel: workloads.KernelNoop}}
	}
	return &workloads.Spec{Workload: "hand", Tasks: tasks, MemoryBytes: 3_000_000}
}

// Every unit of a bench.txt line holds the value its definition
// (docs/measuring.md) gives for a round whose outcomes are known: 2
// passes of 500 tasks, 800 of them verified (200 failed), in 2 s of wall
// time, every count distinct so that two figures swapped would show.
func TestEveryFigureOfALine(t *testing.T) {
	t.Parallel()
	c := &Cell{Spec: figuresSpec(), Name: "BenchmarkHand/tasks=500/strategy=x-2"}
	r := &CellResult{Cell: c, Passes: 2, Tasks: 1000, Verified: 800, Errors: 200,
		Wall:    2 * time.Second,
		Latency: Latency{P50: time.Millisecond, P99: 5 * time.Millisecond, P999: 9 * time.Millisecond, Max: 11 * time.Millisecond},
		CPU:     3 * time.Second, Bound: 500 * time.Millisecond,
		AllocBytes: 64_000, AllocObjects: 2_000, MinorFaults: 500, CtxSwitches: 3_000, Spawned: 7_000,
		PeaksSampled: true, PeakGoroutines: 17, PeakThreads: 9}
	iters, got := parseLine(t, FormatResult(r))
	if iters != 1000 {
		t.Errorf("iterations = %d, want the 1000 tasks run", iters)
	}
	want := map[string]float64{
		"sec/op":          2.0 / 800,             // wall ÷ verified tasks (benchfmt reads ns/op as sec/op)
		"tasks/s":         800.0 / 2,             // verified ÷ wall
		"B/s":             2 * 3e6 / 2,           // MemoryBytes × passes ÷ wall
		"p50-sec/op":      0.001,                 // the percentiles as measured
		"p99-sec/op":      0.005,                 //
		"p999-sec/op":     0.009,                 //
		"cpu-sec/op":      3.0 / 1000,            // CPU ÷ tasks run
		"bound-sec/op":    0.5 / 1000,            // the round's bound ÷ tasks run
		"%bound":          100 * 0.0005 / 0.0025, // bound-sec/op ÷ sec/op
		"B/op":            64,                    // heap bytes ÷ tasks run
		"allocs/op":       2,                     // heap objects ÷ tasks run
		"faults/op":       0.5,                   // minor faults ÷ tasks run
		"ctxsw/op":        3,                     // context switches ÷ tasks run
		"errors/op":       0.2,                   // failed ÷ tasks run
		"spawns/op":       7,                     // goroutines created ÷ tasks run
		"peak-goroutines": 17,                    //
		"peak-threads":    9,                     //
	}
	for unit, w := range want {
		g, ok := got[unit]
		switch {
		case !ok:
			t.Errorf("%s missing from the line", unit)
		case math.Abs(g-w) > 1e-9*math.Abs(w):
			t.Errorf("%s = %g, want %g", unit, g, w)
		}
	}
	for unit := range got {
		if _, ok := want[unit]; !ok {
			t.Errorf("unexpected unit %s", unit)
		}
	}

	// Without a measured memory traffic or sampled peaks, those units are
	// absent rather than zero.
	c.Spec.MemoryBytes = 0
	r.PeaksSampled = false
	_, got = parseLine(t, FormatResult(r))
	for _, unit := range []string{"B/s", "peak-goroutines", "peak-threads"} {
		if v, ok := got[unit]; ok {
			t.Errorf("%s = %g, want it absent", unit, v)
		}
	}
}

// Invariants every line of a real run holds, whatever the machine's
// speed: sec/op × tasks/s = 1 (within the line's six digits), the
// percentiles in order and none above the round's wall time (the largest
// latency is), %bound = bound-sec/op ÷ sec/op, no cost negative, and the
// CPU time within what the process's threads could use in the round.
func TestFiguresOfARealRunHoldTogether(t *testing.T) {
	t.Parallel()
	bin := buildConcbench(t)
	out := t.TempDir()
	cmd := exec.Command(bin, "run", "--quiet", "--count", "3", "--warmup", "1", "--quick", "--profile=false", "--out", out,
		"--workloads", "fanout,mandelbrot,dot", "--strategies", "blocking,goroutines,pool",
		"fanout.latency=0s,1ms", "fanout.tasks=64", "mandelbrot.rows=32", "dot.tasks=256", "dot.span=64Ki")
	if text, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, text)
	}
	data, err := os.ReadFile(filepath.Join(out, "latest", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The run's own processes are what its CPU time is bounded by: this
	// machine's CPUs (its GOMAXPROCS threads and any thread in a system
	// call), over the round, plus what the teardown after the last task
	// (inside the CPU span, outside the wall time) may take.
	cpus := float64(runtime.NumCPU())
	lines := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		lines++
		n, v := parseLine(t, line)
		name := strings.Fields(line)[0]
		sec, rate := v["sec/op"], v["tasks/s"]
		if math.Abs(sec*rate-1) > 2e-5 {
			t.Errorf("%s: sec/op %g × tasks/s %g = %g, want 1", name, sec, rate, sec*rate)
		}
		wall := sec * float64(n) * (1 - v["errors/op"])
		if !(v["p50-sec/op"] <= v["p99-sec/op"] && v["p99-sec/op"] <= v["p999-sec/op"] && v["p999-sec/op"] <= wall*(1+1e-5)) {
			t.Errorf("%s: p50 %g, p99 %g, p999 %g, wall %g: want them in that order", name, v["p50-sec/op"], v["p99-sec/op"], v["p999-sec/op"], wall)
		}
		if b := 100 * v["bound-sec/op"] / sec; math.Abs(v["%bound"]-b) > 5e-5*b { // three figures of six digits
			t.Errorf("%s: %%bound %g, want 100 × bound-sec/op ÷ sec/op = %g", name, v["%bound"], b)
		}
		if cpu := v["cpu-sec/op"] * float64(n); cpu > cpus*wall*1.1+0.05 {
			t.Errorf("%s: %g s of CPU in a round of %g s wall on %g CPUs", name, cpu, wall, cpus)
		}
		for unit, x := range v {
			if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
				t.Errorf("%s: %s = %g", name, unit, x)
			}
		}
		if v["errors/op"] != 0 || v["tasks/s"] <= 0 {
			t.Errorf("%s: errors/op %g, tasks/s %g", name, v["errors/op"], v["tasks/s"])
		}
	}
	if lines != 3*3*4 { // 3 rounds × 3 strategies × (2 fanout + mandelbrot + dot)
		t.Errorf("%d result lines, want 36", lines)
	}
}
