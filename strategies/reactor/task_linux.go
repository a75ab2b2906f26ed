//go:build linux

package reactor

import (
	"fmt"
	"math"
	"time"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// noDeadline is the deadline of requests when the job sets no fetch timeout.
const noDeadline = math.MaxInt64

// task is one admitted task: a state machine driven by its cursor. Its
// state is the cursor's step: a compute step runs (on the loop or on an
// offload worker), a fetch step waits in a connection's queue for its reply,
// and after the last step the task is finished.
type task struct {
	loop     *loop
	index    int
	start    time.Time
	cur      workloads.Cursor
	key      string // of the fetch in flight
	deadline int64  // of the fetch in flight, on the loop's clock
	err      error  // set by an offload worker whose compute failed
}

// admit claims tasks of the pass, shared by all loops, until this loop has
// limit of them in flight. Claiming one at a time from a shared counter
// balances the loops whatever the tasks cost. A task's start is its
// admission, as a pool worker's task starts when the worker takes it.
//
// With compute in line and no fetch steps a task runs to its end inside
// advance, so this loop runs the whole CPU-only job, one task after another.
func (l *loop) admit() {
	job := l.run.job
	for l.active < l.limit && !l.exhausted {
		if l.run.stopped.Load() {
			return
		}
		i := l.run.next.Add(1) - 1
		if i >= l.run.end {
			l.exhausted = true
			return
		}
		var t *task
		if n := len(l.spare); n > 0 {
			t, l.spare = l.spare[n-1], l.spare[:n-1]
		} else {
			t = &task{loop: l}
		}
		t.index, t.start, t.cur, t.err = int(i), time.Now(), job.Cursor(int(i)), nil
		l.active++
		l.advance(t)
	}
}

// advance runs t until it waits: compute steps run in line (blocking the
// loop, as a CPU-bound coroutine blocks asyncio's) or go to the offload
// pool; a fetch step queues its request; the end finishes the task.
func (l *loop) advance(t *task) {
	for {
		if t.err != nil {
			l.finish(t, t.err)
			return
		}
		if t.cur.Done() {
			l.finish(t, nil)
			return
		}
		st := t.cur.Step()
		if st.Kind == workloads.StepCompute {
			if l.offload != nil {
				l.offload.submit(t)
				return
			}
			t.err = computeSteps(t)
			continue
		}
		l.issue(t, st.Backend, t.cur.Key())
		return
	}
}

// computeSteps runs t's compute steps up to its next fetch or its end. A
// panic in a kernel becomes the task's error, as Job.RunTask records it.
func computeSteps(t *task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = strategies.PanicError(t.index, p)
		}
	}()
	for !t.cur.Done() && t.cur.Step().Kind == workloads.StepCompute {
		t.cur.Compute(workloads.Scalar)
	}
	return nil
}

// issue queues t's GET on a connection to backend that can take it. The
// admission limit (connections × depth) guarantees there is one.
func (l *loop) issue(t *task, backend int, key string) {
	c, ok := l.free[backend].pop()
	if !ok {
		l.finish(t, fmt.Errorf("reactor: task %d: no connection to backend %d can take a request (internal error)", t.index, backend))
		return
	}
	c.free = false
	t.key, t.deadline = key, l.deadline()
	c.waiting.push(t)
	if c.waiting.len() == 1 && t.deadline != noDeadline {
		l.timer.schedule(&c.timer, t.deadline)
	}
	c.out = appendGet(c.out, key)
	l.release(c) // back to the free list if depth allows another
	l.markDirty(c)
}

// deliver gives t the reply to its GET and moves it on.
func (l *loop) deliver(t *task, r resp.Reply) {
	var err error
	switch {
	case r.Kind == resp.KindError:
		err = r.Err()
	case r.Kind != resp.KindBulk:
		err = fmt.Errorf("resp: unexpected %v reply", r.Kind)
	case r.Null:
		err = resp.ErrNil
	default:
		err = t.cur.Fetched(r.Str)
	}
	if err != nil {
		l.finish(t, fmt.Errorf("reactor: task %d: GET %q: %w", t.index, t.key, err))
		return
	}
	l.advance(t)
}

// finish records t's outcome and frees its slot for the next admission.
func (l *loop) finish(t *task, err error) {
	l.run.job.Finish(t.index, t.start, t.cur.Result(), err)
	l.active--
	t.key, t.err = "", nil
	l.spare = append(l.spare, t)
}
