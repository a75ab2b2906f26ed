package strategies_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

// TestEveryGoStrategyRunsPassesInOrder runs every Go strategy (this
// package's, the reactor's and simd's configurations) on jobs of three
// passes: each of the 3 × N task records must hold its spec task's
// reference result (noop and render fold the spec task's index, so a
// strategy that hands kernels the job's index fails), and no pass may
// start before the one before it has ended (with fetch latency, a
// strategy that lets passes overlap starts pass 2 while pass 1 waits).
func TestEveryGoStrategyRunsPassesInOrder(t *testing.T) {
	strategiesUnderTest := []struct {
		name string
		v    params.Values
	}{
		{"blocking", nil},
		{"threads", params.Values{"max": "4"}},
		{"goroutines", params.Values{"conns": "5"}},
		{"goroutines", nil},
		{"pool", params.Values{"workers": "3"}},
		{"reactor", nil},
		{"reactor", params.Values{"loops": "2", "offload": "on"}},
		{"reactor", params.Values{"depth": "4", "conns": "1"}},
		{"simd", params.Values{"batch": "4"}},
		{"simd", params.Values{"path": "scalar"}},
	}
	specs := []struct {
		name string
		v    params.Values
	}{
		{"noop", params.Values{"tasks": "7"}},
		{"hash", params.Values{"tasks": "11"}},
		{"webrequest", params.Values{"tasks": "6", "latency": "1ms"}},
		{"fanout", params.Values{"tasks": "9", "latency": "2ms"}},
		{"mixed", params.Values{"tasks": "5", "latency": "1ms"}},
	}
	for _, sp := range specs {
		spec := workloadtest.Build(t, sp.name, sp.v)
		addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
		for _, st := range strategiesUnderTest {
			t.Run(fmt.Sprintf("%s/%s%v", sp.name, st.name, st.v), func(t *testing.T) {
				def, err := strategies.Lookup(st.name)
				if err != nil {
					t.Fatal(err)
				}
				s, _, err := def.New(st.v)
				if err != nil {
					t.Fatal(err)
				}
				job := strategies.NewJob(spec, addrs, 5*time.Second, strategies.Repeat(3))
				if job.Tasks() != 3*len(spec.Tasks) || job.PassTasks() != len(spec.Tasks) || job.Passes() != 3 {
					t.Fatalf("a job of 3 passes of %d tasks: Tasks %d, PassTasks %d, Passes %d",
						len(spec.Tasks), job.Tasks(), job.PassTasks(), job.Passes())
				}
				if err := s.Run(context.Background(), job); err != nil {
					t.Fatal(err)
				}
				strategytest.Verified(t, job)
			})
		}
	}
}

// Records taken from shared storage come cleared, and sized to the job
// in hand, whatever the job before left there.
func TestJobsReuseRecordsCleared(t *testing.T) {
	t.Parallel()
	spec := workloadtest.Build(t, "noop", params.Values{"tasks": "5"})
	var recs strategies.Records
	first := strategies.NewJob(spec, nil, time.Second, strategies.WithRecords(&recs), strategies.Repeat(4))
	first.Begin()
	for i := range first.Tasks() {
		first.RunTask(i, nil, nil) // nil kernels: noop needs none
	}
	second := strategies.NewJob(spec, nil, time.Second, strategies.WithRecords(&recs), strategies.Repeat(2))
	if got := len(second.Records()); got != 10 {
		t.Fatalf("%d records for a job of 2 passes of 5 tasks", got)
	}
	for i, r := range second.Records() {
		if r.Finished() || r != (strategies.Record{}) {
			t.Fatalf("record %d of a new job: %+v, want it cleared", i, r)
		}
	}
	if &first.Records()[0] != &second.Records()[0] {
		t.Error("the second job did not reuse the storage")
	}
}
