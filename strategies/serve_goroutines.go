package strategies

import (
	"context"
	"net"

	"github.com/concbench/concbench/serve"
)

// Serve implements serve.Server as a goroutine per connection on raw net
// (the net.Listener and net.Conn: Go's netpoller parks a goroutine whose
// read would block), the gevent model and what net/http does underneath
// its router: every accepted connection gets a goroutine that serves it
// with blocking-style reads, writes and lookups until it is over.
// Connections are unbounded (a goroutine costs a few KiB); the lookups
// share a pool of at most conns backend connections, and a request that
// finds none free waits for one (up to the fetch timeout, then 502): conns
// bounds the lookups in flight, as it bounds the fetches of the closed
// workloads.
func (g goroutines) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	s, err := listen(ctx, "goroutines", ln, env, g.conns)
	if err != nil {
		return err
	}
	defer s.stop()
	page := s.pageFunc(ctx)
	for {
		c, err := s.accept(ctx)
		if c == nil {
			return err
		}
		s.wg.Go(func() { s.serveConn(c, page) })
	}
}
