//go:build linux

package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/serve"
)

// Serve implements serve.Server: the page endpoint served by the event
// loops themselves, the model of an asyncio (loops=1) or nginx and gnet
// (loops=P) web server. Each loop is a goroutine locked to its OS thread
// with an epoll instance of its own, and everything happens there, without
// a goroutine per connection or per request:
//
//   - accept: the listening socket is taken from ln (its descriptor,
//     duplicated; ln itself is closed), so it stays on ln's address, and
//     every loop polls it (EPOLLEXCLUSIVE: a new connection wakes one
//     loop, which accepts it non-blocking and keeps it);
//   - reads and writes: non-blocking, edge-triggered, a client's pipelined
//     answers written in order in one write;
//   - HTTP: each connection's bytes are parsed on the loop
//     (serve/httpwire.Parser, see session), with the slowloris and idle
//     bounds as timers in the loop's deadline heap;
//   - the lookups: a page's two GETs are a state machine (exchange) on the
//     loop's own non-blocking RESP connections (conns per loop, depth
//     requests in flight on each, as in the closed workloads), the second
//     key computed from the first reply on the loop; a lookup that finds
//     no connection free waits in the loop's queue (bounded by the fetch
//     timeout, then 502);
//   - the render (about a microsecond of hashing per page) runs in line.
//
// offload has no effect here: it moves the closed workloads' compute steps
// off the loop, and a page's render is too small to be worth a hand-off.
//
// A lookup past the fetch timeout, an error or null reply, a reply of the
// wrong size or a backend connection that breaks answers 502; the client's
// connection stays. Serve returns when ctx ends: the loops close every
// connection and the listening socket, and their goroutines have returned.
func (r *reactor) Serve(ctx context.Context, ln net.Listener, env serve.Env) error {
	env, err := env.WithDefaults()
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("reactor: %w", err)
	}
	lfd, err := listenerFD(ln)
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	backend, err := resolve(env.Backends[0])
	if err != nil {
		return err
	}
	backend.auth = env.Credentials.AppendAuth(nil)

	nloops := r.loops
	if nloops == 0 {
		nloops = runtime.GOMAXPROCS(0)
	}
	st := &serveState{env: env, lfd: lfd, depth: r.depth, conns: r.connsPerLoop(nloops)}
	loops := make([]*serveLoop, 0, nloops)
	defer func() {
		for _, l := range loops {
			l.close()
		}
	}()
	for range nloops {
		l, err := newServeLoop(st, backend)
		if err != nil {
			return err
		}
		loops = append(loops, l)
	}

	// Stopping sets the flag and wakes every loop; it must be over before
	// the loops' eventfds close (deferred above, so run after this).
	stop := func() {
		st.stopped.Store(true)
		for _, l := range loops {
			l.poller.wake()
		}
	}
	release := serve.OnDone(ctx, stop)
	defer release()

	errs := make([]error, len(loops))
	var wg sync.WaitGroup
	for i, l := range loops {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if errs[i] = l.run(); errs[i] != nil {
				stop() // one loop failing stops the server
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// serveState is what a server's loops share.
type serveState struct {
	env     serve.Env
	lfd     int // the listening socket
	depth   int // requests in flight on a backend connection
	conns   int // backend connections per loop
	stopped atomic.Bool
}

// listenerFD returns a descriptor of ln's socket of its own, non-blocking,
// and closes ln: the socket stays open, listening on ln's address, through
// the copy. (Go's poller forgets ln's descriptor when ln closes, so only
// the loops poll the socket.)
func listenerFD(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		_ = ln.Close()
		return -1, fmt.Errorf("reactor: a %T has no socket to poll", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		_ = ln.Close()
		return -1, fmt.Errorf("reactor: listener: %w", err)
	}
	fd, dupErr := -1, error(nil)
	err = rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	_ = ln.Close()
	if err = errors.Join(err, dupErr); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("reactor: duplicate the listening socket: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("reactor: listening socket: %w", err)
	}
	return fd, nil
}
