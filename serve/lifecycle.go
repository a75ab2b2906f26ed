package serve

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// ConnSet is the set of a server's open client connections, so that its
// shutdown can close them all: a goroutine blocked reading one then
// returns at once. The zero value is ready to use.
type ConnSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Add adds c. Once the set is closed it closes c instead and returns false.
func (s *ConnSet) Add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[c] = struct{}{}
	return true
}

// Remove forgets c (its server has closed it).
func (s *ConnSet) Remove(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Len returns the number of connections in the set.
func (s *ConnSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseAll closes every connection in the set and every one added later.
func (s *ConnSet) CloseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
}

// OnDone runs stop once ctx is done, on a goroutine of its own (as
// context.AfterFunc does): a server closes its listener, connections and
// backend there, which unblocks its accept and read loops. The returned
// release must be called before the server returns: it keeps stop from
// running if ctx is not done yet, and otherwise waits until stop has
// returned, so that no goroutine outlives the server.
func OnDone(ctx context.Context, stop func()) (release func()) {
	done := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(done)
		stop()
	})
	return func() {
		if !cancel() {
			<-done
		}
	}
}

// Accept waits for the next connection on ln. After a failure that passes
// (out of file descriptors or memory, a connection aborted before it was
// accepted) it logs, pauses and tries again, the pause growing from 5 ms
// to 1 s, as net/http's accept loop does. Once ctx is done (the server has
// closed ln) it returns ctx's error; any other failure is returned as is.
func Accept(ctx context.Context, ln net.Listener, logf func(string, ...any)) (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !acceptPasses(err) {
			return nil, err
		}
		pause = min(max(2*pause, 5*time.Millisecond), time.Second)
		logf("serve: accept: %v; retrying in %v", err, pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// acceptPasses reports whether an accept failure may pass: the process
// ran out of descriptors or buffers, or a client gave up while queued.
func acceptPasses(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
