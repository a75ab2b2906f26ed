package strategies

import (
	"context"
	"net"
	"runtime"

	"github.com/concbench/concbench/serve"
)

// Serve implements serve.Server as a thread per connection, as Apache's
// worker MPM, a Java thread-per-connection server or Python's
// ThreadingHTTPServer serves: each accepted connection gets a goroutine
// locked to an OS thread of its own (runtime.LockOSThread, never
// unlocked, so the thread exits with the connection and is never reused),
// which serves it with blocking reads, writes and lookups until it is
// over. The goroutine's reads still park in Go's netpoller, but its thread
// sleeps with it and the runtime runs nothing else there: the memory and
// the scheduling of a thread per client.
//
// At most max threads live at once: the server accepts a connection only
// when a thread slot is free, so past max clients the others wait in the
// accept backlog (as in the blocking server's lesson) until a connection
// closes. The backend pool holds up to max connections, one for each
// thread's lookups.
func (t threads) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	s, err := listen(ctx, "threads", ln, env, t.max)
	if err != nil {
		return err
	}
	defer s.stop()
	page := s.pageFunc(ctx)
	slots := make(chan struct{}, t.max)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := s.accept(ctx)
		if c == nil {
			return err
		}
		s.wg.Go(func() {
			runtime.LockOSThread() // never unlocked: see Serve
			defer func() { <-slots }()
			s.serveConn(c, page)
		})
	}
}

// MaxConns implements serve.ConnLimit: max threads, one connection each.
func (t threads) MaxConns() int { return t.max }
