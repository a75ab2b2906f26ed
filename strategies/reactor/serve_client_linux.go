//go:build linux

package reactor

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// client is one accepted connection of a serve loop: its socket, its
// session, and its deadline.
type client struct {
	slot, gen int32
	fd        int
	sess      session
	timer     timer[*client]
	ready     bool  // in the loop's ready list
	paused    bool  // input left unread because the session took none
	hangup    bool  // the peer shut its side: read to EOF
	lingering bool  // the last answer is written and the write side shut
	discarded int   // bytes read and dropped while lingering
	idleSince int64 // when the connection last made progress
}

// addClient registers an accepted socket in a free slot.
func (l *serveLoop) addClient(fd int) error {
	var cl *client
	if n := len(l.freeSlot); n > 0 {
		i := l.freeSlot[n-1]
		l.freeSlot = l.freeSlot[:n-1]
		cl = l.clients[i]
		if cl == nil {
			cl = &client{slot: i + int32(len(l.backends))}
			l.clients[i] = cl
		}
	} else {
		cl = &client{slot: int32(len(l.backends) + len(l.clients))}
		l.clients = append(l.clients, cl)
	}
	cl.gen++
	cl.fd = fd
	cl.timer = newTimer(cl)
	cl.ready, cl.paused, cl.hangup, cl.lingering, cl.discarded = false, false, false, false, 0
	cl.idleSince = l.now()
	cl.sess.reset(&l.st.env, l, cl.slot)
	if err := l.poller.add(fd, cl.slot, cl.gen); err != nil {
		l.freeSlot = append(l.freeSlot, cl.slot-int32(len(l.backends)))
		cl.fd = -1
		return fmt.Errorf("epoll_ctl add client: %w", err)
	}
	l.deadline.schedule(&cl.timer, cl.idleSince+int64(l.st.env.Limits.IdleTimeout))
	return nil
}

// closeClient closes cl's socket and frees its slot. Its unanswered
// requests are abandoned (a lookup in flight finishes and is dropped).
func (l *serveLoop) closeClient(cl *client) {
	if cl.fd < 0 {
		return
	}
	l.poller.remove(cl.fd)
	unix.Close(cl.fd)
	cl.fd = -1
	cl.gen++ // events still queued for the socket are stale
	l.deadline.cancel(&cl.timer)
	cl.sess.abandon()
	l.freeSlot = append(l.freeSlot, cl.slot-int32(len(l.backends)))
}

// clientEvent reacts to readiness of cl's socket: it reads (and parses)
// what arrived; writing waits for the end of the turn.
func (l *serveLoop) clientEvent(cl *client, events uint32) {
	if events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		cl.hangup = true
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		if !l.pump(cl) {
			return
		}
	}
	l.markReady(cl)
}

// pump parses what cl has buffered and reads more, until the socket is
// drained or the session takes no more input (paused: edge-triggered epoll
// will not say again that the bytes are there, so serveClient pumps again
// once the session has room). It reports whether cl is still open.
func (l *serveLoop) pump(cl *client) bool {
	if cl.lingering {
		return l.drainLingering(cl)
	}
	for {
		cl.sess.parse(l.now())
		buf := cl.sess.space()
		if buf == nil {
			cl.paused = !cl.sess.closing
			return true
		}
		n, err := unix.Read(cl.fd, buf)
		switch {
		case err == unix.EAGAIN:
			cl.paused = false
			return true
		case err == unix.EINTR:
			continue
		case err != nil: // reset: nobody to answer
			l.closeClient(cl)
			return false
		case n == 0:
			cl.sess.readEOF()
			cl.paused = false
			return true
		}
		cl.sess.commit(n)
		cl.idleSince = l.now()
		// A read that does not fill the space has drained the socket
		// (new bytes raise a new edge), except after a hang-up, which
		// raises none: then read on to EOF.
		if n < len(buf) && !cl.hangup {
			cl.sess.parse(l.now())
			cl.paused = cl.sess.space() == nil && !cl.sess.closing
			return true
		}
	}
}

// drainLingering reads and drops what a lingering client still sends; at
// its EOF, an error, or past lingerBytes the connection closes. It reports
// whether cl is still open.
func (l *serveLoop) drainLingering(cl *client) bool {
	var buf [4 << 10]byte
	for {
		n, err := unix.Read(cl.fd, buf[:])
		switch {
		case err == unix.EAGAIN:
			return true
		case err == unix.EINTR:
			continue
		case err != nil || n == 0:
			l.closeClient(cl)
			return false
		}
		if cl.discarded += n; cl.discarded > lingerBytes {
			l.closeClient(cl)
			return false
		}
	}
}

func (l *serveLoop) markReady(cl *client) {
	if !cl.ready && cl.fd >= 0 {
		cl.ready = true
		l.ready = append(l.ready, cl)
	}
}

// serveClient does a client's end-of-turn work: move its ready answers to
// its output (and, if that made room, read the requests it held back),
// write, close or linger when it is done, and set its deadline.
func (l *serveLoop) serveClient(cl *client) {
	if cl.fd < 0 || cl.lingering {
		return
	}
	date := l.date.Get(time.Now())
	cl.sess.collect(date)
	if cl.paused && cl.sess.space() != nil {
		if !l.pump(cl) {
			return
		}
		cl.sess.collect(date)
	}
	for out := cl.sess.unsent(); len(out) > 0; out = cl.sess.unsent() {
		n, err := unix.Write(cl.fd, out)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break // EPOLLOUT comes back here
		}
		if err != nil {
			l.closeClient(cl)
			return
		}
		cl.sess.wrote(n)
		cl.idleSince = l.now()
	}
	if cl.sess.finished() {
		if cl.sess.eof { // the client has closed its side: nothing to linger for
			l.closeClient(cl)
			return
		}
		_ = unix.Shutdown(cl.fd, unix.SHUT_WR)
		cl.lingering = true
		l.deadline.schedule(&cl.timer, l.now()+int64(lingerTimeout))
		l.drainLingering(cl)
		return
	}
	l.rearm(cl)
}

// rearm sets cl's deadline for what it is waiting for: the rest of a
// request head (HeaderTimeout from its first bytes: the slowloris bound),
// its next request or its client taking the answers (IdleTimeout), or
// nothing while its lookups run (the fetch timeout bounds them).
func (l *serveLoop) rearm(cl *client) {
	lim := &l.st.env.Limits
	s := &cl.sess
	switch {
	case len(s.unsent()) > 0:
		l.deadline.schedule(&cl.timer, cl.idleSince+int64(lim.IdleTimeout))
	case s.waiting():
		l.deadline.cancel(&cl.timer)
	case s.partial():
		l.deadline.schedule(&cl.timer, s.headSince+int64(lim.HeaderTimeout))
	default:
		l.deadline.schedule(&cl.timer, cl.idleSince+int64(lim.IdleTimeout))
	}
}
