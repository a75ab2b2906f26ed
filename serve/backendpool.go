package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// DefaultBackendConns is the default bound of a [BackendPool]: what the
// goroutines strategy uses for the closed workloads, and far above what
// 20k requests/s at 1 ms need (about 45 lookups in flight).
const DefaultBackendConns = 256

// BackendPool is a bounded pool of connections to Env.Backends[0], what Go
// services hold for their database or cache (database/sql, go-redis): a
// request takes a connection, dialling one while under the bound and
// waiting for one otherwise (at most the fetch timeout), and gives it back
// after its lookups. A new connection logs in with Env.Credentials first. A connection whose lookup failed is closed, not given
// back, so a backend that went away costs one failed request a connection
// and the next request dials afresh.
//
// Every server model that blocks a goroutine (or thread) per request uses
// it, the ecosystem's and the strategies' alike, so those servers differ in
// how they serve HTTP, not in how they reach the backend. It is safe for
// concurrent use.
type BackendPool struct {
	addr    string
	cred    resp.Credentials // every connection logs in with them first
	timeout time.Duration
	slots   chan struct{}     // one token per connection open or being dialled
	idle    chan *resp.Client // open connections not in use

	mu     sync.Mutex
	closed bool
	open   map[*resp.Client]net.Conn // every open connection, idle or in use
}

// NewBackendPool returns a pool of at most conns connections (0 or less:
// DefaultBackendConns) to env's backend, with env's fetch timeout. env
// must have its defaults ([Env.WithDefaults]). Nothing is dialled yet.
func NewBackendPool(env Env, conns int) *BackendPool {
	if conns <= 0 {
		conns = DefaultBackendConns
	}
	return &BackendPool{addr: env.Backends[0], cred: env.Credentials, timeout: env.FetchTimeout,
		slots: make(chan struct{}, conns), idle: make(chan *resp.Client, conns),
		open: make(map[*resp.Client]net.Conn)}
}

// errPoolClosed fails lookups after Close.
var errPoolClosed = errors.New("backend pool closed")

// Get returns a connection: an idle one, a new one while under the bound,
// or the first to come back, waiting at most the fetch timeout. Its errors
// wrap ErrBackend, or are ctx's.
func (p *BackendPool) Get(ctx context.Context) (*resp.Client, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case c := <-p.idle:
		return c, nil
	case p.slots <- struct{}{}:
	case <-t.C:
		return nil, fmt.Errorf("%w: no backend connection free within %v", ErrBackend, p.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d := net.Dialer{Timeout: p.timeout}
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("%w: dial %s: %w", ErrBackend, p.addr, err)
	}
	c := resp.NewClient(conn, p.timeout)
	if err := c.Login(p.cred); err != nil {
		_ = c.Close()
		<-p.slots
		return nil, fmt.Errorf("%w: %s: %w", ErrBackend, p.addr, err)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = conn.Close()
		<-p.slots
		return nil, fmt.Errorf("%w: %w", ErrBackend, errPoolClosed)
	}
	p.open[c] = conn
	p.mu.Unlock()
	return c, nil
}

// Put gives c back; broken (its last call failed) closes it instead, as it
// does every connection once the pool is closed.
func (p *BackendPool) Put(c *resp.Client, broken bool) {
	p.mu.Lock()
	closed := p.closed
	if broken || closed {
		delete(p.open, c)
	}
	p.mu.Unlock()
	if broken || closed {
		_ = c.Close()
		<-p.slots
		return
	}
	p.idle <- c // never blocks: idle holds as many as there are slots
}

// Close closes every connection, the idle ones and those in use: a lookup
// in progress fails at once (its server answers 502 or, shutting down,
// nothing), so a server's shutdown never waits out a fetch timeout. Later
// Gets fail. Connections in use are still given back with Put, which
// closes them.
func (p *BackendPool) Close() {
	p.mu.Lock()
	p.closed = true
	for _, conn := range p.open {
		// Only the socket: the resp.Client belongs to whoever holds it,
		// whose next call fails.
		_ = conn.Close()
	}
	p.mu.Unlock()
	for {
		select {
		case c := <-p.idle:
			p.mu.Lock()
			delete(p.open, c)
			p.mu.Unlock()
			_ = c.Close()
			<-p.slots
		default:
			return
		}
	}
}

// Page does page id's lookups with a pooled connection and appends the
// page to dst (see [FetchPage]).
func (p *BackendPool) Page(ctx context.Context, dst []byte, id, valueSize int) ([]byte, error) {
	c, err := p.Get(ctx)
	if err != nil {
		return dst, err
	}
	out, err := FetchPage(dst, c, id, valueSize)
	p.Put(c, err != nil && !inStep(err))
	return out, err
}

// maxReconnects is how many broken connections one GetMany survives: each
// costs at most one fetch timeout (a stalled backend), so a dead one costs
// a bounded number of them, never a hang.
const maxReconnects = 3

// GetMany looks keys up as one pipelined batch on a pooled connection
// (resp.Client.GetMany: every request in one write, then the replies in
// order) and calls fn once for every key, in order, with its value (valid
// only during the call) or the error, wrapping ErrBackend, that left it
// without one. A failed key does not fail the batch, as
// strategies.Conns.GetMany does for the closed simd strategy (serve cannot
// import strategies, and this one runs on the pool that Close can cut
// short):
//
//   - A null or error reply fails its key; when it is not the last, the
//     client gives up its connection (the replies after it are unread),
//     and the keys after it are sent again on another.
//   - A broken connection (I/O error, timeout, garbled reply) fails the
//     key whose reply was due; the keys not yet answered are sent again on
//     another connection (GET is idempotent), at most maxReconnects times
//     a call, then every key left fails.
//
// Checking a value's size is the caller's: a reply of the wrong size is
// still a whole reply.
func (p *BackendPool) GetMany(ctx context.Context, keys []string, fn func(i int, v []byte, err error)) {
	for next, breaks := 0, 0; next < len(keys); {
		c, err := p.Get(ctx)
		if err != nil {
			failFrom(next, keys, err, fn)
			return
		}
		base, answered := next, 0
		err = c.GetMany(keys[base:], func(i int, v []byte) error {
			fn(base+i, v, nil)
			answered = i + 1
			return nil
		})
		if err == nil {
			p.Put(c, false)
			return
		}
		fn(base+answered, nil, fmt.Errorf("%w: %w", ErrBackend, err))
		next = base + answered + 1
		switch {
		case !inStep(err):
			p.Put(c, true)
			if breaks++; breaks > maxReconnects {
				failFrom(next, keys, fmt.Errorf("%w: connection lost %d times in one batch, last: %w", ErrBackend, breaks, err), fn)
				return
			}
		default: // in step: the client keeps it only if that reply was the last
			p.Put(c, next < len(keys))
		}
	}
}

// failFrom fails keys[from:] with err.
func failFrom(from int, keys []string, err error, fn func(i int, v []byte, err error)) {
	for i := from; i < len(keys); i++ {
		fn(i, nil, err)
	}
}

// inStep reports whether a failed lookup left its connection in step: a
// null or error reply, or a reply of the wrong size, is a whole reply, and
// the next one read is the next request's.
func inStep(err error) bool {
	var serverErr *resp.ServerError
	return errors.Is(err, resp.ErrNil) || errors.As(err, &serverErr) || errors.Is(err, errWrongSize)
}
