package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/concbench/concbench/serve/httpwire"
)

// readBufferSize holds a page (about 1.1 KiB) and its head several times:
// one read takes a whole response.
const readBufferSize = 8 << 10

// clientConn is one connection to the server. One request at a time is in
// flight on it (no pipelining: a pipelined request would wait behind its
// predecessor without the wait being counted as a wait for a connection).
//
// Ownership: whoever takes the connection from the idle list (the
// scheduler) or finishes its previous request (its reader) sends the next
// request; its reader goroutine reads every response. mu guards the
// hand-over between the two.
type clientConn struct {
	g    *gen
	conn net.Conn

	mu       sync.Mutex
	inFlight bool
	cur      request
	tag      uint64
	dead     bool
	writeErr error

	wbuf      []byte
	path      []byte
	rbuf      []byte // rbuf[r:w] holds bytes read and not yet parsed
	r, w      int
	parser    httpwire.ResponseParser
	latencies []int64 // closed mode: this connection's samples
}

func newClientConn(g *gen) *clientConn {
	c := &clientConn{g: g, wbuf: make([]byte, 0, 256), path: make([]byte, 0, 64), rbuf: make([]byte, readBufferSize)}
	if g.cfg.Mode == Closed {
		// A guess that spares most of the growth: a closed connection
		// rarely exceeds 20k responses a second.
		c.latencies = make([]int64, 0, min(int(g.cfg.Duration.Seconds()*20000)+16, 1<<20))
	}
	return c
}

var (
	errDead    = errors.New("loadgen: connection is closed")
	errExpired = errors.New("loadgen: timed out waiting for a connection (never sent)")
)

func (c *clientConn) dial() error {
	conn, err := c.g.dialer().Dial("tcp", c.g.cfg.Addr)
	if err != nil {
		return fmt.Errorf("loadgen: dial %s: %w", c.g.cfg.Addr, err)
	}
	c.conn = conn
	return nil
}

// close closes the connection; its reader sees the error and ends.
func (c *clientConn) close() {
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

// serveNext sends requests until one is on the wire or there is none to
// send (the connection then waits in the idle list).
func (c *clientConn) serveNext() {
	for {
		r, ok := c.g.next(c)
		if !ok {
			return
		}
		switch err := c.send(r); err {
		case errExpired:
			continue
		case errDead:
			// The connection broke or the run is closing: pass the
			// request on (open) or drop it (closed: the window is over).
			if c.g.cfg.Mode == Open {
				c.g.redispatch(r)
			} else {
				c.g.outstanding.Add(-1)
			}
			return
		default:
			return
		}
	}
}

// send writes r. It returns errExpired if r's time ran out before it could
// be sent (recorded as a timeout), errDead if the connection is closed (r
// not sent: the caller passes it on), or nil: r is in flight, and the
// reader will record it (a failed write included).
func (c *clientConn) send(r request) error {
	g := c.g
	now := g.now()
	if now >= r.at+g.expire {
		g.fail(r, KindTimeout, errExpired)
		return errExpired
	}
	var tag uint64
	c.path, tag = g.target.AppendPath(c.path[:0], uint64(r.seq))
	c.wbuf = httpwire.AppendGet(c.wbuf[:0], c.path, g.cfg.Addr)
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errDead
	}
	c.inFlight, c.cur, c.tag = true, r, tag
	c.mu.Unlock()
	deadline := g.start.Add(time.Duration(r.at + g.expire))
	err := c.conn.SetDeadline(deadline)
	if err == nil {
		g.wrote(r, g.now())
		_, err = c.conn.Write(c.wbuf)
	}
	if err != nil {
		c.mu.Lock()
		c.writeErr = err
		c.mu.Unlock()
		_ = c.conn.Close() // the reader records r's failure
	}
	return nil
}

// readLoop reads and verifies responses until the connection breaks or is
// closed, then records the request in flight, if any, as failed.
func (c *clientConn) readLoop() {
	g := c.g
	for {
		if c.w == len(c.rbuf) { // a response larger than the buffer: grow
			c.rbuf = append(c.rbuf, make([]byte, len(c.rbuf))...)
		}
		n, err := c.conn.Read(c.rbuf[c.w:])
		c.w += n
		for c.r < c.w {
			resp, used, perr := c.parser.Parse(c.rbuf[c.r:c.w])
			if errors.Is(perr, httpwire.ErrIncomplete) {
				break
			}
			end := g.now()
			c.mu.Lock()
			r, tag, had := c.cur, c.tag, c.inFlight
			c.inFlight = false
			c.mu.Unlock()
			switch {
			case !had:
				c.die(KindProtocol, fmt.Errorf("loadgen: %d bytes from the server with no request in flight", c.w-c.r))
				return
			case perr != nil:
				g.fail(r, KindProtocol, perr)
				c.die(KindProtocol, perr)
				return
			case resp.Status != 200:
				g.fail(r, KindStatus, fmt.Errorf("loadgen: status %d", resp.Status))
			default:
				if verr := g.target.VerifyResponse(tag, resp.Body); verr != nil {
					g.fail(r, KindBody, verr)
				} else {
					g.succeed(c, r, end)
				}
			}
			c.r += used
			if c.r < c.w {
				c.die(KindProtocol, fmt.Errorf("loadgen: %d bytes from the server beyond the response", c.w-c.r))
				return
			}
			c.r, c.w = 0, 0
			if resp.Close {
				c.die(KindIO, nil)
				return
			}
			// No deadline while idle, set before the connection can be
			// handed out again: the next send sets its own.
			if err := c.conn.SetDeadline(time.Time{}); err != nil {
				c.die(KindIO, err)
				return
			}
			c.serveNext()
		}
		if err != nil {
			kind := KindIO
			if errors.Is(err, os.ErrDeadlineExceeded) {
				kind = KindTimeout
			} else if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.die(kind, err)
			return
		}
	}
}

// die closes the connection and records the request in flight as failed
// (a write error, when there was one, is the cause). A connection idle in
// the list is taken out of it.
func (c *clientConn) die(kind Kind, err error) {
	c.mu.Lock()
	c.dead = true
	r, had := c.cur, c.inFlight
	c.inFlight = false
	if c.writeErr != nil {
		kind, err = KindIO, c.writeErr
		if errors.Is(err, os.ErrDeadlineExceeded) {
			kind = KindTimeout
		}
	}
	c.mu.Unlock()
	_ = c.conn.Close()
	if had {
		if err == nil {
			err = errors.New("loadgen: connection closed")
		}
		c.g.fail(r, kind, fmt.Errorf("loadgen: %w", err))
	}
	c.g.removeIdle(c)
}

// removeIdle takes c out of the idle list, if it is there.
func (g *gen) removeIdle(c *clientConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.idle {
		if x == c {
			g.idle = append(g.idle[:i], g.idle[i+1:]...)
			return
		}
	}
}

// redispatch hands a request that found its connection dead to another.
func (g *gen) redispatch(r request) {
	g.outstanding.Add(-1) // dispatch counts it again
	g.dispatch(r)
}
