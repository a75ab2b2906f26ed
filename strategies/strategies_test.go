package strategies_test

import (
	"context"
	"errors"
	"os"
	"strings"
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

var small = workloadtest.Small()

func addrsOf(addrs []string, _ []*backend.Server) []string { return addrs }

// plain are the strategies of this package, with parameters that make
// concurrency visible even on tiny workloads.
var plain = []struct {
	name string
	v    params.Values
}{
	{"blocking", nil},
	{"threads", params.Values{"max": "7"}},
	{"goroutines", params.Values{"conns": "5"}},
	{"pool", params.Values{"workers": "3"}},
	{"pool", nil},
}

func TestEveryStrategyMatchesTheReferenceOnEveryWorkload(t *testing.T) {
	for _, wd := range workloads.All() {
		spec, err := wd.Build(small[wd.Name])
		if err != nil {
			t.Fatal(err)
		}
		addrs := addrsOf(workloadtest.StartBackends(t, spec, backend.Faults{}))
		for _, sd := range plain {
			t.Run(wd.Name+"/"+sd.name, func(t *testing.T) {
				def, err := strategies.Lookup(sd.name)
				if err != nil {
					t.Fatal(err)
				}
				s, _, err := def.New(sd.v)
				if err != nil {
					t.Fatal(err)
				}
				job := strategies.NewJob(spec, addrs, 5*time.Second)
				if err := s.Run(context.Background(), job); err != nil {
					t.Fatal(err)
				}
				strategytest.Verified(t, job)
			})
		}
	}
}

func TestFetchErrorsAreCountedNotHidden(t *testing.T) {
	d, _ := workloads.Lookup("fanout")
	spec, err := d.Build(params.Values{"tasks": "20", "backends": "1", "latency": "0s"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := backend.Start(context.Background(), backend.Config{Listen: "127.0.0.1:0",
		ValueSize: spec.Backend.ValueSize + 1}) // every reply one byte too long
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, sd := range plain {
		def, _ := strategies.Lookup(sd.name)
		st, _, _ := def.New(sd.v)
		job := strategies.NewJob(spec, []string{s.Addr()}, time.Second)
		if err := st.Run(context.Background(), job); err != nil {
			t.Fatalf("%s: %v", sd.name, err)
		}
		for i, o := range job.Outcomes() {
			if o.Err == nil {
				t.Fatalf("%s: task %d succeeded on a wrong-sized reply", sd.name, i)
			}
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	d, _ := workloads.Lookup("fanout")
	spec, err := d.Build(params.Values{"tasks": "400", "backends": "1", "latency": "50ms"})
	if err != nil {
		t.Fatal(err)
	}
	addrs := addrsOf(workloadtest.StartBackends(t, spec, backend.Faults{}))
	for _, sd := range plain {
		def, _ := strategies.Lookup(sd.name)
		st, _, _ := def.New(sd.v)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_ = st.Run(ctx, strategies.NewJob(spec, addrs, time.Second))
		cancel()
		// 400 tasks at 50 ms take 20 s one at a time; a strategy that
		// notices cancellation returns within a request or two.
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s: returned %v after cancel", sd.name, el)
		}
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	_, err := strategies.Lookup("nope")
	if !errors.Is(err, strategies.ErrUnknownStrategy) || !strings.Contains(err.Error(), "blocking, threads, goroutines, pool") {
		t.Fatalf("Lookup error = %v", err)
	}
	def, _ := strategies.Lookup("pool")
	if _, _, err := def.New(params.Values{"workers": "lots"}); !errors.Is(err, params.ErrInvalid) {
		t.Fatalf("bad param error = %v", err)
	}
	_, set, err := def.New(params.Values{"workers": "8"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strategies.Label("pool", set); got != "pool(workers=8)" {
		t.Fatalf("Label = %q", got)
	}
	if got := strategies.Label("blocking", nil); got != "blocking" {
		t.Fatalf("Label = %q", got)
	}
}

// TestFaultsAreCountedAndNothingLeaks runs every plain strategy against a
// backend that resets, stalls, cuts and dribbles replies at 1 % and 10 %:
// each run completes within its timeouts, every task is verified or counted
// as an error, and no file descriptor is left open.
func TestFaultsAreCountedAndNothingLeaks(t *testing.T) {
	d, _ := workloads.Lookup("webrequest")
	spec, err := d.Build(params.Values{"tasks": "120", "latency": "0s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range []float64{0.01, 0.10} {
		const secret = 0xfa0175
		spec.UseSecret(secret)
		s, err := backend.Start(context.Background(), backend.Config{Listen: "127.0.0.1:0",
			ValueSize: spec.Backend.ValueSize, Seed: 7, Secret: secret,
			Faults: backend.Faults{Reset: rate / 4, Stall: rate / 4, PartialClose: rate / 4, SlowDrip: rate / 4}})
		if err != nil {
			t.Fatal(err)
		}
		for _, sd := range plain {
			fdsBefore := openFDs(t)
			def, _ := strategies.Lookup(sd.name)
			st, _, _ := def.New(sd.v)
			job := strategies.NewJob(spec, []string{s.Addr()}, 300*time.Millisecond)
			start := time.Now()
			if err := st.Run(context.Background(), job); err != nil {
				t.Fatalf("rate %v %s: %v", rate, sd.name, err)
			}
			// Generous: every request could time out once in sequence
			// only for blocking; the bound is what "never hangs" means.
			if el := time.Since(start); el > 120*300*time.Millisecond {
				t.Errorf("rate %v %s: took %v", rate, sd.name, el)
			}
			verified, failed := 0, 0
			for i, o := range job.Outcomes() {
				switch {
				case !o.Done:
					t.Fatalf("rate %v %s: task %d never finished", rate, sd.name, i)
				case o.Err != nil:
					failed++
				default:
					if err := spec.Check(i, o.Result); err != nil {
						t.Fatalf("rate %v %s: a faulty reply passed as a result: %v", rate, sd.name, err)
					}
					verified++
				}
			}
			if verified == 0 {
				t.Errorf("rate %v %s: no task verified", rate, sd.name)
			}
			t.Logf("rate %v %s: %d verified, %d errors", rate, sd.name, verified, failed)
			// The in-process server closes its side as it notices: wait.
			after := openFDs(t)
			for deadline := time.Now().Add(3 * time.Second); after > fdsBefore && time.Now().Before(deadline); after = openFDs(t) {
				time.Sleep(10 * time.Millisecond)
			}
			if after > fdsBefore {
				t.Errorf("rate %v %s: %d open fds before, %d after", rate, sd.name, fdsBefore, after)
			}
		}
		s.Close()
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	return len(entries)
}

// panicKernels panics in every kernel call: a task that crashes.
type panicKernels struct{ workloads.Kernels }

func (panicKernels) FNV1a(uint64, []byte) uint64 { panic("kernel crashed") }

func TestRunTaskFromChainsTimesAndRecordsPanics(t *testing.T) {
	spec := workloadtest.Build(t, "hash", params.Values{"tasks": "3"})
	job := strategies.NewJob(spec, nil, time.Second)
	job.Begin()
	start := job.Began()
	end := job.RunTaskFrom(0, start, workloads.Scalar, nil)
	end2 := job.RunTaskFrom(1, end, panicKernels{workloads.Scalar}, nil)
	at := end2.Add(time.Millisecond)
	job.FinishAt(2, end2, at, workloads.Result{}, nil)
	o := job.Outcomes()
	if !o[0].Done || o[0].Err != nil || !o[0].Start.Equal(start) || !o[0].End.Equal(end) || end.Before(start) {
		t.Errorf("task 0: %+v, want %v..%v without error", o[0], start, end)
	}
	if err := spec.Check(0, o[0].Result); err != nil {
		t.Error(err)
	}
	if !o[1].Done || !errors.Is(o[1].Err, strategies.ErrPanic) || !o[1].Start.Equal(end) || !o[1].End.Equal(end2) {
		t.Errorf("task 1: %+v, want a panic recorded from %v to %v", o[1], end, end2)
	}
	if !o[2].End.Equal(at) || !o[2].Start.Equal(end2) {
		t.Errorf("task 2: FinishAt recorded %v..%v, want %v..%v", o[2].Start, o[2].End, end2, at)
	}
}

func TestBeginCallsOnBeginOnceAndBeganOnlyReads(t *testing.T) {
	t.Parallel()
	spec := workloadtest.Build(t, "noop", params.Values{"tasks": "2"})
	calls := 0
	job := strategies.NewJob(spec, nil, time.Second, strategies.OnBegin(func() { calls++ }))
	if b := job.Began(); !b.IsZero() || calls != 0 {
		t.Fatalf("before Begin: Began() = %v and the hook ran %d times; want the zero time and no call", b, calls)
	}
	before := time.Now()
	job.Begin()
	began := job.Began()
	job.Begin()
	if calls != 1 || began.Before(before) || !job.Began().Equal(began) {
		t.Fatalf("after two Begins: hook ran %d times, Began() %v then %v (called at %v)", calls, began, job.Began(), before)
	}
}

func TestPanicErrorWrapsErrPanicWithTheStack(t *testing.T) {
	t.Parallel()
	var err error
	func() {
		defer func() { err = strategies.PanicError(7, recover()) }()
		panic("kernel crashed")
	}()
	msg := err.Error()
	if !errors.Is(err, strategies.ErrPanic) || !strings.HasPrefix(msg, "task 7: ") ||
		!strings.Contains(msg, "kernel crashed") || !strings.Contains(msg, "panic(") {
		t.Errorf("PanicError = %q: want task 7, ErrPanic, the value and the stack of the panic", msg)
	}
}
