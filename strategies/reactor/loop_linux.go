//go:build linux

package reactor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads/resp"
)

// maxEvents is the most events one epoll_wait returns: with a request in
// flight on each of 256 connections, a wake-up rarely has more ready.
const maxEvents = 256

// testHookLoopStart, when set by a test, is called on each loop's and each
// offload worker's goroutine as it starts, with the context it was given.
var testHookLoopStart func(ctx context.Context)

// loop is one event loop: an epoll instance, its connections and the tasks
// it has admitted. Everything in it is touched by the loop's goroutine only,
// except done, which offload workers append to under doneMu.
type loop struct {
	run     *runState
	poller  *poller
	clock   time.Time // the loop's time zero; now() counts from it
	limit   int       // tasks admitted at once
	offload *offloadPool

	addrs []backendAddr // this loop's copies of the backends' addresses
	conns []*conn
	free  []fifo[*conn] // by backend: connections that can take a request
	dirty []*conn       // connections with requests to write or dial for
	timer timerHeap[*conn]

	active    int  // tasks admitted and not finished
	exhausted bool // every task of the pass has been claimed
	spare     []*task
	passes    chan struct{} // a value for each pass the loop is to run

	doneMu sync.Mutex
	done   []*task // handed back by offload workers
	taken  []*task // the loop's side of done, swapped under doneMu

	events []unix.EpollEvent
}

func newLoop(rs *runState, limit int) (*loop, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	l := &loop{run: rs, poller: p, clock: time.Now(), limit: limit,
		free: make([]fifo[*conn], len(rs.addrs)), events: make([]unix.EpollEvent, maxEvents)}
	for _, a := range rs.addrs {
		l.addrs = append(l.addrs, a.clone())
	}
	return l, nil
}

func (l *loop) now() int64 { return int64(time.Since(l.clock)) }

// addConns dials n connections to every backend. Handshakes finish in
// awaitConnected.
func (l *loop) addConns(n int) error {
	for b := range l.addrs {
		for range n {
			c := &conn{slot: int32(len(l.conns)), backend: b, addr: &l.addrs[b], fd: -1}
			c.timer = newTimer(c)
			l.conns = append(l.conns, c)
			if err := c.dial(l.poller); err != nil {
				return fmt.Errorf("reactor: connect %s: %w", c.addr.name, err)
			}
			l.free[b].push(c)
			c.free = true
		}
	}
	return nil
}

// awaitConnected waits until every connection's handshake is done, before
// the timed part of the run: dialling is setup.
func (l *loop) awaitConnected(deadline time.Time) error {
	for {
		pending := 0
		for _, c := range l.conns {
			if c.state == connConnecting {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("reactor: connect %s: %d connections not established: %w", l.addrs[0].name, pending, ErrTimeout)
		}
		n, err := l.poller.wait(l.events, int(left/time.Millisecond)+1)
		if err != nil {
			return fmt.Errorf("reactor: epoll_wait: %w", err)
		}
		if l.run.stopped.Load() {
			return l.run.ctx.Err()
		}
		for _, ev := range l.events[:n] {
			if ev.Fd == wakeSlot {
				l.poller.drainWake()
				continue
			}
			c := l.conns[ev.Fd]
			if c.gen != ev.Pad || c.state != connConnecting {
				continue
			}
			if err := c.connected(); err != nil {
				return fmt.Errorf("reactor: %s: %w", c.addr.name, err)
			}
			// An AUTH queued at dial goes now, in setup; its reply is
			// read with the first request's.
			if err := c.write(); err != nil {
				return fmt.Errorf("reactor: %s: %w", c.addr.name, err)
			}
		}
	}
}

// loop runs one pass: until every task it claimed from the pass has
// finished, or the run is cancelled. Its goroutine keeps its OS thread for
// the whole run (see Run): the loop is the single thread of an asyncio
// program or of one nginx worker.
func (l *loop) loop(ctx context.Context) error {
	for {
		l.admit()
		l.flush()
		if l.run.stopped.Load() {
			return ctx.Err()
		}
		if l.active == 0 && l.exhausted {
			return nil
		}
		n, err := l.poller.wait(l.events, l.pollTimeout())
		if err != nil {
			return fmt.Errorf("reactor: epoll_wait: %w", err)
		}
		for _, ev := range l.events[:n] {
			if ev.Fd == wakeSlot {
				l.poller.drainWake()
				l.resumeOffloaded()
				continue
			}
			if c := l.conns[ev.Fd]; c.gen == ev.Pad {
				connEvent(l, l.poller, c, ev.Events)
			}
		}
		l.expire()
	}
}

// pollTimeout is epoll_wait's timeout: until the earliest request deadline,
// rounded up to whole milliseconds (epoll's unit), or no limit. The loop
// sleeps in the kernel until something happens: no busy polling.
func (l *loop) pollTimeout() int {
	t := l.timer.peek()
	if t == nil {
		return -1
	}
	left := t.when - l.now()
	if left <= 0 {
		return 0
	}
	return int((left + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// dispatchReplies implements connOwner: it hands every whole reply in c's
// buffer to the task at the front of c's queue. It reports whether the
// connection is still open.
func (l *loop) dispatchReplies(c *conn) bool {
	for {
		r, err := c.in.next(&c.parser)
		if errors.Is(err, resp.ErrIncomplete) {
			return true
		}
		if err != nil { // the stream cannot be resynchronised
			l.failConn(c, err)
			return false
		}
		if auth, err := c.authReplied(&r); auth {
			if err != nil { // refused: so would every request on a new socket be
				l.failAll(c, err)
				return false
			}
			continue
		}
		t, ok := c.waiting.pop()
		if !ok {
			l.failConn(c, errors.New("reply with no request outstanding"))
			return false
		}
		l.requestDone(c)
		// The reply aliases c's read buffer; deliver consumes it before
		// the next read.
		l.deliver(t, r)
	}
}

// requestDone updates c after the request at the front of its queue has
// left it: the deadline moves to the next request and c can take another.
func (l *loop) requestDone(c *conn) {
	if t, ok := c.waiting.front(); ok && t.deadline != noDeadline {
		l.timer.schedule(&c.timer, t.deadline)
	} else {
		l.timer.cancel(&c.timer)
	}
	l.release(c)
}

// release puts c back in its backend's free list if it can take a request.
func (l *loop) release(c *conn) {
	if !c.free && c.waiting.len() < l.run.depth {
		c.free = true
		l.free[c.backend].push(c)
	}
}

// failConn implements connOwner: it closes c's socket after an I/O error,
// a protocol error or a timeout. The task at the front of its queue, whose
// reply was due, fails with cause. The tasks behind it did nothing wrong:
// their requests are re-issued, in order, on a fresh socket in the same
// slot, each with a fresh deadline, as a client retries a request it never
// got an answer to.
// Each failure removes one request ahead of a task, so a task is re-issued
// at most depth-1 times (never at the default depth 1). GET is idempotent:
// a re-issued request the backend had already answered does no harm.
func (l *loop) failConn(c *conn, cause error) {
	c.closeSocket(l.poller)
	if t, ok := c.waiting.pop(); ok {
		l.finish(t, fmt.Errorf("reactor: task %d: GET %q from %s: %w", t.index, t.key, c.addr.name, cause))
	}
	deadline := l.deadline()
	for range c.waiting.len() {
		t, _ := c.waiting.pop()
		t.deadline = deadline
		c.waiting.push(t)
		c.out = appendGet(c.out, t.key)
	}
	l.requestDone(c)
	if c.waiting.len() > 0 {
		l.markDirty(c)
	}
}

// deadline returns the deadline of a request issued now.
func (l *loop) deadline() int64 {
	if l.run.timeout <= 0 {
		return noDeadline
	}
	return l.now() + int64(l.run.timeout)
}

// failAll implements connOwner: it fails every task waiting on c, whose
// socket could not even be created, so there is nothing to re-issue on.
func (l *loop) failAll(c *conn, cause error) {
	c.closeSocket(l.poller)
	for {
		t, ok := c.waiting.pop()
		if !ok {
			break
		}
		l.finish(t, fmt.Errorf("reactor: task %d: GET %q from %s: %w", t.index, t.key, c.addr.name, cause))
	}
	l.requestDone(c)
}

// expire fails the connections whose oldest request is past its deadline.
// The connection must go: a late reply would be taken for the next one's.
func (l *loop) expire() {
	now := l.now()
	for {
		t := l.timer.peek()
		if t == nil || t.when > now {
			return
		}
		l.failConn(t.owner, ErrTimeout)
	}
}

// markDirty puts c in the flush list.
func (l *loop) markDirty(c *conn) { appendDirty(&l.dirty, c) }

// awaiting implements connOwner.
func (l *loop) awaiting(c *conn) int { return c.waiting.len() }

// flush writes the requests queued during this turn of the loop and dials
// the connections that need a socket (see flushDirty).
func (l *loop) flush() { flushDirty(l, l.poller, &l.dirty) }

// close releases every descriptor of the loop. Offload workers must have
// stopped: they write to the eventfd.
func (l *loop) close() {
	for _, c := range l.conns {
		c.closeSocket(l.poller)
	}
	l.poller.close()
}

// runState is what the loops of one Run share.
type runState struct {
	ctx     context.Context
	job     *strategies.Job
	addrs   []backendAddr
	depth   int
	timeout time.Duration // per request; 0: none

	next    atomic.Int64 // the next task to claim
	end     int64        // the end of the pass being run (set between passes)
	stopped atomic.Bool  // the context is done: loops and workers stop
}
