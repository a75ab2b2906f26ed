package simd

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

func init() {
	strategies.Register(&strategies.Definition{
		Name:    "simd",
		Summary: "one worker a core, each advancing a batch of tasks in lockstep: vector kernels, multi-buffer hashing, pipelined fetches",
		Order:   60,
		Params: []params.Spec{
			// 256 tasks: enough 64-byte messages to fill the 16 hash lanes
			// many times over and enough pipelined GETs to hide a loopback
			// round trip, while a batch of the default dot tasks (16 KiB
			// each) still fits in L2.
			params.Int("batch", 256, 1, 1<<16, "tasks a worker advances in lockstep"),
			pathParam(),
		},
		Make: func(p params.Set) (strategies.Strategy, error) {
			k, err := NewKernels(KernelPath(p.Get("path")))
			if err != nil {
				return nil, err
			}
			return &strategy{batch: p.Int("batch"), kernels: k, iface: k}, nil
		},
	})
}

// pathParam is the kernel path. "auto" resolves to [Default] when the
// parameters are resolved, so the cell name records the path that ran:
// strategy=simd(batch=256,path=avx512).
func pathParam() params.Spec {
	return params.Spec{Name: "path", Default: "auto",
		Doc: "kernel path: auto (widest here, or $" + EnvPath + "), avx512, avx2 or scalar",
		Check: func(s string) (string, error) {
			if s == "auto" {
				return string(defaultPath), nil
			}
			p, err := ParsePath(s)
			return string(p), err
		}}
}

type strategy struct {
	batch   int
	kernels Kernels
	iface   workloads.Kernels // kernels, boxed once
}

func (s *strategy) workers(tasks int) int { return max(1, min(runtime.GOMAXPROCS(0), tasks)) }

// Concurrency: every core computes; each worker can have its whole batch
// of fetches outstanding.
func (s *strategy) Concurrency(spec *workloads.Spec) strategies.Concurrency {
	n := len(spec.Tasks)
	w := s.workers(n)
	return strategies.Concurrency{Cores: w, InFlight: min(n, w*s.batch)}
}

// Run splits the tasks into one contiguous chunk per worker (one worker a
// core); each worker runs its chunk batch by batch (see lockstep).
func (s *strategy) Run(ctx context.Context, job *strategies.Job) error {
	n := job.Tasks()
	if n == 0 {
		job.Begin()
		return nil
	}
	workers := s.workers(n)
	conns := make([]*strategies.Conns, workers) // one set a worker: its own connections
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for w := range conns {
		c, err := job.Dial(ctx) // opens nothing for a job without fetch steps
		if err != nil {
			return fmt.Errorf("simd: %w", err)
		}
		conns[w] = c
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Go(func() {
			<-start
			newWorker(s, job, conns[w]).run(ctx, lo, hi)
		})
	}
	// Workers are started but wait, so the timed part excludes their start.
	job.Begin()
	close(start)
	wg.Wait()
	return ctx.Err()
}

// worker is the state of one worker goroutine, reused batch after batch.
// Each worker allocates its own, so no two cores write the same cache line
// (the outcomes of neighbouring chunks in the job aside).
type worker struct {
	s     *strategy
	job   *strategies.Job
	conns *strategies.Conns // this worker's own

	cursors []workloads.Cursor
	errs    []error
	done    []bool
	start   time.Time

	hashing hashBatch
	fetches []fetchGroup // by backend
}

func newWorker(s *strategy, job *strategies.Job, c *strategies.Conns) *worker {
	w := &worker{s: s, job: job, conns: c,
		cursors: make([]workloads.Cursor, 0, s.batch),
		errs:    make([]error, s.batch),
		done:    make([]bool, s.batch),
		fetches: make([]fetchGroup, job.Spec.Backend.Instances)}
	w.hashing.kernels = s.kernels
	return w
}

// run executes tasks [lo, hi), a batch at a time, until done or cancelled.
func (w *worker) run(ctx context.Context, lo, hi int) {
	for b := lo; b < hi; b += w.s.batch {
		if ctx.Err() != nil {
			return // tasks not run stay unrecorded: the harness counts them
		}
		w.runBatch(ctx, b, min(b+w.s.batch, hi))
	}
}

// runBatch advances tasks [lo, hi) in lockstep: each round moves every
// unfinished task one step. Compute steps of the round run first (hashing
// steps together across tasks), then its fetch steps, one pipelined batch
// per backend. A task is finished as soon as its last step has run or a
// step failed.
func (w *worker) runBatch(ctx context.Context, lo, hi int) {
	spec := w.job.Spec
	w.cursors = w.cursors[:0]
	for i := lo; i < hi; i++ {
		w.cursors = append(w.cursors, spec.Cursor(i))
	}
	n := len(w.cursors)
	clear(w.errs[:n])
	clear(w.done[:n])
	w.start = time.Now()
	defer w.recoverBatch(n)
	for live := n; live > 0; {
		w.hashing.reset()
		for k := range w.cursors {
			c := &w.cursors[k]
			if w.done[k] || c.Step().Kind != workloads.StepCompute {
				continue
			}
			if hashes(c.Step().Kernel) {
				w.hashing.add(k)
				continue
			}
			c.Compute(w.s.iface)
		}
		w.hashing.run(w.cursors)
		w.fetchRound(ctx)
		// The tasks that end in this round end together: one clock read.
		var end time.Time
		for k := range w.cursors {
			c := &w.cursors[k]
			if !w.done[k] && (w.errs[k] != nil || c.Done()) {
				if end.IsZero() {
					end = time.Now()
				}
				w.done[k] = true
				live--
				w.job.FinishAt(c.Task(), w.start, end, c.Result(), w.errs[k])
			}
		}
	}
}

// recoverBatch turns a panic in a batch into the error of each of its
// unfinished tasks, as [strategies.Job.RunTask] does for one task.
func (w *worker) recoverBatch(n int) {
	p := recover()
	if p == nil {
		return
	}
	for k := range n {
		if !w.done[k] {
			w.done[k] = true
			i := w.cursors[k].Task()
			w.job.Finish(i, w.start, w.cursors[k].Result(), strategies.PanicError(i, p))
		}
	}
}

// hashes reports whether a kernel's work is FNV-1a hashing, which the
// worker runs across tasks in vector lanes.
func hashes(k workloads.Kernel) bool {
	return k == workloads.KernelHash || k == workloads.KernelRender || k == workloads.KernelBurst
}
