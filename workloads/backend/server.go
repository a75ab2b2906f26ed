package backend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// Server is a running backend. Its methods are safe for concurrent use.
type Server struct {
	cfg      Config
	ln       net.Listener
	latency  atomic.Pointer[Distribution]
	derive   atomic.Pointer[derivation] // replaced whole under deriveMu
	deriveMu sync.Mutex
	store    store
	stats    counters
	room     roomSignal    // wakes readers waiting for the reply budget
	prof     cpuProfile    // CONCBENCH.PROFILE
	done     chan struct{} // closed by Close: every goroutine winds down
	wg       sync.WaitGroup
	stopCtx  func() bool

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
	nextID uint64
}

// Start listens on cfg.Listen and serves until Close is called or ctx is
// done. Either way Close waits for every goroutine the server started.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("backend: listen: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, done: make(chan struct{}), conns: make(map[*conn]struct{})}
	s.store.limit = int64(cfg.MaxStoredBytes)
	s.latency.Store(&cfg.Latency)
	s.derive.Store(&derivation{secret: cfg.Secret, size: cfg.ValueSize})
	s.stats.startWindow()
	s.wg.Add(1)
	go s.acceptLoop()
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// Addr returns the address the server listens on, as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stats returns the server's counters.
func (s *Server) Stats() Stats { return s.stats.snapshot(s.store.bytes.Load()) }

// NextWindow returns the measurement window that ends now and starts the
// next one, as the CONCBENCH.WINDOW command does.
func (s *Server) NextWindow() Window { return s.stats.nextWindow() }

// overBudget reports whether the server holds its budget of reply bytes.
func (s *Server) overBudget() bool { return s.wouldPassBudget(0) }

// wouldPassBudget reports whether n more bytes would fill the budget.
func (s *Server) wouldPassBudget(n int) bool {
	return s.stats.held.Load()+int64(n) >= int64(s.cfg.MaxQueuedBytes)
}

// Latency returns the injected latency distribution now in force.
func (s *Server) Latency() Distribution { return *s.latency.Load() }

// SetLatency changes the injected latency for requests read from now on.
func (s *Server) SetLatency(d Distribution) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	s.latency.Store(&d)
	return nil
}

// derivation is what a value not SET is derived from, besides its key:
// workloads.SecretValue(secret, key, size). A request reads it once, so
// its replies agree with each other while CONCBENCH.SECRET or
// CONCBENCH.VALUESIZE change it.
type derivation struct {
	secret uint64
	size   int
}

func (s *Server) derivation() derivation { return *s.derive.Load() }

// SetSecret changes the secret of the values derived from now on (see
// Config.Secret), as CONCBENCH.SECRET does.
func (s *Server) SetSecret(secret uint64) {
	s.deriveMu.Lock()
	defer s.deriveMu.Unlock()
	d := s.derivation()
	d.secret = secret
	s.derive.Store(&d)
}

// ValueSize returns the size of the values derived now (see
// Config.ValueSize).
func (s *Server) ValueSize() int { return s.derivation().size }

// SetValueSize changes the size of the values derived from now on, as
// CONCBENCH.VALUESIZE does. It must be below Config.MaxQueuedBytes, or no
// GET could be answered.
func (s *Server) SetValueSize(size int) error {
	if size < 0 || size >= s.cfg.MaxQueuedBytes {
		return fmt.Errorf("value size %d: want 0 to %d bytes, below this server's max queued bytes", size, s.cfg.MaxQueuedBytes-1)
	}
	s.deriveMu.Lock()
	defer s.deriveMu.Unlock()
	d := s.derivation()
	d.size = size
	s.derive.Store(&d)
	return nil
}

// Close stops accepting, closes every connection and waits for all the
// server's goroutines to return. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		close(s.done)
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("backend: close listener: %w", err)
		}
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	s.prof.abandon() // a profile started and never stopped must not run on
	return s.closeErr
}

// roomSignal wakes the readers that wait for the server's reply budget
// (see conn.waitRoom): a channel closed and replaced to broadcast, taken
// only while someone waits.
type roomSignal struct {
	mu      sync.Mutex
	ch      chan struct{}
	waiters atomic.Int64
}

// wait registers a waiter and returns the channel that wake closes. The
// caller checks its condition again after wait, then calls done.
func (r *roomSignal) wait() <-chan struct{} {
	r.waiters.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

func (r *roomSignal) done() { r.waiters.Add(-1) }

// wake wakes every waiter.
func (r *roomSignal) wake() {
	if r.waiters.Load() == 0 {
		return
	}
	r.mu.Lock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	r.mu.Unlock()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			// Out of file descriptors and the like: back off briefly
			// rather than spin, as net/http does.
			s.cfg.Logf("backend: accept: %v", err)
			select {
			case <-s.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		s.stats.conns.Add(1)
		if max := s.cfg.MaxConns; max > 0 && s.stats.active.Load() >= int64(max) {
			s.stats.rejected.Add(1)
			reject(nc)
			continue
		}
		c := s.register(nc)
		if c == nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
			s.unregister(c)
		}()
	}
}

// reject tells a connection over MaxConns why, then closes it. The write
// goes into an empty socket buffer, so it does not block the accept loop;
// the deadline is a guard all the same.
func reject(nc net.Conn) {
	_ = nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = nc.Write(resp.AppendError(nil, "ERR max connections"))
	nc.Close()
}

func (s *Server) register(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return nil
	}
	s.nextID++
	c := newConn(s, nc, s.nextID)
	s.conns[c] = struct{}{}
	s.stats.active.Add(1)
	return c
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.stats.active.Add(-1)
}
