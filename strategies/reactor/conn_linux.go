//go:build linux

package reactor

import (
	"fmt"
	"net"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/workloads/resp"
)

// connState is where a connection's socket is in its life.
type connState uint8

const (
	// connClosed: no socket. A request queued on it dials a new one.
	connClosed connState = iota
	// connConnecting: connect returned EINPROGRESS; requests queue in out
	// until EPOLLOUT says the handshake is done.
	connConnecting
	// connOpen: requests are written as they come.
	connOpen
)

// backendAddr is a backend's resolved address.
type backendAddr struct {
	name   string // as the job gave it, for error messages
	family int
	sa     unix.Sockaddr
	auth   []byte // the AUTH request every new socket sends first; nil for none (read only)
}

// clone returns a with a Sockaddr of its own: unix.Connect writes into the
// Sockaddr's raw buffer, so loops on different threads cannot share one.
func (a backendAddr) clone() backendAddr {
	switch sa := a.sa.(type) {
	case *unix.SockaddrInet4:
		c := &unix.SockaddrInet4{Port: sa.Port, Addr: sa.Addr}
		a.sa = c
	case *unix.SockaddrInet6:
		c := &unix.SockaddrInet6{Port: sa.Port, Addr: sa.Addr, ZoneId: sa.ZoneId}
		a.sa = c
	}
	return a
}

func resolve(addr string) (backendAddr, error) {
	// Setup only: the net package resolves the name; the hot path never
	// touches it.
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return backendAddr{}, fmt.Errorf("reactor: backend %s: %w", addr, err)
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return backendAddr{name: addr, family: unix.AF_INET, sa: sa}, nil
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	return backendAddr{name: addr, family: unix.AF_INET6, sa: sa}, nil
}

// conn is one connection slot of a loop: a socket to one backend, replaced
// by a fresh one when it fails, with the tasks waiting for its replies.
type conn struct {
	slot    int32 // index in loop.conns, carried in epoll events
	gen     int32 // bumped for every socket; events of older ones are stale
	backend int
	addr    *backendAddr
	fd      int
	state   connState

	in     inbuf
	parser resp.ReplyParser
	out    []byte // requests not yet written: out[sent:]
	sent   int

	waiting fifo[*task]  // tasks whose requests are on this connection, oldest first
	timer   timer[*conn] // the deadline of the oldest waiting request
	free    bool         // in its backend's free list (it can take a request)
	dirty   bool         // in the loop's flush list
	// authPending: the socket's next reply is AUTH's, not a request's
	// (see dial).
	authPending bool
}

// dial opens a non-blocking socket and starts connecting it. On return the
// connection is connecting or open, or closed with the error.
func (c *conn) dial(p *poller) error {
	fd, err := unix.Socket(c.addr.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	// Requests are small and each waits for its reply: Nagle's algorithm
	// would hold the second of two pipelined requests for an ACK.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return fmt.Errorf("setsockopt TCP_NODELAY: %w", err)
	}
	c.gen++
	// Registered before connect so the edge that ends the handshake
	// cannot be missed.
	if err := p.add(fd, c.slot, c.gen); err != nil {
		unix.Close(fd)
		return fmt.Errorf("epoll_ctl add: %w", err)
	}
	if len(c.addr.auth) > 0 {
		// A backend that wants AUTH gets it first on every socket, ahead of
		// the requests re-issued on it, if any; its reply comes first too.
		c.out = slices.Insert(c.out, c.sent, c.addr.auth...)
		c.authPending = true
	}
	switch err := unix.Connect(fd, c.addr.sa); err {
	case nil:
		c.fd, c.state = fd, connOpen
	case unix.EINPROGRESS, unix.EINTR: // EINTR: the handshake goes on
		c.fd, c.state = fd, connConnecting
	default:
		p.remove(fd)
		unix.Close(fd)
		return fmt.Errorf("connect: %w", err)
	}
	return nil
}

// connected finishes a non-blocking connect after EPOLLOUT (or an error
// event): SO_ERROR holds the outcome of the handshake.
func (c *conn) connected() error {
	soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("getsockopt SO_ERROR: %w", err)
	}
	if soerr != 0 {
		return fmt.Errorf("connect: %w", unix.Errno(soerr))
	}
	c.state = connOpen
	return nil
}

// readOnce reads once into the read buffer. It returns the bytes read and
// whether they filled the space offered; n == 0 with a nil error is EOF, and
// EAGAIN is returned as is.
func (c *conn) readOnce() (n int, filled bool, err error) {
	space := c.in.space()
	for {
		n, err = unix.Read(c.fd, space)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, false, err
	}
	c.in.commit(n)
	return n, n == len(space), nil
}

// write writes queued requests until they are all written or the socket's
// buffer is full (EAGAIN: edge-triggered EPOLLOUT resumes it).
func (c *conn) write() error {
	for c.sent < len(c.out) {
		n, err := unix.Write(c.fd, c.out[c.sent:])
		switch err {
		case nil:
			c.sent += n
		case unix.EINTR:
		case unix.EAGAIN:
			return nil
		default:
			return fmt.Errorf("write: %w", err)
		}
	}
	c.out, c.sent = c.out[:0], 0
	return nil
}

// pendingWrite reports whether requests are queued but not written.
func (c *conn) pendingWrite() bool { return c.sent < len(c.out) }

// closeSocket closes the socket and drops what was buffered in either
// direction. The waiting tasks are the caller's to settle.
func (c *conn) closeSocket(p *poller) {
	if c.state != connClosed {
		p.remove(c.fd)
		unix.Close(c.fd)
		c.fd, c.state = -1, connClosed
	}
	c.in.reset()
	c.out, c.sent = c.out[:0], 0
	c.authPending = false
}

// authReplied takes r as the reply to the socket's AUTH, if one is due
// (authPending): it reports whether r was AUTH's, and the refusal (or a
// reply out of step) as an error that fails the socket's requests.
// It is called for every reply, so its common case (no AUTH due) stays
// small enough to inline: one load and a branch.
func (c *conn) authReplied(r *resp.Reply) (bool, error) {
	if !c.authPending {
		return false, nil
	}
	return true, c.takeAuthReply(r)
}

// takeAuthReply checks r as the socket's AUTH reply (see authReplied).
func (c *conn) takeAuthReply(r *resp.Reply) error {
	c.authPending = false
	if err := resp.CheckAuthReply(*r); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

// appendGet appends the request of a GET.
func appendGet(dst []byte, key string) []byte {
	return resp.AppendCommand(dst, "GET", key)
}
