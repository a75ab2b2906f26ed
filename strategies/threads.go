package strategies

import (
	"context"
	"runtime"
	"sync"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
)

func init() {
	Register(&Definition{
		Name:    "threads",
		Summary: "an OS thread per task (locked goroutine whose thread exits with it), at most max at once",
		Order:   20,
		Params: []params.Spec{
			// 256: enough to keep 256 fetches in flight, the in-flight level
			// the I/O workloads use; Python's and Java's thread-per-request
			// servers cap at a few hundred for the same memory reasons.
			params.Int("max", 256, 1, 1<<14, "threads alive at once (and connections in the pool)"),
		},
		Make: func(p params.Set) (Strategy, error) { return threads{max: p.Int("max")}, nil },
	})
}

type threads struct{ max int }

func (t threads) Concurrency(spec *workloads.Spec) Concurrency {
	n := min(t.max, len(spec.Tasks))
	return Concurrency{Cores: min(n, runtime.GOMAXPROCS(0)), InFlight: n}
}

func (t threads) Run(ctx context.Context, job *Job) error {
	pool, err := job.DialPool(ctx, min(t.max, job.PassTasks()))
	if err != nil {
		return err
	}
	defer pool.Close()
	job.Begin()
	var wg sync.WaitGroup
	defer wg.Wait()
	for p := range job.Passes() {
		lo, hi := job.Pass(p)
		for i := lo; i < hi; i++ {
			// Borrowing a connection set is the bound: at most max threads.
			conns, err := pool.Borrow(ctx)
			if err != nil {
				return err
			}
			wg.Go(func() {
				// Locked and never unlocked: when this goroutine exits, the
				// runtime terminates its thread instead of reusing it, so each
				// task really gets a thread of its own (clone, then exit).
				runtime.LockOSThread()
				defer pool.Return(conns)
				job.RunTask(i, workloads.Scalar, conns)
			})
		}
		wg.Wait() // the pass is a closed batch: the next starts after it
	}
	return nil
}
