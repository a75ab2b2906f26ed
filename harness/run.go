package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/concbench/concbench/strategies"
)

// Options control a run.
type Options struct {
	Count  int // counted rounds per cell
	Warmup int // rounds per cell run first and not counted
	// Timeout bounds one round of one cell; a round past it fails the cell.
	Timeout time.Duration
	// FetchTimeout bounds one request; a request past it is a task error.
	FetchTimeout time.Duration
	// Backends provides the servers of I/O cells; nil runs them in-process.
	Backends BackendProvider
	// Out receives the benchmark lines (usually a *BenchFile). May be nil.
	Out LineWriter
	// Progress receives one human-readable line per cell round. May be nil.
	Progress io.Writer
	// Profile, if set, adds a profiled pass after each cell's last counted
	// round (see Profiling in profile.go). nil: no profiles.
	Profile *Profiling
}

// LineWriter receives the results of a run as they happen.
type LineWriter interface {
	WriteResult(r *CellResult) error
	WriteFailure(cell *Cell, err error) error
}

// ErrCellFailed is wrapped by the error of a failed cell round.
var ErrCellFailed = errors.New("cell failed")

// Summary is what a run did.
type Summary struct {
	Results  []*CellResult // counted rounds, in the order they ran
	Failed   map[*Cell]error
	Finished bool // false when ctx ended the run early
}

// Run executes plan: warm-up rounds, then counted rounds, each round running
// every cell once in plan order. A failed cell is recorded once and skipped
// in later rounds; the run goes on. When ctx is cancelled, Run returns after
// the cell in progress is abandoned, with every finished cell recorded.
func Run(ctx context.Context, plan *Plan, opt Options) (*Summary, error) {
	if opt.Count < 1 {
		return nil, fmt.Errorf("harness: count must be at least 1, got %d", opt.Count)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Minute
	}
	if opt.FetchTimeout <= 0 {
		opt.FetchTimeout = 5 * time.Second
	}
	if opt.Backends == nil {
		opt.Backends = &InProcessBackends{}
		defer opt.Backends.Close()
	}
	sum := &Summary{Failed: map[*Cell]error{}}
	rounds := opt.Warmup + opt.Count
	for round := 0; round < rounds; round++ {
		for _, cell := range plan.Cells {
			if _, failed := sum.Failed[cell]; failed {
				continue
			}
			if ctx.Err() != nil {
				return sum, nil
			}
			counted := round >= opt.Warmup
			res := runCell(ctx, cell, opt)
			if ctx.Err() != nil {
				return sum, nil // the round in progress was interrupted: not a result
			}
			progress(opt.Progress, round, rounds, opt.Warmup, cell, res)
			if res.Err != nil {
				sum.Failed[cell] = res.Err
				if opt.Out != nil {
					if err := opt.Out.WriteFailure(cell, res.Err); err != nil {
						return sum, err
					}
				}
				continue
			}
			if !counted {
				continue
			}
			sum.Results = append(sum.Results, res)
			if opt.Out != nil {
				if err := opt.Out.WriteResult(res); err != nil {
					return sum, err
				}
			}
			if round == rounds-1 {
				profileCell(ctx, cell, opt) // no-op unless opt.Profile is set
			}
		}
	}
	sum.Finished = true
	return sum, nil
}

func progress(w io.Writer, round, rounds, warmup int, c *Cell, r *CellResult) {
	if w == nil {
		return
	}
	kind := "round"
	if round < warmup {
		kind = "warm-up"
	}
	status := fmt.Sprintf("%9.3fms  %10.0f tasks/s", float64(r.Wall)/1e6, r.TasksPerSec())
	if bw, ok := r.BytesPerSec(); ok {
		status += fmt.Sprintf("  %6.2f GB/s", bw/1e9)
	}
	if r.Errors > 0 {
		status += fmt.Sprintf("  %d errors", r.Errors)
	}
	if r.Err != nil {
		status = "FAILED: " + r.Err.Error()
	}
	fmt.Fprintf(w, "%s %d/%d  %s  %s\n", kind, round+1, rounds, c.Name, status)
}

// runCell runs one round of one cell and verifies it, after collecting the
// garbage of whatever ran before (see runCellAsIs).
func runCell(ctx context.Context, cell *Cell, opt Options) *CellResult {
	// Collect the previous cell's garbage now, not during this one.
	runtime.GC()
	return runCellAsIs(ctx, cell, opt)
}

// runCellAsIs runs one round without the forced collection first: the
// profiled pass's rounds, whose profile must show the collections the
// strategy causes and not one the harness forces before every round (on a
// cell of a few milliseconds that forced collection was half the samples).
func runCellAsIs(ctx context.Context, cell *Cell, opt Options) *CellResult {
	res := &CellResult{Cell: cell, Tasks: len(cell.Spec.Tasks)}
	spec := cell.Spec
	var addrs []string
	if spec.Backend.Instances > 0 {
		var err error
		addrs, err = opt.Backends.Prepare(ctx, spec)
		if err != nil {
			res.Err = fmt.Errorf("%w: backend: %v", ErrCellFailed, err)
			return res
		}
	}
	var before snapshot
	job := strategies.NewJob(spec, addrs, opt.FetchTimeout, strategies.OnBegin(func() { before = takeSnapshot() }))

	baseline := uint64(runtime.NumGoroutine())
	sampler := startPeakSampler()

	cellCtx, cancel := context.WithTimeout(ctx, opt.Timeout)
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
		}
		if ctx.Err() == nil {
			runErr = fmt.Errorf("round exceeded the cell timeout of %v", opt.Timeout)
		}
		goroutines, threads := sampler.Stop()
		res.PeakGoroutines, res.PeakThreads = goroutines-min(goroutines, baseline), threads
		res.Err = fmt.Errorf("%w: %v", ErrCellFailed, runErr)
		return res
	}
	after := takeSnapshot()
	goroutines, threads := sampler.Stop()
	res.PeakGoroutines, res.PeakThreads = goroutines-min(goroutines, baseline), threads
	if runErr != nil {
		res.Err = fmt.Errorf("%w: %v", ErrCellFailed, runErr)
		return res
	}
	if before == (snapshot{}) {
		res.Err = fmt.Errorf("%w: strategy returned without running its tasks (Begin was never called)", ErrCellFailed)
		return res
	}
	res.CPU = after.cpu - before.cpu
	res.AllocBytes = after.allocBytes - before.allocBytes
	res.AllocObjects = after.allocObjects - before.allocObjects
	res.Spawned = after.spawned - before.spawned
	res.Err = verify(res, job)
	res.Bound = bound(cell)
	return res
}

// verify checks every task's outcome, fills in wall time, latencies and the
// error count, and returns the reason the cell failed, if it did.
func verify(res *CellResult, job *strategies.Job) error {
	began := job.Began()
	var end time.Time
	lat := make([]time.Duration, 0, job.Tasks())
	for i, o := range job.Outcomes() {
		switch {
		case !o.Done:
			return fmt.Errorf("%w: task %d: %v", ErrCellFailed, i, strategies.ErrNotRun)
		case errors.Is(o.Err, strategies.ErrPanic):
			return fmt.Errorf("%w: %v", ErrCellFailed, o.Err)
		case o.Err != nil:
			res.Errors++
			if res.FirstError == nil {
				res.FirstError = o.Err
			}
		default:
			if err := job.Spec.Check(i, o.Result); err != nil {
				return fmt.Errorf("%w: digest mismatch: %v", ErrCellFailed, err)
			}
			lat = append(lat, o.End.Sub(o.Start))
		}
		if o.End.After(end) {
			end = o.End
		}
	}
	res.Wall = end.Sub(began)
	res.Latencies = sortedDurations(lat)
	return nil
}

// bound is the least wall time the strategy's model allows for the cell:
// the scalar reference's CPU time spread over the cores it can use, and for
// I/O, Little's law (fetches × latency ÷ fetches in flight) or the longest
// chain of dependent fetches, whichever is largest.
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

// CellResult is one counted round of one cell.
type CellResult struct {
	Cell           *Cell
	Tasks          int
	Errors         int
	FirstError     error
	Wall           time.Duration   // Begin to the last task's end
	Latencies      []time.Duration // of tasks without error, sorted
	CPU            time.Duration   // user+system of the whole process during the round
	AllocBytes     uint64
	AllocObjects   uint64
	Spawned        uint64 // goroutines created
	PeakGoroutines uint64 // above the harness's own
	PeakThreads    uint64 // OS threads of the process
	Bound          time.Duration
	Err            error // set when the cell failed; the other fields are then partial
}

// BytesPerSec is the memory bandwidth of the round: the spec's
// MemoryBytes over the wall time. It reports false for workloads that do
// not count their memory traffic.
func (r *CellResult) BytesPerSec() (float64, bool) {
	if r.Cell.Spec.MemoryBytes <= 0 || r.Wall <= 0 {
		return 0, false
	}
	return float64(r.Cell.Spec.MemoryBytes) / r.Wall.Seconds(), true
}

// TasksPerSec is the throughput of the round.
func (r *CellResult) TasksPerSec() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Tasks) / r.Wall.Seconds()
}
