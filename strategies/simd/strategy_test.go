package simd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

func buildSpec(t *testing.T, name string, v params.Values) *workloads.Spec {
	t.Helper()
	def, err := workloads.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := def.Build(v)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func newStrategy(t *testing.T, v params.Values) (strategies.Strategy, params.Set) {
	t.Helper()
	def, err := strategies.Lookup("simd")
	if err != nil {
		t.Fatal(err)
	}
	s, set, err := def.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return s, set
}

// runJob runs spec with the simd strategy and returns the job.
func runJob(t *testing.T, spec *workloads.Spec, v params.Values, addrs []string, timeout time.Duration) *strategies.Job {
	t.Helper()
	s, _ := newStrategy(t, v)
	job := strategies.NewJob(spec, addrs, timeout)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Run(ctx, job); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return job
}

func TestParamsNameThePath(t *testing.T) {
	_, set := newStrategy(t, nil)
	if got, want := strategies.Label("simd", set), "simd(batch=256,path="+string(Default())+")"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	_, set = newStrategy(t, params.Values{"path": "scalar", "batch": "8"})
	if got := strategies.Label("simd", set); got != "simd(batch=8,path=scalar)" {
		t.Errorf("label %q", got)
	}
	def, _ := strategies.Lookup("simd")
	if _, _, err := def.New(params.Values{"path": "neon"}); err == nil {
		t.Error("path=neon accepted")
	}
}

func TestCPUWorkloads(t *testing.T) {
	specs := map[string]*workloads.Spec{
		"noop":       buildSpec(t, "noop", params.Values{"tasks": "1000"}),
		"dot":        buildSpec(t, "dot", params.Values{"tasks": "300", "size": "1000", "span": "8000"}),
		"dot-odd":    buildSpec(t, "dot", params.Values{"tasks": "37", "size": "77", "span": "1000"}),
		"mandelbrot": buildSpec(t, "mandelbrot", params.Values{"width": "203", "rows": "61", "iter": "300"}),
		"hash":       buildSpec(t, "hash", params.Values{"tasks": "1001", "size": "67"}),
		"hash-tiny":  buildSpec(t, "hash", params.Values{"tasks": "3", "size": "1"}),
		"stream-sum": buildSpec(t, "stream", params.Values{"bytes": "40004", "chunk": "777"}),
		// triad writes its output array: each subtest builds its own
		// (parallel runs on one spec would race on it).
		"stream-triad": nil,
	}
	for name, shared := range specs {
		for _, p := range Paths() {
			for _, batch := range []string{"1", "7", "256"} {
				t.Run(name+"/"+string(p)+"/batch="+batch, func(t *testing.T) {
					t.Parallel()
					spec := shared
					if spec == nil {
						spec = buildSpec(t, "stream", params.Values{"op": "triad", "bytes": "40008", "chunk": "333"})
					}
					job := runJob(t, spec, params.Values{"path": string(p), "batch": batch}, nil, time.Second)
					strategytest.Verified(t, job)
				})
			}
		}
	}
}

// startBackend starts spec's backends with cfg (and a fresh secret,
// which spec's reference takes: workloadtest.StartBackendsConfig).
func startBackend(t *testing.T, spec *workloads.Spec, cfg backend.Config) []string {
	t.Helper()
	addrs, _ := workloadtest.StartBackendsConfig(t, spec, cfg)
	return addrs
}

func TestIOWorkloads(t *testing.T) {
	cases := []struct {
		name string
		v    params.Values
	}{
		{"fanout", params.Values{"latency": "0s", "tasks": "700", "backends": "3"}},
		{"fanout", params.Values{"latency": "1ms", "tasks": "300", "backends": "2", "size": "300"}},
		{"webrequest", params.Values{"latency": "0s", "tasks": "500"}},
		{"mixed", params.Values{"latency": "0s", "cpu": "20us", "tasks": "100"}},
	}
	for _, c := range cases {
		spec := buildSpec(t, c.name, c.v)
		addrs := startBackend(t, spec, backend.Config{})
		for _, p := range Paths() {
			t.Run(c.name+"/"+spec.Params.String()+"/"+string(p), func(t *testing.T) {
				job := runJob(t, spec, params.Values{"path": string(p), "batch": "64"}, addrs, 5*time.Second)
				strategytest.Verified(t, job)
			})
		}
	}
}

// TestIOFaults injects resets, stalls and cut replies: every task must end
// (no hang), and each either fails or has the reference result.
func TestIOFaults(t *testing.T) {
	spec := buildSpec(t, "webrequest", params.Values{"latency": "0s", "tasks": "400"})
	addrs := startBackend(t, spec, backend.Config{Seed: 7,
		Faults: backend.Faults{Reset: 0.01, Stall: 0.005, PartialClose: 0.01, SlowDrip: 0.01}})
	start := time.Now()
	job := runJob(t, spec, params.Values{"batch": "50"}, addrs, 200*time.Millisecond)
	failed := 0
	for i, o := range job.Outcomes() {
		if !o.Done {
			t.Fatalf("task %d not finished", i)
		}
		if o.Err != nil {
			failed++
			continue
		}
		if err := spec.Check(i, o.Result); err != nil {
			t.Error(err)
		}
	}
	if failed == 0 || failed == len(job.Outcomes()) {
		t.Errorf("%d of %d tasks failed: want some, not all", failed, len(job.Outcomes()))
	}
	t.Logf("%d of %d tasks failed under faults, in %v", failed, len(job.Outcomes()), time.Since(start))
}

func TestBackendDown(t *testing.T) {
	spec := buildSpec(t, "fanout", params.Values{"latency": "0s", "tasks": "10", "backends": "1"})
	s, _ := newStrategy(t, nil)
	// A closed port: Run cannot start and says so.
	job := strategies.NewJob(spec, []string{"127.0.0.1:1"}, time.Second)
	if err := s.Run(context.Background(), job); err == nil {
		t.Fatal("Run succeeded against a closed port")
	}
}

func TestCancel(t *testing.T) {
	spec := buildSpec(t, "mandelbrot", params.Values{"width": "256", "rows": "400", "iter": "500"})
	s, _ := newStrategy(t, params.Values{"batch": "4"})
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelled as soon as the timed part starts.
	job := strategies.NewJob(spec, nil, time.Second, strategies.OnBegin(cancel))
	if err := s.Run(ctx, job); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	done := 0
	for _, o := range job.Outcomes() {
		if o.Done {
			done++
		}
	}
	if done == len(job.Outcomes()) {
		t.Errorf("all %d tasks ran despite cancellation", done)
	}
}
