package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/concbench/concbench/perfcount"
	"github.com/concbench/concbench/strategies"
)

// Defaults and limits of Options.
const (
	// DefaultRoundTime is the least wall time of a round unless Options
	// says otherwise: long enough that scheduler ticks and timer wake-ups
	// (milliseconds) average out, as `go test -benchtime` aims at a
	// second; short enough that the default matrix's 72 cells × 11 rounds
	// fit in minutes on 2 cores.
	DefaultRoundTime = 200 * time.Millisecond
	// QuickRoundTime is the round time of a quick run (`run --quick`).
	QuickRoundTime = 20 * time.Millisecond
	// DefaultCount is the counted rounds per cell unless told otherwise:
	// with 10 samples benchstat's 95 % interval of the median no longer
	// spans the whole range of the samples, as it does with 6.
	DefaultCount = 10
	// MaxCount caps the counted rounds per cell (and MaxWarmup the warm-up
	// rounds): a thousand samples of a cell already resolve differences far
	// below this machine's noise; more is a typo, not a plan.
	MaxCount  = 1000
	MaxWarmup = 100
	// DefaultTimeout bounds one round of one cell, and DefaultFetchTimeout
	// one request, when Options leaves them zero.
	DefaultTimeout      = time.Minute
	DefaultFetchTimeout = 5 * time.Second
)

// Options control a run. The zero value of each field means its default,
// except Count, which must be set.
type Options struct {
	Count int // counted rounds per cell, 1 to MaxCount
	// Warmup is the rounds per cell run first and not counted, 0 to
	// MaxWarmup. The first calibrates the cell's passes (see RoundTime)
	// and samples its peak goroutines and threads; with none, rounds are
	// single passes and peaks are not reported.
	Warmup int
	// RoundTime is the least wall time of a round (0: DefaultRoundTime).
	// A round runs its cell's task set as many times (passes) as the
	// first warm-up round found it takes to last this long; a cell whose
	// single pass lasts longer runs one.
	RoundTime time.Duration
	// Timeout bounds one round of one cell; a round past it fails the cell
	// (0: DefaultTimeout). It must exceed RoundTime.
	Timeout time.Duration
	// FetchTimeout bounds one request; a request past it is a task error
	// (0: DefaultFetchTimeout).
	FetchTimeout time.Duration
	// MaxErrors is the fraction of a round's tasks that may fail (fetch
	// errors: timeouts, resets, short replies) without failing the cell,
	// in [0, 1). The default 0 fails a cell on its first failed task: a
	// failed task is not finished work, and a figure measured while tasks
	// fail is not the strategy's.
	MaxErrors float64
	// Backends provides the servers of I/O cells; nil runs them in-process.
	// If it implements RoundCheck, it checks every round.
	Backends BackendProvider
	// Checks check every round of every cell (see RoundCheck).
	Checks []RoundCheck
	// Out receives the benchmark lines (usually a *BenchFile). May be nil.
	Out LineWriter
	// Observe receives the run's progress as it happens (see Event). Nil:
	// TextProgress on Progress, if that is set.
	Observe func(Event)
	// Progress receives human-readable progress lines. May be nil.
	Progress io.Writer
	// Profile, if set, adds profiled passes after each cell's last counted
	// round (see Profiling in profile.go). nil: no profiles.
	Profile *Profiling

	run *runner // set by Run: the rounds' shared state, for profiled passes
}

// ErrBadOptions is wrapped by Validate's errors.
var ErrBadOptions = errors.New("harness: bad options")

// Validate reports what is wrong with o, with the defaults applied: a
// count or warm-up out of range, a negative duration, a round time over
// the cell timeout, a MaxErrors outside [0, 1).
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Count < 1 || o.Count > MaxCount:
		return fmt.Errorf("%w: count must be between 1 and %d, got %d", ErrBadOptions, MaxCount, o.Count)
	case o.Warmup < 0 || o.Warmup > MaxWarmup:
		return fmt.Errorf("%w: warm-up must be between 0 and %d rounds, got %d", ErrBadOptions, MaxWarmup, o.Warmup)
	case o.RoundTime < 0:
		return fmt.Errorf("%w: round time must be positive, got %v", ErrBadOptions, o.RoundTime)
	case o.Timeout < 0:
		return fmt.Errorf("%w: timeout must be positive, got %v", ErrBadOptions, o.Timeout)
	case o.FetchTimeout < 0:
		return fmt.Errorf("%w: fetch timeout must be positive, got %v", ErrBadOptions, o.FetchTimeout)
	case o.RoundTime >= o.Timeout:
		return fmt.Errorf("%w: round time %v must be below the cell timeout %v (a round that lasts the round time would time out)",
			ErrBadOptions, o.RoundTime, o.Timeout)
	case !(o.MaxErrors >= 0 && o.MaxErrors < 1) || math.IsNaN(o.MaxErrors):
		return fmt.Errorf("%w: max errors must be a fraction of the tasks in [0, 1), got %v", ErrBadOptions, o.MaxErrors)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.RoundTime == 0 {
		o.RoundTime = DefaultRoundTime
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Observe == nil && o.Progress != nil {
		o.Observe = TextProgress(o.Progress)
	}
	return o
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
	Results  []*CellResult // counted rounds written to Out, in the order they ran
	Failed   map[*Cell]error
	Finished bool // false when ctx ended the run early
}

// Run executes plan: warm-up rounds, then counted rounds, each round
// running every cell once in plan order. A cell's first warm-up round
// calibrates its passes (Options.RoundTime). A failed cell is recorded
// once and skipped in later rounds; the run goes on. When ctx is
// cancelled, Run returns after the cell in progress is abandoned, with
// every finished cell recorded. A result is in the Summary only once Out
// has it, so a failed write (a full disk) never leaves the Summary, and
// the meta.json made from it, claiming more than bench.txt holds.
func Run(ctx context.Context, plan *Plan, opt Options) (*Summary, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	if opt.Backends == nil {
		opt.Backends = &InProcessBackends{}
		defer opt.Backends.Close()
	}
	if c := backendCPUCheck(opt.Backends); c != nil {
		opt.Checks = append(slices.Clip(opt.Checks), c)
	}
	r := newRunner(opt)
	opt.run = r
	notes := r.snap.openCounters()
	defer r.snap.closeCounters()
	observe := opt.Observe
	if observe == nil {
		observe = func(Event) {}
	}
	sum := &Summary{Failed: map[*Cell]error{}}
	rounds := opt.Warmup + opt.Count
	observe(Event{Kind: RunStarted, Cells: len(plan.Cells), Rounds: rounds, Warmup: opt.Warmup, Notes: notes})
	for round := 0; round < rounds; round++ {
		for ci, cell := range plan.Cells {
			if _, failed := sum.Failed[cell]; failed {
				continue
			}
			if ctx.Err() != nil {
				return sum, nil
			}
			counted := round >= opt.Warmup
			started := time.Now()
			var res *CellResult
			if round == 0 && opt.Warmup > 0 {
				res = r.calibrate(ctx, cell)
			} else {
				res = r.round(ctx, cell, counted)
			}
			if ctx.Err() != nil {
				return sum, nil // the round in progress was interrupted: not a result
			}
			ev := Event{Kind: RoundEnded, Cell: cell, CellIndex: ci, Cells: len(plan.Cells),
				Round: round, Rounds: rounds, Warmup: opt.Warmup, Counted: counted && res.Err == nil,
				Result: res, Elapsed: time.Since(started)}
			if res.Err != nil {
				sum.Failed[cell] = res.Err
				if opt.Out != nil {
					if err := opt.Out.WriteFailure(cell, res.Err); err != nil {
						return sum, err
					}
				}
				observe(ev)
				continue
			}
			if counted && opt.Out != nil {
				if err := opt.Out.WriteResult(res); err != nil {
					return sum, err
				}
			}
			if counted {
				sum.Results = append(sum.Results, res)
			}
			observe(ev)
			if round == rounds-1 {
				profileCell(ctx, cell, opt) // no-op unless opt.Profile is set
			}
		}
	}
	sum.Finished = true
	observe(Event{Kind: RunEnded, Cells: len(plan.Cells), Rounds: rounds, Warmup: opt.Warmup})
	return sum, nil
}

// runCell runs a round of cell at its calibrated passes (one before any
// calibration), after collecting the garbage of whatever ran before, and
// keeps its latencies (CellResult.Latencies). For tests and the Go
// benchmarks of the matrix.
func runCell(ctx context.Context, cell *Cell, opt Options) *CellResult {
	r := runnerOf(opt)
	res := r.round(ctx, cell, false)
	if res.Err == nil {
		res.Latencies = make([]time.Duration, len(r.lat))
		for i, d := range r.lat {
			res.Latencies[i] = time.Duration(d)
		}
		slices.Sort(res.Latencies)
	}
	return res
}

// runCellAsIs runs one round of cell at its calibrated passes (one
// before any calibration), without the forced collection first and
// without sampling peaks, opts added to the round's job: the round that
// times a pass of a cell that had no warm-up, before its profiled passes
// (which size their rounds themselves, see Profiling).
func runCellAsIs(ctx context.Context, cell *Cell, opt Options, opts ...strategies.JobOption) *CellResult {
	r := runnerOf(opt)
	return r.run(ctx, cell, r.state(cell).passes, false, false, false, opts...)
}

// runnerOf returns the run's shared state, or fresh state for a round run
// outside Run (tests).
func runnerOf(opt Options) *runner {
	if opt.run != nil {
		return opt.run
	}
	return newRunner(opt.withDefaults())
}

// CellResult is one round of one cell.
type CellResult struct {
	Cell   *Cell
	Passes int // times the round ran the spec's task set
	// Tasks is the tasks the round ran: the spec's tasks × Passes, the
	// benchmark line's iteration count.
	Tasks int
	// Verified is the tasks that finished without error with the
	// reference's result: the finished work, which wall time, throughput
	// and latencies are about.
	Verified   int
	Errors     int // tasks that failed with an error
	FirstError error
	Wall       time.Duration // Begin to the last task's end
	Latency    Latency       // of the verified tasks
	// Latencies are the verified tasks' latencies, sorted, kept only by
	// rounds run outside Run (runCell, for tests): a run keeps their
	// percentiles alone, as a round may have millions.
	Latencies      []time.Duration
	CPU            time.Duration // user+system of the whole process during the round
	MinorFaults    uint64        // page faults served from memory, whole process
	CtxSwitches    uint64        // voluntary + involuntary context switches, whole process
	AllocBytes     uint64
	AllocObjects   uint64
	Spawned        uint64 // goroutines created
	PeaksSampled   bool   // the peaks below were measured (in a warm-up round)
	PeakGoroutines uint64 // above the harness's own
	PeakThreads    uint64 // OS threads of the process
	Bound          time.Duration
	Err            error // set when the cell failed; the other fields are then partial
	// OS is what the OS counters (package perfcount) of this process's
	// threads counted in the round: CPU migrations, and cycles,
	// instructions and cache misses where the kernel counts them. An
	// event not counted here has no value, never 0.
	OS perfcount.Counts
	// BackendCPU is the user+system CPU of the backends' processes
	// during a counted round of an I/O cell, when BackendCPUMeasured:
	// child or remote built-in backends (see backendCPU in measure.go).
	BackendCPU         time.Duration
	BackendCPUMeasured bool

	// serve is a serve round's own figures (see Serve); nil otherwise.
	serve *ServeRound
}

// BytesPerSec is the memory bandwidth of the round: the spec's
// MemoryBytes for each pass over the wall time. It reports false for
// workloads that do not count their memory traffic.
func (r *CellResult) BytesPerSec() (float64, bool) {
	if r.Cell.Spec.MemoryBytes <= 0 || r.Wall <= 0 {
		return 0, false
	}
	return float64(r.Cell.Spec.MemoryBytes) * float64(max(r.Passes, 1)) / r.Wall.Seconds(), true
}

// TasksPerSec is the throughput of the round: verified tasks a second.
func (r *CellResult) TasksPerSec() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Verified) / r.Wall.Seconds()
}

// SecPerTask is the round's wall time per verified task: 1 / TasksPerSec.
func (r *CellResult) SecPerTask() float64 {
	if r.Verified == 0 {
		return 0
	}
	return r.Wall.Seconds() / float64(r.Verified)
}
