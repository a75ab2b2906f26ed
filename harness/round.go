package harness

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies"
)

// A RoundCheck checks every round of a cell from outside the strategy:
// for example a backend that counts the requests it answered, compared
// with the spec's fetches times the round's passes. Run calls the checks
// of Options.Checks, and the BackendProvider's when it implements
// RoundCheck, around every round (warm-up, counted and profiled alike),
// serve rounds too (Round.Serve).
type RoundCheck interface {
	// BeginRound is called before the strategy's Run (before its setup,
	// so outside the timed part); an error fails the cell.
	BeginRound(ctx context.Context, r *Round) error
	// EndRound is called after the strategy's Run has returned and its
	// tasks have been verified, with the round's result (errors counted);
	// an error fails the cell with that reason.
	EndRound(ctx context.Context, r *Round, res *CellResult) error
}

// Round describes one round of a cell to a RoundCheck.
type Round struct {
	Cell    *Cell
	Addrs   []string // the backends the round's fetches go to; none for a CPU cell
	Passes  int      // times the round runs the spec's task set
	Counted bool     // a counted round (its result goes to bench.txt)
	// Serve marks a round of a serve cell (Cell.Serve): the strategy's
	// server under a load generator, not a batch of Passes passes, so a
	// check that counts a batch's fetches skips it. Its backend lookups
	// are two per request served, and between BeginRound and EndRound the
	// round reads the backend's measurement windows itself
	// (ObservedBackends.Windows).
	Serve bool
}

// runner is what a run keeps between rounds: each cell's calibration and
// warm-up peaks, and storage that every round reuses, so that a counted
// round allocates nothing in proportion to its tasks.
type runner struct {
	opt     Options
	checks  []RoundCheck
	cells   map[*Cell]*cellState
	records *strategies.Records // every job's task records, one job at a time
	lat     []int64             // the latencies of the round being verified
	snap    *snapshotter
	// serveRefs are the serve cells' page references, by pages, value
	// size and backend secret.
	serveRefs map[serveReferenceKey]*serve.Reference
}

// cellState is what the rounds of one cell share.
type cellState struct {
	passes                      int           // per round, from calibration (1 without it)
	perPass                     time.Duration // wall time of a pass in the calibrated round; 0 before
	sampled                     bool          // peaks were sampled (in a round not counted)
	peakGoroutines, peakThreads uint64
}

func newRunner(opt Options) *runner {
	r := &runner{opt: opt, cells: map[*Cell]*cellState{}, records: &strategies.Records{}, snap: newSnapshotter()}
	r.checks = append(r.checks, opt.Checks...)
	if c, ok := opt.Backends.(RoundCheck); ok {
		r.checks = append(r.checks, c)
	}
	return r
}

func (r *runner) state(c *Cell) *cellState {
	s := r.cells[c]
	if s == nil {
		s = &cellState{passes: 1}
		r.cells[c] = s
	}
	return s
}

// maxRoundTasks caps a round's tasks (the spec's tasks × passes): 4 Mi
// records of 32 bytes are 128 MiB, reused by every round. A round of the
// cheapest cells (noop, tens of nanoseconds a task) may stop short of the
// round time at the cap.
const maxRoundTasks = 1 << 22

// calibrationTries bounds the rounds calibration runs: with growth of up
// to 100× a try, 5 reach any pass count under the cap.
const calibrationTries = 5

// peakRoundTime is how long the round that samples a cell's peaks runs
// (as many passes as that takes, at most the calibrated ones): ten
// samples, so that even a pass shorter than the sampling interval is
// caught at its plateau.
const peakRoundTime = 10 * peakInterval

// calibrate is a cell's first warm-up round: it runs rounds of a growing
// number of passes until one lasts the round time (the first, of one
// pass, also warms caches and connections), as `go test -benchtime`
// grows b.N, and keeps that number for the cell's later rounds. A cell
// whose single pass lasts the round time, or whose strategy runs only
// single passes (strategies.SinglePass), keeps one pass. Then a short
// round samples the cell's peak goroutines and threads: the sampler's
// wake-ups and reads of the scheduler's state slow a strategy that
// spawns a goroutine a task, so no round it times runs with it. It
// returns the last calibration round, with the peaks.
//
// A serve cell's rounds are sized by its window, not by passes: its first
// warm-up round is a round like the others (serveRound).
func (r *runner) calibrate(ctx context.Context, cell *Cell) *CellResult {
	if cell.Serve != nil {
		return r.serveRound(ctx, cell, false)
	}
	st := r.state(cell)
	target := r.opt.RoundTime
	maxPasses := maxPassesOf(cell)
	passes := 1
	var res *CellResult
	for try := 0; ; try++ {
		res = r.run(ctx, cell, passes, false, true, false)
		if res.Err != nil || ctx.Err() != nil {
			return res
		}
		st.passes, st.perPass = passes, max(res.Wall/time.Duration(passes), time.Nanosecond)
		if res.Wall >= target || passes >= maxPasses || try+1 >= calibrationTries {
			break
		}
		// Aim 20 % past the target, as testing.B does, so that a round
		// a little faster than this one still lasts the round time.
		next := int(min(int64(target+target/5)/int64(st.perPass)+1, int64(maxPasses)))
		passes = min(max(next, passes+1), 100*passes, maxPasses)
	}
	peaks := r.run(ctx, cell, min(st.passes, int(peakRoundTime/st.perPass)+1), false, true, true)
	if peaks.Err != nil {
		return peaks
	}
	res.PeaksSampled, res.PeakGoroutines, res.PeakThreads = true, st.peakGoroutines, st.peakThreads
	return res
}

// maxPassesOf is the most passes a round of cell may run: as many as
// keep it within maxRoundTasks tasks, and one for a strategy that runs
// single passes (strategies.SinglePass).
func maxPassesOf(cell *Cell) int {
	if sp, ok := cell.Strategy.(strategies.SinglePass); ok && sp.SinglePass() {
		return 1
	}
	return max(1, maxRoundTasks/max(len(cell.Spec.Tasks), 1))
}

// round runs a round of cell (not the first warm-up: see calibrate) at
// its calibrated passes, after collecting the garbage of whatever ran
// before. It reports the peaks calibration sampled. A serve cell's round
// is a serveRound.
func (r *runner) round(ctx context.Context, cell *Cell, counted bool) *CellResult {
	if cell.Serve != nil {
		return r.serveRound(ctx, cell, counted)
	}
	return r.run(ctx, cell, r.state(cell).passes, counted, true, false)
}

// run runs one round of passes passes. gc collects the garbage of earlier
// rounds first, so that it is not collected during this one. sample runs
// the peak sampler during the round and keeps its peaks as the cell's;
// a round without it reports the cell's peaks, if they were sampled.
// It runs batch rounds only: a serve cell's (reached only by a profiled
// pass, runCellAsIs) fails with ErrServeNotProfiled.
func (r *runner) run(ctx context.Context, cell *Cell, passes int, counted, gc, sample bool, opts ...strategies.JobOption) *CellResult {
	if cell.Serve != nil {
		return &CellResult{Cell: cell, Err: ErrServeNotProfiled}
	}
	if gc {
		runtime.GC()
	}
	st := r.state(cell)
	res := r.runRound(ctx, cell, passes, counted, sample, opts)
	if sample && res.PeaksSampled {
		st.sampled = true
		st.peakGoroutines = max(st.peakGoroutines, res.PeakGoroutines)
		st.peakThreads = max(st.peakThreads, res.PeakThreads)
	}
	if !sample && st.sampled {
		res.PeaksSampled, res.PeakGoroutines, res.PeakThreads = true, st.peakGoroutines, st.peakThreads
	}
	return res
}

// runRound prepares the backends, runs the strategy on a job of passes
// passes, and verifies and measures the round.
func (r *runner) runRound(ctx context.Context, cell *Cell, passes int, counted, sample bool, opts []strategies.JobOption) *CellResult {
	spec := cell.Spec
	res := &CellResult{Cell: cell, Passes: passes, Tasks: len(spec.Tasks) * passes}
	fail := func(format string, a ...any) *CellResult {
		res.Err = fmt.Errorf("%w: "+format, append([]any{ErrCellFailed}, a...)...)
		return res
	}
	var addrs []string
	if spec.Backend.Instances > 0 {
		var err error
		addrs, err = r.opt.Backends.Prepare(ctx, spec)
		if err != nil {
			return fail("backend: %w", err)
		}
	}
	round := &Round{Cell: cell, Addrs: addrs, Passes: passes, Counted: counted}
	for _, c := range r.checks {
		if err := c.BeginRound(ctx, round); err != nil {
			return fail("%v", err)
		}
	}

	var before snapshot
	opts = append(slices.Clip(opts), strategies.Repeat(passes), strategies.WithRecords(r.records),
		strategies.WithCredentials(BackendCredentials(r.opt.Backends)),
		strategies.OnBegin(func() { before = r.snap.take() }))
	job := strategies.NewJob(spec, addrs, r.opt.FetchTimeout, opts...)

	baseline := uint64(runtime.NumGoroutine())
	var sampler *peakSampler
	if sample {
		sampler = startPeakSampler()
	}
	peaks := func() {
		if sampler != nil {
			g, t := sampler.Stop()
			res.PeaksSampled, res.PeakGoroutines, res.PeakThreads = true, g-min(g, baseline), t
		}
	}

	cellCtx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	done := make(chan error, 1)
	labels := pprof.Labels("workload", spec.Workload, "params", spec.Params.String(), "strategy", cell.StrategyLabel)
	// The strategy runs on its own goroutine so that a round past its
	// timeout can be abandoned (a strategy that ignores ctx keeps running
	// until it notices; the run goes on without it).
	go pprof.Do(cellCtx, labels, func(ctx context.Context) {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%w: %v", strategies.ErrPanic, p)
			}
		}()
		done <- cell.Strategy.Run(ctx, job)
	})
	var runErr error
	select {
	case runErr = <-done:
	case <-cellCtx.Done():
		// Give a strategy that honours ctx a moment to return cleanly.
		select {
		case runErr = <-done:
		case <-time.After(time.Second):
			runErr = cellCtx.Err()
			// The abandoned strategy may still write to its records:
			// later rounds get storage of their own.
			r.records = &strategies.Records{}
		}
		if ctx.Err() == nil {
			runErr = fmt.Errorf("round exceeded the cell timeout of %v", r.opt.Timeout)
		}
		peaks()
		return fail("%v", runErr)
	}
	after := r.snap.take()
	peaks()
	if runErr != nil {
		return fail("%v", runErr)
	}
	if job.Began().IsZero() {
		return fail("strategy returned without running its tasks (Begin was never called)")
	}
	res.CPU = after.cpu - before.cpu
	res.MinorFaults = after.minorFaults - before.minorFaults
	res.CtxSwitches = after.ctxSwitches - before.ctxSwitches
	res.AllocBytes = after.allocBytes - before.allocBytes
	res.AllocObjects = after.allocObjects - before.allocObjects
	res.Spawned = after.spawned - before.spawned
	res.OS = after.os.Sub(before.os)
	res.Bound = bound(cell) * time.Duration(passes)
	if err := r.verify(res, job); err != nil {
		res.Err = err
		return res
	}
	for _, c := range r.checks {
		if err := c.EndRound(ctx, round, res); err != nil {
			return fail("%v", err)
		}
	}
	return res
}

// verify checks every task's record, fills in wall time, latencies and the
// error counts, and returns the reason the cell failed, if it did: a task
// not run, out of order or panicked, a result that is not the reference's,
// or more failed tasks than Options.MaxErrors allows. Only verified tasks
// count as finished work: they alone give latencies and throughput.
func (r *runner) verify(res *CellResult, job *strategies.Job) error {
	spec := job.Spec
	began := int64(job.Began().Sub(job.Epoch()))
	recs := job.Records()
	errs := job.Errors()
	if cap(r.lat) < len(recs) {
		r.lat = make([]int64, 0, len(recs))
	}
	lat := r.lat[:0]
	var end int64
	perPass, k := job.PassTasks(), 0 // k: the spec task of record i
	for i := range recs {
		rec := &recs[i]
		switch {
		case !rec.Finished():
			return fmt.Errorf("%w: task %d: %v", ErrCellFailed, i, strategies.ErrNotRun)
		case rec.Start < began || rec.End < rec.Start:
			return fmt.Errorf("%w: task %d: started %v after Begin and ended %v after it: a task must start after Begin and end after it starts",
				ErrCellFailed, i, time.Duration(rec.Start-began), time.Duration(rec.End-began))
		}
		end = max(end, rec.End)
		if len(errs) > 0 && errs[0].Task == i {
			err := errs[0].Err
			for len(errs) > 0 && errs[0].Task == i {
				errs = errs[1:]
			}
			if errors.Is(err, strategies.ErrPanic) {
				return fmt.Errorf("%w: %v", ErrCellFailed, err)
			}
			res.Errors++
			if res.FirstError == nil {
				res.FirstError = err
			}
		} else {
			if err := spec.Check(k, rec.Result); err != nil {
				return fmt.Errorf("%w: digest mismatch: task %d (pass %d): %v", ErrCellFailed, i, i/perPass, err)
			}
			lat = append(lat, rec.End-rec.Start)
		}
		if k++; k == perPass {
			k = 0
		}
	}
	r.lat = lat
	res.Verified = len(lat)
	res.Wall = time.Duration(end - began)
	res.Latency = latencyOf(lat)
	if res.Errors > 0 && float64(res.Errors) > r.opt.MaxErrors*float64(res.Tasks) {
		return fmt.Errorf("%w: %d of %d tasks failed (more than --max-errors %g allows): first: %v",
			ErrCellFailed, res.Errors, res.Tasks, r.opt.MaxErrors, res.FirstError)
	}
	return nil
}

// bound is the least wall time the strategy's model allows for one pass
// of the cell: the scalar reference's CPU time spread over the cores it
// can use, and for I/O, Little's law (fetches × latency ÷ fetches in
// flight) or the longest chain of dependent fetches, whichever is largest.
// A round's bound is its passes times this: each pass is a closed batch.
func bound(cell *Cell) time.Duration {
	spec := cell.Spec
	conc := cell.Strategy.Concurrency(spec)
	cores := max(1, min(conc.Cores, runtime.GOMAXPROCS(0)))
	b := spec.ReferenceTime / time.Duration(cores)
	if n := spec.Fetches(); n > 0 {
		lat := spec.Backend.Latency
		little := time.Duration(n) * lat / time.Duration(max(1, conc.InFlight))
		chain := time.Duration(spec.MaxFetchesPerTask()) * lat
		b = max(b, little, chain)
	}
	return b
}
