package strategies

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/concbench/concbench/workloads"
)

// Strategy executes every task of a job in its own concurrency model.
type Strategy interface {
	// Run executes every task of job and records each with job.Finish before
	// returning. It returns early only when ctx is cancelled (tasks not run
	// are then recorded as failed by the harness) or when it cannot run at
	// all (for example, the backend refuses connections).
	Run(ctx context.Context, job *Job) error
	// Concurrency is what the strategy's model allows on spec: the basis of
	// the cell's bound.
	Concurrency(spec *workloads.Spec) Concurrency
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

// Outcome is the record of one task.
type Outcome struct {
	Start, End time.Time
	Result     workloads.Result
	Err        error
	Done       bool
}

// Job is one execution of a spec by a strategy: its input and the slots
// where the tasks' outcomes go.
type Job struct {
	Spec         *workloads.Spec
	Backends     []string      // address of each backend instance, by Step.Backend
	FetchTimeout time.Duration // per request

	onBegin   func() // see OnBegin
	beginOnce sync.Once
	begin     time.Time
	outcomes  []Outcome
}

// A JobOption configures a job made by NewJob.
type JobOption func(*Job)

// OnBegin makes the job's first Begin call hook before it reads the clock.
// The harness takes its CPU and allocation snapshots there, so that a
// strategy's setup is outside them as it is outside the wall time. It is an
// option of NewJob, not a field, so that only the job's maker sets it.
func OnBegin(hook func()) JobOption { return func(j *Job) { j.onBegin = hook } }

// NewJob returns a job over spec. backends must hold an address for every
// backend instance the spec's fetch steps use.
func NewJob(spec *workloads.Spec, backends []string, fetchTimeout time.Duration, opts ...JobOption) *Job {
	j := &Job{Spec: spec, Backends: backends, FetchTimeout: fetchTimeout,
		outcomes: make([]Outcome, len(spec.Tasks))}
	for _, o := range opts {
		o(j)
	}
	return j
}

// Begin marks the end of setup: the timed part of the run starts here.
// Every strategy calls it once its setup is done, before its first task
// starts, even when there is no setup (later calls do nothing). The harness
// fails the cell of a strategy that returns without calling it: without a
// beginning it has no wall time, CPU time or allocations to report.
func (j *Job) Begin() {
	j.beginOnce.Do(func() {
		if j.onBegin != nil {
			j.onBegin()
		}
		j.begin = time.Now()
	})
}

// Began returns when Begin was called, or the zero time if it was not. It
// reads only: call it after Begin has returned (or Run, in the harness).
func (j *Job) Began() time.Time { return j.begin }

// Tasks returns the number of tasks.
func (j *Job) Tasks() int { return len(j.outcomes) }

// Finish records the outcome of task i, which started at start and ends
// now. Each task must be finished exactly once, by one goroutine; the
// harness reads the outcomes after Run returns.
func (j *Job) Finish(i int, start time.Time, r workloads.Result, err error) {
	j.FinishAt(i, start, time.Now(), r, err)
}

// FinishAt is Finish with the end read by the caller: a strategy that ends
// many tasks at one moment (a lockstep round) reads the clock once for all
// of them. On this project's VM a clock read costs about 55 ns, more than
// half an AVX-512 dot product of 4096 floats in cache.
func (j *Job) FinishAt(i int, start, end time.Time, r workloads.Result, err error) {
	j.outcomes[i] = Outcome{Start: start, End: end, Result: r, Err: err, Done: true}
}

// Outcomes returns every task's outcome (valid once Run has returned).
func (j *Job) Outcomes() []Outcome { return j.outcomes }

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
	r, err := j.Spec.RunTask(i, k, f)
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
