//go:build linux

package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// small are parameters that keep every workload quick, with more I/O tasks
// than the shared ones so pipelining and loops have work to spread.
var small = func() map[string]params.Values {
	v := workloadtest.Small()
	v["fanout"]["tasks"] = "300"
	v["webrequest"]["tasks"] = "120"
	v["mixed"]["tasks"] = "60"
	return v
}()

// configs are the reactor parameters every workload runs under: the
// defaults, a loop per core, offload, pipelining, and few connections (so
// tasks queue for admission).
var configs = []params.Values{
	nil,
	{"loops": "2"},
	{"loops": "P", "offload": "on"},
	{"depth": "4", "conns": "3"},
	{"conns": "1", "offload": "on"},
}

func build(t testing.TB, name string, v params.Values) *workloads.Spec {
	t.Helper()
	d, err := workloads.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := d.Build(v)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func newReactor(t testing.TB, v params.Values) strategies.Strategy {
	t.Helper()
	return newStrategy(t, "reactor", v)
}

func newStrategy(t testing.TB, name string, v params.Values) strategies.Strategy {
	t.Helper()
	def, err := strategies.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := def.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs spec with the reactor configured by v and returns the job.
func run(t testing.TB, ctx context.Context, spec *workloads.Spec, addrs []string, v params.Values, timeout time.Duration) (*strategies.Job, error) {
	t.Helper()
	job := strategies.NewJob(spec, addrs, timeout)
	return job, newReactor(t, v).Run(ctx, job)
}

func newJob(spec *workloads.Spec, addrs []string) *strategies.Job {
	return strategies.NewJob(spec, addrs, 5*time.Second)
}

func TestEveryWorkloadMatchesTheReference(t *testing.T) {
	for _, wd := range workloads.All() {
		t.Run(wd.Name, func(t *testing.T) {
			t.Parallel()
			spec := build(t, wd.Name, small[wd.Name])
			addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
			for _, v := range configs {
				t.Run(fmt.Sprint(v), func(t *testing.T) {
					job, err := run(t, context.Background(), spec, addrs, v, 5*time.Second)
					if err != nil {
						t.Fatal(err)
					}
					strategytest.Verified(t, job)
				})
			}
		})
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// sameFDs waits for the descriptor count to come back to before: the
// backend closes its side of our connections a moment after we close ours,
// but a leaked socket of ours keeps its server side open for good. The
// deadline is a watchdog that turns a leak into a failure, not a bound on
// how soon the backend must close.
func sameFDs(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := openFDs(t)
		if n == before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open after the run, %d before", n, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Not parallel: it counts the whole process's descriptors.
func TestNoDescriptorsLeak(t *testing.T) {
	spec := build(t, "fanout", params.Values{"tasks": "400", "backends": "2", "latency": "0s"})
	faulty := build(t, "fanout", params.Values{"tasks": "400", "backends": "1", "latency": "0s"})
	slow := build(t, "fanout", params.Values{"tasks": "400", "backends": "1", "latency": "50ms"})
	addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
	faultyAddrs, _ := workloadtest.StartBackends(t, faulty, backend.Faults{Reset: 0.05, Stall: 0.02, PartialClose: 0.05})
	slowAddrs, slowServers := workloadtest.StartBackends(t, slow, backend.Faults{})
	cases := []struct {
		name  string
		spec  *workloads.Spec
		addrs []string
		v     params.Values
		// cancelAt, if set, is the backend whose eighth reply cancels
		// the run (which would take 100 waves of 50 ms).
		cancelAt *backend.Server
	}{
		{"plain", spec, addrs, nil, nil},
		{"loops=2,offload", spec, addrs, params.Values{"loops": "2", "offload": "on"}, nil},
		{"faults", faulty, faultyAddrs, params.Values{"depth": "3", "conns": "8"}, nil},
		{"cancelled", slow, slowAddrs, params.Values{"conns": "4"}, slowServers[0]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := openFDs(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for c.cancelAt != nil && ctx.Err() == nil {
					if c.cancelAt.Stats().Replies >= 8 {
						cancel()
					}
					time.Sleep(time.Millisecond)
				}
			}()
			_, err := run(t, ctx, c.spec, c.addrs, c.v, 200*time.Millisecond)
			cancel()
			<-watched
			if c.cancelAt == nil && err != nil {
				t.Fatal(err)
			}
			if c.cancelAt != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run returned %v", err)
			}
			sameFDs(t, before)
		})
	}
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := ln.Addr().String()
		ln.Close() // nothing listens there now
		before := openFDs(t)
		_, err = run(t, context.Background(), spec, []string{dead, dead}, nil, time.Second)
		if err == nil || !strings.Contains(err.Error(), "connect") {
			t.Fatalf("run against a closed port returned %v", err)
		}
		sameFDs(t, before)
	})
}

// TestFaultsEveryTaskVerifiedOrErrored runs against a backend that resets,
// stalls, cuts short and dribbles 10% of its replies.
func TestFaultsEveryTaskVerifiedOrErrored(t *testing.T) {
	t.Parallel()
	faults := backend.Faults{Reset: 0.025, Stall: 0.025, PartialClose: 0.025, SlowDrip: 0.025}
	for _, v := range []params.Values{nil, {"loops": "2"}, {"depth": "4", "conns": "16"}, {"offload": "on", "conns": "32"}} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			t.Parallel()
			spec := build(t, "webrequest", params.Values{"tasks": "300", "latency": "0s"})
			addrs, servers := workloadtest.StartBackends(t, spec, faults)
			// Long enough that a loaded 2-core machine (the race
			// detector, other packages' tests) does not stretch a drip or
			// the requests queued behind it past it: each stall costs
			// one timeout, on its own connection, in parallel.
			const timeout = 1500 * time.Millisecond
			job, err := run(t, context.Background(), spec, addrs, v, timeout)
			if err != nil {
				t.Fatal(err)
			}
			failed, timedOut := 0, 0
			for i, o := range job.Outcomes() {
				if !o.Done {
					t.Fatalf("task %d not finished", i)
				}
				if o.Err != nil {
					failed++
					if errors.Is(o.Err, ErrTimeout) {
						timedOut++
					}
					continue
				}
				if err := spec.Check(i, o.Result); err != nil {
					t.Fatal(err)
				}
			}
			st := servers[0].Stats()
			t.Logf("%d of %d tasks failed (%d timed out); backend: %d resets, %d stalls, %d partial closes, %d slow drips",
				failed, len(job.Outcomes()), timedOut, st.Resets, st.Stalls, st.PartialCloses, st.SlowDrips)
			// Every reset and cut-short reply fails exactly its own task,
			// and a stall costs one timeout. A slow drip (a reply dribbled
			// over ~35 ms) succeeds unless a loaded machine stretches it
			// past this test's timeout, together with the requests
			// pipelined behind it: the bound below tolerates that, and
			// TestSlowDripRepliesComplete, with a timeout no drip reaches,
			// requires every dripped reply to complete.
			if want := st.Resets + st.PartialCloses; int64(failed-timedOut) != want {
				t.Errorf("%d tasks failed other than by timeout for %d resets and partial closes", failed-timedOut, want)
			}
			depth := int64(1)
			if v["depth"] != "" {
				depth = 4
			}
			if n := int64(timedOut); n < st.Stalls || n > st.Stalls+depth*st.SlowDrips {
				t.Errorf("%d tasks timed out for %d stalls and %d slow drips", timedOut, st.Stalls, st.SlowDrips)
			}
			if failed == 0 {
				t.Error("no task failed at a 10% fault rate")
			}
		})
	}
}

func TestTimeoutFailsTaskAndReplacesConnection(t *testing.T) {
	t.Parallel()
	spec := build(t, "fanout", params.Values{"tasks": "16", "backends": "1", "latency": "0s"})
	addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{Stall: 1})
	const timeout = 50 * time.Millisecond
	// 4 connections, 16 tasks: four waves of timeouts, each on fresh sockets.
	job, err := run(t, context.Background(), spec, addrs, params.Values{"conns": "4"}, timeout)
	if err != nil {
		t.Fatal(err)
	}
	// What is checked is what happened, not how long it took: every task
	// failed by its timeout, none before its timeout was up (the clock
	// is monotonic, so a loaded machine can only make them later), and the
	// waves followed each other (a task of the next wave starts only once
	// one of this wave has ended).
	outcomes := job.Outcomes()
	for i, o := range outcomes {
		if !errors.Is(o.Err, ErrTimeout) || !errors.Is(o.Err, os.ErrDeadlineExceeded) {
			t.Fatalf("task %d: error %v, want a timeout", i, o.Err)
		}
		if d := o.End.Sub(o.Start); d < timeout {
			t.Errorf("task %d timed out after %v, before its timeout of %v", i, d, timeout)
		}
	}
	starts := make([]time.Time, len(outcomes))
	for i, o := range outcomes {
		starts[i] = o.Start
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	if first, last := starts[0], starts[len(starts)-1]; last.Sub(first) < 3*timeout {
		t.Errorf("the last task started %v after the first: four waves of one task a connection take three timeouts between them", last.Sub(first))
	}
	// Each timeout closes its connection; the next wave's requests dial
	// replacements: 4 set-up connections, then 4 for each of waves 2 to 4.
	if c := servers[0].Stats().Conns; c < 4+12 {
		t.Errorf("backend saw %d connections; timed-out connections were not replaced", c)
	}
}

// TestPipelinedTasksBehindAFailureAreReissued puts four requests on one
// connection and resets some: only the request whose reply was due fails.
func TestPipelinedTasksBehindAFailureAreReissued(t *testing.T) {
	t.Parallel()
	spec := build(t, "fanout", params.Values{"tasks": "200", "backends": "1", "latency": "0s"})
	addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{Reset: 0.05})
	job, err := run(t, context.Background(), spec, addrs, params.Values{"conns": "1", "depth": "4"}, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i, o := range job.Outcomes() {
		if o.Err != nil {
			failed++
			continue
		}
		if err := spec.Check(i, o.Result); err != nil {
			t.Fatal(err)
		}
	}
	resets := servers[0].Stats().Resets
	t.Logf("%d resets, %d failed tasks", resets, failed)
	if int64(failed) != resets {
		t.Errorf("%d tasks failed for %d resets: tasks queued behind a reset should be re-issued", failed, resets)
	}
}

func TestWrongSizedRepliesAreErrors(t *testing.T) {
	t.Parallel()
	spec := build(t, "fanout", params.Values{"tasks": "20", "backends": "1", "latency": "0s"})
	s, err := backend.Start(context.Background(), backend.Config{ValueSize: spec.Backend.ValueSize + 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	job, err := run(t, context.Background(), spec, []string{s.Addr()}, nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range job.Outcomes() {
		if o.Err == nil {
			t.Fatalf("task %d succeeded on a wrong-sized reply", i)
		}
	}
}

// TestBackendGoneMidRunFailsTasksPromptly closes the backend once it has
// answered some requests. The job has no fetch timeout: only noticing the
// closed connections (and the refused redials) can end its tasks, so a
// reactor that waited for replies that will never come would hang (the
// watchdog turns that into a failure), and no task may fail by a timeout.
func TestBackendGoneMidRunFailsTasksPromptly(t *testing.T) {
	t.Parallel()
	spec := build(t, "fanout", params.Values{"tasks": "400", "backends": "1", "latency": "5ms"})
	addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for servers[0].Stats().Replies < 20 {
			time.Sleep(time.Millisecond)
		}
		servers[0].Close()
	}()
	job, err := runWatched(t, context.Background(), spec, addrs, params.Values{"conns": "4"}, 0)
	<-closed
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := 0, 0
	for i, o := range job.Outcomes() {
		switch {
		case !o.Done:
			t.Fatalf("task %d not finished", i)
		case errors.Is(o.Err, ErrTimeout):
			t.Fatalf("task %d timed out with no timeout set: %v", i, o.Err)
		case o.Err != nil:
			failed++
		default:
			if err := spec.Check(i, o.Result); err != nil {
				t.Fatal(err)
			}
			ok++
		}
	}
	t.Logf("%d verified, %d failed", ok, failed)
	if ok < 20 || failed == 0 {
		t.Errorf("%d verified, %d failed: want the tasks before the close verified and the rest failed", ok, failed)
	}
}

// runWatched is run with a watchdog: a run still going after a minute
// fails the test instead of hanging it (a bound on a hang, not a timing
// assertion).
func runWatched(t *testing.T, ctx context.Context, spec *workloads.Spec, addrs []string, v params.Values, timeout time.Duration) (*strategies.Job, error) {
	t.Helper()
	type result struct {
		job *strategies.Job
		err error
	}
	done := make(chan result, 1)
	s := newReactor(t, v)
	go func() {
		job := strategies.NewJob(spec, addrs, timeout)
		done <- result{job, s.Run(ctx, job)}
	}()
	select {
	case r := <-done:
		return r.job, r.err
	case <-time.After(time.Minute):
		t.Fatal("the run still goes on a minute later: it hangs")
		return nil, nil
	}
}

// TestCancelReturnsPromptly cancels runs once the backend has answered a
// few of their requests: Run must return the context's error with the
// job unfinished (the whole job takes 50 waves of 50 ms) and every
// goroutine and descriptor of its own gone (goleak, at the end of the
// package's tests). The watchdog turns a run that ignores the cancel into
// a failure.
func TestCancelReturnsPromptly(t *testing.T) {
	t.Parallel()
	spec := build(t, "mixed", params.Values{"tasks": "100", "cpu": "1ms", "latency": "50ms"})
	for _, v := range []params.Values{{"conns": "2"}, {"conns": "2", "offload": "on"}} {
		addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{})
		ctx, cancel := context.WithCancel(context.Background())
		cancelled := make(chan struct{})
		go func() {
			defer close(cancelled)
			for servers[0].Stats().Replies < 4 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		job, err := runWatched(t, ctx, spec, addrs, v, time.Second)
		cancel()
		<-cancelled
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v: Run returned %v, want the context's error", v, err)
		}
		done := 0
		for _, o := range job.Outcomes() {
			if o.Done {
				done++
			}
		}
		if done == len(spec.Tasks) {
			t.Errorf("%v: every task finished: the run went on after the cancel", v)
		}
	}
}

// Not parallel: it sets the package's test hook.
func TestProfilerLabelsReachLoopsAndWorkers(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	var profiles bytes.Buffer
	testHookLoopStart = func(ctx context.Context) {
		v, _ := pprof.Label(ctx, "strategy")
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, v)
		// debug=1 prints each goroutine group's labels: those the
		// goroutine itself carries, which the CPU profiler records. The
		// calling goroutine is in its own profile.
		pprof.Lookup("goroutine").WriteTo(&profiles, 1)
		profiles.WriteString("\n\n")
	}
	defer func() { testHookLoopStart = nil }()
	spec := build(t, "mixed", params.Values{"tasks": "40", "cpu": "10us", "latency": "0s"})
	addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
	pprof.Do(context.Background(), pprof.Labels("strategy", "reactor"), func(ctx context.Context) {
		job, err := run(t, ctx, spec, addrs, params.Values{"loops": "2", "offload": "on"}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		strategytest.Verified(t, job)
	})
	if want := 2 + runtime.GOMAXPROCS(0); len(seen) != want {
		t.Fatalf("hook ran on %d goroutines, want %d (2 loops and the workers)", len(seen), want)
	}
	for _, v := range seen {
		if v != "reactor" {
			t.Fatalf("a loop or worker saw strategy label %q", v)
		}
	}
	for _, fn := range []string{"(*loop).loop", "(*offloadPool).worker"} {
		found := false
		for _, group := range strings.Split(profiles.String(), "\n\n") {
			if !strings.Contains(group, fn) {
				continue
			}
			found = true
			if !strings.Contains(group, `"strategy":"reactor"`) {
				t.Fatalf("goroutine in %s without the run's labels:\n%s", fn, group)
			}
		}
		if !found {
			t.Fatalf("no goroutine in %s in the profiles", fn)
		}
	}
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	spec := build(t, "fanout", params.Values{"tasks": "1000", "backends": "1", "latency": "0s"})
	procs := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		v              params.Values
		cores, inFight int
	}{
		{nil, 1, 256},
		{params.Values{"loops": "2"}, 2, 256},
		{params.Values{"loops": "P"}, procs, procs * ((256 + procs - 1) / procs)},
		{params.Values{"offload": "on"}, procs, 256},
		{params.Values{"conns": "64", "loops": "3", "depth": "2"}, 3, 384},
		{params.Values{"conns": "1000", "depth": "4"}, 1, 1000}, // capped at tasks
	} {
		got := newReactor(t, c.v).Concurrency(spec)
		if got.Cores != c.cores || got.InFlight != c.inFight {
			t.Errorf("%v: Concurrency = %+v, want cores %d, in flight %d", c.v, got, c.cores, c.inFight)
		}
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	def, _ := strategies.Lookup("reactor")
	if err := def.CheckAvailable(); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"0": "P", "P": "P", "1": "1", "4": "4"} {
		_, set, err := def.New(params.Values{"loops": in})
		if err != nil {
			t.Fatal(err)
		}
		if got := strategies.Label("reactor", set); got != "reactor(loops="+want+",conns=0,depth=1,offload=off)" {
			t.Errorf("loops=%s: label %s", in, got)
		}
	}
	for _, bad := range []params.Values{{"loops": "-1"}, {"loops": "x"}, {"depth": "0"}, {"offload": "yes"}} {
		if _, _, err := def.New(bad); !errors.Is(err, params.ErrInvalid) {
			t.Errorf("%v: error %v", bad, err)
		}
	}
}
