package harness

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/perf/benchfmt"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func smallSpec(t testing.TB, name string, v params.Values) *workloads.Spec {
	t.Helper()
	d, err := workloads.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Build(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Strategies that misbehave on purpose, to see the harness catch them.
type (
	wrongStrategy  struct{} // corrupts one task's result
	panicStrategy  struct{} // panics in a task
	hangStrategy   struct{} // runs past any timeout, but honours ctx
	lazyStrategy   struct{} // skips the last task
	erroryStrategy struct{} // every third task fails with an error
)

func (wrongStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}
func (panicStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}
func (hangStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}
func (lazyStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}
func (erroryStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}

func (wrongStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	for i := range job.Tasks() {
		r, err := job.Spec.RunTask(i, workloads.Scalar, nil)
		if i == 2 {
			r.Sum ^= 1
		}
		job.Finish(i, time.Now(), r, err)
	}
	return nil
}

func (panicStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	for i := range job.Tasks() {
		if i == 1 {
			panic("boom")
		}
		job.RunTask(i, workloads.Scalar, nil)
	}
	return nil
}

func (hangStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	<-ctx.Done()
	return ctx.Err()
}

func (lazyStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	for i := range job.Tasks() - 1 {
		job.RunTask(i, workloads.Scalar, nil)
	}
	return nil
}

func (erroryStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	for i := range job.Tasks() {
		if i%3 == 0 {
			job.Finish(i, time.Now(), workloads.Result{}, errors.New("fetch timed out"))
			continue
		}
		job.RunTask(i, workloads.Scalar, nil)
	}
	return nil
}

func cell(spec *workloads.Spec, s strategies.Strategy, label string) *Cell {
	return &Cell{Spec: spec, Strategy: s, StrategyLabel: label, Name: CellName(spec, label)}
}

func blockingCell(t *testing.T, spec *workloads.Spec) *Cell {
	d, err := strategies.Lookup("blocking")
	if err != nil {
		t.Fatal(err)
	}
	s, set, err := d.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cell(spec, s, strategies.Label("blocking", set))
}

func TestMisbehavingStrategiesFailTheirCellAndTheRunGoesOn(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "30"})
	good := blockingCell(t, spec)
	plan := &Plan{Cells: []*Cell{
		cell(spec, wrongStrategy{}, "wrong"),
		cell(spec, panicStrategy{}, "panic"),
		cell(spec, hangStrategy{}, "hang"),
		cell(spec, lazyStrategy{}, "lazy"),
		good,
		cell(spec, erroryStrategy{}, "errory"),
	}}
	dir := t.TempDir()
	bf, err := CreateBenchFile(filepath.Join(dir, "bench.txt"), MachineHeader())
	if err != nil {
		t.Fatal(err)
	}
	// The cell timeout ends the hanging cell; it is generous so that a
	// loaded machine cannot push the other cells' 5 ms rounds past it.
	sum, err := Run(context.Background(), plan, Options{Count: 2, Warmup: 1, RoundTime: 5 * time.Millisecond,
		Timeout: 2 * time.Second, Out: bf})
	if err != nil {
		t.Fatal(err)
	}
	// Issue 14: a failed task is not finished work; with the default
	// --max-errors 0 a cell whose tasks fail is a failed cell.
	wantFail := map[string]string{"wrong": "digest mismatch", "panic": "panicked", "hang": "cell timeout", "lazy": "not run",
		"errory": "tasks failed (more than --max-errors 0 allows): first: fetch timed out"}
	for _, c := range plan.Cells {
		err, failed := sum.Failed[c]
		want, shouldFail := wantFail[c.StrategyLabel]
		if failed != shouldFail {
			t.Errorf("%s: failed=%v (%v), want failed=%v", c.StrategyLabel, failed, err, shouldFail)
			continue
		}
		if failed && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not say %q", c.StrategyLabel, err, want)
		}
	}
	if !sum.Finished || len(sum.Results) != 2 {
		t.Fatalf("finished=%v with %d counted results, want 2 (2 rounds of the good cell)", sum.Finished, len(sum.Results))
	}
	for _, r := range sum.Results {
		if r.Cell != good || r.Errors != 0 || r.Verified != 30*r.Passes || r.Tasks != 30*r.Passes || r.Wall <= 0 {
			t.Errorf("%s: errors=%d verified=%d of %d tasks (%d passes) wall=%v", r.Cell.StrategyLabel, r.Errors, r.Verified, r.Tasks, r.Passes, r.Wall)
		}
	}
	// The file holds the good cell's lines, parseable, and the failures.
	results := readBench(t, bf.Path())
	if len(results) != 2 {
		t.Fatalf("bench.txt has %d results, want 2", len(results))
	}
	data, _ := os.ReadFile(bf.Path())
	if got := strings.Count(string(data), "--- FAIL: "); got != 5 {
		t.Errorf("bench.txt has %d failure records, want 5:\n%s", got, data)
	}
	if !strings.Contains(string(data), "--- FAIL: "+plan.Cells[5].Name+"\n    cell failed: 10 of 30 tasks failed") {
		t.Errorf("bench.txt does not say how many of errory's tasks failed:\n%s", data)
	}
}

// With --max-errors above the error rate, a cell whose tasks fail is
// recorded, and only the verified tasks count as work: tasks/s is
// verified tasks over the wall time and sec/op its inverse, while the
// costs (errors/op) are per task run.
func TestTolerableErrorsCountOnlyVerifiedTasks(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "30"})
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cell(spec, erroryStrategy{}, "errory")
	for _, maxErrors := range []float64{0.3, 0.34} {
		sum, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 1, MaxErrors: maxErrors, Out: bf})
		if err != nil {
			t.Fatal(err)
		}
		if maxErrors < 0.33 {
			if err := sum.Failed[c]; err == nil || !strings.Contains(err.Error(), "10 of 30 tasks failed (more than --max-errors 0.3 allows)") {
				t.Errorf("max errors %v: cell error %v, want 10 of 30 failed", maxErrors, err)
			}
			continue
		}
		if len(sum.Results) != 1 {
			t.Fatalf("max errors %v: %d results, failed %v", maxErrors, len(sum.Results), sum.Failed)
		}
		r := sum.Results[0]
		if r.Errors != 10 || r.Verified != 20 || r.Tasks != 30 || r.FirstError == nil {
			t.Fatalf("errors=%d verified=%d tasks=%d first=%v, want 10, 20, 30", r.Errors, r.Verified, r.Tasks, r.FirstError)
		}
		res := readBench(t, bf.Path())
		line := res[len(res)-1]
		value := func(unit string) float64 {
			v, ok := line.Value(unit)
			if !ok {
				t.Fatalf("no %s in %v", unit, line.Values)
			}
			return v
		}
		if got, want := value("tasks/s"), 20/r.Wall.Seconds(); math.Abs(got-want) > want*1e-5 {
			t.Errorf("tasks/s = %g, want 20 verified tasks / %v = %g", got, r.Wall, want)
		}
		if got, want := value("sec/op"), r.Wall.Seconds()/20; math.Abs(got-want) > want*1e-5 {
			t.Errorf("sec/op = %g, want %v / 20 verified tasks = %g", got, r.Wall, want)
		}
		if got := value("errors/op"); math.Abs(got-1.0/3) > 1e-5 {
			t.Errorf("errors/op = %g, want 10/30", got)
		}
		if line.Iters != 30 {
			t.Errorf("iterations %d, want the 30 tasks run", line.Iters)
		}
	}
}

// beginlessStrategy runs every task right but never calls job.Begin: a
// round without a beginning has no wall time, CPU or allocations.
type beginlessStrategy struct{}

func (beginlessStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}

func (beginlessStrategy) Run(ctx context.Context, job *strategies.Job) error {
	for i := range job.Tasks() {
		job.RunTask(i, workloads.Scalar, nil)
	}
	return nil
}

func TestStrategyThatNeverBeginsFailsItsCell(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "5"})
	res := runCell(context.Background(), cell(spec, beginlessStrategy{}, "beginless"), Options{Timeout: 10 * time.Second})
	if !errors.Is(res.Err, ErrCellFailed) || !strings.Contains(res.Err.Error(), "Begin was never called") {
		t.Fatalf("cell error = %v, want the cell failed because Begin was never called", res.Err)
	}
}

// interruptStrategy interrupts the run it is part of as its round begins
// (as Ctrl-C would), then waits for the interruption to reach it.
type interruptStrategy struct{ interrupt context.CancelFunc }

func (interruptStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency{Cores: 1, InFlight: 1}
}

func (s interruptStrategy) Run(ctx context.Context, job *strategies.Job) error {
	job.Begin()
	s.interrupt()
	<-ctx.Done()
	return ctx.Err()
}

// The run is interrupted by an event, not a clock: the second cell's
// round, which starts only once the first cell's has been recorded.
func TestInterruptedRunKeepsFinishedCells(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "30"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	plan := &Plan{Cells: []*Cell{blockingCell(t, spec), cell(spec, interruptStrategy{cancel}, "interrupt")}}
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, plan, Options{Count: 1, Timeout: time.Hour, Out: bf})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Finished || len(sum.Results) != 1 || len(sum.Failed) != 0 {
		t.Fatalf("finished=%v results=%d failed=%d, want an unfinished run with 1 result and no failure", sum.Finished, len(sum.Results), len(sum.Failed))
	}
	if got := readBench(t, bf.Path()); len(got) != 1 {
		t.Fatalf("bench.txt has %d results, want 1", len(got))
	}
}

func TestBenchLineHasEveryMetric(t *testing.T) {
	t.Parallel()
	spec := smallSpec(t, "mandelbrot", params.Values{"rows": "8", "width": "64"})
	c := blockingCell(t, spec)
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), MachineHeader())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 1, Warmup: 1, RoundTime: 5 * time.Millisecond, Out: bf})
	if err != nil {
		t.Fatal(err)
	}
	res := readBench(t, bf.Path())
	if len(res) != 1 || len(sum.Results) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	if got, want := string(r.Name), "Mandelbrot/width=64/rows=8/iter=256/strategy=blocking"; !strings.HasPrefix(got, want+"-") {
		t.Errorf("name %q, want %s-P", got, want)
	}
	if passes := sum.Results[0].Passes; r.Iters != 8*passes || passes < 1 {
		t.Errorf("iterations %d, want the task count 8 × %d passes", r.Iters, passes)
	}
	for _, unit := range []string{"sec/op", "tasks/s", "p50-sec/op", "p99-sec/op", "p999-sec/op", "cpu-sec/op",
		"bound-sec/op", "%bound", "B/op", "allocs/op", "faults/op", "ctxsw/op", "errors/op", "spawns/op",
		"peak-goroutines", "peak-threads"} {
		if _, ok := r.Value(unit); !ok {
			t.Errorf("no %s in %v", unit, r.Values)
		}
	}
	for _, key := range []string{"goos", "goarch", "cpu", "cpu-features", "gomaxprocs", "go", "goexperiment", "commit", "kernel"} {
		if r.GetConfig(key) == "" {
			t.Errorf("header has no %s", key)
		}
	}
}

// Workloads that count their memory traffic report it as B/s: that
// traffic over the round's wall time. Others have no B/s.
func TestBandwidthIsMemoryBytesOverWallTime(t *testing.T) {
	t.Parallel()
	stream := smallSpec(t, "stream", params.Values{"bytes": "40000", "chunk": "1000"})
	hash := smallSpec(t, "hash", params.Values{"tasks": "10"})
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), &Plan{Cells: []*Cell{blockingCell(t, stream), blockingCell(t, hash)}}, Options{Count: 1, Out: bf})
	if err != nil {
		t.Fatal(err)
	}
	res := readBench(t, bf.Path())
	if len(res) != 2 || len(sum.Results) != 2 {
		t.Fatalf("%d results", len(res))
	}
	bw, ok := res[0].Value("B/s")
	want := 40000 / sum.Results[0].Wall.Seconds()
	if !ok || bw < want*0.999 || bw > want*1.001 {
		t.Errorf("stream B/s = %g (%v), want 40000 B over %v = %g", bw, ok, sum.Results[0].Wall, want)
	}
	if _, ok := res[1].Value("B/s"); ok {
		t.Errorf("hash reports B/s: %v", res[1].Values)
	}
}

func TestLatencyPercentilesAreNearestRank(t *testing.T) {
	t.Parallel()
	var d []int64
	for i := 1000; i >= 1; i-- {
		d = append(d, int64(i))
	}
	if got, want := latencyOf(d), (Latency{P50: 500, P99: 990, P999: 999, Max: 1000}); got != want {
		t.Errorf("latencyOf(1..1000) = %+v, want %+v", got, want)
	}
	if latencyOf(nil) != (Latency{}) {
		t.Error("latencies of nothing are not 0")
	}
	// The selection gives what sorting gives, on every size and on runs
	// of equal values (a lockstep batch's tasks share their times).
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 100, 1001, 4096, 100003} {
		for _, spread := range []int64{1, 3, 1 << 40} {
			d := make([]int64, n)
			for i := range d {
				d[i] = rng.Int64N(spread)
			}
			sorted := slices.Sorted(slices.Values(d))
			at := func(q float64) time.Duration { return time.Duration(sorted[nearestRank(n, q)]) }
			want := Latency{P50: at(0.5), P99: at(0.99), P999: at(0.999), Max: time.Duration(sorted[n-1])}
			if got := latencyOf(d); got != want {
				t.Errorf("n=%d spread=%d: latencyOf = %+v, want %+v", n, spread, got, want)
			}
		}
	}
}

func TestNewPlanRejectsBadInputBeforeBuilding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sel  Selection
		want error
	}{
		{"unknown workload", Selection{Workloads: []string{"nope"}}, workloads.ErrUnknownWorkload},
		{"unknown strategy", Selection{Strategies: []string{"nope"}}, strategies.ErrUnknownStrategy},
		{"bad workload param", Selection{Workloads: []string{"hash"}, WorkloadParams: map[string]params.Values{"hash": {"tasks": "-1"}}}, params.ErrInvalid},
		{"unknown strategy param", Selection{Strategies: []string{"pool"}, StrategyParams: map[string]params.Values{"pool": {"size": "1"}}}, params.ErrUnknown},
		{"params for unknown workload", Selection{WorkloadParams: map[string]params.Values{"nope": {}}}, workloads.ErrUnknownWorkload},
	}
	for _, tt := range tests {
		if _, err := NewPlan(tt.sel); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestPlanSweepsAndNames(t *testing.T) {
	t.Parallel()
	plan, err := NewPlan(Selection{
		Workloads:      []string{"hash"},
		Strategies:     []string{"blocking", "pool"},
		WorkloadParams: map[string]params.Values{"hash": {"tasks": "10,20"}},
		StrategyParams: map[string]params.Values{"pool": {"workers": "1,3"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range plan.Cells {
		names = append(names, strings.TrimSuffix(c.Name, c.Name[strings.LastIndex(c.Name, "-"):]))
	}
	want := []string{
		"BenchmarkHash/tasks=10/size=64/strategy=blocking",
		"BenchmarkHash/tasks=10/size=64/strategy=pool(workers=1)",
		"BenchmarkHash/tasks=10/size=64/strategy=pool(workers=3)",
		"BenchmarkHash/tasks=20/size=64/strategy=blocking",
		"BenchmarkHash/tasks=20/size=64/strategy=pool(workers=1)",
		"BenchmarkHash/tasks=20/size=64/strategy=pool(workers=3)",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("cells:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

func readBench(t *testing.T, path string) []*benchfmt.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := benchfmt.NewReader(f, path)
	var out []*benchfmt.Result
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			out = append(out, rec.Clone())
		case *benchfmt.SyntaxError:
			t.Fatalf("bench.txt: %v", rec)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
