package ecosystem

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/workloads/resp"
)

// DefaultBackendConns is the default bound on a server's backend
// connections: what the goroutines strategy uses for the closed workloads,
// and far above what 20k requests/s at 1 ms need (about 45 in flight).
const DefaultBackendConns = 256

// backendPool is a bounded pool of backend connections, what Go services
// hold for their database or cache (database/sql, go-redis): a request
// takes a connection, dialling one while under the bound and waiting for
// one otherwise, and gives it back after its lookups. A connection that
// failed is closed, not returned.
type backendPool struct {
	addr    string
	timeout time.Duration
	slots   chan struct{}     // one token per connection open
	idle    chan *resp.Client // open connections not in use
	mu      sync.Mutex
	closed  bool
}

func newBackendPool(env serve.Env, conns int) *backendPool {
	if conns <= 0 {
		conns = DefaultBackendConns
	}
	return &backendPool{addr: env.Backends[0], timeout: env.FetchTimeout,
		slots: make(chan struct{}, conns), idle: make(chan *resp.Client, conns)}
}

// get returns a connection: an idle one, a new one while under the bound,
// or the first to come back, waiting at most the fetch timeout.
func (p *backendPool) get(ctx context.Context) (*resp.Client, error) {
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
		return nil, fmt.Errorf("%w: no backend connection free within %v", serve.ErrBackend, p.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c, err := resp.Dial(ctx, p.addr, p.timeout)
	if err != nil {
		<-p.slots
		return nil, fmt.Errorf("%w: %w", serve.ErrBackend, err)
	}
	return c, nil
}

// put gives c back; broken (its last call failed) closes it instead.
func (p *backendPool) put(c *resp.Client, broken bool) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if broken || closed {
		_ = c.Close()
		<-p.slots
		return
	}
	p.idle <- c // never blocks: idle holds as many as there are slots
}

// close closes the idle connections. Call it once no request is running.
func (p *backendPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case c := <-p.idle:
			_ = c.Close()
			<-p.slots
		default:
			return
		}
	}
}

// page does page id's lookups with a pooled connection and appends the page
// to dst.
func (p *backendPool) page(ctx context.Context, dst []byte, id, valueSize int) ([]byte, error) {
	c, err := p.get(ctx)
	if err != nil {
		return dst, err
	}
	out, err := serve.FetchPage(dst, c, id, valueSize)
	p.put(c, err != nil)
	return out, err
}
