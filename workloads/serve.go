package workloads

import (
	"fmt"
	"time"

	"github.com/concbench/concbench/params"
)

// The serve workload: serve mode, in which the strategy under test is a web
// server (package serve) and a load generator offers it requests at a rate
// (package serve/loadgen). Its spec is the webrequest workload's task set,
// one task a page: page id is task id (GET session:{id}, GET the user record
// the session names, render), so a backend provider prepares the pages'
// keys as it prepares any I/O spec's, and the tasks' reference results are
// the pages' digests. The harness does not run the tasks as a batch: it
// starts the strategy's server model and a load generator for each round
// (see ServeSettingsOf).

// ClassServe is the class of the serve workload: open-loop load on a
// server, not a batch of tasks.
const ClassServe Class = "serve"

// ServeWorkload is the name of the serve workload.
const ServeWorkload = "serve"

// The request schedules of the serve workload (its arrival parameter).
const (
	ArrivalConstant = "constant" // evenly spaced: request k is due at k/rate
	ArrivalPoisson  = "poisson"  // exponential gaps of mean 1/rate: independent users' bursts
)

// ServeSettings are what a serve spec's rounds offer the server: the
// resolved parameters of the serve workload.
type ServeSettings struct {
	Rate     int           // offered requests a second
	Latency  time.Duration // injected backend latency per lookup
	Arrival  string        // ArrivalConstant or ArrivalPoisson
	Duration time.Duration // a round's measured window
	// SLO is the p99 latency that an offered rate must meet (with no
	// errors, the generator on schedule) to count as sustainable.
	SLO   time.Duration
	Pages int // pages 0..Pages-1, requested in turn
	// Conns is the most connections the load generator opens.
	Conns int
	// ValueSize is the size of every backend value (the webrequest
	// task's).
	ValueSize int
}

// ServeSettingsOf returns the settings of a serve spec, and false for a
// spec of any other workload.
func ServeSettingsOf(s *Spec) (ServeSettings, bool) {
	if s.Workload != ServeWorkload {
		return ServeSettings{}, false
	}
	p := s.Params
	return ServeSettings{Rate: p.Int("rate"), Latency: p.Duration("latency"), Arrival: p.Get("arrival"),
		Duration: p.Duration("duration"), SLO: p.Duration("slo"), Pages: p.Int("pages"), Conns: p.Int("conns"),
		ValueSize: s.Backend.ValueSize}, true
}

// maxServeRequests bounds rate × duration: the load generator keeps a
// schedule and a latency sample of 32 bytes a request (loadgen.MaxRequests
// is its own bound, warm-up included).
const maxServeRequests = 10_000_000

func init() {
	register(&Definition{
		Name: ServeWorkload,
		Summary: "serve mode: each strategy as the web server of GET /page/{id} (the webrequest task), " +
			"open-loop load from a generator process; runs only when named",
		Class: ClassServe,
		Params: []params.Spec{
			params.Int("rate", 1000, 1, 10_000_000, "offered requests a second, open loop"),
			latencyParam(),
			params.Enum("arrival", ArrivalConstant, []string{ArrivalConstant, ArrivalPoisson},
				"request schedule: constant spacing, or poisson arrivals (bursts)"),
			params.Duration("duration", time.Second, 10*time.Millisecond, 10*time.Minute,
				"measured window of a round, after a warm-up of a quarter of it (at most 250ms)"),
			params.Duration("slo", 10*time.Millisecond, time.Microsecond, time.Minute,
				"p99 latency an offered rate must meet, with no errors, to count as sustainable"),
			// 100 pages: the backend derives each value from its key,
			// so the count sets how many keys exist, not a cache's
			// size; 100 keeps the batch tests that run every workload
			// (the blocking strategy's 200 lookups at 1 ms) short.
			params.Int("pages", 100, 1, 1<<20, "pages requested in turn, /page/0 to /page/{pages-1}"),
			params.Int("conns", 256, 1, 1<<16,
				"most connections the load generator opens (fewer for a server model that serves fewer at once)"),
		},
		// The sweep of `--workloads serve` alone (make bench-serve
		// sweeps to 16000/s): on 2 cores the blocking server saturates
		// below 500/s at 1 ms and the event loops beyond 4000/s, so the
		// knees of both ends show.
		Matrix: params.Values{"rate": "500,1000,2000,4000,8000"},
		Quick:  params.Values{"rate": "500,2000", "duration": "200ms"},
		build: func(p params.Set) (*Spec, error) {
			rate, window := p.Int("rate"), p.Duration("duration")
			switch n := float64(rate) * window.Seconds(); {
			case n < 1:
				return nil, fmt.Errorf("%w: rate=%d for duration=%s offers no request: raise one of them", params.ErrInvalid, rate, p.Get("duration"))
			case n > maxServeRequests:
				return nil, fmt.Errorf("%w: rate=%d for duration=%s is over %d requests a round", params.ErrInvalid, rate, p.Get("duration"), maxServeRequests)
			}
			return webRequestPages(p.Int("pages"), p.Get("latency"))
		},
	})
}

// webRequestPages builds the serve spec's tasks: the webrequest workload's
// spec of one task a page, with its backend.
func webRequestPages(pages int, latency string) (*Spec, error) {
	web := registry["webrequest"]
	set, err := params.Resolve(web.Params, params.Values{"tasks": fmt.Sprint(pages), "latency": latency})
	if err != nil {
		return nil, err
	}
	return web.build(set)
}
