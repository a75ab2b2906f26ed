//go:build linux

package reactor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/concbench/concbench/strategies"
)

// connectTimeout bounds setup's handshakes: all of a run's connections
// are dialled at once, before the timed part, and on a loaded machine a
// few hundred handshakes can take longer than one request may. A job
// whose fetch timeout is longer gets that instead. Dialling is setup, not
// a fetch: the fetch timeout bounds requests, whose misses are task errors.
const connectTimeout = 10 * time.Second

func available() error { return nil }

// Run dials every loop's connections, then (timed from job.Begin) runs the
// loops, one goroutine each locked to its OS thread, pass after pass (the
// loops stop at the end of a pass, and all start the next together), until
// every task has finished or ctx is done. It closes every descriptor and
// waits for every goroutine it started before returning.
func (r *reactor) Run(ctx context.Context, job *strategies.Job) (err error) {
	tasks := job.PassTasks()
	if tasks == 0 {
		job.Begin()
		return nil
	}
	rs := &runState{ctx: ctx, job: job, depth: r.depth, timeout: job.FetchTimeout}
	addrs, err := job.BackendAddrs()
	if err != nil {
		return fmt.Errorf("reactor: %w", err)
	}
	for _, a := range addrs {
		ba, err := resolve(a)
		if err != nil {
			return err
		}
		ba.auth = job.Credentials.AppendAuth(nil)
		rs.addrs = append(rs.addrs, ba)
	}

	nloops := r.loopCount(tasks)
	perLoop := (tasks + nloops - 1) / nloops
	conns := r.connsPerLoop(nloops)
	if rs.addrs != nil {
		// No more connections than the loop could ever fill.
		conns = min(conns, (perLoop+r.depth-1)/r.depth)
	}
	limit := min(conns*r.depth, perLoop)

	loops := make([]*loop, 0, nloops)
	defer func() {
		for _, l := range loops {
			l.close()
		}
	}()
	for range nloops {
		l, err := newLoop(rs, limit)
		if err != nil {
			return err
		}
		loops = append(loops, l)
	}

	// Cancellation sets the flag and wakes every loop; it must have
	// finished before the loops' eventfds close (deferred above, so run
	// after this).
	woken := make(chan struct{})
	stopWake := context.AfterFunc(ctx, func() {
		defer close(woken)
		rs.stopped.Store(true)
		for _, l := range loops {
			l.poller.wake()
		}
	})
	defer func() {
		if !stopWake() {
			<-woken
		}
	}()

	if rs.addrs != nil {
		deadline := time.Now().Add(max(connectTimeout, job.FetchTimeout))
		for _, l := range loops {
			if err := l.addConns(conns); err != nil {
				return err
			}
		}
		for _, l := range loops {
			if err := l.awaitConnected(deadline); err != nil {
				return err
			}
		}
	}

	if r.offload {
		pool := startOffload(ctx, rs, runtime.GOMAXPROCS(0), nloops*limit)
		defer pool.stop() // before the loops close: workers wake them
		for _, l := range loops {
			l.offload = pool
		}
	}

	// The loops' goroutines live for the whole run, each on its locked
	// thread, and run one pass each time they are told to; started here
	// (inside Run) so they inherit the caller's profiler labels (pprof.Do
	// around Run), and ctx carries them for pprof.Label too.
	errs := make([]error, len(loops))
	var running, pass sync.WaitGroup
	defer running.Wait()
	for i, l := range loops {
		l.passes = make(chan struct{}, 1)
		defer close(l.passes)
		running.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if testHookLoopStart != nil {
				testHookLoopStart(ctx)
			}
			for range l.passes {
				errs[i] = l.loop(ctx)
				pass.Done()
			}
		})
	}

	job.Begin()
	for p := range job.Passes() {
		lo, hi := job.Pass(p)
		rs.next.Store(int64(lo))
		rs.end = int64(hi)
		pass.Add(len(loops))
		for _, l := range loops {
			l.exhausted = false
			l.passes <- struct{}{}
		}
		pass.Wait()
		if err := errors.Join(errs...); err != nil {
			if ctx.Err() != nil { // cancelled: the loops' errors say only that
				return ctx.Err()
			}
			return err
		}
	}
	return nil
}
