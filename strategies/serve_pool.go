package strategies

import (
	"context"
	"net"
	"sync"

	"github.com/concbench/concbench/serve"
)

// Serve implements serve.Server as N workers (the workers parameter)
// taking requests, not connections, from one queue: the thread pool of
// Tomcat's NIO connector, Jetty, or asyncio's run_in_executor behind a
// reader. Each connection has a reader goroutine that reads and parses its
// requests (parked in Go's netpoller while the client is quiet, the role
// of those servers' poller thread) and puts each request on the queue; a
// worker takes it, does its two lookups with a backend connection of its
// own (the pool holds one per worker, so a worker never waits for one)
// and renders the page; the reader writes the response and parses the
// next request. A request that finds every worker busy waits in the
// queue, and the wait is in its latency.
//
// Why requests and not connections: with keep-alive, a worker that took a
// connection would be held by it between its requests, idle while its
// client thinks, so N workers would serve only N clients and the next
// would wait in the accept backlog with every worker asleep: that is the
// threads model with a bound (threads max=N). Taking requests bounds what
// a pool is for, the work in flight (N lookups at once, as the closed
// pool strategy's N workers each with its own connection), while any
// number of idle keep-alive clients cost only a parked goroutine each.
func (p pool) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	s, err := listen(ctx, "pool", ln, env, p.workers)
	if err != nil {
		return err
	}
	// The queue's buffer holds a request for every worker: readers hand
	// over without waking one another, and past it they wait on the
	// channel, in order (a channel queues its blocked senders first in,
	// first out).
	queue := make(chan *poolRequest, p.workers)
	var workers sync.WaitGroup
	defer func() {
		s.stop() // every reader has returned: none sends any more
		close(queue)
		workers.Wait()
	}()
	for range p.workers {
		workers.Go(func() {
			for r := range queue {
				r.body, r.err = s.backend.Page(ctx, r.body, r.id, s.env.ValueSize)
				r.done <- struct{}{}
			}
		})
	}
	for {
		c, err := s.accept(ctx)
		if c == nil {
			return err
		}
		s.wg.Go(func() {
			// One request of the connection is in the queue or with a
			// worker at a time: the reader waits for its answer before
			// parsing the next, so pipelined answers stay in order.
			r := &poolRequest{done: make(chan struct{}, 1)}
			s.serveConn(c, func(dst []byte, id int) ([]byte, error) {
				r.id, r.body = id, dst
				queue <- r
				<-r.done
				return r.body, r.err
			})
		})
	}
}

// poolRequest is a connection's request on its way through the queue: the
// page the reader wants, and the worker's answer.
type poolRequest struct {
	id   int
	body []byte // the reader's buffer, appended to by the worker
	err  error
	done chan struct{}
}
