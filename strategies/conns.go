package strategies

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// Conns is one connection to each backend instance: a workloads.Fetcher for
// one task at a time. A connection that fails a request (reset, timeout,
// garbled reply) is closed and redialled on its next use, as a real
// connection pool discards broken connections: the failed request stays an
// error, but it does not doom the requests after it.
type Conns struct {
	addrs   []string
	timeout time.Duration
	clients []*resp.Client // nil where a broken connection awaits redial
}

// Dial opens one connection to every backend of the job. A job without
// fetch steps gets an empty Conns and opens nothing.
func (j *Job) Dial(ctx context.Context) (*Conns, error) {
	c := &Conns{timeout: j.FetchTimeout}
	if !j.NeedsBackend() {
		return c, nil
	}
	if len(j.Backends) < j.Spec.Backend.Instances {
		return nil, fmt.Errorf("workload needs %d backends, job has %d addresses", j.Spec.Backend.Instances, len(j.Backends))
	}
	for _, addr := range j.Backends[:j.Spec.Backend.Instances] {
		cl, err := resp.Dial(ctx, addr, j.FetchTimeout)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("dial backend %s: %w", addr, err)
		}
		c.clients = append(c.clients, cl)
		c.addrs = append(c.addrs, addr)
	}
	return c, nil
}

// Get fetches key from backend instance b.
func (c *Conns) Get(b int, key string) ([]byte, error) {
	cl := c.clients[b]
	if cl == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		var err error
		cl, err = resp.Dial(ctx, c.addrs[b], c.timeout)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("redial backend %s: %w", c.addrs[b], err)
		}
		c.clients[b] = cl
	}
	v, err := cl.Get(key)
	if err != nil {
		var serverErr *resp.ServerError
		if !errors.As(err, &serverErr) { // an error reply leaves the connection in step
			cl.Close()
			c.clients[b] = nil
		}
	}
	return v, err
}

// Close closes every connection.
func (c *Conns) Close() {
	for _, cl := range c.clients {
		if cl != nil {
			cl.Close()
		}
	}
	c.clients = nil
}

// ConnPool lends Conns to at most its size of borrowers at once, like the
// connection pool of a gevent or thread-per-request server. All connections
// are dialled up front (outside the timed region: a server's pool is warm).
type ConnPool struct {
	idle chan *Conns
	all  []*Conns
}

// DialPool opens size sets of connections. A job without fetch steps gets
// size empty sets, so borrowing still bounds concurrency the same way.
func (j *Job) DialPool(ctx context.Context, size int) (*ConnPool, error) {
	p := &ConnPool{idle: make(chan *Conns, size)}
	for i := 0; i < size; i++ {
		c, err := j.Dial(ctx)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.all = append(p.all, c)
		p.idle <- c
	}
	return p, nil
}

// Borrow waits for an idle set of connections, or for ctx.
func (p *ConnPool) Borrow(ctx context.Context) (*Conns, error) {
	select {
	case c := <-p.idle:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Return gives c back to the pool.
func (p *ConnPool) Return(c *Conns) { p.idle <- c }

// Close closes every connection of the pool.
func (p *ConnPool) Close() {
	for _, c := range p.all {
		c.Close()
	}
}
