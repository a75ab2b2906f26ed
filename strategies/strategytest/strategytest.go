// Package strategytest holds the check every strategy's tests make after a
// run: the timed part began, and each task of each pass finished, without
// error, with the scalar reference's result, with its times in order, and
// no pass began before the one before it had ended.
//
//	job := strategies.NewJob(spec, addrs, 5*time.Second, strategies.Repeat(3))
//	if err := s.Run(ctx, job); err != nil { t.Fatal(err) }
//	strategytest.Verified(t, job)
package strategytest

import (
	"testing"
	"time"

	"github.com/concbench/concbench/strategies"
)

// Verified fails t unless VerifiedResults holds and the job's passes ran
// in order: every task of a pass started no earlier than the last task of
// the pass before it ended (each pass is a closed batch).
func Verified(t testing.TB, job *strategies.Job) {
	t.Helper()
	VerifiedResults(t, job)
	recs := job.Records()
	var prevEnd int64
	for p := range job.Passes() {
		lo, hi := job.Pass(p)
		var end int64
		for i := lo; i < hi; i++ {
			if recs[i].Start < prevEnd {
				t.Fatalf("task %d of pass %d started %v before pass %d ended: passes overlap",
					i, p, time.Duration(prevEnd-recs[i].Start), p-1)
			}
			end = max(end, recs[i].End)
		}
		prevEnd = end
	}
}

// VerifiedResults fails t unless the strategy called job.Begin and every
// task of job finished without error, with the result of its spec task's
// reference, starting no earlier than the job's Begin and ending no
// earlier than it started. Verified checks the order of passes too; this
// is for strategies whose task starts come from another clock (an
// out-of-process child's).
func VerifiedResults(t testing.TB, job *strategies.Job) {
	t.Helper()
	began := job.Began()
	if began.IsZero() {
		t.Fatal("the strategy never called job.Begin: the harness fails such a cell")
	}
	if errs := job.Errors(); len(errs) > 0 {
		t.Fatalf("%d tasks failed; task %d: %v", len(errs), errs[0].Task, errs[0].Err)
	}
	beganNs := int64(began.Sub(job.Epoch()))
	for i, r := range job.Records() {
		switch {
		case !r.Finished():
			t.Fatalf("task %d was not finished", i)
		case r.Start < beganNs || r.End < r.Start:
			t.Fatalf("task %d: start %v, end %v after Begin: out of order", i,
				time.Duration(r.Start-beganNs), time.Duration(r.End-beganNs))
		}
		if err := job.Spec.Check(job.SpecTask(i), r.Result); err != nil {
			t.Fatalf("task %d (pass %d): %v", i, i/job.PassTasks(), err)
		}
	}
}
