package harness

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// modelStrategy claims a concurrency and runs nothing: bound() reads only
// what a strategy claims.
type modelStrategy strategies.Concurrency

func (m modelStrategy) Concurrency(*workloads.Spec) strategies.Concurrency {
	return strategies.Concurrency(m)
}
func (modelStrategy) Run(context.Context, *strategies.Job) error { return nil }

// handSpec builds a spec by hand: n tasks, each of fetches fetch steps
// (the later ones dependent on the one before, as webrequest's) then one
// compute step, with the given latency and scalar reference time.
func handSpec(n, fetches int, latency, reference time.Duration) *workloads.Spec {
	tasks := make([]workloads.Task, n)
	for i := range tasks {
		for f := range fetches {
			tasks[i].Steps = append(tasks[i].Steps, workloads.Step{Kind: workloads.StepFetch, Key: "k", KeyFromReply: f > 0})
		}
		tasks[i].Steps = append(tasks[i].Steps, workloads.Step{Kind: workloads.StepCompute, Kernel: workloads.KernelNoop})
	}
	instances := 0
	if fetches > 0 {
		instances = 1
	}
	return &workloads.Spec{Workload: "hand", Tasks: tasks, ReferenceTime: reference,
		Backend: workloads.Backend{Instances: instances, ValueSize: 8, Latency: latency}}
}

// The bound of a pass, worked out by hand for each of its three terms:
// the CPU term (the reference's time over the cores the model can use,
// at most GOMAXPROCS), Little's law (fetches × latency over fetches in
// flight) and the longest chain of dependent fetches (its length ×
// latency), whichever is largest.
func TestBoundOnHandMadeSpecs(t *testing.T) {
	t.Parallel()
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name string
		spec *workloads.Spec
		conc strategies.Concurrency
		want time.Duration
	}{
		// CPU only: 120 ms of scalar work.
		{"cpu, one core", handSpec(100, 0, 0, 120*time.Millisecond), strategies.Concurrency{Cores: 1}, 120 * time.Millisecond},
		{"cpu, every core", handSpec(100, 0, 0, 120*time.Millisecond), strategies.Concurrency{Cores: procs},
			120 * time.Millisecond / time.Duration(procs)},
		{"cpu, more cores than GOMAXPROCS", handSpec(100, 0, 0, 120*time.Millisecond), strategies.Concurrency{Cores: 10 * procs},
			120 * time.Millisecond / time.Duration(procs)},
		{"cpu, no cores claimed", handSpec(100, 0, 0, 120*time.Millisecond), strategies.Concurrency{}, 120 * time.Millisecond},
		// Little's law: 200 fetches of 10 ms, 4 at a time: 500 ms.
		{"little", handSpec(200, 1, 10*time.Millisecond, time.Millisecond), strategies.Concurrency{Cores: 1, InFlight: 4}, 500 * time.Millisecond},
		{"little, one at a time", handSpec(200, 1, 10*time.Millisecond, time.Millisecond), strategies.Concurrency{Cores: 1, InFlight: 1}, 2 * time.Second},
		{"little, none claimed in flight", handSpec(200, 1, 10*time.Millisecond, time.Millisecond), strategies.Concurrency{Cores: 1}, 2 * time.Second},
		// The chain: 3 dependent fetches of 10 ms cannot take under 30 ms,
		// however many are in flight (Little's law would say 10 × 3 × 10 ms / 1000).
		{"chain", handSpec(10, 3, 10*time.Millisecond, time.Millisecond), strategies.Concurrency{Cores: 1, InFlight: 1000}, 30 * time.Millisecond},
		// The CPU term wins over both when the work is heavier.
		{"cpu beats i/o", handSpec(10, 3, 10*time.Millisecond, time.Second), strategies.Concurrency{Cores: 1, InFlight: 1000}, time.Second},
	}
	for _, tt := range tests {
		c := cell(tt.spec, modelStrategy(tt.conc), tt.name)
		if got := bound(c); got != tt.want {
			t.Errorf("%s: bound = %v, want %v", tt.name, got, tt.want)
		}
	}
}
