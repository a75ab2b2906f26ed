package harness

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/results"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/external" // py-asyncio's server model
	"github.com/concbench/concbench/workloads"
)

// loadChildEnv makes this test binary, run as TestServeLoadChildProcess,
// the serve rounds' load generator: "1" acts as `concbench loadgen`;
// "behind" does too, then reports that it fell behind its schedule, as a
// generator starved of CPU does.
const loadChildEnv = "CONCBENCH_TEST_HARNESS_LOADGEN"

// TestServeLoadChildProcess is not a test: it is the load generator child
// of the serve round tests (run with loadChildEnv set).
func TestServeLoadChildProcess(t *testing.T) {
	mode := os.Getenv(loadChildEnv)
	if mode == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := func() (int, error) {
		if mode != "behind" {
			return serve.RunLoadJob(ctx, os.Stdin, os.Stdout, slices.Contains(flag.Args(), "--allow-remote"))
		}
		job, err := serve.DecodeLoadJob(os.Stdin)
		if err != nil {
			return serve.ExitLoadRefused, err
		}
		res, err := job.Run(ctx)
		if err != nil {
			return serve.ExitLoadError, err
		}
		res.UnderOffered, res.UnderOfferedReason = true, "the test's generator says it fell behind"
		line, err := res.Encode()
		if err != nil {
			return serve.ExitLoadError, err
		}
		_, err = fmt.Println(string(line))
		return serve.ExitLoadOK, err
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// testLoadChild runs this test binary as the load generator, in mode
// (see loadChildEnv).
func testLoadChild(mode string) serve.LoadChild {
	return serve.LoadChild{Argv: []string{os.Args[0], "-test.run=^TestServeLoadChildProcess$", "--"},
		Env: append(os.Environ(), loadChildEnv+"="+mode), Stderr: os.Stderr}
}

// servePlan plans serve cells of strategies with the load generator of
// mode and the serve parameters v.
func servePlan(t *testing.T, mode string, v params.Values, strategyNames ...string) *Plan {
	t.Helper()
	plan, err := NewPlan(Selection{Workloads: []string{workloads.ServeWorkload}, Strategies: strategyNames,
		WorkloadParams: map[string]params.Values{workloads.ServeWorkload: v}, LoadGenerator: testLoadChild(mode)})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// lines collects what a run writes, as bench.txt would hold it.
type lines struct{ text []string }

func (l *lines) WriteResult(r *CellResult) error {
	l.text = append(l.text, FormatResult(r))
	return nil
}

func (l *lines) WriteFailure(c *Cell, err error) error {
	l.text = append(l.text, "--- FAIL: "+c.Name+"\n    "+err.Error())
	return nil
}

// A serve run offers each rate to each server model from a generator
// process, verifies every page, and records each counted round: the
// generator's figures, the server's CPU and allocations (in this process),
// the generator's CPU, percentiles in order and no faster than the two
// lookups the page takes. Round checks see serve rounds as such (the
// in-process backend's own, which counts a batch's fetches, passes them).
func TestServeRoundsMeasureAndVerifyEveryPage(t *testing.T) {
	const latency = time.Millisecond
	plan := servePlan(t, "1", params.Values{"rate": "100,300", "duration": "200ms", "latency": "1ms", "pages": "30"},
		"goroutines", "test-serveonly")
	if len(plan.Cells) != 4 {
		t.Fatalf("%d cells, want 4", len(plan.Cells))
	}
	backends := &InProcessBackends{}
	defer backends.Close()
	check := &serveRoundCheck{}
	out := &lines{}
	sum, err := Run(context.Background(), plan, Options{Count: 2, Warmup: 1, Backends: backends, Out: out, Checks: []RoundCheck{check}})
	if err != nil || len(sum.Failed) > 0 || !sum.Finished {
		t.Fatalf("run: %v, failed %v", err, sum.Failed)
	}
	if len(sum.Results) != 8 {
		t.Fatalf("%d results, want 8", len(sum.Results))
	}
	for _, res := range sum.Results {
		s := res.Serve()
		if s == nil {
			t.Fatalf("%s: no serve figures", res.Cell.Name)
		}
		load, set := s.Load, res.Cell.Serve.Settings
		l := load.Latency
		switch {
		case load.OfferedRate != float64(set.Rate) || load.Window != set.Duration:
			t.Errorf("%s: the generator offered %v/s over %v", res.Cell.Name, load.OfferedRate, load.Window)
		case load.Scheduled == 0 || load.OK != load.Scheduled || load.Failed() != 0 || res.Errors != 0:
			t.Errorf("%s: %d of %d requests verified, %d failed: %v", res.Cell.Name, load.OK, load.Scheduled, load.Failed(), load.Errors)
		case res.Tasks != int(load.Scheduled) || res.Verified != int(load.OK) || res.Wall != set.Duration:
			t.Errorf("%s: result %d tasks, %d verified, wall %v; the generator %d, %d, %v", res.Cell.Name,
				res.Tasks, res.Verified, res.Wall, load.Scheduled, load.OK, load.Window)
		case !(2*latency <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max):
			t.Errorf("%s: latency %+v: out of order, or faster than two lookups of %v", res.Cell.Name, l, latency)
		case res.Latency.P99 != l.P99:
			t.Errorf("%s: result p99 %v, the generator's %v", res.Cell.Name, res.Latency.P99, l.P99)
		case s.ServerCPU <= 0 || res.CPU != s.ServerCPU || s.ServerProcesses != 0 || load.CPU <= 0 || load.CPUScope != "process":
			t.Errorf("%s: server CPU %v in %d processes, generator %v (%s)", res.Cell.Name, s.ServerCPU, s.ServerProcesses, load.CPU, load.CPUScope)
		case s.AllocObjects == 0 || s.BackendMeasured:
			t.Errorf("%s: %d allocations in process, backend CPU measured %v (in process: it cannot be apart)", res.Cell.Name, s.AllocObjects, s.BackendMeasured)
		case s.SpanRequests <= load.Scheduled:
			t.Errorf("%s: %d requests in the span, %d in the window: the warm-up is in the span", res.Cell.Name, s.SpanRequests, load.Scheduled)
		case load.UnderOffered:
			t.Logf("%s: under-offered (%s) on this loaded machine", res.Cell.Name, load.UnderOfferedReason)
		}
	}
	// Every round, warm-up included, is seen as a serve round.
	if len(check.rounds) != 12 || slices.ContainsFunc(check.rounds, func(r Round) bool { return !r.Serve || r.Passes != 1 }) {
		t.Errorf("round checks saw %d rounds, want 12 serve rounds: %+v", len(check.rounds), check.rounds)
	}
	set, err := results.Decode(strings.NewReader("Unit req/s better=higher\n\n"+strings.Join(out.text, "\n")+"\n"), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Results) != 4 {
		t.Fatalf("the lines make %d cells, want 4:\n%s", len(set.Results), strings.Join(out.text, "\n"))
	}
	for _, r := range set.Results {
		var units []string
		for _, v := range r.Values {
			units = append(units, v.Unit)
		}
		want := []string{"req/s", "sec/op", "errors/op", "cpu-sec/op", "loadgen-cpu-sec/op", "B/op", "allocs/op", "under-offered"}
		for _, u := range want {
			if !slices.ContainsFunc(units, func(got string) bool { return strings.HasSuffix(got, u) }) {
				t.Errorf("%s: no %s in %v", r.Name.Full(), u, units)
			}
		}
	}
	groups := set.Saturation(results.Options{})
	if len(groups) != 1 || len(groups[0].Strategies) != 2 || groups[0].Strategies[0].Points[0].Verdict == results.CellFailed {
		t.Errorf("saturation of the run: %+v", groups)
	}
}

// serveRoundCheck is a RoundCheck that notes the rounds it is told.
type serveRoundCheck struct {
	mu     sync.Mutex
	rounds []Round
}

func (c *serveRoundCheck) BeginRound(context.Context, *Round) error { return nil }

func (c *serveRoundCheck) EndRound(_ context.Context, r *Round, res *CellResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.Serve() == nil {
		return errors.New("a serve round's result has no serve figures")
	}
	c.rounds = append(c.rounds, *r)
	return nil
}

// lyingServer serves pages made without the backend for odd ids (from
// plain values, which the backend's secret makes wrong), and the backend's
// for the others.
type lyingServer struct{}

func (lyingServer) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return err
	}
	pool := serve.NewBackendPool(env, 8)
	var conns serve.ConnSet
	var wg sync.WaitGroup
	release := serve.OnDone(ctx, func() {
		_ = ln.Close()
		conns.CloseAll()
	})
	for {
		c, err := serve.Accept(ctx, ln, env.Logf)
		if err != nil {
			break
		}
		if !conns.Add(c) {
			continue
		}
		wg.Go(func() {
			defer conns.Remove(c)
			serve.ServeConn(c, env, func(dst []byte, id int) ([]byte, error) {
				if id%2 == 0 {
					return pool.Page(ctx, dst, id, env.ValueSize)
				}
				session := serve.ReplyHash(workloads.Value(serve.SessionKey(id), env.ValueSize))
				user := serve.ReplyHash(workloads.Value(serve.UserKey(session), env.ValueSize))
				return serve.AppendPage(dst, id, session, user), nil
			})
		})
	}
	release()
	wg.Wait()
	pool.Close()
	return nil
}

// A server whose pages are not the reference's fails its cell, with how
// many and the first, as a wrong digest fails a batch cell; a round past
// the cell timeout fails at once, saying what to raise.
func TestServeRoundFailures(t *testing.T) {
	plan := servePlan(t, "1", params.Values{"rate": "200", "duration": "100ms", "latency": "0s", "pages": "10"}, "goroutines")
	cell := plan.Cells[0]
	cell.Serve.Server = lyingServer{}
	backends := &InProcessBackends{}
	defer backends.Close()
	sum, err := Run(context.Background(), plan, Options{Count: 1, Backends: backends})
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Failed[cell]; err == nil || !strings.Contains(err.Error(), "responses were not the page the reference expects") {
		t.Errorf("a server that made half its pages without the backend: %v, want the cell failed for its pages", err)
	}

	plan = servePlan(t, "1", params.Values{"duration": "2s"}, "goroutines")
	res := runCell(context.Background(), plan.Cells[0], Options{Count: 1, Timeout: 3 * time.Second, Backends: backends})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "raise --timeout") {
		t.Errorf("a round longer than the cell timeout: %v", res.Err)
	}
}

// A round whose generator fell behind its schedule is recorded, marked
// under-offered (1 in its line), and its rate is not counted as offered
// by the saturation rule; it does not fail the cell.
func TestServeUnderOfferedRoundIsMarked(t *testing.T) {
	plan := servePlan(t, "behind", params.Values{"rate": "200", "duration": "100ms", "latency": "0s", "pages": "10"}, "goroutines")
	backends := &InProcessBackends{}
	defer backends.Close()
	out := &lines{}
	sum, err := Run(context.Background(), plan, Options{Count: 2, Backends: backends, Out: out})
	if err != nil || len(sum.Failed) > 0 || len(sum.Results) != 2 {
		t.Fatalf("%v, failed %v, %d results", err, sum.Failed, len(sum.Results))
	}
	for _, res := range sum.Results {
		if s := res.Serve(); s == nil || !s.UnderOffered() {
			t.Errorf("%s: round not marked under-offered", res.Cell.Name)
		}
	}
	for _, line := range out.text {
		if !strings.HasSuffix(line, "\t1 under-offered") {
			t.Errorf("line does not end marked under-offered: %s", line)
		}
	}
	set, err := results.Decode(strings.NewReader(strings.Join(out.text, "\n")+"\n"), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	groups := set.Saturation(results.Options{})
	if len(groups) != 1 {
		t.Fatalf("%d saturation groups", len(groups))
	}
	s := groups[0].Strategies[0]
	if s.Limit != 0 || s.Points[0].Verdict != results.NotOffered || s.Bound() != "?" {
		t.Errorf("an under-offered rate counted: %+v", s)
	}
}

// A server in another process (a py-* model) has its CPU measured from
// /proc: the server's processes are the children it started.
func TestServeRoundMeasuresAServerProcess(t *testing.T) {
	d, err := strategies.Lookup("py-asyncio")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CheckAvailable(); err != nil {
		t.Skip(err)
	}
	plan := servePlan(t, "1", params.Values{"rate": "1000", "duration": "300ms", "latency": "0s", "pages": "10"}, "py-asyncio")
	backends := &InProcessBackends{}
	defer backends.Close()
	sum, err := Run(context.Background(), plan, Options{Count: 1, Backends: backends})
	if err != nil || len(sum.Failed) > 0 || len(sum.Results) != 1 {
		t.Fatalf("%v, failed %v", err, sum.Failed)
	}
	s := sum.Results[0].Serve()
	if s.ServerProcesses != 1 || s.ServerCPU <= 0 {
		t.Errorf("py-asyncio: %d server processes, CPU %v; want 1 and its time", s.ServerProcesses, s.ServerCPU)
	}
}

// processesCPU counts a process tree: a child that only waits for a
// grandchild that burns CPU is charged the grandchild's time; a process
// that has gone counts nothing.
func TestProcessesCPUCountsDescendants(t *testing.T) {
	cmd := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 60' & wait`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its group is killed at the end
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	kids, err := childProcesses()
	if err != nil || !kids[cmd.Process.Pid] {
		t.Fatalf("childProcesses = %v, %v: no %d", kids, err, cmd.Process.Pid)
	}
	var cpu time.Duration
	for deadline := time.Now().Add(10 * time.Second); cpu < 50*time.Millisecond && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		cpu = processesCPU([]int{cmd.Process.Pid})
	}
	if own, _ := readProcStat(cmd.Process.Pid); cpu < 50*time.Millisecond || own.cpu >= cpu {
		t.Errorf("the tree under %d used %v, the waiting shell %v: want the grandchild's loop counted", cmd.Process.Pid, cpu, own.cpu)
	}
	if got := processesCPU([]int{1 << 30}); got != 0 {
		t.Errorf("a process that does not exist: %v", got)
	}
}

// FormatServeResult writes the serve units and only those it has: no
// latency without a verified response, backend CPU only when measured,
// allocations only for a server in this process; any other result is not
// its to format.
func TestFormatServeResult(t *testing.T) {
	t.Parallel()
	spec := &workloads.Spec{Workload: workloads.ServeWorkload}
	cell := &Cell{Spec: spec, Name: "BenchmarkServe/rate=100/strategy=x-2", Serve: &ServeCell{}}
	if _, ok := FormatServeResult(&CellResult{Cell: &Cell{Spec: spec, Name: "BenchmarkHash-2"}}); ok {
		t.Error("a batch result formatted as a serve round")
	}
	if _, ok := FormatServeResult(&CellResult{Cell: cell}); ok {
		t.Error("a serve cell's result without serve figures (a failed round) formatted")
	}
	var load loadgen.Result
	if err := json.Unmarshal([]byte(`{"offered_rate":100,"achieved_rate":99.5,"scheduled":100,"ok":98,
		"errors":{"timeout":2},"latency":{"n":98,"p50_ns":2000000,"p90_ns":3000000,"p99_ns":4000000,"p999_ns":5000000,"max_ns":6000000},
		"lag":{"p99_ns":100000},"cpu_per_request_ns":40000,"under_offered":true}`), &load); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		round     ServeRound
		want, not []string
	}{
		{"in process", ServeRound{Load: &load, SpanRequests: 125, ServerCPU: 25 * time.Millisecond, AllocBytes: 1250, AllocObjects: 250},
			[]string{"BenchmarkServe/rate=100/strategy=x-2\t100\t99.5 req/s\t0.002 p50-sec/op\t0.003 p90-sec/op\t0.004 p99-sec/op\t0.005 p999-sec/op\t0.006 max-sec/op\t0.02 errors/op\t0.0002 cpu-sec/op\t4e-05 loadgen-cpu-sec/op\t10 B/op\t2 allocs/op\t0.0001 lag-p99-sec/op\t1 under-offered"},
			[]string{"backend-cpu"}},
		{"server process, backend apart", ServeRound{Load: &load, SpanRequests: 125, ServerProcesses: 1, BackendMeasured: true, BackendCPU: 5 * time.Millisecond},
			[]string{"\t4e-05 backend-cpu-sec/op"}, []string{"B/op", "allocs/op"}},
	} {
		res := &CellResult{Cell: cell}
		round := tt.round
		res.serve = &round
		line, ok := FormatServeResult(res)
		if !ok {
			t.Fatalf("%s: not formatted", tt.name)
		}
		for _, w := range tt.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: line\n%s\nlacks\n%s", tt.name, line, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(line, n) {
				t.Errorf("%s: line has %q: %s", tt.name, n, line)
			}
		}
		r := benchfmt.NewReader(strings.NewReader(line+"\n"), "line")
		for r.Scan() {
			if err, ok := r.Result().(*benchfmt.SyntaxError); ok {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	}
	empty := load
	empty.Latency = loadgen.Percentiles{}
	res := &CellResult{Cell: cell}
	res.serve = &ServeRound{Load: &empty, SpanRequests: 1}
	if line, _ := FormatServeResult(res); strings.Contains(line, "sec/op\t") && strings.Contains(line, "p50") {
		t.Errorf("no verified response, yet latencies: %s", line)
	}
}

// The generator opens no more connections than the server model serves
// at once: the iterative server gets one, so no request waits unanswered
// in its accept backlog until it times out; the requests queue in the
// generator instead, where the wait is latency.
func TestServeRoundKeepsToTheServersConnectionLimit(t *testing.T) {
	plan := servePlan(t, "1", params.Values{"rate": "200", "duration": "200ms", "latency": "1ms", "pages": "10"}, "blocking")
	backends := &InProcessBackends{}
	defer backends.Close()
	sum, err := Run(context.Background(), plan, Options{Count: 1, Backends: backends})
	if err != nil || len(sum.Failed) > 0 || len(sum.Results) != 1 {
		t.Fatalf("%v, failed %v", err, sum.Failed)
	}
	load := sum.Results[0].Serve().Load
	if load.Config.Conns != 1 || load.MaxOpen > 1 || load.Failed() > 0 {
		t.Errorf("blocking: the generator had %d connections (%d open at once), %d requests failed (%v); want 1 and none",
			load.Config.Conns, load.MaxOpen, load.Failed(), load.Errors)
	}
}
