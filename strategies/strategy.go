package strategies

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// Strategy executes every task of a job in its own concurrency model.
type Strategy interface {
	// Run executes every task of job and records each with job.Finish before
	// returning, pass after pass (see Job). It returns early only when ctx
	// is cancelled (tasks not run are then recorded as failed by the
	// harness) or when it cannot run at all (for example, the backend
	// refuses connections).
	Run(ctx context.Context, job *Job) error
	// Concurrency is what the strategy's model allows on one pass of spec:
	// the basis of the cell's bound.
	Concurrency(spec *workloads.Spec) Concurrency
}

// SinglePass is implemented by a strategy that can run only one pass of
// a spec's tasks a job: an out-of-process program that does not speak the
// protocol's repeat field. The harness never repeats such a strategy's
// task set within a round, whatever the round time asks for.
type SinglePass interface {
	SinglePass() bool
}

// Concurrency is how much a strategy can overlap.
type Concurrency struct {
	Cores    int // cores its compute can use at once
	InFlight int // fetches it can have outstanding at once
}

// ErrPanic is wrapped by the error of a task whose code panicked.
var ErrPanic = errors.New("task panicked")

// ErrNotRun is recorded for tasks a strategy never finished.
var ErrNotRun = errors.New("task was not run")

// Record is the compact record of one task: its start and end in
// nanoseconds since the job's epoch (End is 0 until the task finishes)
// and its result. 32 bytes and no pointers, so the garbage collector
// never scans a job's records. Errors are rare and kept apart (see
// Job.Errors).
type Record struct {
	Start, End int64
	Result     workloads.Result
}

// Finished reports whether the task was finished.
func (r *Record) Finished() bool { return r.End != 0 }

// TaskError is the error of one task.
type TaskError struct {
	Task int
	Err  error
}

// Records is storage for the records of jobs run one after another: the
// harness keeps one for a whole run, so that a round allocates nothing in
// proportion to its tasks and writes only to memory that earlier rounds
// (the warm-up at the latest) have already touched. The zero value is
// ready to use. A Records serves one job at a time.
type Records struct{ buf []Record }

// take returns n cleared records, growing the storage if needed. The clear
// writes every record, so the pages are mapped here, before the job's
// timed part, and not on a task's first write.
func (r *Records) take(n int) []Record {
	if cap(r.buf) < n {
		r.buf = make([]Record, n)
	}
	recs := r.buf[:n]
	clear(recs)
	return recs
}

// Outcome is the record of one task as tests and tools read it (see
// Job.Outcomes).
type Outcome struct {
	Start, End time.Time
	Result     workloads.Result
	Err        error
	Done       bool
}

// Job is one execution of a spec by a strategy: its input and the records
// where the tasks' outcomes go.
//
// A job runs its spec's task set Passes times (1 unless made with
// Repeat): job task i is spec task i mod N in pass i / N, where N is the
// spec's task count. Each pass is a closed batch, as one pass alone would
// be: a strategy starts the tasks of a pass only once every task of the
// pass before it has finished, so a pass's concurrency is what its N
// tasks allow, whatever the number of passes. Cursors and kernels see the
// spec's task (Job.Cursor, Job.RunTask), records the job's.
type Job struct {
	Spec         *workloads.Spec
	Backends     []string      // address of each backend instance, by Step.Backend
	FetchTimeout time.Duration // per request
	// Credentials are what every connection to the backends sends before
	// its first request (AUTH), when they are not None: a backend with a
	// password (redis://) or a token (concbench://). Job.Dial's
	// connections log in with them; an event loop queues
	// Credentials.AppendAuth ahead of the first request on every socket;
	// a program in another process gets them in its job line. Set by
	// WithCredentials.
	Credentials resp.Credentials

	perPass int // N: the spec's tasks
	passes  int
	epoch   time.Time
	storage *Records // see WithRecords
	records []Record

	errMu sync.Mutex
	errs  []TaskError

	onBegin   []func() // see OnBegin
	beginOnce sync.Once
	begin     time.Time

	onLast []func()     // see OnLastFinish
	left   atomic.Int64 // tasks not yet finished; counted only with onLast
}

// A JobOption configures a job made by NewJob.
type JobOption func(*Job)

// OnBegin makes the job's first Begin call hook before it reads the clock.
// The harness takes its CPU and allocation snapshots there, so that a
// strategy's setup is outside them as it is outside the wall time. It is an
// option of NewJob, not a field, so that only the job's maker sets it.
// Several hooks run in the order given.
func OnBegin(hook func()) JobOption { return func(j *Job) { j.onBegin = append(j.onBegin, hook) } }

// OnLastFinish makes the finish of the job's last task call hook, on the
// goroutine that finished it (a profiler stops sampling there, before the
// strategy's teardown). It costs an atomic decrement a task, so the
// harness sets it only on rounds it does not time. Several hooks run in
// the order given.
func OnLastFinish(hook func()) JobOption { return func(j *Job) { j.onLast = append(j.onLast, hook) } }

// WithCredentials gives the job the backends' credentials (see
// Job.Credentials): the harness passes its provider's
// (harness.BackendCredentials).
func WithCredentials(c resp.Credentials) JobOption { return func(j *Job) { j.Credentials = c } }

// Repeat makes the job run its spec's task set passes times (see Job);
// below 1 means 1.
func Repeat(passes int) JobOption { return func(j *Job) { j.passes = max(1, passes) } }

// WithRecords makes the job keep its records in r (cleared and grown as
// needed) instead of storage of its own. r must serve no other job until
// this one has been read.
func WithRecords(r *Records) JobOption { return func(j *Job) { j.storage = r } }

// NewJob returns a job over spec. backends must hold an address for every
// backend instance the spec's fetch steps use.
func NewJob(spec *workloads.Spec, backends []string, fetchTimeout time.Duration, opts ...JobOption) *Job {
	j := &Job{Spec: spec, Backends: backends, FetchTimeout: fetchTimeout, perPass: len(spec.Tasks), passes: 1}
	for _, o := range opts {
		o(j)
	}
	if j.storage == nil {
		j.storage = &Records{}
	}
	j.records = j.storage.take(j.Tasks())
	if len(j.onLast) > 0 {
		j.left.Store(int64(j.Tasks()))
	}
	// The epoch precedes Begin and so every task: a finished task's End
	// is never 0.
	j.epoch = time.Now()
	return j
}

// Begin marks the end of setup: the timed part of the run starts here.
// Every strategy calls it once its setup is done, before its first task
// starts, even when there is no setup (later calls do nothing). The harness
// fails the cell of a strategy that returns without calling it: without a
// beginning it has no wall time, CPU time or allocations to report.
func (j *Job) Begin() {
	j.beginOnce.Do(func() {
		for _, hook := range j.onBegin {
			hook()
		}
		j.begin = time.Now()
	})
}

// Began returns when Begin was called, or the zero time if it was not. It
// reads only: call it after Begin has returned (or Run, in the harness).
func (j *Job) Began() time.Time { return j.begin }

// Epoch is the instant the records' nanoseconds count from: the job's
// creation, before Begin.
func (j *Job) Epoch() time.Time { return j.epoch }

// Tasks returns the number of tasks of the job: the spec's tasks times
// Passes.
func (j *Job) Tasks() int { return j.perPass * j.passes }

// Passes returns how many times the job runs its spec's task set.
func (j *Job) Passes() int { return j.passes }

// PassTasks returns the number of tasks of one pass: the spec's.
func (j *Job) PassTasks() int { return j.perPass }

// Pass returns the job tasks of pass p: [lo, hi).
func (j *Job) Pass(p int) (lo, hi int) { return p * j.perPass, (p + 1) * j.perPass }

// SpecTask returns the spec task that job task i runs: i mod PassTasks.
func (j *Job) SpecTask(i int) int {
	if i < j.perPass {
		return i // the first pass, and every job of one pass: no division
	}
	return i % j.perPass
}

// Cursor returns a cursor at the first step of job task i: the cursor of
// its spec task, whose kernels see the spec's task index.
func (j *Job) Cursor(i int) workloads.Cursor { return j.Spec.Cursor(j.SpecTask(i)) }

// Finish records the outcome of task i, which started at start and ends
// now. Each task must be finished exactly once, by one goroutine; the
// harness reads the records after Run returns.
func (j *Job) Finish(i int, start time.Time, r workloads.Result, err error) {
	j.FinishAt(i, start, time.Now(), r, err)
}

// FinishAt is Finish with the end read by the caller: a strategy that ends
// many tasks at one moment (a lockstep round) reads the clock once for all
// of them. On this project's VM a clock read costs about 55 ns, more than
// half an AVX-512 dot product of 4096 floats in cache.
func (j *Job) FinishAt(i int, start, end time.Time, r workloads.Result, err error) {
	rec := &j.records[i]
	rec.Start = int64(start.Sub(j.epoch))
	// Never 0, which means unfinished: an end at or before the epoch is a
	// strategy's bug that the harness's order check reports.
	rec.End = max(int64(end.Sub(j.epoch)), 1)
	rec.Result = r
	if err != nil {
		j.errMu.Lock()
		j.errs = append(j.errs, TaskError{Task: i, Err: err})
		j.errMu.Unlock()
	}
	if j.onLast != nil && j.left.Add(-1) == 0 {
		for _, hook := range j.onLast {
			hook()
		}
	}
}

// Records returns every task's record, indexed by job task (valid once Run
// has returned).
func (j *Job) Records() []Record { return j.records }

// Errors returns the errors of the tasks that failed, by task index
// (valid once Run has returned).
func (j *Job) Errors() []TaskError {
	j.errMu.Lock()
	defer j.errMu.Unlock()
	slices.SortStableFunc(j.errs, func(a, b TaskError) int { return a.Task - b.Task })
	return j.errs
}

// Outcomes returns every task's outcome, with times and errors (valid once
// Run has returned). It allocates them: it is for tests and tools; the
// harness reads Records and Errors.
func (j *Job) Outcomes() []Outcome {
	out := make([]Outcome, len(j.records))
	for i, r := range j.records {
		if r.Finished() {
			out[i] = Outcome{Start: j.epoch.Add(time.Duration(r.Start)), End: j.epoch.Add(time.Duration(r.End)),
				Result: r.Result, Done: true}
		}
	}
	for _, e := range j.Errors() {
		out[e.Task].Err = e.Err
	}
	return out
}

// RunTask runs task i synchronously with kernels k, fetching through f, and
// records its outcome. A panic in the task is recorded as its error.
func (j *Job) RunTask(i int, k workloads.Kernels, f workloads.Fetcher) {
	j.RunTaskFrom(i, time.Now(), k, f)
}

// RunTaskFrom is RunTask for a task that started at start, and returns
// the task's end: a strategy that runs tasks back to back, with nothing
// between them, passes one task's end as the next one's start and reads
// the clock once a task instead of twice.
func (j *Job) RunTaskFrom(i int, start time.Time, k workloads.Kernels, f workloads.Fetcher) (end time.Time) {
	defer func() {
		if p := recover(); p != nil {
			end = time.Now()
			j.FinishAt(i, start, end, workloads.Result{}, PanicError(i, p))
		}
	}()
	r, err := j.Spec.RunTask(j.SpecTask(i), k, f)
	end = time.Now()
	j.FinishAt(i, start, end, r, err)
	return end
}

// PanicError is the error of task i, whose code panicked with p: it wraps
// ErrPanic and ends with the calling goroutine's stack, so call it in the
// deferred function that recovered p (the stack then shows where p was
// raised).
func PanicError(i int, p any) error {
	stack := make([]byte, 4096)
	stack = stack[:runtime.Stack(stack, false)]
	return fmt.Errorf("task %d: %w: %v\n%s", i, ErrPanic, p, stack)
}

// NeedsBackend reports whether the job's tasks fetch.
func (j *Job) NeedsBackend() bool { return j.Spec.Backend.Instances > 0 }

// BackendAddrs returns the addresses of the backend instances the spec's
// fetch steps use, indexed by Step.Backend: none when the tasks do not
// fetch. It fails when the job has fewer addresses than the spec needs.
func (j *Job) BackendAddrs() ([]string, error) {
	n := j.Spec.Backend.Instances
	if len(j.Backends) < n {
		return nil, fmt.Errorf("workload needs %d backends, job has %d addresses", n, len(j.Backends))
	}
	return j.Backends[:n], nil
}
