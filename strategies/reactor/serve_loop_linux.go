//go:build linux

package reactor

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/serve/httpwire"
)

// The serve loop's epoll event data: the eventfd is wakeSlot (-1), the
// listening socket listenSlot; slots [0, len(backends)) are backend
// connections and the ones above them clients. The generation in Pad
// tells a stale event (for a socket since closed, whose slot is reused)
// from a live one.
const listenSlot = -2

// Bounds of the serve loop.
const (
	// acceptBatch is the most connections one loop accepts per wake-up:
	// the listening socket is level-triggered, so the rest wake it
	// again, after the loop has served what was ready.
	acceptBatch = 64
	// acceptPause is how long a loop stops accepting when the process is
	// out of descriptors, rather than spin on a socket it cannot accept
	// from (net/http pauses too).
	acceptPause = 100 * time.Millisecond
	// lingerTimeout and lingerBytes bound the lingering close, as in
	// serve.Linger: after its last answer the server shuts its side and
	// reads what the client still sends, so that closing with unread
	// bytes does not reset the connection before the client has read it.
	lingerTimeout = 200 * time.Millisecond
	lingerBytes   = 256 << 10
)

// serveLoop is one event loop of the server: its epoll instance, the
// clients it accepted, its backend connections and their lookups. Only
// its goroutine touches it.
type serveLoop struct {
	st     *serveState
	poller *poller
	clock  time.Time // the loop's time zero: now() counts from it

	clients  []*client // by slot - len(backends); nil where free
	freeSlot []int32
	deadline timerHeap[*client]

	backends  []*lookupConn
	idleConns []*lookupConn   // connections that can take a lookup, most recently used last
	queue     fifo[*exchange] // lookups waiting for a connection, oldest first
	timeouts  timerHeap[*lookupConn]
	dirty     []*lookupConn // connections with requests to write (or dial for)
	ready     []*client     // clients with something to do at the end of the turn
	spare     []*exchange

	acceptOff   bool  // the listening socket is out of this loop's epoll
	acceptAgain int64 // when to put it back
	date        httpwire.DateCache
	events      []unix.EpollEvent
}

func newServeLoop(st *serveState, backend backendAddr) (*serveLoop, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	l := &serveLoop{st: st, poller: p, clock: time.Now(), events: make([]unix.EpollEvent, maxEvents)}
	addr := backend.clone() // connect writes into the Sockaddr: one per loop
	for i := range st.conns {
		c := &lookupConn{conn: conn{slot: int32(i), addr: &addr, fd: -1}}
		c.timeout = newTimer(c)
		l.backends = append(l.backends, c)
	}
	// Idle in reverse, so the first lookups take slot 0, 1, ...: a loop
	// opens only as many connections as lookups it has had at once.
	for i := len(l.backends) - 1; i >= 0; i-- {
		l.backends[i].idle = true
		l.idleConns = append(l.idleConns, l.backends[i])
	}
	if err := l.listen(); err != nil {
		p.close()
		return nil, err
	}
	return l, nil
}

func (l *serveLoop) now() int64 { return int64(time.Since(l.clock)) }

// listen adds the listening socket to the loop's epoll: level-triggered
// and exclusive, so a connection wakes one loop, not all of them.
func (l *serveLoop) listen() error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: listenSlot}
	err := unix.EpollCtl(l.poller.epfd, unix.EPOLL_CTL_ADD, l.st.lfd, &ev)
	if err == unix.EINVAL { // a kernel before 4.5: every loop wakes, one accepts
		ev.Events = unix.EPOLLIN
		err = unix.EpollCtl(l.poller.epfd, unix.EPOLL_CTL_ADD, l.st.lfd, &ev)
	}
	if err != nil {
		return fmt.Errorf("reactor: epoll_ctl add listener: %w", err)
	}
	l.acceptOff = false
	return nil
}

// run is the loop: wait for events, react, and at the end of each turn
// write what the turn produced. It returns when the server stops, or
// with an error if epoll fails.
func (l *serveLoop) run() error {
	for {
		l.flush()
		if l.st.stopped.Load() {
			return nil
		}
		n, err := l.poller.wait(l.events, l.pollTimeout())
		if err != nil {
			return fmt.Errorf("reactor: epoll_wait: %w", err)
		}
		for _, ev := range l.events[:n] {
			switch slot := ev.Fd; {
			case slot == wakeSlot:
				l.poller.drainWake()
			case slot == listenSlot:
				l.accept()
			case int(slot) < len(l.backends):
				if c := l.backends[slot]; c.gen == ev.Pad {
					l.backendEvent(c, ev.Events)
				}
			default:
				if cl := l.clients[int(slot)-len(l.backends)]; cl != nil && cl.gen == ev.Pad {
					l.clientEvent(cl, ev.Events)
				}
			}
		}
		l.expire()
	}
}

// pollTimeout is epoll_wait's timeout: until the earliest deadline (a
// lookup's, a client's, the end of an accept pause), rounded up to whole
// milliseconds, or no limit.
func (l *serveLoop) pollTimeout() int {
	next := int64(-1)
	if t := l.timeouts.peek(); t != nil {
		next = t.when
	}
	if t := l.deadline.peek(); t != nil && (next < 0 || t.when < next) {
		next = t.when
	}
	if l.acceptOff && (next < 0 || l.acceptAgain < next) {
		next = l.acceptAgain
	}
	if next < 0 {
		return -1
	}
	left := next - l.now()
	if left <= 0 {
		return 0
	}
	return int((left + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// expire acts on the deadlines that have passed: a lookup past the fetch
// timeout fails its connection, a client past its deadline is dropped,
// and an accept pause ends.
func (l *serveLoop) expire() {
	now := l.now()
	for t := l.timeouts.peek(); t != nil && t.when <= now; t = l.timeouts.peek() {
		l.failConn(t.owner, ErrTimeout)
	}
	for t := l.deadline.peek(); t != nil && t.when <= now; t = l.deadline.peek() {
		l.closeClient(t.owner)
	}
	if l.acceptOff && l.acceptAgain <= now {
		if err := l.listen(); err != nil {
			l.st.env.Logf("%v", err)
			l.acceptAgain = now + int64(acceptPause)
		}
	}
}

// accept accepts up to acceptBatch connections.
func (l *serveLoop) accept() {
	for range acceptBatch {
		fd, _, err := unix.Accept4(l.st.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EAGAIN:
			return
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default:
			// Out of descriptors or memory: stop polling the socket for
			// a while instead of spinning on it.
			l.st.env.Logf("reactor: accept: %v; pausing %v", err, acceptPause)
			_ = unix.EpollCtl(l.poller.epfd, unix.EPOLL_CTL_DEL, l.st.lfd, nil)
			l.acceptOff, l.acceptAgain = true, l.now()+int64(acceptPause)
			return
		}
		// Answers go out whole; Nagle's algorithm would hold a second
		// pipelined one for an ACK. Go's net sets the same.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := l.addClient(fd); err != nil {
			l.st.env.Logf("reactor: %v", err)
			unix.Close(fd)
		}
	}
}

// flush ends a turn: it writes the clients' answers and the backend
// requests the turn produced, dialling where needed. Each may make work
// for the other (an answer frees a client to read its next requests; a
// failed dial answers 502), so it runs until neither has any.
func (l *serveLoop) flush() {
	for len(l.ready) > 0 || len(l.dirty) > 0 {
		for i := 0; i < len(l.ready); i++ { // serving a client may add others
			cl := l.ready[i]
			cl.ready = false
			l.serveClient(cl)
		}
		clear(l.ready)
		l.ready = l.ready[:0]
		l.flushConns()
	}
}

// close releases every descriptor of the loop but the listening socket,
// which the server closes once every loop has.
func (l *serveLoop) close() {
	for _, cl := range l.clients {
		if cl != nil {
			l.closeClient(cl)
		}
	}
	for _, c := range l.backends {
		c.closeSocket(l.poller)
	}
	if !l.acceptOff {
		_ = unix.EpollCtl(l.poller.epfd, unix.EPOLL_CTL_DEL, l.st.lfd, nil)
	}
	l.poller.close()
}
