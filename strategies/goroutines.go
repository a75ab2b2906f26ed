package strategies

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
)

func init() {
	Register(&Definition{
		Name:    "goroutines",
		Summary: "a goroutine per task, connections borrowed from a bounded pool (the gevent model)",
		Order:   30,
		Params: []params.Spec{
			// A goroutine is spawned for every task at once; connections are
			// the bound, as in a gevent server with a connection pool. 256
			// matches the in-flight level of the I/O workloads.
			params.Int("conns", 256, 1, 1<<14, "connections in the pool: fetches in flight at most"),
		},
		Make: func(p params.Set) (Strategy, error) { return goroutines{conns: p.Int("conns")}, nil },
	})
}

type goroutines struct{ conns int }

func (g goroutines) Concurrency(spec *workloads.Spec) Concurrency {
	return Concurrency{Cores: runtime.GOMAXPROCS(0), InFlight: min(g.conns, len(spec.Tasks))}
}

func (g goroutines) Run(ctx context.Context, job *Job) error {
	if !job.NeedsBackend() {
		// CPU only: nothing to borrow, every task is its own goroutine.
		job.Begin()
		var wg sync.WaitGroup
		for p := range job.Passes() {
			lo, hi := job.Pass(p)
			for i := lo; i < hi; i++ {
				wg.Go(func() { job.RunTask(i, workloads.Scalar, nil) })
			}
			wg.Wait() // the pass is a closed batch: the next starts after it
		}
		return nil
	}
	pool, err := job.DialPool(ctx, min(g.conns, job.PassTasks()))
	if err != nil {
		return err
	}
	defer pool.Close()
	job.Begin()
	var wg sync.WaitGroup
	for p := range job.Passes() {
		lo, hi := job.Pass(p)
		for i := lo; i < hi; i++ {
			wg.Go(func() {
				// The task's latency starts once it holds a connection, as a
				// pool worker's starts once it takes the task: waiting for a
				// connection is queueing, not service, in every strategy.
				conns, err := pool.Borrow(ctx)
				if err != nil {
					job.Finish(i, time.Now(), workloads.Result{}, err)
					return
				}
				defer pool.Return(conns)
				job.RunTask(i, workloads.Scalar, conns)
			})
		}
		wg.Wait()
	}
	return nil
}
