package harness

import (
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/workloads"
)

// ServeCell is what the rounds of a serve cell run, besides its spec: the
// strategy's server model, configured, the load its rounds offer, and the
// load generator's command. NewPlan makes it; a round of the cell starts
// the server, offers it the load from a child process and stops it (see
// the serve round in serve_round.go).
type ServeCell struct {
	// Server is the strategy's server model (serve.Configure), with its
	// serve-only parameters applied.
	Server serve.Server
	// Settings are the serve workload's parameters: rate, window, SLO...
	Settings workloads.ServeSettings
	// MaxConns is the most connections the server model serves at once
	// (serve.ConnLimit; 0: no bound). The generator opens no more than
	// that: a connection beyond it would wait unanswered in the accept
	// backlog and time out, which measures the client's patience, not the
	// server; its requests wait in the generator's queue instead, and that
	// wait is latency.
	MaxConns int
	// Load runs the generator (zero: this executable's loadgen command).
	Load serve.LoadChild

	// nextSeed seeds the next round's Poisson schedule: each round its
	// own arrivals, the same in every run.
	nextSeed uint64
}

// ServeRound is what one round of a serve cell measured, besides the
// CellResult's common fields (for a serve round: Tasks is the requests
// due in the window, Verified the verified responses, Errors the failed
// requests, Wall the window, Latency the verified responses' percentiles
// from their intended send times, CPU the server's).
type ServeRound struct {
	// Load is the generator's result (its latency samples dropped).
	Load *loadgen.Result
	// Warmup is the generator's warm-up before the window.
	Warmup time.Duration
	// SpanRequests is the requests scheduled from the generator's start to
	// the end of its window, warm-up included: the divisor of the server's
	// and the backend's CPU, which are measured over that span.
	SpanRequests int64
	// ServerCPU is the server's CPU time (user + system) over the span:
	// this process's (RUSAGE_SELF: the Go server models and, with
	// in-process backends, the backend too) plus that of the processes the
	// server started (a py-* server's interpreter), read from /proc.
	ServerCPU time.Duration
	// ServerProcesses counts the processes the server started; 0 for a
	// server in this process.
	ServerProcesses int
	// BackendCPU is the backend processes' CPU time over the span (their
	// measurement windows); valid when BackendMeasured, which is false for
	// in-process backends (their CPU is in ServerCPU) and for providers
	// that report no windows (real Redis).
	BackendCPU      time.Duration
	BackendMeasured bool
	// AllocBytes and AllocObjects are this process's heap allocations over
	// the span; valid when the server runs in this process (no
	// ServerProcesses).
	AllocBytes, AllocObjects uint64
}

// Serve returns the serve figures of a serve round's result, or nil for
// any other result (a batch round, a failed round).
func (r *CellResult) Serve() *ServeRound {
	if r == nil {
		return nil
	}
	return r.serve
}

// UnderOffered reports whether the generator could not keep to its
// schedule in the round: it did not offer the cell's rate.
func (s *ServeRound) UnderOffered() bool { return s.Load.UnderOffered }

// perRequest divides d over the span's requests, in seconds.
func (s *ServeRound) perRequest(d time.Duration) float64 {
	if s.SpanRequests <= 0 {
		return 0
	}
	return d.Seconds() / float64(s.SpanRequests)
}
