package loadgen

import (
	"context"
	"time"
)

// sleeper waits until a request is due, on a Go timer.
//
// Go's timers wake about 1 ms late on Linux when the process is otherwise
// idle (the netpoller waits in whole milliseconds: a 50 µs timer took
// 1.1 ms on this project's VM), so the generator's own lag is up to about
// a millisecond at any rate, and Result.Lag shows it. A nanosleep(2) on
// the scheduler's thread was tried: about 90 µs of lag on a quiet machine,
// but after each sleep the goroutine must win a P back, and under load (the
// race detector, a server in the same process on 2 cores) the lag grew
// without bound: 75 ms after 300 requests at 1000/s. A woken timer's
// goroutine is run next on its P, so the timer's lag stays bounded.
type sleeper struct{ t *time.Timer }

// sleep waits d and reports whether ctx is still live.
func (s *sleeper) sleep(ctx context.Context, d time.Duration) bool {
	if s.t == nil {
		s.t = time.NewTimer(d)
	} else {
		s.t.Reset(d)
	}
	select {
	case <-s.t.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

func (s *sleeper) stop() {
	if s.t != nil {
		s.t.Stop()
	}
}
