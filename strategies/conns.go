package strategies

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// Conns is one connection to each backend instance: a workloads.Fetcher for
// one task at a time, and pipelined batches of GETs ([Conns.GetMany]) for a
// strategy that advances many tasks at once. Every connection logs in with
// the job's Credentials when it is dialled (AUTH, when they ask for it).
//
// A null reply (resp.ErrNil) or an error reply (a *resp.ServerError) fails
// only its key: the connection is still in step, so it is kept (for the
// one case resp.Client does not allow, see GetMany). A connection that
// fails a request (reset, timeout, garbled reply) is closed and dialled
// again on its next use, as a real connection pool discards broken
// connections: the failed request stays an error, but it does not doom the
// requests after it.
type Conns struct {
	addrs   []string
	cred    resp.Credentials // every connection logs in with them first
	timeout time.Duration
	clients []*resp.Client // nil where a broken connection awaits redial
}

// Dial opens one connection to every backend of the job. A job without
// fetch steps gets an empty Conns and opens nothing.
func (j *Job) Dial(ctx context.Context) (*Conns, error) {
	addrs, err := j.BackendAddrs()
	if err != nil {
		return nil, err
	}
	c := &Conns{addrs: addrs, cred: j.Credentials, timeout: j.FetchTimeout, clients: make([]*resp.Client, len(addrs))}
	for b := range addrs {
		if _, err := c.client(ctx, b, max(connectTimeout, c.timeout)); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// connectTimeout bounds a dial of setup (Job.Dial, Job.DialPool): setup
// dials hundreds of connections at once, which on a loaded machine can
// take longer than one request may. A job whose fetch timeout is longer
// gets that instead. A connection dialled again inside a task (after it
// broke) is part of the task's request and gets the fetch timeout.
const connectTimeout = 10 * time.Second

// client returns the connection to backend b, dialling it within
// dialTimeout if it is not open (at Dial, or after it broke). Requests on
// it get the fetch timeout.
func (c *Conns) client(ctx context.Context, b int, dialTimeout time.Duration) (*resp.Client, error) {
	if cl := c.clients[b]; cl != nil {
		return cl, nil
	}
	cl, err := resp.DialLogin(ctx, c.addrs[b], c.cred, dialTimeout, c.timeout)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", c.addrs[b], err)
	}
	c.clients[b] = cl
	return cl, nil
}

// drop closes backend b's connection; its next use dials a new one.
func (c *Conns) drop(b int) {
	if cl := c.clients[b]; cl != nil {
		cl.Close()
		c.clients[b] = nil
	}
}

// inStep reports whether err is about one reply (null, or an error reply)
// on a connection that is still in step: the next reply read is the next
// request's.
func inStep(err error) bool {
	var serverErr *resp.ServerError
	return errors.Is(err, resp.ErrNil) || errors.As(err, &serverErr)
}

// Get fetches key from backend instance b.
func (c *Conns) Get(b int, key string) ([]byte, error) {
	cl, err := c.client(context.Background(), b, c.timeout)
	if err != nil {
		return nil, err
	}
	v, err := cl.Get(key)
	if err != nil && !inStep(err) {
		c.drop(b)
	}
	return v, err
}

// maxReconnects is how many broken connections one GetMany survives: each
// costs at most one fetch timeout (a stalled server).
const maxReconnects = 3

// GetMany fetches keys from backend instance b as one pipelined batch (all
// requests in one write, then the replies in order) and calls fn once for
// every key, in order: with keys[i]'s value, valid only during the call, or
// with the error that left it without one. Unlike a failed Get, a failed
// key does not end the batch:
//
//   - A null or error reply fails its key. resp.Client.GetMany gives up
//     its connection when such a reply is not the batch's last (the
//     replies after it are left unread), so the keys after it are then
//     sent again on a new connection. This is not a broken connection and
//     counts for nothing below.
//   - A broken connection (I/O error, timeout, garbled reply) fails the
//     key whose reply was being read. The connection is dialled again (with
//     ctx) and the keys not yet answered are sent again: GET is idempotent.
//     After maxReconnects such breaks in one call every key left fails, so
//     a dead or stalled backend costs a bounded number of timeouts, never
//     a hang.
//
// Calls for different backends may run at once, each on its own
// connection; calls for one backend, and Get, may not.
func (c *Conns) GetMany(ctx context.Context, b int, keys []string, fn func(i int, v []byte, err error)) {
	for next, breaks := 0, 0; next < len(keys); {
		cl, err := c.client(ctx, b, c.timeout)
		if err != nil {
			failFrom(next, keys, err, fn)
			return
		}
		base, answered := next, 0
		err = cl.GetMany(keys[base:], func(i int, v []byte) error {
			fn(base+i, v, nil)
			answered = i + 1
			return nil
		})
		if err == nil {
			return
		}
		fn(base+answered, nil, err)
		next = base + answered + 1
		switch {
		case !inStep(err):
			c.drop(b)
			if breaks++; breaks > maxReconnects {
				failFrom(next, keys, fmt.Errorf("connection lost %d times in one batch, last: %w", breaks, err), fn)
				return
			}
		case next < len(keys): // the client gave up the connection mid-batch
			c.drop(b)
		}
	}
}

// failFrom fails keys[from:] with err.
func failFrom(from int, keys []string, err error, fn func(i int, v []byte, err error)) {
	for i := from; i < len(keys); i++ {
		fn(i, nil, err)
	}
}

// Close closes every connection.
func (c *Conns) Close() {
	for b := range c.clients {
		c.drop(b)
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
