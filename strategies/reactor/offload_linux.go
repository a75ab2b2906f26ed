//go:build linux

package reactor

import (
	"context"
	"sync"
)

// offloadPool runs compute steps off the loops, like asyncio's
// run_in_executor: GOMAXPROCS worker goroutines take tasks from a channel,
// run their compute steps up to the next fetch or the end, and hand them
// back to their loop through its eventfd. The loop stays free for I/O
// while the kernels use every core.
type offloadPool struct {
	run  *runState
	work chan *task
	wg   sync.WaitGroup
}

// startOffload starts workers. capacity bounds the tasks that can be
// waiting for a worker at once (every loop's admission limit together), so
// a loop's send never blocks.
func startOffload(ctx context.Context, rs *runState, workers, capacity int) *offloadPool {
	p := &offloadPool{run: rs, work: make(chan *task, capacity)}
	for range workers {
		// Started here, inside Run, so the workers inherit the run's
		// profiler labels, as the loops do.
		p.wg.Go(func() { p.worker(ctx) })
	}
	return p
}

func (p *offloadPool) worker(ctx context.Context) {
	if testHookLoopStart != nil {
		testHookLoopStart(ctx)
	}
	for t := range p.work {
		if !p.run.stopped.Load() { // cancelled: hand back without computing
			t.err = computeSteps(t)
		}
		t.loop.handBack(t)
	}
}

// submit queues t for a worker. Only t's loop calls it.
func (p *offloadPool) submit(t *task) { p.work <- t }

// stop waits for the workers to finish what was submitted and exit.
func (p *offloadPool) stop() {
	close(p.work)
	p.wg.Wait()
}

// handBack returns a task from a worker to its loop. Only the first task
// into an empty queue wakes the loop: the loop takes the whole queue on one
// wake-up, so a burst of completions costs one eventfd write.
func (l *loop) handBack(t *task) {
	l.doneMu.Lock()
	first := len(l.done) == 0
	l.done = append(l.done, t)
	l.doneMu.Unlock()
	if first {
		l.poller.wake()
	}
}

// resumeOffloaded moves the tasks handed back by workers on to their next
// step, on the loop.
func (l *loop) resumeOffloaded() {
	l.doneMu.Lock()
	l.done, l.taken = l.taken[:0], l.done
	l.doneMu.Unlock()
	for i, t := range l.taken {
		l.taken[i] = nil
		l.advance(t)
	}
}
