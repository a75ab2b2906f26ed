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
		Name:    "pool",
		Summary: "N long-lived workers fed from a channel, each with its own connections (thread pools)",
		Order:   40,
		Params: []params.Spec{
			// 4×GOMAXPROCS: enough workers that while some wait on I/O the
			// others keep every core busy, and few enough that CPU-bound
			// work is not split into needless hand-offs: the usual default
			// of worker pools sized for mixed work.
			params.Int("workers", 4*runtime.GOMAXPROCS(0), 1, 1<<14, "workers (default 4×GOMAXPROCS)"),
		},
		Make: func(p params.Set) (Strategy, error) { return pool{workers: p.Int("workers")}, nil },
	})
}

type pool struct{ workers int }

func (p pool) Concurrency(spec *workloads.Spec) Concurrency {
	n := min(p.workers, len(spec.Tasks))
	return Concurrency{Cores: min(n, runtime.GOMAXPROCS(0)), InFlight: n}
}

func (p pool) Run(ctx context.Context, job *Job) error {
	n := min(p.workers, job.PassTasks())
	conns := make([]*Conns, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for w := range conns {
		c, err := job.Dial(ctx)
		if err != nil {
			return err
		}
		conns[w] = c
	}
	// Buffered to a pass's task count so the feeder never waits on slow
	// workers (its sends are not part of any task's latency).
	tasks := make(chan int, job.PassTasks())
	// pass counts the current pass's unfinished tasks: the feeder waits
	// for it before feeding the next pass, which is a closed batch as the
	// first is. Every pass pays its atomic decrement a task, the last one
	// too, so a task costs the same whatever the number of passes.
	var pass sync.WaitGroup
	var wg sync.WaitGroup
	defer wg.Wait()
	for w := range n {
		wg.Go(func() {
			for i := range tasks {
				if ctx.Err() == nil { // cancelled: drain, tasks stay unrecorded (not run)
					job.RunTask(i, workloads.Scalar, conns[w])
				}
				pass.Done()
			}
		})
	}
	job.Begin()
	defer close(tasks)
	for q := range job.Passes() {
		lo, hi := job.Pass(q)
		pass.Add(hi - lo)
		for i := lo; i < hi; i++ {
			tasks <- i
		}
		pass.Wait()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
