package reactor

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// defaultTotalConns is the connections (per backend) that conns=0 spreads
// over the loops: 256, the in-flight level of the goroutines and threads
// strategies' defaults. Splitting a fixed total, rather than giving every
// loop a fixed number, keeps loops=1 and loops=P at the same in-flight level
// as each other and as the other strategies, so a difference between those
// cells is the loops' doing, not a change of concurrency.
const defaultTotalConns = 256

// ErrTimeout is wrapped by the error of a task whose request got no reply
// within the job's FetchTimeout. It wraps os.ErrDeadlineExceeded, as the
// net package's timeouts do.
var ErrTimeout = fmt.Errorf("reactor: no reply within the fetch timeout: %w", os.ErrDeadlineExceeded)

func init() {
	strategies.Register(&strategies.Definition{
		Name:    "reactor",
		Summary: "epoll event loop on a locked OS thread driving tasks as state machines (asyncio; loops=P: nginx, gnet)",
		Order:   50,
		Params: []params.Spec{
			loopsParam(),
			params.Int("conns", 0, 0, 1<<14, "connections per loop to each backend (0: 256 split over the loops)"),
			// Depth 1 gives each connection one request at a time, as every
			// other strategy's connection has: comparisons stay fair. Raising
			// it pipelines requests on a connection (Redis-style).
			params.Int("depth", 1, 1, 1024, "requests in flight per connection (pipelining)"),
			params.Switch("offload", false, "run compute steps on a worker pool of GOMAXPROCS goroutines (run_in_executor)"),
		},
		Available: available,
		Make: func(p params.Set) (strategies.Strategy, error) {
			r := &reactor{conns: p.Int("conns"), depth: p.Int("depth"), offload: p.Bool("offload")}
			if v := p.Get("loops"); v != "P" {
				r.loops, _ = strconv.Atoi(v) // validated by loopsParam
			}
			return r, nil
		},
	})
}

// loopsParam declares loops: a count, or P (also written 0) for one loop
// per core. P stays P in the cell name, so runs on machines with different
// core counts compare under one name.
func loopsParam() params.Spec {
	return params.Spec{
		Name: "loops", Default: "1",
		Doc: "event loops, each on its own OS thread (P or 0: one per core, GOMAXPROCS)",
		Check: func(s string) (string, error) {
			if s == "P" || s == "p" || s == "0" {
				return "P", nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1024 {
				return "", fmt.Errorf("must be P (or 0) for one loop per core, or 1 to 1024")
			}
			return strconv.Itoa(n), nil
		},
	}
}

// reactor is the strategy: its parameters, resolved.
type reactor struct {
	loops   int // 0: GOMAXPROCS
	conns   int // per loop per backend; 0: defaultTotalConns split over the loops
	depth   int
	offload bool
}

// loopCount returns the loops a job of tasks tasks runs on.
func (r *reactor) loopCount(tasks int) int {
	n := r.loops
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return max(1, min(n, tasks))
}

// connsPerLoop returns the connections each of loops loops opens to each
// backend.
func (r *reactor) connsPerLoop(loops int) int {
	if r.conns > 0 {
		return r.conns
	}
	return (defaultTotalConns + loops - 1) / loops
}

// Concurrency: compute runs on the loops' threads (one core each) or, with
// offload, on GOMAXPROCS workers; fetches in flight are bounded by every
// loop's connections times the pipeline depth.
func (r *reactor) Concurrency(spec *workloads.Spec) strategies.Concurrency {
	tasks := max(1, len(spec.Tasks))
	loops := r.loopCount(tasks)
	cores := loops
	if r.offload {
		cores = runtime.GOMAXPROCS(0)
	}
	return strategies.Concurrency{Cores: cores, InFlight: min(loops*r.connsPerLoop(loops)*r.depth, tasks)}
}
