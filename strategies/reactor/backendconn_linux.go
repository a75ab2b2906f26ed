//go:build linux

package reactor

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// backendConn is a loop's kind of backend connection: a Run loop's conn,
// whose requests are tasks' fetches, or a serve loop's lookupConn, whose
// requests are page lookups. Both are a conn underneath.
type backendConn interface {
	*conn | *lookupConn
	socket() *conn
}

// socket implements backendConn; lookupConn has it through its embedded
// conn.
func (c *conn) socket() *conn { return c }

// connOwner is the loop (loop or serveLoop) whose connections of kind C
// the socket handling below drives. What it asks of the loop is what
// differs between the two: who waits for a reply, and what a failure does
// to them.
type connOwner[C backendConn] interface {
	// failConn closes c's socket after an I/O or protocol error or a
	// timeout: the request whose reply was due fails, the ones behind it
	// go again on a fresh socket in the same slot.
	failConn(c C, cause error)
	// failAll fails every request on c, whose socket could not be opened.
	failAll(c C, cause error)
	// dispatchReplies hands every whole reply in c's read buffer to the
	// request it answers. It reports whether c is still open.
	dispatchReplies(c C) bool
	// awaiting is how many requests on c wait for their replies.
	awaiting(c C) int
}

// connEvent reacts to the events of one backend connection's socket: it
// finishes a connect and writes what waited for it, reads and dispatches
// replies, and writes requests a full socket buffer held back.
func connEvent[C backendConn](l connOwner[C], p *poller, c C, events uint32) {
	s := c.socket()
	if s.state == connConnecting {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if err := s.connected(); err != nil {
			l.failConn(c, err)
			return
		}
		if err := s.write(); err != nil {
			l.failConn(c, err)
		}
		return
	}
	if s.state != connOpen {
		return
	}
	hangup := events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0
	if events&unix.EPOLLIN != 0 || hangup {
		if !readReplies(l, p, c, hangup) {
			return
		}
	}
	if events&unix.EPOLLOUT != 0 && s.pendingWrite() {
		if err := s.write(); err != nil {
			l.failConn(c, err)
		}
	}
}

// readReplies reads and dispatches replies until the socket is drained. It
// reports whether the connection is still open.
//
// Edge-triggered epoll reports new data only once, so the socket must be
// drained. A read that does not fill the buffer has drained it (new data
// raises a new edge), which saves the EAGAIN read, except after a hang-up:
// the FIN raises no further edge, so then we read on to EOF.
func readReplies[C backendConn](l connOwner[C], p *poller, c C, hangup bool) bool {
	s := c.socket()
	for {
		n, filled, err := s.readOnce()
		switch {
		case err == unix.EAGAIN:
			return true
		case err != nil:
			l.failConn(c, fmt.Errorf("read: %w", err))
			return false
		case n == 0:
			if l.awaiting(c) == 0 && s.in.buffered() == 0 {
				s.closeSocket(p) // an idle connection closed: redial on demand
				return false
			}
			l.failConn(c, fmt.Errorf("read: %w", io.ErrUnexpectedEOF))
			return false
		}
		if !l.dispatchReplies(c) {
			return false
		}
		if !filled && !hangup {
			return true
		}
	}
}

// appendDirty adds c to a loop's flush list, dirty, unless it is there.
func appendDirty[C backendConn](dirty *[]C, c C) {
	if s := c.socket(); !s.dirty {
		s.dirty = true
		*dirty = append(*dirty, c)
	}
}

// flushDirty writes the requests queued during a turn of the loop, one
// write per connection in its flush list dirty however many requests it
// got (a pipelined batch when depth is above 1), and dials the connections
// that have requests but no socket. A dial that fails at once fails every
// request on the connection.
func flushDirty[C backendConn](l connOwner[C], p *poller, dirty *[]C) {
	for i := 0; i < len(*dirty); i++ { // failing may add more
		c := (*dirty)[i]
		s := c.socket()
		s.dirty = false
		if !s.pendingWrite() {
			continue
		}
		if s.state == connClosed {
			if err := s.dial(p); err != nil {
				l.failAll(c, err)
				continue
			}
		}
		if s.state == connOpen {
			if err := s.write(); err != nil {
				l.failConn(c, err)
			}
		}
	}
	clear(*dirty)
	*dirty = (*dirty)[:0]
}
