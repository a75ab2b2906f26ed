package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
	sum, err := Run(context.Background(), plan, Options{Count: 2, Warmup: 1, Timeout: 200 * time.Millisecond, Out: bf})
	if err != nil {
		t.Fatal(err)
	}
	wantFail := map[string]string{"wrong": "digest mismatch", "panic": "panicked", "hang": "cell timeout", "lazy": "not run"}
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
	if !sum.Finished || len(sum.Results) != 4 {
		t.Fatalf("finished=%v with %d counted results, want 4 (2 rounds × 2 good cells)", sum.Finished, len(sum.Results))
	}
	for _, r := range sum.Results {
		if r.Cell.StrategyLabel == "errory" && r.Errors != 10 {
			t.Errorf("errory: %d errors, want 10", r.Errors)
		}
		if r.Cell == good && (r.Errors != 0 || len(r.Latencies) != 30 || r.Wall <= 0) {
			t.Errorf("blocking: errors=%d latencies=%d wall=%v", r.Errors, len(r.Latencies), r.Wall)
		}
	}
	// The file holds the good cells' lines, parseable, and the failures.
	results := readBench(t, bf.Path())
	if len(results) != 4 {
		t.Fatalf("bench.txt has %d results, want 4", len(results))
	}
	data, _ := os.ReadFile(bf.Path())
	if got := strings.Count(string(data), "--- FAIL: "); got != 4 {
		t.Errorf("bench.txt has %d failure records, want 4:\n%s", got, data)
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

func TestInterruptedRunKeepsFinishedCells(t *testing.T) {
	spec := smallSpec(t, "hash", params.Values{"tasks": "30"})
	plan := &Plan{Cells: []*Cell{blockingCell(t, spec), cell(spec, hangStrategy{}, "hang")}}
	bf, err := CreateBenchFile(filepath.Join(t.TempDir(), "bench.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
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
	if _, err := Run(context.Background(), &Plan{Cells: []*Cell{c}}, Options{Count: 1, Out: bf}); err != nil {
		t.Fatal(err)
	}
	res := readBench(t, bf.Path())
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	if got, want := string(r.Name), "Mandelbrot/width=64/rows=8/iter=256/strategy=blocking"; !strings.HasPrefix(got, want+"-") {
		t.Errorf("name %q, want %s-P", got, want)
	}
	if r.Iters != 8 {
		t.Errorf("iterations %d, want the task count 8", r.Iters)
	}
	for _, unit := range []string{"sec/op", "tasks/s", "p50-sec/op", "p99-sec/op", "p999-sec/op", "cpu-sec/op",
		"bound-sec/op", "%bound", "B/op", "allocs/op", "errors/op", "peak-goroutines", "peak-threads"} {
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

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000}} {
		if got := percentile(d, tt.q); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
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
