package strategies_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/reactor" // registers reactor
	_ "github.com/concbench/concbench/strategies/simd"    // registers simd
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

// concurrencyLatency is the backend's latency in the concurrency test:
// far longer than a strategy takes to issue its requests, even on a
// loaded machine under the race detector, so that every request a
// strategy may have outstanding is outstanding at once.
const concurrencyLatency = 250 * time.Millisecond

// Each strategy's limit on requests in flight, as the backend sees it: a
// one-instance fanout of twice the limit's tasks, at a latency that makes
// overlap certain, must show the limit in flight at once, never more
// (the server's MaxInFlight, counted from when it has read a request to
// when it writes the reply), and the strategy's model (Concurrency, the
// basis of its bound) must claim that same limit.
func TestConcurrencyObservedAtTheBackend(t *testing.T) {
	t.Parallel()
	procs := runtime.GOMAXPROCS(0)
	for _, tt := range []struct {
		name  string
		v     params.Values
		limit int
	}{
		{"blocking", nil, 1},
		{"threads", params.Values{"max": "6"}, 6},
		{"goroutines", params.Values{"conns": "5"}, 5},
		{"pool", params.Values{"workers": "4"}, 4},
		// loops × conns × depth: 2 loops of 3 connections, 2 pipelined
		// requests on each.
		{"reactor", params.Values{"loops": "2", "conns": "3", "depth": "2"}, 12},
		{"reactor", params.Values{"loops": "1", "conns": "4", "depth": "1"}, 4},
		// A worker a core, each with its batch of GETs pipelined at once.
		{"simd", params.Values{"batch": "8", "path": "scalar"}, 8 * procs},
		{"py-threads", params.Values{"max": "3"}, 3},
		{"py-asyncio", params.Values{"conns": "3"}, 3},
	} {
		t.Run(fmt.Sprintf("%s/%d", tt.name, tt.limit), func(t *testing.T) {
			t.Parallel()
			s := available(t, tt.name, tt.v)
			takePythonSlot(t, tt.name)
			spec := workloadtest.Build(t, "fanout", params.Values{"tasks": fmt.Sprint(2 * tt.limit), "backends": "1",
				"size": "16", "latency": concurrencyLatency.String()})
			if got := s.Concurrency(spec).InFlight; got != tt.limit {
				t.Errorf("Concurrency(spec).InFlight = %d, want %d", got, tt.limit)
			}
			addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{})
			servers[0].NextWindow() // the window of the run starts here
			job := strategies.NewJob(spec, addrs, 10*time.Second)
			if err := s.Run(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			w := servers[0].NextWindow()
			strategytest.VerifiedResults(t, job)
			if w.Gets != int64(len(spec.Tasks)) || w.GetsAnswered != w.Gets {
				t.Errorf("the backend was asked for %d values and answered %d, want %d", w.Gets, w.GetsAnswered, len(spec.Tasks))
			}
			if w.MaxInFlight != int64(tt.limit) {
				t.Errorf("the backend saw at most %d requests in flight at once, want the strategy's limit, %d", w.MaxInFlight, tt.limit)
			}
		})
	}
}
