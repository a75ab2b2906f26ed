package ecosystem

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/pool/goroutine"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/httpwire"
)

// Gnet serves the page endpoint with gnet v2, the event-loop library Go
// users pick for a reactor: connections live on gnet's epoll loops, which
// parse the requests (with package httpwire: gnet has no HTTP of its own).
// The backend lookups block, so they do not run on a loop: as gnet's
// documentation advises, each connection's requests go to a goroutine pool
// (gnet's own, an ants pool) whose worker does the lookups with a pooled
// backend connection and hands the responses back with AsyncWrite, in
// order. Lookups as non-blocking state machines on the loops would be the
// hand-written reactor's model; this is the library's idiom.
//
// gnet binds its own listening socket: Serve closes ln and gnet listens on
// the same address (connections are refused for that instant; serve.Start
// waits for the server to answer). Its zero value is ready to use.
type Gnet struct {
	// Loops is the number of event loops (0: DefaultGnetLoops).
	Loops int
	// BackendConns bounds the backend connections (0: serve.DefaultBackendConns).
	BackendConns int
}

// DefaultGnetLoops is the event loops a Gnet runs unless told otherwise:
// GOMAXPROCS-1, at least 1, rather than gnet's multicore default of one a
// P. gnet's loops wait in epoll_wait as raw system calls, each holding its
// P until the runtime's monitor takes it back, and the monitor looks less
// often the quieter the process is (up to every 10 ms). With a loop on
// every P, the goroutine pool that does the lookups waits for a P after
// every wake-up: measured on 2 vCPUs at 1000 requests/s with 1 ms lookups
// (concbench serve plus an open-loop loadgen), p50 17 ms with 2 loops
// against 3.8 ms with 1; at 4000/s, where the loops wake often, both
// were about 4 ms. gnet.loops sets any count.
func DefaultGnetLoops() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// maxPipelined bounds the requests a connection may have queued: a client
// that pipelines deeper is closed, so it cannot make the server hold
// unbounded work.
const maxPipelined = 128

// Serve implements serve.Server.
func (s Gnet) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	addr := ln.Addr().String()
	_ = ln.Close()
	env, err := env.WithDefaults()
	if err != nil {
		return err
	}
	loops := s.Loops
	if loops <= 0 {
		loops = DefaultGnetLoops()
	}
	h := &gnetHandler{env: env, pool: serve.NewBackendPool(env, s.BackendConns), workers: goroutine.Default(),
		booted: make(chan struct{}), stopping: make(chan struct{}), conns: map[*gnetConn]struct{}{}}
	tick := min(env.Limits.HeaderTimeout, env.Limits.IdleTimeout) / 4
	h.tick = min(max(tick, 10*time.Millisecond), time.Second)

	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(h, "tcp://"+addr,
			gnet.WithNumEventLoop(loops), gnet.WithReuseAddr(true), gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLogger(gnetLogger{env.Logf}))
	}()
	select {
	case err := <-done:
		h.shutdown()
		return fmt.Errorf("gnet: %w", err)
	case <-h.booted:
	}
	<-ctx.Done()
	close(h.stopping)
	sctx, cancel := context.WithTimeout(context.Background(), 2*env.FetchTimeout+5*time.Second)
	defer cancel()
	serr := h.eng.Stop(sctx)
	rerr := <-done
	h.shutdown()
	if err := errors.Join(serr, rerr); err != nil {
		return fmt.Errorf("gnet: stop: %w", err)
	}
	return nil
}

type gnetHandler struct {
	gnet.BuiltinEventEngine
	env      serve.Env
	pool     *serve.BackendPool
	workers  *goroutine.Pool
	eng      gnet.Engine
	booted   chan struct{}
	stopping chan struct{}
	tick     time.Duration

	mu    sync.Mutex
	conns map[*gnetConn]struct{}
}

// shutdown waits for the workers (each at most two lookups) and closes the
// backend connections.
func (h *gnetHandler) shutdown() {
	_ = h.workers.ReleaseTimeout(2*h.env.FetchTimeout + time.Second)
	h.pool.Close()
}

// gnetConn is one client connection's state. parser, stopRead and
// partialSince belong to the loop; queue and busy are shared with the
// worker under mu; out, head and date belong to the worker.
type gnetConn struct {
	c        gnet.Conn
	parser   httpwire.Parser
	stopRead bool

	mu     sync.Mutex
	queue  []gnetJob
	busy   bool
	closed bool

	// deadline (unix ns, 0 for none) is when the ticker closes the
	// connection: the idle timeout, or the header timeout while a
	// request is partly in.
	deadline     atomic.Int64
	partialSince atomic.Int64

	jobs  []gnetJob
	out   []byte
	page  []byte
	date  httpwire.DateCache
	wrote chan error
}

// gnetJob is one request to answer, in order.
type gnetJob struct {
	id      int             // page id, or -1 for 404
	refused *httpwire.Error // a request refused by the parser: answer it and close
	head    httpwire.ResponseHead
}

func (h *gnetHandler) OnBoot(eng gnet.Engine) gnet.Action {
	h.eng = eng
	close(h.booted)
	return gnet.None
}

func (h *gnetHandler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	gc := &gnetConn{c: c, wrote: make(chan error, 1)}
	gc.parser.Limits = h.env.Limits.Wire
	gc.deadline.Store(time.Now().Add(h.env.Limits.IdleTimeout).UnixNano())
	c.SetContext(gc)
	h.mu.Lock()
	h.conns[gc] = struct{}{}
	h.mu.Unlock()
	return nil, gnet.None
}

func (h *gnetHandler) OnClose(c gnet.Conn, _ error) gnet.Action {
	if gc, ok := c.Context().(*gnetConn); ok {
		gc.mu.Lock()
		gc.closed = true
		gc.mu.Unlock()
		h.mu.Lock()
		delete(h.conns, gc)
		h.mu.Unlock()
	}
	return gnet.None
}

// OnTraffic parses every whole request buffered and queues it for the
// connection's worker.
func (h *gnetHandler) OnTraffic(c gnet.Conn) gnet.Action {
	gc := c.Context().(*gnetConn)
	buf, _ := c.Peek(-1)
	if gc.stopRead {
		_, _ = c.Discard(len(buf))
		return gnet.None
	}
	used := 0
	gc.mu.Lock()
	for {
		req, n, err := gc.parser.Parse(buf[used:])
		if errors.Is(err, httpwire.ErrIncomplete) {
			break
		}
		var perr *httpwire.Error
		if errors.As(err, &perr) {
			h.env.Logf("gnet: %v: %v", c.RemoteAddr(), perr)
			gc.queue = append(gc.queue, gnetJob{refused: perr})
			gc.stopRead, used = true, len(buf)
			break
		}
		used += n
		id, ok := serve.ParseTarget(req.Target, h.env.Pages)
		if !ok {
			id = -1
		}
		gc.queue = append(gc.queue, gnetJob{id: id, head: req.Head(200, serve.ContentType, 0)})
		if !req.KeepAlive {
			gc.stopRead, used = true, len(buf)
			break
		}
	}
	tooDeep := len(gc.queue) > maxPipelined
	start := len(gc.queue) > 0 && !gc.busy && !tooDeep
	if start {
		gc.busy = true
	}
	working := gc.busy
	gc.mu.Unlock()
	_, _ = c.Discard(used)
	if tooDeep {
		h.env.Logf("gnet: %v: more than %d pipelined requests", c.RemoteAddr(), maxPipelined)
		return gnet.Close
	}
	// The slowloris bound: a request partly in must complete within the
	// header timeout of its first bytes.
	if used < len(buf) && !gc.stopRead {
		since := gc.partialSince.Load()
		if since == 0 {
			since = time.Now().UnixNano()
			gc.partialSince.Store(since)
		}
		gc.deadline.Store(since + int64(h.env.Limits.HeaderTimeout))
	} else {
		gc.partialSince.Store(0)
		if working {
			gc.deadline.Store(0) // the worker sets the idle deadline when it is done
		} else {
			gc.deadline.Store(time.Now().Add(h.env.Limits.IdleTimeout).UnixNano())
		}
	}
	if start {
		if err := h.workers.Submit(func() { h.work(gc) }); err != nil {
			h.env.Logf("gnet: worker pool: %v", err)
			return gnet.Close
		}
	}
	return gnet.None
}

// work answers gc's queued requests in order until none is left.
func (h *gnetHandler) work(gc *gnetConn) {
	for {
		gc.mu.Lock()
		gc.jobs = append(gc.jobs[:0], gc.queue...)
		gc.queue = gc.queue[:0]
		if len(gc.jobs) == 0 || gc.closed {
			gc.busy = false
			if since := gc.partialSince.Load(); since != 0 {
				gc.deadline.Store(since + int64(h.env.Limits.HeaderTimeout))
			} else {
				gc.deadline.Store(time.Now().Add(h.env.Limits.IdleTimeout).UnixNano())
			}
			gc.mu.Unlock()
			return
		}
		gc.mu.Unlock()
		out := gc.out[:0]
		closeAfter := false
		for _, j := range gc.jobs {
			out = h.respond(gc, out, j)
			if j.refused != nil || j.head.Close {
				closeAfter = true
				break
			}
		}
		gc.out = out
		err := gc.c.AsyncWrite(out, func(c gnet.Conn, err error) error {
			gc.wrote <- err
			if closeAfter {
				return c.Close()
			}
			return nil
		})
		if err == nil {
			select {
			case err = <-gc.wrote:
			case <-h.stopping:
				err = net.ErrClosed
			}
		}
		if err != nil || closeAfter {
			return // the connection is gone or going: busy stays set
		}
	}
}

// respond appends the response to j.
func (h *gnetHandler) respond(gc *gnetConn, out []byte, j gnetJob) []byte {
	date := gc.date.Get(time.Now())
	if j.refused != nil {
		return httpwire.AppendError(out, j.refused, date)
	}
	head := j.head
	head.Date = date
	if j.id < 0 {
		head.Status = 404
		head.ContentType = "text/plain; charset=utf-8"
		return httpwire.AppendResponse(out, head, serve.NotFoundBody)
	}
	page, err := h.pool.Page(context.Background(), gc.page[:0], j.id, h.env.ValueSize)
	if err != nil {
		h.env.Logf("gnet: page %d: %v", j.id, err)
		head.Status = 502
		head.ContentType = "text/plain; charset=utf-8"
		return httpwire.AppendResponse(out, head, serve.BadGatewayBody)
	}
	gc.page = page
	return httpwire.AppendResponse(out, head, page)
}

// OnTick closes connections past their deadline: idle too long, or a
// request head arriving too slowly.
func (h *gnetHandler) OnTick() (time.Duration, gnet.Action) {
	now := time.Now().UnixNano()
	h.mu.Lock()
	for gc := range h.conns {
		if d := gc.deadline.Load(); d != 0 && now > d {
			_ = gc.c.Close()
		}
	}
	h.mu.Unlock()
	return h.tick, gnet.None
}

// gnetLogger sends gnet's warnings and errors to Env.Logf.
type gnetLogger struct{ logf func(string, ...any) }

func (gnetLogger) Debugf(string, ...any)          {}
func (gnetLogger) Infof(string, ...any)           {}
func (l gnetLogger) Warnf(f string, args ...any)  { l.logf("gnet: "+f, args...) }
func (l gnetLogger) Errorf(f string, args ...any) { l.logf("gnet: "+f, args...) }
func (l gnetLogger) Fatalf(f string, args ...any) { l.logf("gnet: fatal: "+f, args...) }
