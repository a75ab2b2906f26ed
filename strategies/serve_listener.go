package strategies

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/concbench/concbench/serve"
)

// listening is what the server models of blocking, threads, goroutines and
// pool share: the listener, a pool of backend connections, the set of
// client connections, the goroutines serving them, and a shutdown that
// closes all three as soon as the server's context ends, so that every
// blocked accept, read and lookup returns at once.
type listening struct {
	name    string
	ln      net.Listener
	env     serve.Env
	backend *serve.BackendPool
	conns   serve.ConnSet
	wg      sync.WaitGroup // the goroutines serving connections
	release func()
}

// listen prepares a server named name on ln with at most backendConns
// connections to the backend. On error ln is closed.
func listen(ctx context.Context, name string, ln net.Listener, env serve.Env, backendConns int) (*listening, error) {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &listening{name: name, ln: ln, env: env, backend: serve.NewBackendPool(env, backendConns)}
	s.release = serve.OnDone(ctx, s.closeAll)
	return s, nil
}

// closeAll closes the listener, every client connection and every
// backend connection.
func (s *listening) closeAll() {
	_ = s.ln.Close()
	s.conns.CloseAll()
	s.backend.Close()
}

// accept returns the next connection, added to the set. It returns nil
// and a nil error once ctx is done, and the failure when accept fails for
// good.
func (s *listening) accept(ctx context.Context) (net.Conn, error) {
	for {
		c, err := serve.Accept(ctx, s.ln, s.env.Logf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: accept: %w", s.name, err)
		}
		if s.conns.Add(c) {
			return c, nil
		}
	}
}

// serveConn serves c until it is over (serve.ServeConn) and drops it from
// the set.
func (s *listening) serveConn(c net.Conn, page serve.PageFunc) {
	serve.ServeConn(c, s.env, page)
	s.conns.Remove(c)
}

// pageFunc returns the handler of a request served by the calling
// goroutine: both lookups with a pooled backend connection.
func (s *listening) pageFunc(ctx context.Context) serve.PageFunc {
	return func(dst []byte, id int) ([]byte, error) {
		return s.backend.Page(ctx, dst, id, s.env.ValueSize)
	}
}

// stop shuts the server down (if its context has not already) and waits
// for every goroutine it started; Serve returns after it.
func (s *listening) stop() {
	s.closeAll()
	s.wg.Wait()
	s.release()
}
