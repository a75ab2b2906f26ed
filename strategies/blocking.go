package strategies

import (
	"context"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
)

func init() {
	Register(&Definition{
		Name:    "blocking",
		Summary: "one task after another on one goroutine, one connection, synchronous I/O",
		Order:   10,
		Make:    func(params.Set) (Strategy, error) { return blocking{}, nil },
	})
}

type blocking struct{}

func (blocking) Concurrency(*workloads.Spec) Concurrency { return Concurrency{Cores: 1, InFlight: 1} }

func (blocking) Run(ctx context.Context, job *Job) error {
	conns, err := job.Dial(ctx)
	if err != nil {
		return err
	}
	defer conns.Close()
	job.Begin()
	// Back to back: each task starts when the one before it ends.
	t := time.Now()
	for i := range job.Tasks() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t = job.RunTaskFrom(i, t, workloads.Scalar, conns)
	}
	return nil
}
