package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/loadgen"
	"github.com/concbench/concbench/workloads"
)

// A round of a serve cell is open-loop load on the strategy's server
// model, measured from outside it:
//
//  1. the backend provider prepares the spec's backend (the pages' keys,
//     the latency) as for any I/O cell, and the pages' reference is
//     computed from the values it serves (its secret);
//  2. the server starts on 127.0.0.1:0 (serve.Start: in this process for
//     the Go models, a child process for the py-* ones) and answers page 0
//     as the reference says before any load comes;
//  3. the load generator runs in a child process (`concbench loadgen`,
//     serve.LoadChild): a warm-up of a quarter of the window (at most
//     250ms), then the window, requests leaving on the schedule (constant
//     or Poisson, seeded by the round) whatever the server does, each
//     response verified against the reference, each latency counted from
//     the request's intended send time;
//  4. the server stops, and must stop cleanly.
//
// Between the generator's start and its end the round reads this
// process's CPU time (getrusage), the server's child processes' (/proc)
// and the backend's (its measurement windows), and divides each by the
// requests scheduled in that span; the generator measures its own. A
// response that is not the page the reference expects fails the cell, as
// a wrong digest fails a batch cell; other failed requests (timeouts,
// resets, 502s) are the round's errors/op, never a failed cell, whatever
// Options.MaxErrors says: past saturation they are the measurement, and
// the saturation rule (results.Saturation) counts no rate with errors as
// sustainable. A round whose generator fell behind its schedule is
// recorded with under-offered 1: it did not offer the cell's rate, and no
// saturation figure counts it as offered.

// Serve rounds' settings that are not parameters.
const (
	// serveMaxWarmup caps the generator's warm-up, a quarter of the
	// window: enough to open its connections and warm the server's
	// (the harness's warm-up rounds warm the rest).
	serveMaxWarmup = 250 * time.Millisecond
	// serveMinRequestTimeout is the least a request may take before it is
	// an error; the timeout is ten times the SLO when that is longer. A
	// rate whose p99 passes the SLO has no request near it, and a round
	// past saturation ends one timeout after its window.
	serveMinRequestTimeout = time.Second
	// serveRoundSlack bounds what a round spends outside the generator's
	// own bound (warm-up + window + request timeout + 1 s): starting and
	// stopping the generator and the server.
	serveRoundSlack = 5 * time.Second
	// serveLogLines is how many of the server's diagnostics a round keeps
	// for its failure message.
	serveLogLines = 20
)

// ErrServeNotProfiled is the error of a profiled pass over a serve cell:
// a profiled pass times a batch of tasks between the job's hooks, which a
// server under load has not. Serve cells are not profiled; run them with
// --profile=false.
var ErrServeNotProfiled = errors.New("serve cells are not profiled: a profiled pass runs a batch of tasks, a serve round has none")

// serveWarmup is the generator's warm-up before a window of d.
func serveWarmup(d time.Duration) time.Duration { return min(d/4, serveMaxWarmup) }

// serveRequestTimeout is how long a request may go unanswered, from its
// intended send time, before it is an error.
func serveRequestTimeout(slo time.Duration) time.Duration {
	return max(serveMinRequestTimeout, 10*slo)
}

// serveRound runs one round of a serve cell (see above).
func (r *runner) serveRound(ctx context.Context, cell *Cell, counted bool) *CellResult {
	sc, spec := cell.Serve, cell.Spec
	set := sc.Settings
	res := &CellResult{Cell: cell, Passes: 1}
	fail := func(format string, a ...any) *CellResult {
		res.Err = fmt.Errorf("%w: "+format, append([]any{ErrCellFailed}, a...)...)
		return res
	}
	warmup, timeout := serveWarmup(set.Duration), serveRequestTimeout(set.SLO)
	if need := warmup + set.Duration + timeout + time.Second + serveRoundSlack; need > r.opt.Timeout {
		return fail("a round of duration=%v (warm-up %v, request timeout %v) may take %v, more than the cell timeout %v: raise --timeout",
			set.Duration, warmup, timeout, need, r.opt.Timeout)
	}
	runtime.GC() // the garbage of earlier rounds, before this one

	addrs, err := r.opt.Backends.Prepare(ctx, spec)
	if err != nil {
		return fail("backend: %w", err)
	}
	secret, err := backendSecret(r.opt.Backends)
	if err != nil {
		return fail("%v", err)
	}
	ref, err := r.serveReference(set.Pages, set.ValueSize, secret)
	if err != nil {
		return fail("%v", err)
	}
	round := &Round{Cell: cell, Addrs: addrs, Passes: 1, Counted: counted, Serve: true}
	for _, c := range r.checks {
		if err := c.BeginRound(ctx, round); err != nil {
			return fail("%v", err)
		}
	}

	cellCtx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	var diag serveDiagnostics
	env := serveEnv(r.opt.Backends, addrs, set, r.opt.FetchTimeout, diag.logf)
	before, err := childProcesses()
	if err != nil {
		return fail("%v", err)
	}
	running, err := serve.Start(cellCtx, sc.Server, env, ref)
	if err != nil {
		return fail("start the server: %v%s", err, diag.tail())
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = running.Stop()
		}
	}()
	after, err := childProcesses()
	if err != nil {
		return fail("%v", err)
	}
	server := newProcesses(before, after) // a py-* server's interpreter

	job := serveLoadJob(set, sc.MaxConns, running.Addr(), secret, sc.nextSeed)
	sc.nextSeed++
	observed, ok := r.opt.Backends.(ObservedBackends)
	_, inProcess := r.opt.Backends.(*InProcessBackends)
	if ok {
		if _, err := observed.Windows(); err != nil { // starts the span's windows
			return fail("backend window: %v", err)
		}
	}
	// This process's CPU is read innermost: reading /proc costs it some.
	procs0 := processesCPU(server)
	mem0 := r.snap.take()
	self0 := selfCPU()
	load, loadErr := sc.Load.Run(cellCtx, job)
	self1 := selfCPU()
	mem1 := r.snap.take()
	procs1 := processesCPU(server)
	sr := &ServeRound{Load: load, Warmup: warmup, ServerCPU: self1 - self0 + procs1 - procs0, ServerProcesses: len(server)}
	if ok {
		ws, err := observed.Windows()
		if err != nil {
			return fail("backend window: %v", err)
		}
		if !inProcess {
			for _, w := range ws[:min(len(ws), spec.Backend.Instances)] {
				sr.BackendCPU += w.UserCPU + w.SystemCPU
			}
			sr.BackendMeasured = true
		}
	}
	stopped = true
	stopErr := running.Stop()
	switch {
	case ctx.Err() != nil:
		return fail("%v", ctx.Err()) // interrupted: Run records nothing
	case loadErr != nil && cellCtx.Err() != nil:
		return fail("round exceeded the cell timeout of %v", r.opt.Timeout)
	case loadErr != nil:
		return fail("%v", loadErr)
	case stopErr != nil:
		return fail("server: %v%s", stopErr, diag.tail())
	}
	if n := load.Errors[loadgen.KindBody.String()]; n > 0 {
		return fail("%d responses were not the page the reference expects (first: %s)", n, load.ErrorSamples[loadgen.KindBody.String()])
	}

	res.Tasks, res.Verified, res.Errors = int(load.Scheduled), int(load.OK), int(load.Failed())
	if res.Errors > 0 {
		res.FirstError = errors.New(firstErrorSample(load))
	}
	res.Wall = load.Window
	res.Latency = Latency{P50: load.Latency.P50, P99: load.Latency.P99, P999: load.Latency.P999, Max: load.Latency.Max}
	res.CPU = sr.ServerCPU
	sr.SpanRequests = load.Scheduled + int64(math.Ceil(float64(set.Rate)*warmup.Seconds()))
	if len(server) == 0 {
		sr.AllocBytes, sr.AllocObjects = mem1.allocBytes-mem0.allocBytes, mem1.allocObjects-mem0.allocObjects
		res.AllocBytes, res.AllocObjects = sr.AllocBytes, sr.AllocObjects
	}
	load.Latencies = nil
	res.serve = sr
	for _, c := range r.checks {
		if err := c.EndRound(ctx, round, res); err != nil {
			return fail("%v", err)
		}
	}
	return res
}

// serveEnv is the server's environment for a serve spec of settings set
// whose backend p prepared at addrs: every lookup goes to the first, with
// the provider's credentials.
func serveEnv(p BackendProvider, addrs []string, set workloads.ServeSettings, fetchTimeout time.Duration,
	logf func(string, ...any)) serve.Env {
	return serve.Env{Backends: addrs[:1], Credentials: BackendCredentials(p), Pages: set.Pages,
		ValueSize: set.ValueSize, FetchTimeout: fetchTimeout, Logf: logf}
}

// serveLoadJob is the load generator's job for the server at addr, whose
// model serves at most maxConns connections at once (0: no bound), from a
// backend holding secret: the settings' load, its warm-up and request
// timeout, its Poisson schedule seeded by seed.
func serveLoadJob(set workloads.ServeSettings, maxConns int, addr string, secret, seed uint64) serve.LoadJob {
	conns := set.Conns
	if maxConns > 0 {
		conns = min(conns, maxConns)
	}
	return serve.LoadJob{Pages: set.Pages, ValueSize: set.ValueSize, Secret: secret,
		Config: loadgen.Config{Addr: addr, Rate: float64(set.Rate), Arrival: loadgen.Arrival(set.Arrival),
			Seed: seed, Warmup: serveWarmup(set.Duration), Duration: set.Duration,
			Timeout: serveRequestTimeout(set.SLO), Conns: conns}}
}

// serveReference returns the pages' reference for values of valueSize
// bytes from a backend holding secret, computed once per run for each.
func (r *runner) serveReference(pages, valueSize int, secret uint64) (*serve.Reference, error) {
	key := serveReferenceKey{pages, valueSize, secret}
	if ref, ok := r.serveRefs[key]; ok {
		return ref, nil
	}
	ref, err := serve.LoadJob{Pages: pages, ValueSize: valueSize, Secret: secret}.Reference()
	if err != nil {
		return nil, err
	}
	if r.serveRefs == nil {
		r.serveRefs = map[serveReferenceKey]*serve.Reference{}
	}
	r.serveRefs[key] = ref
	return ref, nil
}

type serveReferenceKey struct {
	pages, valueSize int
	secret           uint64
}

// backendSecret is the secret of the values the provider's backends
// serve, which the load generator needs to verify the pages (read after
// Prepare, which draws it).
func backendSecret(p BackendProvider) (uint64, error) {
	if h, ok := p.(secretHolder); ok {
		return h.runSecret(), nil
	}
	return 0, fmt.Errorf("backend %s does not share its secret with the verifier: serve cells cannot verify its pages", p.Describe())
}

// firstErrorSample is the first failed request's message of each kind
// that failed, for the round's FirstError.
func firstErrorSample(load *loadgen.Result) string {
	var parts []string
	for k := range loadgen.KindBody + 1 {
		if n := load.Errors[k.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s (%s)", n, k, load.ErrorSamples[k.String()]))
		}
	}
	return "failed requests: " + strings.Join(parts, "; ")
}

// serveDiagnostics keeps the first lines a server logs (serve.Env.Logf)
// for the message of a round that fails; servers log from any goroutine.
type serveDiagnostics struct {
	mu      sync.Mutex
	lines   []string
	dropped int
}

func (d *serveDiagnostics) logf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.lines) >= serveLogLines {
		d.dropped++
		return
	}
	d.lines = append(d.lines, strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
}

// tail is what the server logged, as lines to append to an error.
func (d *serveDiagnostics) tail() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.lines) == 0 {
		return ""
	}
	s := "\nthe server logged:\n  " + strings.Join(d.lines, "\n  ")
	if d.dropped > 0 {
		s += fmt.Sprintf("\n  (%d more lines)", d.dropped)
	}
	return s
}
