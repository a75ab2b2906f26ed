// Package strategytest holds the check every strategy's tests make after a
// run: the timed part began, and each task finished, without error, with
// the scalar reference's result, and with its times in order.
//
//	job := strategies.NewJob(spec, addrs, 5*time.Second)
//	if err := s.Run(ctx, job); err != nil { t.Fatal(err) }
//	strategytest.Verified(t, job)
package strategytest

import (
	"testing"

	"github.com/concbench/concbench/strategies"
)

// Verified fails t unless the strategy called job.Begin and every task of
// job finished without error, with the result of the job spec's reference,
// starting no earlier than the job's Begin and ending no earlier than it
// started.
func Verified(t testing.TB, job *strategies.Job) {
	t.Helper()
	began := job.Began()
	if began.IsZero() {
		t.Fatal("the strategy never called job.Begin: the harness fails such a cell")
	}
	for i, o := range job.Outcomes() {
		switch {
		case !o.Done:
			t.Fatalf("task %d was not finished", i)
		case o.Err != nil:
			t.Fatalf("task %d: %v", i, o.Err)
		case o.Start.Before(began) || o.End.Before(o.Start):
			t.Fatalf("task %d: start %v, end %v after Begin: out of order", i, o.Start.Sub(began), o.End.Sub(began))
		}
		if err := job.Spec.Check(i, o.Result); err != nil {
			t.Fatal(err)
		}
	}
}
