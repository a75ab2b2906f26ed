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

// Run splits each pass's tasks into one contiguous chunk per worker (one
// worker a core); each worker runs its chunk batch by batch (see
// lockstep), and the next pass starts once every worker has finished its
// chunk of this one.
func (s *strategy) Run(ctx context.Context, job *strategies.Job) error {
	n := job.PassTasks()
	if n == 0 {
		job.Begin()
		return nil
	}
	nw := s.workers(n)
	workers := make([]*worker, nw)
	defer func() {
		for _, w := range workers {
			if w != nil {
				w.conns.Close()
			}
		}
	}()
	for i := range workers {
		c, err := job.Dial(ctx) // opens nothing for a job without fetch steps
		if err != nil {
			return fmt.Errorf("simd: %w", err)
		}
		workers[i] = newWorker(s, job, c) // its own connections and state
	}
	// The workers' goroutines are started before Begin, so the timed part
	// excludes their start, and live for the whole job: each runs its
	// chunk of a pass when told the pass.
	var running, pass sync.WaitGroup
	defer running.Wait()
	for i, w := range workers {
		w.passes = make(chan int, 1)
		defer close(w.passes)
		running.Go(func() {
			for p := range w.passes {
				base, _ := job.Pass(p)
				w.run(ctx, base+i*n/nw, base+(i+1)*n/nw)
				pass.Done()
			}
		})
	}
	job.Begin()
	for p := range job.Passes() {
		pass.Add(nw)
		for _, w := range workers {
			w.passes <- p
		}
		pass.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// worker is the state of one worker goroutine, reused batch after batch.
// Each worker allocates its own, so no two cores write the same cache line
// (the outcomes of neighbouring chunks in the job aside).
type worker struct {
	s     *strategy
	job   *strategies.Job
	conns *strategies.Conns // this worker's own

	passes  chan int // the passes to run a chunk of
	first   int      // the job task of cursors[0]
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
	w.first, w.cursors = lo, w.cursors[:0]
	for i := lo; i < hi; i++ {
		w.cursors = append(w.cursors, w.job.Cursor(i)) // at the spec's task: its kernels see that index
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
				w.job.FinishAt(w.first+k, w.start, end, c.Result(), w.errs[k])
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
			i := w.first + k
			w.job.Finish(i, w.start, w.cursors[k].Result(), strategies.PanicError(i, p))
		}
	}
}

// hashes reports whether a kernel's work is FNV-1a hashing, which the
// worker runs across tasks in vector lanes.
func hashes(k workloads.Kernel) bool {
	return k == workloads.KernelHash || k == workloads.KernelRender || k == workloads.KernelBurst
}
